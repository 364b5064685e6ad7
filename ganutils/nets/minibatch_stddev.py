"""Minibatch standard deviation (Karras et al. 2018, ProGAN section 3): D sees how varied a batch is.

A per-sample discriminator cannot tell a batch of 256 copies of one good sample from 256
different good samples: each copy looks real on its own. The layer appends one feature to
every sample: the standard deviation of each feature across a small group of samples,
averaged over features. A collapsed generator makes that number small, real data does
not, so D can reject collapse and G is pushed to spread out.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .mlp import activation


class MinibatchStdDev(nn.Module):
    """(N, C, ...) -> (N, C + 1, ...): appends the group's mean feature std as one more channel.

    Samples are split into groups of ``group_size`` (as in ProGAN, sample i belongs to group
    i mod N/group_size); N must be a multiple of the group size (or smaller than it, then the
    whole batch is one group).
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        self.group_size = check_positive_int("group_size", group_size)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        g = min(self.group_size, n)
        if n % g:
            raise GanutilsError(
                f"minibatch-stddev got a batch of {n} samples, not a multiple of group_size={self.group_size}: "
                "use a batch size divisible by the group size"
            )
        groups = x.reshape(g, n // g, *x.shape[1:])
        centred = groups - groups.mean(dim=0)
        std = (centred.square().mean(dim=0) + self.eps).sqrt()  # (N/g, C, ...); not torch.var, whose CPU backward is ~3x slower
        per_group = std.flatten(1).mean(dim=1)  # (N/g,)
        stat = per_group.repeat(g).view(n, 1, *([1] * (x.dim() - 2))).expand(n, 1, *x.shape[2:])
        return torch.cat([x, stat], dim=1)


class MinibatchStdDevDiscriminator(nn.Module):
    """An MLP discriminator (x -> logit) whose last hidden features get the minibatch-stddev feature.

    Same layout as ``nets.MLPDiscriminator`` (``depth`` hidden layers of ``hidden`` units), with
    the statistic appended before the output layer, where ProGAN puts it.
    """

    def __init__(self, in_shape=(2,), hidden: int = 128, depth: int = 3, act: str = "relu", group_size: int = 4):
        super().__init__()
        self.in_shape = tuple(in_shape)
        depth = check_positive_int("depth", depth)
        layers: list[nn.Module] = []
        width = int(torch.tensor(self.in_shape).prod())
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), activation(act)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.mbstd = MinibatchStdDev(group_size)
        self.head = nn.Linear(hidden + 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.mbstd(self.body(x.flatten(1)))).squeeze(1)
