"""Differentiable augmentation, DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training", sec. 3; the transforms of their official code, DiffAugment_pytorch.py).

A discriminator trained on a few hundred images memorises them. Augmenting what D sees makes
memorising harder, but only if *every* image D sees is augmented the same way, real and fake,
in D's update and in G's: then the augmented real and fake distributions match exactly when
the clean ones do, and G is pushed towards the clean data. The transforms must be
differentiable because G's gradient flows back through T(G(z)). Augmenting only the real
images (sec. 3.1, "augment reals only") changes the target: G learns to reproduce shifted,
cut-out, recoloured images (``ganutils.metrics.artefacts`` measures it).

The three policies of the paper, on images in [-1, 1], per sample:
- color: brightness + U(-0.5, 0.5); saturation (x - channel mean)·U(0, 2) (a no-op on one
  channel); contrast (x - image mean)·U(0.5, 1.5);
- translation: shift by up to 1/8 of the side (±4 pixels at 28x28), filling with zeros;
- cutout: zero a square of half the side (14x14) at a random centre.
Zero is the middle of [-1, 1]: on MNIST's black background the fill is mid-grey, as in the
official code for [-1, 1] images.

    aug = DiffAugment("color,translation,cutout", seed=0)
    d_real, d_fake = D(aug(real)), D(aug(fake))           # and G's loss on D(aug(G(z)))
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F

from ..config import GanutilsError

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One U(0, 1) number per sample, shape (N, 1, 1, 1), drawn on the CPU (same numbers on every device)."""
    return torch.rand(len(x), 1, 1, 1, generator=generator).to(x.device, x.dtype)


def brightness(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x + (_uniform(x, generator) - 0.5)


def saturation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x, generator) * 2) + mean


def contrast(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image by whole pixels, up to ``ratio`` of its side, filling the uncovered border with 0."""
    n, _, h, w = x.shape
    max_dy, max_dx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (n, 1, 1), generator=generator).to(x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (n, 1, 1), generator=generator).to(x.device)
    # output pixel (i, j) reads the zero-padded input at (i + dy + 1, j + dx + 1); beyond the image: the padding
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)  # (N, H + 2, W + 2, C)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Multiply a square of ``ratio`` times the side by 0, centred anywhere in the image (clipped at its edges)."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - size_y % 2), (n, 1, 1), generator=generator).to(x.device)
    cx = torch.randint(0, w + (1 - size_x % 2), (n, 1, 1), generator=generator).to(x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - (cy - size_y // 2)
    cols = torch.arange(w, device=x.device).view(1, 1, w) - (cx - size_x // 2)
    inside = (rows >= 0) & (rows < size_y) & (cols >= 0) & (cols < size_x)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, tuple[Callable, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}
DEFAULT_POLICY = "color,translation,cutout"  # the paper's choice for 100-shot / low-data runs (sec. 4)


def parse_policy(policy: str | Iterable[str] | None) -> tuple[str, ...]:
    """"color,translation" or ["color", "translation"] -> ("color", "translation"); unknown names: one clear error."""
    if policy is None:
        return ()
    names = [p.strip() for p in (policy.split(",") if isinstance(policy, str) else policy)]
    names = [p for p in names if p]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise GanutilsError(f"unknown augmentation {unknown[0]!r}: use a comma-separated subset of "
                            f"{', '.join(POLICIES)}, e.g. policy='color,translation,cutout'")
    return tuple(names)


def diff_augment(x: torch.Tensor, policy: str | Iterable[str] | None = DEFAULT_POLICY,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the policies in order, fresh random parameters per sample; differentiable in ``x``.

    ``generator`` (a CPU ``torch.Generator``) makes it reproducible: the same generator state gives
    the same transforms for a batch, on any device; ``None`` uses the global RNG.
    """
    names = parse_policy(policy)
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise GanutilsError(f"diff_augment needs an (N, C, H, W) batch of images, got {getattr(x, 'shape', type(x).__name__)}")
    if generator is not None and generator.device.type != "cpu":
        raise GanutilsError("diff_augment draws its random numbers on the CPU: pass a CPU torch.Generator")
    for name in names:
        for transform in POLICIES[name]:
            x = transform(x, generator)
    return x.contiguous()


class DiffAugment:
    """``diff_augment`` with a policy and its own seeded CPU generator (part of a training run's state)."""

    def __init__(self, policy: str | Iterable[str] = DEFAULT_POLICY, seed: int = 0):
        self.policy = parse_policy(policy)
        if not self.policy:
            raise GanutilsError("DiffAugment needs at least one policy, e.g. 'color,translation,cutout'")
        self.generator = torch.Generator().manual_seed(int(seed))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy, self.generator)

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.policy)!r})"

    def state_dict(self) -> dict:
        return {"policy": list(self.policy), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.policy = parse_policy(state["policy"])
        self.generator.set_state(state["generator"])
