"""Two pixel statistics that expose augmentation artefacts in generated MNIST digits.

MNIST digits are white strokes centred in a 20x20 box on a black background ([-1, 1] scale:
background -1, strokes near +1). DiffAugment's translation fills the uncovered border with 0 and
its cutout paints a 14x14 square of 0, mid-grey on black (``ganutils.data.augment``); its
brightness and contrast lift the background. A generator that learns these artefacts (as when
only the real images are augmented) draws mid-grey pixels and a non-black frame, which real
digits almost never have.
"""

from __future__ import annotations

import torch

from ..config import GanutilsError


def _images(images) -> torch.Tensor:
    x = torch.as_tensor(images).detach().float().cpu()
    if x.dim() != 4 or x.shape[-1] < 8 or x.shape[-2] < 8:
        raise GanutilsError(f"need an (N, C, H, W) batch of images in [-1, 1], got {tuple(x.shape)}")
    return x


def grey_fraction(images, band: float = 0.5) -> float:
    """Share of pixels with |x| < ``band``: mid-grey. About 5% on real digits (anti-aliased stroke edges)."""
    return (_images(images).abs() < band).float().mean().item()


def frame_level(images, width: int = 3) -> float:
    """Mean pixel value in the outer ``width``-pixel frame of each image: -1 (black) on real MNIST digits."""
    x = _images(images)
    inner = torch.zeros(x.shape[-2:], dtype=torch.bool)
    inner[width:-width, width:-width] = True
    return x[..., ~inner].mean().item()
