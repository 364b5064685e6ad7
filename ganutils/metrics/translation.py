"""Scores of image-to-image translation (images in [-1, 1]) against the paired set of ``data.paired``.

- ``l1_error`` and ``psnr``: distance to the one ground truth drawn for that input;
- ``mode_distance``: per region, the mean absolute distance to the *nearest* valid texture
  (0 for any real target, large for an average of textures);
- sharpness: ``metrics.sharpness.mean_abs_laplacian``, the high-frequency energy that blur removes;
- ``diversity``: mean difference between several outputs for one input (test-time dropout).
``score`` collects the first four for one set of outputs.

Unpaired translation (CycleGAN) has no ground truth for most inputs, so it is scored by:
- ``domain_success``: the share of translations an evaluation network assigns to the target class;
- ``cycle_error``: mean absolute pixel error of the round trip F(G(x)) against x;
- ``silhouette`` / ``silhouette_iou``: the object's mask (pixels brighter than the black background,
  one-pixel gaps such as dark stripes closed) and the intersection over union of the masks of input
  and output: content preservation for shapes on a black background.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import GanutilsError
from ..data.paired import PALETTE, Scene, StripedShapes, _check_images, _check_pair
from .sharpness import mean_abs_laplacian

BACKGROUND_LEVEL = -0.88  # in [-1, 1]: 15 of 255 grey levels above black


def l1_error(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute pixel error per image (N,)."""
    fake, real = _check_pair(fake, real)
    return (fake - real).abs().flatten(1).mean(1)


def psnr(fake: torch.Tensor, real: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio per image (N,) in dB; ``data_range`` 2 for images in [-1, 1]."""
    fake, real = _check_pair(fake, real)
    mse = (fake - real).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(data_range**2 / mse)


def mode_distance(images: torch.Tensor, scene: Scene, pairs: StripedShapes, min_pixels: int = 16) -> torch.Tensor:
    """Per image (N,): mean over its regions of the distance to the nearest valid texture of the region's class.

    The distance of a region to a texture is the mean absolute difference over the region's pixels
    and channels; regions smaller than ``min_pixels`` are skipped (every image keeps its background).
    """
    x = _check_images("images", images)
    n, s = scene.regions.shape[0], pairs.size
    if x.shape != (n, 3, s, s):
        raise GanutilsError(f"images must match the scene: expected {(n, 3, s, s)}, got {tuple(x.shape)}")
    total, count = torch.zeros(n), torch.zeros(n)
    for cls in range(len(PALETTE)):
        candidates = pairs.candidate_textures(cls)  # (T, 3, s, s)
        for r in range(scene.classes.shape[1]):
            mask = (scene.regions == r) & (scene.classes[:, r, None, None] == cls)
            size = mask.flatten(1).sum(1)
            keep = (size >= (1 if r == 0 else min_pixels)).nonzero().flatten()
            if len(keep) == 0:
                continue
            diff = (x[keep, None] - candidates[None]).abs().mean(2)  # (k, T, s, s)
            dist = (diff * mask[keep, None]).flatten(2).sum(2) / size[keep, None]  # (k, T)
            total[keep] += dist.min(1).values
            count[keep] += 1
    return total / count.clamp_min(1)


def diversity(draws: torch.Tensor) -> float:
    """Mean absolute difference between two draws for the same input, over all pairs of draws and inputs.

    draws: (R, N, C, H, W), R >= 2 outputs (or valid targets) for each of N inputs.
    """
    if not isinstance(draws, torch.Tensor) or draws.dim() != 5 or len(draws) < 2:
        raise GanutilsError(f"draws must be an (R, N, C, H, W) tensor with R >= 2 draws per input, got {getattr(draws, 'shape', type(draws).__name__)}")
    d = draws.detach().float().cpu().flatten(2)
    r = len(d)
    total = sum((d[i] - d[j]).abs().mean() for i in range(r) for j in range(i + 1, r))
    return float(total / (r * (r - 1) / 2))


def score(outputs: torch.Tensor, scene: Scene, pairs: StripedShapes) -> dict[str, float]:
    """The ablation's numbers for outputs on ``scene``: L1 and PSNR to the drawn ground truth, the mode
    distance, and sharpness relative to the ground truth's (1 = as sharp as real stripes)."""
    return {
        "l1": float(l1_error(outputs, scene.targets).mean()),
        "psnr": float(psnr(outputs, scene.targets).mean()),
        "mode_distance": float(mode_distance(outputs, scene, pairs).mean()),
        "sharpness": float(mean_abs_laplacian(_check_images("outputs", outputs)).mean() / mean_abs_laplacian(scene.targets).mean()),
    }


# ----------------------------------------------------------------------------- checkerboard artefacts


def checkerboard_energy(images: torch.Tensor) -> torch.Tensor:
    """Per image (N,): the share of its spectral energy (mean removed) at the period-2 frequencies.

    A stride-2 up-convolution computes even and odd output pixels with different kernel taps, so
    its output carries a pattern that repeats every 2 pixels: energy at the frequencies (H/2, 0),
    (0, W/2) and (H/2, W/2) of the 2-D DFT. 1 for a pure checkerboard or 1-pixel stripes, 0 for a
    flat image, near 0 for smooth ones (and exactly 0 for the period-4 stripes of ``StripedShapes``).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[-1] % 2 or images.shape[-2] % 2:
        raise GanutilsError(f"images must be an (N, C, H, W) tensor with even H and W, got {getattr(images, 'shape', type(images).__name__)}")
    x = images.detach().double().cpu()
    x = x - x.mean((-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs() ** 2
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    period2 = power[..., h, 0] + power[..., 0, w] + power[..., h, w]
    total = power.flatten(2).sum(2)
    return (period2.sum(1) / total.sum(1).clamp_min(1e-12)).float()


# ----------------------------------------------------------------------------- unpaired translation


def silhouette(images: torch.Tensor, level: float = BACKGROUND_LEVEL) -> torch.Tensor:
    """Boolean masks (N, H, W): pixels above ``level`` (mean over channels), closed by a 3x3 max- then min-filter."""
    x = _check_images("images", images).mean(1, keepdim=True)
    mask = (x > level).float()
    closed = -F.max_pool2d(-F.max_pool2d(mask, 3, 1, 1), 3, 1, 1)  # dilate, then erode: fills one-pixel gaps (stripes)
    return closed[:, 0] > 0.5


def silhouette_iou(a: torch.Tensor, b: torch.Tensor, level: float = BACKGROUND_LEVEL) -> torch.Tensor:
    """Per image (N,): |mask(a) & mask(b)| / |mask(a) | mask(b)| (1 = the same silhouette; 1 if both are empty)."""
    ma, mb = silhouette(a, level), silhouette(b, level)
    if ma.shape != mb.shape:
        raise GanutilsError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    inter, union = (ma & mb).flatten(1).sum(1).float(), (ma | mb).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def cycle_error(originals: torch.Tensor, reconstructions: torch.Tensor) -> torch.Tensor:
    """Mean absolute pixel error per image (N,) of a round trip against where it started ([-1, 1] scale)."""
    a, b = _check_pair(reconstructions, originals)
    return (a - b).abs().flatten(1).mean(1)


def domain_success(probs: torch.Tensor, target) -> float:
    """Share of images whose most likely class is ``target`` (one class, or any of several) under classifier ``probs`` (N, K)."""
    if not isinstance(probs, torch.Tensor) or probs.dim() != 2:
        raise GanutilsError(f"probs must be an (N, classes) tensor of classifier outputs, got {getattr(probs, 'shape', None)}")
    targets = torch.as_tensor([int(target)] if isinstance(target, int) else [int(t) for t in target])
    return torch.isin(probs.argmax(1), targets).float().mean().item()
