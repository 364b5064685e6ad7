"""PacGAN (Lin et al. 2018): the discriminator judges m samples at once, packed into one input.

A collapsed generator's m samples are near-copies of each other, while m real samples
are spread over the modes, so the packed D can tell the two apart even when every single
fake looks real. Lin et al. show that packing penalises mode collapse more strongly the
larger m is (m = 2..4 in their experiments); only D's input layer changes.

Packing keeps the number of *samples* per step: a batch of N samples gives N / m packed
inputs (all real or all fake), so D scores N / m inputs and the losses average over them.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .mlp import MLPDiscriminator


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(N, C, ...) -> (N/m, m*C, ...): m consecutive samples side by side along the feature/channel axis."""
    n = len(x)
    if n % m:
        raise GanutilsError(f"PacGAN packs {m} samples per input, but the batch has {n} samples: use a batch size divisible by {m}")
    return x.reshape(n // m, m * x.shape[1], *x.shape[2:])


class PackedDiscriminator(nn.Module):
    """Wraps a discriminator whose input has ``m`` times the channels: (N, C, ...) -> N/m logits."""

    def __init__(self, D: nn.Module, m: int = 4):
        super().__init__()
        self.D = D
        self.m = check_positive_int("pack (m)", m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(pack(x, self.m))


def pac_discriminator(m: int = 4, in_dim: int = 2, hidden: int = 128, depth: int = 3, act: str = "relu") -> PackedDiscriminator:
    """The toy MLP discriminator with its input layer widened to m samples (Lin et al.'s construction)."""
    m = check_positive_int("pack (m)", m)
    return PackedDiscriminator(MLPDiscriminator((m * in_dim,), hidden, depth, act), m)
