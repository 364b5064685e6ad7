"""Nearest-neighbour checks in pixel space: what distribution metrics cannot see (notebook 12).

- ``nearest_mse``: each sample's mean squared pixel error to its closest reference image.
  "MSE between generated and real data" as a GAN metric has no paired target, so the closest
  real image is the only sensible one, and this score rewards blurry averages (notebook 12 shows it).
- ``memorised_fraction``: the share of samples that are (near-)copies of a training image.
  A generator that replays its training set gets a perfect Fréchet distance, precision, recall
  and coverage; only a nearest-neighbour check against the training set exposes it.
"""

from __future__ import annotations

import torch

from ..config import GanutilsError

MEMORISED_MSE = 1e-3  # in [-1, 1] pixels: an RMS error of 0.03, far below the closest pair of distinct MNIST digits


def _as_images(name: str, x) -> torch.Tensor:
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        raise GanutilsError(f"{name} have dtype {x.dtype}: pass float images (e.g. x.float() / 127.5 - 1)")
    if x.dim() < 2 or len(x) == 0:
        raise GanutilsError(f"{name} must be a non-empty batch of images (N, ...), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise GanutilsError(f"{name} contain NaN or inf: check the generator's output")
    return x.detach().flatten(1).double().cpu()


def nearest_mse(samples, reference, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample mean squared pixel error to the closest ``reference`` image, and that image's index: (N,), (N,)."""
    a, b = _as_images("samples", samples), _as_images("reference images", reference)
    if a.shape[1] != b.shape[1]:
        raise GanutilsError(f"samples have {a.shape[1]} pixels per image and reference images {b.shape[1]}: "
                            "compare images of the same size")
    mse, index = torch.empty(len(a), dtype=torch.float64), torch.empty(len(a), dtype=torch.long)
    for i in range(0, len(a), chunk):
        d = torch.cdist(a[i : i + chunk], b).pow(2) / a.shape[1]
        mse[i : i + chunk], index[i : i + chunk] = d.min(dim=1)
    return mse.clamp_min(0.0), index


def memorised_fraction(samples, train, threshold: float = MEMORISED_MSE) -> float:
    """Fraction of ``samples`` within ``threshold`` (pixel MSE) of some training image: copies, not new digits."""
    if not float(threshold) >= 0:
        raise GanutilsError(f"threshold must be a pixel MSE >= 0, got {threshold!r}")
    mse, _ = nearest_mse(samples, train)
    return (mse <= threshold).double().mean().item()
