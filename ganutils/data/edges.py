"""Edges -> shoes pairs made the way edges2shoes was: edge-detect real shoe images.

Isola et al. 2017 (pix2pix, Sec. 4) built edges2shoes from shoe photos with the HED edge detector
plus post-processing; here Canny edges (scikit-image) of Fashion-MNIST's sandals, sneakers and
ankle boots give 18,000 training and 3,000 held-out real edge -> shoe pairs. Every image is
edge-detected as if padded with 8 pixels of background, so an outline that touches the border
is still closed; all images of a call go through ``skimage.feature.canny`` as one mosaic
(identical to one call per padded image, about four times faster).
Edges are +1 on a -1 background, shoes in the course's [-1, 1] scale; both 28x28 (``pad_to``
makes them 32x32 for a U-Net, which halves the image down to 1x1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..config import GanutilsError
from .fashion import CLASSES, SHOES, load_fashion

CANNY_SIGMA = 1.0  # Gaussian smoothing of skimage's Canny; its default hysteresis thresholds (0.1, 0.2 of the range)
BORDER = 8  # background pixels around every image: the Gaussian (4 sigma) and the hysteresis never cross tiles


def canny_edges(images: torch.Tensor, sigma: float = CANNY_SIGMA) -> torch.Tensor:
    """Canny edge maps (N, 1, H, W) of [-1, 1] images (N, 1, H, W) whose background is -1: +1 on edges, -1 elsewhere."""
    from skimage.feature import canny

    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        raise GanutilsError(f"canny_edges wants grey images (N, 1, H, W), got {getattr(images, 'shape', type(images).__name__)}")
    if not sigma > 0:
        raise GanutilsError(f"sigma must be > 0, got {sigma!r}")
    x = images.detach().cpu().double().add(1).div(2).clamp(0, 1).numpy()[:, 0]  # [0, 1], background 0
    n, h, w = x.shape
    cols = max(1, min(n, 64))
    rows = -(-n // cols)
    th, tw = h + BORDER, w + BORDER
    mosaic = np.zeros((rows * th + BORDER, cols * tw + BORDER))
    for i in range(n):
        r, c = divmod(i, cols)
        mosaic[BORDER + r * th:BORDER + r * th + h, BORDER + c * tw:BORDER + c * tw + w] = x[i]
    e = canny(mosaic, sigma=sigma)
    out = np.stack([e[BORDER + (i // cols) * th:BORDER + (i // cols) * th + h,
                      BORDER + (i % cols) * tw:BORDER + (i % cols) * tw + w] for i in range(n)])
    return torch.from_numpy(out).float().mul(2).sub(1).unsqueeze(1)


def pad_to(images: torch.Tensor, size: int, value: float = -1.0) -> torch.Tensor:
    """Centre (N, C, H, W) images on a ``size`` x ``size`` canvas filled with ``value`` (the background)."""
    h, w = images.shape[-2:]
    if size < h or size < w:
        raise GanutilsError(f"cannot pad {h}x{w} images to {size}x{size}: the size must be at least the image's")
    top, left = (size - h) // 2, (size - w) // 2
    return F.pad(images, (left, size - w - left, top, size - h - top), value=value)


def crop_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` crop (undoes ``pad_to``)."""
    h, w = images.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top:top + size, left:left + size]


@dataclass
class EdgePairs:
    """Edge maps (inputs), shoes (targets), Fashion-MNIST labels (5 sandal, 7 sneaker, 9 ankle boot), the source line."""

    edges: torch.Tensor
    shoes: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def class_names(self) -> list[str]:
        return [CLASSES[int(c)] for c in self.labels]


@functools.lru_cache(maxsize=4)
def _edges_of(split: str, limit: int | None, sigma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str]:
    shoes = load_fashion(split, classes=SHOES, verbose=False)
    images, labels = shoes.images, shoes.labels
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return canny_edges(images, sigma), images, labels, shoes.source


def shoe_pairs(split: str = "train", limit: int | None = None, sigma: float = CANNY_SIGMA, verbose: bool = True) -> EdgePairs:
    """Canny edge -> shoe pairs from Fashion-MNIST's sandals, sneakers and ankle boots.

    split: "train" (18,000), "test" (3,000, held out) or "all"; limit: the first ``limit`` pairs
    only (Canny runs on the CPU, about 0.3 ms per image).
    """
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit <= 0):
        raise GanutilsError(f"limit must be a positive whole number or None, got {limit!r}")
    edges, shoes, labels, source = _edges_of(split, None if limit is None else int(limit), float(sigma))
    if verbose:
        print(f"edges -> shoes ({split}, {len(labels):,} pairs): Canny (sigma {sigma:g}) of Fashion-MNIST shoes from {source}")
    return EdgePairs(edges.clone(), shoes.clone(), labels.clone(), source)
