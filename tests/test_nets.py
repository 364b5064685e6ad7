import pytest
import torch

from ganutils import nets
from ganutils.config import GanutilsError


def test_mlp_shapes():
    g = nets.MLPGenerator(8, (1, 28, 28), 32, 2, out_act="tanh")
    d = nets.MLPDiscriminator((1, 28, 28), 32, 2, act="leaky_relu")
    x = g(torch.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert d(x).shape == (5,)


@pytest.mark.parametrize("width", [16, 64])
def test_dcgan_shapes(width):
    g, d = nets.DCGANGenerator(64, width), nets.DCGANDiscriminator(width)
    x = g(torch.randn(4, 64))
    assert x.shape == (4, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (4,)


def test_critic_without_batchnorm():
    assert nets.has_batchnorm(nets.DCGANDiscriminator(16, norm="batch"))
    assert not nets.has_batchnorm(nets.DCGANDiscriminator(16, norm=None))
    assert not nets.has_batchnorm(nets.DCGANDiscriminator(16, norm="layer"))
    with pytest.raises(GanutilsError):
        nets.DCGANDiscriminator(16, norm="instance-ish")


def test_unknown_activation():
    with pytest.raises(GanutilsError, match="unknown activation"):
        nets.mlp(2, 2, act="swishy")
