"""Generators and discriminators used across the course.

Discriminators return raw scores (logits), never probabilities: the losses in
``losses.py`` apply the sigmoid inside a numerically stable BCE. (Seed 001 ends its
discriminator in a sigmoid *and* tells the loss ``from_logits=True``: a double sigmoid.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import GanutilsError

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "sigmoid": lambda: nn.Sigmoid(),
    "elu": lambda: nn.ELU(),
}


def activation(name: str | None) -> nn.Module:
    if name is None or name == "none":
        return nn.Identity()
    if name not in ACTIVATIONS:
        raise GanutilsError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)} or None")
    return ACTIVATIONS[name]()


def mlp(in_dim: int, out_dim: int, hidden: int = 128, depth: int = 3, act: str = "relu", out_act: str | None = None) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` then a linear output layer."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation(act)]
        width = hidden
    layers += [nn.Linear(width, out_dim), activation(out_act)]
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (N, z_dim) -> samples of shape (N, *out_shape)."""

    def __init__(self, z_dim: int, out_shape=(2,), hidden: int = 128, depth: int = 3, act: str = "relu", out_act: str | None = None):
        super().__init__()
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        self.net = mlp(z_dim, math.prod(self.out_shape), hidden, depth, act, out_act)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """x (N, *in_shape) -> logits (N,)."""

    def __init__(self, in_shape=(2,), hidden: int = 128, depth: int = 3, act: str = "relu"):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.net = mlp(math.prod(self.in_shape), 1, hidden, depth, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


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


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
