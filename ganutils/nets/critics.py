"""Critics for Wasserstein GANs on vectors: an MLP with a raw, unbounded score (no sigmoid)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .mlp import activation


class MLPCritic(nn.Module):
    """x (N, *in_shape) -> raw score (N,): ``depth`` Linear + [norm] + activation blocks, then a linear unit.

    No sigmoid: a critic's score is unbounded. ``norm="batch"`` adds BatchNorm (which couples the
    samples of a batch, so a per-sample gradient penalty is no longer per sample);
    ``"layer"`` is the normalisation Gulrajani et al. allow; None is the default.
    """

    def __init__(self, in_shape=(2,), hidden: int = 128, depth: int = 3, act: str = "relu", norm: str | None = None):
        super().__init__()
        if norm not in (None, "batch", "layer"):
            raise GanutilsError(f"unknown critic norm {norm!r}: use None, 'layer' or 'batch'")
        hidden, depth = check_positive_int("hidden", hidden), check_positive_int("depth", depth)
        self.in_shape = tuple(in_shape)
        width = int(np.prod(self.in_shape))
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(hidden))
            elif norm == "layer":
                layers.append(nn.LayerNorm(hidden))
            layers.append(activation(act))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)
