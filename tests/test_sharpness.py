import pytest
import torch
import torch.nn.functional as F

from ganutils.metrics import sharpness
from ganutils.metrics import sharpness as sharpness_metrics


def mean_sharpness(images, scale="tanh"):
    return sharpness_metrics.laplacian_variance(images, scale).mean().item()


def _stripes(n=4, c=3, size=16):
    x = torch.zeros(n, c, size, size)
    x[..., ::2] = 1.0
    return x


def test_a_flat_image_has_zero_sharpness_on_both_measures():
    flat = torch.full((3, 1, 28, 28), 0.3)
    assert torch.all(sharpness.laplacian_variance(flat, "unit") == 0)
    assert torch.all(sharpness.mean_abs_laplacian(flat) == 0)


def test_the_laplacian_of_a_hand_computed_image():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 1.0  # one bright pixel: the centre tap is -4, its 4 neighbours see +1
    assert sharpness.laplacian(x).item() == -4.0
    assert sharpness.laplacian(x, pad="replicate")[0, 0, 0, 1].item() == 1.0


def test_blur_lowers_both_measures():
    x = _stripes()
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert torch.all(sharpness.mean_abs_laplacian(blurred) < sharpness.mean_abs_laplacian(x))
    digits = _stripes(c=1, size=28)
    blurred_digits = F.avg_pool2d(F.pad(digits, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert torch.all(sharpness.laplacian_variance(blurred_digits, "unit") < sharpness.laplacian_variance(digits, "unit"))


def test_the_notebooks_measures_are_the_shared_ones():
    x = _stripes(c=1, size=28)
    assert torch.equal(sharpness.mean_abs_laplacian(x), sharpness.mean_abs_laplacian(x))
    assert mean_sharpness(x, "unit") == pytest.approx(sharpness.laplacian_variance(x, "unit").mean().item())


def test_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="N, C, H, W"):
        sharpness.laplacian(torch.zeros(28, 28))
