import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data.augment import diff_augment
from ganutils.metrics.artefacts import frame_level, grey_fraction


def digits():
    x = -torch.ones(10, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0  # a white bar in the middle of a black image
    return x


def test_a_clean_digit_has_no_grey_and_a_black_frame():
    assert grey_fraction(digits()) == 0
    assert frame_level(digits()) == -1


def test_augmented_digits_show_grey_and_a_lighter_frame():
    aug = diff_augment(digits(), "translation,cutout", torch.Generator().manual_seed(0))
    assert grey_fraction(aug) > 0.15
    assert frame_level(aug) > -0.9


def test_bad_input():
    with pytest.raises(GanutilsError, match=r"\(N, C, H, W\)"):
        grey_fraction(torch.zeros(28, 28))
