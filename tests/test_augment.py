import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import augment
from ganutils.data.augment import DiffAugment, diff_augment, parse_policy

pytestmark = pytest.mark.usefixtures("one_thread")


def batch(n=6, c=1, size=28, seed=0):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_same_seed_same_augmentation_for_the_batch(policy):
    x = batch()
    a = diff_augment(x, policy, torch.Generator().manual_seed(3))
    b = diff_augment(x, policy, torch.Generator().manual_seed(3))
    c = diff_augment(x, policy, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == x.shape


def test_parameters_are_drawn_per_sample():
    x = batch(8).mean(dim=(1, 2, 3), keepdim=True).expand(8, 1, 28, 28).clone() * 0  # eight identical (zero) images
    out = augment.brightness(x, torch.Generator().manual_seed(0))
    assert len(torch.unique(out.flatten(1)[:, 0])) == 8


def test_the_augmenting_object_advances_its_generator_and_checkpoints_it():
    aug = DiffAugment("translation,cutout", seed=1)
    x = batch()
    state = aug.state_dict()
    first, second = aug(x), aug(x)
    assert not torch.equal(first, second)
    aug.load_state_dict(state)
    assert torch.equal(aug(x), first)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout"])
def test_differentiable(policy):
    x = batch(3, size=10).double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: diff_augment(t, policy, torch.Generator().manual_seed(0)), (x,))


def test_gradient_reaches_the_generator_through_the_augmentation():
    G = torch.nn.Linear(4, 28 * 28)
    out = diff_augment(G(torch.randn(5, 4)).view(5, 1, 28, 28), "color,translation,cutout", torch.Generator().manual_seed(0))
    out.sum().backward()
    assert G.weight.grad is not None and G.weight.grad.abs().sum() > 0


def test_translation_shifts_whole_pixels_and_fills_with_zero():
    x = torch.arange(1, 28 * 28 + 1, dtype=torch.float32).view(1, 1, 28, 28).repeat(50, 1, 1, 1)
    out = augment.translation(x, torch.Generator().manual_seed(0))
    for img in out[:, 0]:
        kept = img[img != 0]
        assert 24 * 24 <= len(kept) <= 28 * 28  # at most 4 rows and 4 columns shifted out (1/8 of 28, rounded)
        # what is left is a contiguous block of the original: consecutive rows differ by 28, columns by 1
        rows = (img != 0).any(1).nonzero().flatten()
        cols = (img != 0).any(0).nonzero().flatten()
        block = img[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
        assert (block != 0).all() and torch.all(block[:, 1:] - block[:, :-1] == 1) and torch.all(block[1:] - block[:-1] == 28)
    shifts = {(int(((img != 0).any(1).nonzero().min())), int(((img != 0).any(0).nonzero().min()))) for img in out[:, 0]}
    assert len(shifts) > 5


def test_cutout_zeroes_a_half_side_square_clipped_at_the_edges():
    x = torch.ones(200, 1, 28, 28)
    out = augment.cutout(x, torch.Generator().manual_seed(0))
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max() == 14 * 14 and zeros.min() >= 7 * 7  # a centre in a corner keeps a quarter of the square
    assert set(torch.unique(out).tolist()) <= {0.0, 1.0}


def test_colour_on_one_channel():
    x = batch(4)
    assert torch.equal(augment.saturation(x, torch.Generator().manual_seed(0)), x)  # no colour to saturate
    shifted = augment.brightness(x, torch.Generator().manual_seed(0))
    delta = (shifted - x).flatten(1)
    assert torch.allclose(delta, delta[:, :1].expand_as(delta)) and delta.abs().max() <= 0.5
    scaled = augment.contrast(x, torch.Generator().manual_seed(0))
    assert torch.allclose(scaled.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=1e-6)  # contrast keeps the mean


def test_policies_parse_and_bad_names_are_one_clear_line():
    assert parse_policy("color, translation") == ("color", "translation")
    assert parse_policy(["cutout"]) == ("cutout",)
    assert parse_policy(None) == () and parse_policy("") == ()
    x = batch()
    assert diff_augment(x, None) is x or torch.equal(diff_augment(x, None), x)
    with pytest.raises(GanutilsError, match="unknown augmentation 'flip'"):
        diff_augment(x, "color,flip")
    with pytest.raises(GanutilsError, match="at least one policy"):
        DiffAugment("")
    with pytest.raises(GanutilsError, match=r"\(N, C, H, W\)"):
        diff_augment(torch.zeros(3, 28, 28), "color")
