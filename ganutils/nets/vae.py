"""Encoders and decoders of the VAE on 28x28 digits: MLP (one hidden layer, as in Kingma & Welling 2014) or conv.

The encoder outputs (μ, log σ²) of q(z|x); the decoder outputs Bernoulli logits per pixel.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int

IMAGE_SHAPE = (1, 28, 28)


class MLPEncoder(nn.Module):
    """x (N, 1, 28, 28) -> (μ, log σ²), each (N, z_dim). Predicting log σ² keeps σ positive without a constraint."""

    def __init__(self, z_dim: int = 20, hidden: int = 400, depth: int = 1):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        layers, width = [], math.prod(IMAGE_SHAPE)
        for _ in range(check_positive_int("depth", depth)):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(nn.Flatten(), *layers)
        self.head = nn.Linear(width, 2 * self.z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z (N, z_dim) -> Bernoulli logits (N, 1, 28, 28); sigmoid(logits) is the mean image."""

    def __init__(self, z_dim: int = 20, hidden: int = 400, depth: int = 1):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        layers, width = [], self.z_dim
        for _ in range(check_positive_int("depth", depth)):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, math.prod(IMAGE_SHAPE)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *IMAGE_SHAPE)


class ConvEncoder(nn.Module):
    """28 -> 14 -> 7 strided convolutions, then (μ, log σ²). No BatchNorm: each digit is encoded on its own."""

    def __init__(self, z_dim: int = 20, width: int = 32):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 2 * self.z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """z -> 7x7 -> 14 -> 28 transposed convolutions (the DCGAN generator's layout without BatchNorm) -> logits."""

    def __init__(self, z_dim: int = 20, width: int = 32):
        super().__init__()
        self.z_dim, self.width = check_positive_int("z_dim", z_dim), width
        self.fc = nn.Sequential(nn.Linear(self.z_dim, 2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # 14 -> 28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(len(z), 2 * self.width, 7, 7))


ARCHS = ("mlp", "conv")


def make_nets(arch: str = "mlp", z_dim: int = 20, hidden: int | None = None) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder): "mlp" (``hidden`` units, default 400, one hidden layer each) or "conv" (``hidden`` channels, default 32)."""
    if arch == "mlp":
        return MLPEncoder(z_dim, hidden or 400), MLPDecoder(z_dim, hidden or 400)
    if arch == "conv":
        return ConvEncoder(z_dim, hidden or 32), ConvDecoder(z_dim, hidden or 32)
    raise GanutilsError(f"unknown VAE architecture {arch!r}: use one of {', '.join(ARCHS)}")
