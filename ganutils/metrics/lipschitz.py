"""Measuring a critic's Lipschitz behaviour and its W1 estimate, without changing the critic.

- ``input_gradient_norms`` / ``empirical_lipschitz``: ||∇_x f(x)|| per point, and its max (a lower bound);
- ``critic_gap``: E[f(real)] - E[f(fake)], the critic's estimate of W1 (meaningful only when f is 1-Lipschitz);
- ``empirical_w1``: the exact W1 between two equal-size point clouds (optimal assignment), the toys' ground truth;
- ``cross_sample_gradient``: how much one score depends on the *other* samples of the batch (BatchNorm does that).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from ..config import GanutilsError
from ..losses.gradient_penalty import gradient_norms
from ..nets.utils import eval_mode, unchanged


def input_gradient_norms(critic: nn.Module, x: torch.Tensor, *cond) -> torch.Tensor:
    """||grad_x f(x)||_2 per sample (over all non-batch dimensions), shape (N,), in eval mode; the critic is not changed."""
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or len(x) == 0:
        raise GanutilsError(f"x must be a non-empty (N, ...) tensor of critic inputs, got {getattr(x, 'shape', type(x).__name__)}")
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), eval_mode(critic):  # eval: no BatchNorm update, no power iteration
        (grads,) = torch.autograd.grad(critic(x, *cond).sum(), x)
    return gradient_norms(grads).detach()


def empirical_lipschitz(critic: nn.Module, x: torch.Tensor, *cond) -> float:
    """max over the points ``x`` of ||grad_x f(x)||: a *lower* bound on the critic's Lipschitz constant.

    """
    return float(input_gradient_norms(critic, x, *cond).max())


def _check_batch(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or len(x) < 2:
        raise GanutilsError(f"{name} must be an (N, ...) tensor with N >= 2, got {getattr(x, 'shape', type(x).__name__)}")
    return x


@torch.no_grad()
def critic_gap(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *cond) -> float:
    """E[f(real)] - E[f(fake)] in eval mode: the critic's W1 estimate (the negative critic loss without penalty).

    Eval mode: BatchNorm uses running statistics and spectral norm reuses its stored vectors,
    so measuring does not change the critic.
    """
    real, fake = _check_batch("real", real), _check_batch("fake", fake)
    with eval_mode(critic):
        return float(critic(real, *cond).mean() - critic(fake, *cond).mean())


def empirical_w1(a, b) -> float:
    """Exact W1 between two equal-size point clouds (N, d): the mean distance of the optimal one-to-one matching.

    Uses SciPy's linear_sum_assignment (O(N^3)): keep N to a few thousand.
    """
    a = np.asarray(torch.as_tensor(a).detach().cpu().reshape(len(a), -1), dtype=np.float64)
    b = np.asarray(torch.as_tensor(b).detach().cpu().reshape(len(b), -1), dtype=np.float64)
    if a.shape != b.shape or len(a) == 0:
        raise GanutilsError(f"empirical_w1 needs two non-empty point clouds of the same shape, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def cross_sample_gradient(critic: nn.Module, x: torch.Tensor) -> float:
    """||d f(x_0) / d x_j|| summed over the *other* samples j != 0 of the batch (training mode).

    Zero for a per-sample critic; non-zero with BatchNorm, whose batch statistics make each
    score depend on the whole batch, so the "per-sample" input gradient of WGAN-GP is not one.
    """
    x = _check_batch("x", x).detach().clone().requires_grad_(True)
    with unchanged(critic):  # training mode (batch statistics), then BatchNorm's running statistics are put back
        critic.train()
        (grads,) = torch.autograd.grad(critic(x)[0], x)
    return float(grads[1:].norm())
