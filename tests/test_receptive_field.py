import pytest
import torch
from torch import nn

from ganutils.config import GanutilsError
from ganutils.nets import receptive_field as rf
from ganutils.training import pix2pix


@pytest.mark.parametrize("n_layers, size", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_patchgan_layouts_have_the_published_receptive_fields(n_layers, size):
    """pix2pix's PatchGANs: 16x16, 34x34, the paper's 70x70, and (n_layers=4) 142x142 (r_in = (r_out - 1)s + k)."""
    assert rf.receptive_field(rf.patchgan_layers(n_layers)).size == size
    assert rf.receptive_field(pix2pix.PatchDiscriminator(width=8, n_layers=n_layers)).size == size


def test_hand_computed_stacks():
    assert rf.receptive_field([rf.Layer(3)]).size == 3
    assert rf.receptive_field([rf.Layer(3), rf.Layer(3)]).size == 5
    assert rf.receptive_field([rf.Layer(3, dilation=2)]).size == 5  # a dilated 3x3 covers 5x5
    vgg_block = rf.receptive_field(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                                                 nn.ReLU(), nn.MaxPool2d(2)))
    assert (vgg_block.size, vgg_block.jump, vgg_block.start) == (6, 2, 0.5)
    paper = rf.receptive_field(rf.patchgan_layers(3))
    assert paper.jump == 8 and str(paper) == "70x70"
    assert rf.receptive_field([rf.Layer(4, 2, 1)]).start == 0.5  # centre of unit 0 lies between input pixels 0 and 1


@pytest.mark.parametrize("n_layers, in_size", [(1, 32), (2, 64), (3, 256), (3, 70)])
def test_output_size_matches_the_module(n_layers, in_size):
    D = pix2pix.PatchDiscriminator(in_channels=3, cond_channels=0, width=2, n_layers=n_layers).eval()
    side = rf.output_size(D, in_size)
    assert D(torch.zeros(1, 3, in_size, in_size)).shape[-2:] == (side, side)
    assert rf.output_size(rf.patchgan_layers(3), 256) == 30  # the paper's 30x30 grid of 70x70 patches
    with pytest.raises(GanutilsError, match="too small"):
        rf.output_size(rf.patchgan_layers(3), 8)


@pytest.mark.parametrize("n_layers, size", [(1, 48), (2, 64), (3, 112)])
def test_gradient_reaches_exactly_the_computed_receptive_field(n_layers, size):
    torch.manual_seed(0)
    D = pix2pix.PatchDiscriminator(in_channels=3, cond_channels=3, width=4, n_layers=n_layers)
    condition = torch.randn(1, 3, size, size)
    measured = rf.empirical_receptive_field(D, 3, size, condition)
    assert measured == rf.receptive_field(D).size
    assert D.training, "the check restores train mode"


def test_gradient_check_in_train_mode_batchnorm_would_leak_everywhere():
    """Why empirical_receptive_field switches to eval mode: BatchNorm's batch statistics couple every pixel."""
    torch.manual_seed(0)
    D = pix2pix.PatchDiscriminator(in_channels=3, cond_channels=0, width=4, n_layers=1)
    x = torch.randn(2, 3, 40, 40, requires_grad=True)
    out = D(x)
    (grad,) = torch.autograd.grad(out[0, 0, out.shape[2] // 2, out.shape[3] // 2], x)
    reached = (grad[0].abs().sum(0) > 0).nonzero()
    assert (reached.max(0).values - reached.min(0).values + 1).max() > rf.receptive_field(D).size


def test_a_too_small_input_is_refused():
    D = pix2pix.PatchDiscriminator(in_channels=3, cond_channels=0, width=4, n_layers=3)
    with pytest.raises(GanutilsError, match="larger size"):
        rf.empirical_receptive_field(D, 3, 64)


def test_modules_it_cannot_walk_are_refused_clearly():
    with pytest.raises(GanutilsError, match="does not know ConvTranspose2d"):
        rf.receptive_field(pix2pix.UNetGenerator(32, width=4))  # branches and up-convolutions: not a plain stack
    with pytest.raises(GanutilsError, match="does not know Flatten"):
        rf.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 1)))
    with pytest.raises(GanutilsError, match="non-square"):
        rf.receptive_field(nn.Conv2d(1, 1, (3, 5)))
    with pytest.raises(GanutilsError, match="integer padding"):
        rf.receptive_field(nn.Conv2d(1, 1, 3, padding="same"))
    with pytest.raises(GanutilsError, match="no Conv2d"):
        rf.receptive_field(nn.Sequential(nn.ReLU()))
    with pytest.raises(GanutilsError, match="non-empty list"):
        rf.receptive_field([])
    with pytest.raises(GanutilsError, match="kernel"):
        rf.receptive_field([rf.Layer(0)])
    with pytest.raises(GanutilsError, match="n_layers"):
        rf.patchgan_layers(0)
