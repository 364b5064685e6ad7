"""Sharpness of images: the response of the 3x3 Laplacian (a discrete second derivative).

Blur removes high frequencies, and the Laplacian responds only to them: 0 on a flat image,
large on crisp edges. Two summaries of that response, each used where it reads best:

- ``laplacian_variance``: per-image variance of the response on MNIST-shaped digits in
  [0, 1] (notebook 06 compares VAE and GAN samples with it; real digits set the reference);
- ``mean_abs_laplacian``: per-image mean absolute response over the interior, any number of
  channels (notebook 08 compares pix2pix outputs with the real striped targets).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def laplacian(x: torch.Tensor, pad: str | None = None) -> torch.Tensor:
    """The 3x3 Laplacian of every channel of ``x`` (N, C, H, W); ``pad="replicate"`` keeps the size."""
    if x.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(x.shape)}")
    if pad is not None:
        x = F.pad(x, (1, 1, 1, 1), mode=pad)
    c = x.shape[1]
    return F.conv2d(x, LAPLACIAN.to(x).expand(c, 1, 3, 3), groups=c)


def laplacian_variance(images, scale: str = "tanh") -> torch.Tensor:
    """Per-image variance of the Laplacian on [0, 1] pixels, (N,): high for crisp strokes, low for blur.

    Images as for the evaluation network: (N, 1, 28, 28), (N, 28, 28) or (N, 784), in [-1, 1]
    (``scale="tanh"``, the GAN's scale) or [0, 1] (``scale="unit"``, the VAE's). Replicate
    padding: a flat image scores 0, borders included.
    """
    from .evalnet import prepare_images

    x = (prepare_images(images, scale) + 1) / 2
    return laplacian(x, pad="replicate").flatten(1).var(1)


def mean_abs_laplacian(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute Laplacian over the interior, (N,), for (N, C, H, W) images of any scale."""
    return laplacian(images).abs().flatten(1).mean(1)
