"""DCGAN generator and discriminator for 28x28 images (Radford et al. 2016).

The discriminator returns a raw score (logit), never a probability: the losses in
``ganutils.losses`` apply the sigmoid inside a numerically stable BCE.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError
from .mlp import activation


class DCGANGenerator(nn.Module):
    """DCGAN for 28x28: z -> 7x7 -> 14x14 -> 28x28, BatchNorm + ReLU inside, tanh at the end (Radford et al. 2016)."""

    def __init__(self, z_dim: int = 64, width: int = 64, out_channels: int = 1, out_act: str = "tanh"):
        super().__init__()
        self.z_dim = z_dim
        self.fc = nn.Sequential(nn.Linear(z_dim, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, out_channels, 4, 2, 1),  # 14 -> 28
            activation(out_act),
        )
        self.width = width
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(len(z), 2 * self.width, 7, 7))


class DCGANDiscriminator(nn.Module):
    """DCGAN for 28x28: 28 -> 14 -> 7 -> logit. LeakyReLU(0.2), BatchNorm optional.

    ``norm="batch"`` is the DCGAN default; a WGAN-GP critic must use ``norm=None``
    (or "layer"): the penalty is per sample, and BatchNorm mixes samples in a batch.
    """

    def __init__(self, width: int = 64, in_channels: int = 1, norm: str | None = "batch", act: str = "leaky_relu"):
        super().__init__()
        if norm not in ("batch", "layer", None):
            raise GanutilsError(f"unknown norm {norm!r}: use 'batch', 'layer' or None")
        norm_layer = {"batch": lambda: nn.BatchNorm2d(2 * width), "layer": lambda: nn.GroupNorm(1, 2 * width), None: nn.Identity}[norm]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, 2, 1),  # 28 -> 14
            activation(act),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=norm is None),  # 14 -> 7
            norm_layer(),
            activation(act),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 1)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for conv/linear weights, N(1, 0.02) for norm scales (the DCGAN paper's init)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
