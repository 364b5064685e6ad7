"""MLP generators and discriminators (the 1-D/2-D toys and the first MNIST GAN).

Discriminators return raw scores (logits), never probabilities: the losses in
``ganutils.losses`` apply the sigmoid inside a numerically stable BCE.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import GanutilsError, seeded

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


def toy_nets(z_dim: int = 2, hidden: int = 128, depth: int = 3, d_act: str = "relu", seed: int = 0):
    """The calibrated toy pair, initialised from ``seed``: ReLU MLPs for G (z -> 2-D) and D (2-D -> logit)."""
    with seeded(seed):
        return MLPGenerator(z_dim, (2,), hidden, depth), MLPDiscriminator((2,), hidden, depth, d_act)
