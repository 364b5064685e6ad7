import pytest
import torch

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.nets import MLPDiscriminator
from ganutils.nets.minibatch_stddev import MinibatchStdDev, MinibatchStdDevDiscriminator


def test_identical_samples_get_zero_spread_and_known_values_get_their_std():
    layer = MinibatchStdDev(group_size=4)
    same = torch.ones(8, 3)
    out = layer(same)
    assert out.shape == (8, 4) and torch.equal(out[:, :3], same)
    assert out[:, 3].max() < 1e-3  # sqrt(eps)
    x = torch.tensor([[0.0, 0.0], [2.0, 4.0]])  # one group of 2: per-feature std 1 and 2, mean 1.5
    assert torch.allclose(MinibatchStdDev(group_size=2)(x)[:, 2], torch.full((2,), 1.5), atol=1e-6)


def test_groups_are_strided_as_in_progan():
    # N=4, groups of 2: samples {0, 2} form one group, {1, 3} the other
    x = torch.tensor([[0.0], [5.0], [0.0], [7.0]])
    stat = MinibatchStdDev(group_size=2)(x)[:, 1]
    assert torch.allclose(stat, torch.tensor([0.0, 1.0, 0.0, 1.0]), atol=1e-3)


def test_image_shapes_get_one_extra_channel():
    out = MinibatchStdDev(4)(torch.randn(8, 16, 7, 7))
    assert out.shape == (8, 17, 7, 7)
    assert torch.equal(out[:, 16], out[:, 16, :1, :1].expand(8, 7, 7))  # constant over the feature map


def test_batch_not_divisible_by_group_size_is_a_clear_error():
    with pytest.raises(GanutilsError, match="multiple of group_size"):
        MinibatchStdDev(4)(torch.randn(6, 3))
    assert MinibatchStdDev(4)(torch.randn(3, 2)).shape == (3, 3)  # a small batch is one group


def copies_of_real(real, m, layout):
    """Fakes whose marginal is exactly the data's, but each sample comes with m - 1 copies.

    "tile": sample i copies i mod N/m (the strided groups of minibatch-stddev hold copies);
    "interleave": m consecutive samples are copies (PacGAN's packs hold copies).
    """
    base = real[: len(real) // m]
    return base.repeat(m, 1) if layout == "tile" else base.repeat_interleave(m, dim=0)


def accuracy_after_training(D, m, layout, steps=100, seed=0, lr=1e-2):
    """D trained to separate real batches from collapsed-by-copies batches; accuracy on fresh batches."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    ring = data.ring(std=0.3)  # wide modes: copies are easy to tell from independent samples
    for _ in range(steps):
        real, other = ring.sample(128, g), ring.sample(128, g)
        fake = copies_of_real(other, m, layout)
        loss = torch.nn.functional.softplus(-D(real)).mean() + torch.nn.functional.softplus(D(fake)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        real, fake = ring.sample(512, g), copies_of_real(ring.sample(512, g), m, layout)
        return ((D(real) > 0).float().mean() + (D(fake) < 0).float().mean()).item() / 2


def test_minibatch_stddev_sees_what_a_per_sample_discriminator_cannot():
    # every fake is distributed exactly like the data, so a per-sample D stays near chance
    plain = accuracy_after_training(MLPDiscriminator((2,), 32, 2), m=4, layout="tile")
    mbstd = accuracy_after_training(MinibatchStdDevDiscriminator((2,), 32, 2, group_size=4), m=4, layout="tile")
    assert plain < 0.62, plain
    assert mbstd > 0.9, mbstd


def test_discriminator_output_shape_and_gradients():
    D = MinibatchStdDevDiscriminator((2,), 16, 2)
    x = torch.randn(8, 2, requires_grad=True)
    out = D(x)
    assert out.shape == (8,)
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
