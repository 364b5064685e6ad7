"""WGAN's original Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1): clamp the critic's weights to [-c, c]."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """WGAN's original Lipschitz constraint: clamp every parameter to [-c, c] after each critic update."""
    for p in module.parameters():
        p.clamp_(-c, c)
