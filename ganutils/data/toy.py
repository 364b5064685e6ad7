"""Generated distributions: the 2-D Gaussian mixtures of the mode-collapse literature and 1-D mixtures."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..config import GanutilsError


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Mode centres evenly spaced on a circle (``endpoint=False``: the last mode is not the first again)."""
    angles = torch.from_numpy(np.linspace(0.0, 2 * np.pi, n_modes, endpoint=False)).float()
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def grid_centers(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """A ``side`` x ``side`` grid centred on the origin (5x5, spacing 2: coordinates -4, -2, 0, 2, 4)."""
    coords = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


@dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic Gaussians: the toy benchmarks of the mode-collapse literature."""

    name: str
    centers: torch.Tensor
    std: float

    @property
    def n_modes(self) -> int:
        return len(self.centers)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = torch.randint(self.n_modes, (n,), generator=generator)
        return self.centers[idx] + self.std * torch.randn(n, 2, generator=generator)

    def density(self, xy: torch.Tensor) -> torch.Tensor:
        """p(x) at points ``xy`` of shape (..., 2)."""
        d2 = ((xy[..., None, :] - self.centers) ** 2).sum(-1)
        norm = 1.0 / (2 * math.pi * self.std**2)
        return (norm * torch.exp(-d2 / (2 * self.std**2))).mean(-1)


def ring(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture2D:
    """Ring of 8 Gaussians, radius 2, sigma 0.02 (the VEEGAN protocol)."""
    return GaussianMixture2D("ring", ring_centers(n_modes, radius), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """Grid of 25 Gaussians, spacing 2, sigma 0.05 (the VEEGAN protocol)."""
    return GaussianMixture2D("grid", grid_centers(side, spacing), std)


def toy(name: str) -> GaussianMixture2D:
    """``"ring"`` or ``"grid"``."""
    makers = {"ring": ring, "grid": grid}
    if name not in makers:
        raise GanutilsError(f"unknown toy distribution {name!r}: use 'ring' or 'grid'")
    return makers[name]()


# ----------------------------------------------------------------------------- 1-D mixtures


@dataclass(frozen=True)
class GaussianMixture1D:
    """A 1-D Gaussian mixture with a closed-form density (for quadrature)."""

    weights: tuple
    means: tuple
    stds: tuple

    def __post_init__(self):
        if not (len(self.weights) == len(self.means) == len(self.stds)) or abs(sum(self.weights) - 1) > 1e-6:
            raise GanutilsError("GaussianMixture1D needs equally many weights, means and stds, weights summing to 1")

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        comp = torch.multinomial(torch.tensor(self.weights), n, replacement=True, generator=generator)
        means, stds = torch.tensor(self.means)[comp], torch.tensor(self.stds)[comp]
        return (means + stds * torch.randn(n, generator=generator)).unsqueeze(1)

    def pdf(self, x):
        """Density at ``x`` (NumPy array or float); float64 for accurate quadrature."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        w, m, s = (np.asarray(v, dtype=np.float64) for v in (self.weights, self.means, self.stds))
        return (w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))).sum(-1)
