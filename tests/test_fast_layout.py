"""``nets.utils.fast_layout``: a GAN's convolutional networks run channels-last on a CPU, computing the same function."""

import copy

import pytest
import torch

from ganutils import nets
from ganutils.nets.utils import fast_layout
from ganutils.training import GAN

pytestmark = pytest.mark.usefixtures("one_thread")

CHANNELS_LAST = torch.channels_last


def dcgan(seed: int = 0) -> GAN:
    torch.manual_seed(seed)
    return GAN(nets.DCGANGenerator(16, 8), nets.DCGANDiscriminator(8), z_dim=16, seed=seed, device="cpu")


def conv_weights(module):
    return [p for p in module.parameters() if p.dim() == 4]


def test_a_gan_stores_its_convolutions_channels_last_on_a_cpu_and_leaves_an_mlp_alone():
    model = dcgan()
    assert conv_weights(model.G) and conv_weights(model.D)
    weights = conv_weights(model.G) + conv_weights(model.D)
    assert all(p.is_contiguous(memory_format=CHANNELS_LAST) for p in weights)
    assert not all(p.is_contiguous() for p in weights)  # a weight with one input or output channel is both
    G, D = nets.toy_nets(z_dim=2, hidden=16, depth=2, seed=0)
    mlp = GAN(G, D, z_dim=2, device="cpu")
    assert all(p.is_contiguous() for p in [*mlp.G.parameters(), *mlp.D.parameters()])


def test_the_layout_is_left_alone_off_the_cpu():
    D = nets.DCGANDiscriminator(8)
    fast_layout(D, "cuda")  # only reads the device: nothing is moved
    assert all(p.is_contiguous() for p in D.parameters())


def test_channels_last_training_matches_the_default_layout_to_float_rounding():
    """Three D/G iterations in each layout from the same weights, noise and data: the same function,
    so the weights and samples agree to float rounding (a convolution may sum in another order)."""
    fast = dcgan()
    default = copy.deepcopy(fast)
    for net in (default.G, default.D):
        net.to(memory_format=torch.contiguous_format)  # same Parameter objects: the optimisers still hold them
    assert all(p.is_contiguous() for p in default.D.parameters())
    real = torch.rand(3, 16, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for batch in real:
        fast.step(lambda b=batch: (b,))
        default.step(lambda b=batch: (b,))
    for a, b in zip([*fast.G.parameters(), *fast.D.parameters()], [*default.G.parameters(), *default.D.parameters()]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        fast.G.eval(), default.G.eval()
        torch.testing.assert_close(fast.G(fast.fixed_z), default.G(default.fixed_z), rtol=1e-4, atol=1e-5)


def test_a_channels_last_state_dict_loads_into_a_new_gan_exactly():
    trained = dcgan()
    trained.step(lambda: (torch.rand(8, 1, 28, 28) * 2 - 1,))
    fresh = dcgan(seed=1)
    fresh.G.load_state_dict(trained.G.state_dict())
    for p in conv_weights(fresh.G):
        assert p.is_contiguous(memory_format=CHANNELS_LAST)  # loading copies values into the existing layout
    trained.G.eval(), fresh.G.eval()
    with torch.no_grad():
        assert torch.equal(trained.G(trained.fixed_z), fresh.G(trained.fixed_z))
