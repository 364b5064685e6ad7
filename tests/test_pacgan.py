import math

import pytest
import torch
from test_minibatch_stddev import accuracy_after_training

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.nets import MLPDiscriminator, MLPGenerator
from ganutils.nets.pacgan import PackedDiscriminator, pac_discriminator, pack
from ganutils.training import gan
from ganutils.training import loop as train


def test_pack_puts_m_consecutive_samples_side_by_side():
    x = torch.arange(12.0).view(6, 2)
    assert torch.equal(pack(x, 3), torch.tensor([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]))
    images = torch.randn(8, 1, 28, 28)
    packed = pack(images, 4)
    assert packed.shape == (2, 4, 28, 28) and torch.equal(packed[1, 2], images[6, 0])


def test_batch_not_divisible_by_m_is_a_clear_error():
    with pytest.raises(GanutilsError, match="divisible by 4"):
        pac_discriminator(4)(torch.randn(10, 2))
    with pytest.raises(GanutilsError, match="pack"):
        pac_discriminator(0)


def test_packed_discriminator_scores_one_logit_per_pack():
    D = pac_discriminator(m=4, hidden=16, depth=2)
    assert isinstance(D, PackedDiscriminator) and D.D.in_shape == (8,)
    assert D(torch.randn(32, 2)).shape == (8,)


def test_packing_sees_collapse_that_a_per_sample_discriminator_cannot():
    plain = accuracy_after_training(MLPDiscriminator((2,), 32, 2), m=4, layout="interleave")
    packed = accuracy_after_training(pac_discriminator(4, hidden=32, depth=2), m=4, layout="interleave")
    assert plain < 0.62, plain
    assert packed > 0.9, packed


def test_a_packed_gan_trains_with_the_plain_gan_loop():
    torch.manual_seed(0)
    model = gan.GAN(MLPGenerator(2, (2,), 16, 2), pac_discriminator(2, hidden=16, depth=2), z_dim=2, lr_d=1e-3, lr_g=1e-3)
    h = train.train(model, data.DistributionSampler(data.ring(), 32, seed=0), steps=5, progress=False)
    assert len(h["d_loss"]) == 5 and all(math.isfinite(v) for v in h["d_loss"])
    assert len({round(v, 6) for v in h["d_loss"]}) > 1, "D's loss moves: the packed D is trained"
