"""Canny edges -> shoe pairs."""

import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import edges, fashion


def squares(n=5, size=28):
    x = torch.full((n, 1, size, size), -1.0)
    for i in range(n):
        x[i, 0, 4 + i:20, 6:22 - i] = 1.0  # a bright rectangle, different per image
    return x


def test_canny_finds_the_outline_of_a_square_and_nothing_inside():
    e = edges.canny_edges(squares(1))
    assert e.shape == (1, 1, 28, 28) and set(e.unique().tolist()) <= {-1.0, 1.0}
    on = e[0, 0] > 0
    assert on[3:6, 8:20].any() and on[18:21, 8:20].any()  # top and bottom sides
    assert not on[8:16, 10:18].any() and not on[:2].any()  # flat inside, flat background


def test_the_mosaic_equals_one_call_per_padded_image():
    from skimage.feature import canny

    x = squares(7)
    x[3, 0, :, 20:] = 1.0  # touches the right border: the padding closes its outline
    batch = edges.canny_edges(x)
    for i in range(len(x)):
        img = ((x[i, 0].double() + 1) / 2).numpy()
        one = canny(np.pad(img, edges.BORDER), sigma=edges.CANNY_SIGMA)[edges.BORDER:-edges.BORDER, edges.BORDER:-edges.BORDER]
        assert np.array_equal(batch[i, 0].numpy() > 0, one)
    assert (batch[3, 0, :, -1] > 0).any()


def test_pad_and_crop_round_trip():
    x = torch.randn(2, 1, 28, 28)
    p = edges.pad_to(x, 32)
    assert p.shape == (2, 1, 32, 32) and (p[..., :2, :] == -1).all() and (p[..., :, -2:] == -1).all()
    assert torch.equal(edges.crop_to(p, 28), x)
    with pytest.raises(GanutilsError, match="at least"):
        edges.pad_to(x, 16)


def test_bad_inputs():
    with pytest.raises(GanutilsError, match=r"grey images \(N, 1, H, W\)"):
        edges.canny_edges(torch.zeros(2, 3, 28, 28))
    with pytest.raises(GanutilsError, match="limit"):
        edges.shoe_pairs(limit=0)


@pytest.mark.skipif(not fashion.SYSTEM_DIR.exists(), reason="the Debian package dataset-fashion-mnist is not installed")
def test_real_pairs_are_shoes_with_their_edges(capsys):
    pairs = edges.shoe_pairs("test", limit=300)
    assert "Canny" in capsys.readouterr().out
    assert pairs.edges.shape == pairs.shoes.shape == (300, 1, 28, 28) and set(pairs.labels.unique().tolist()) == {5, 7, 9}
    on = (pairs.edges > 0).float().mean().item()
    assert 0.05 < on < 0.25  # outlines and a few inner lines, not noise
    inside = ((pairs.edges > 0) & (pairs.shoes > -0.9)).float().sum() / (pairs.edges > 0).float().sum()
    assert inside > 0.7  # edges lie on or next to the shoe, not on the empty background
