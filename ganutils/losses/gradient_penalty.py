"""The WGAN-GP gradient penalty (Gulrajani et al. 2017, Algorithm 1): λ·E[(||∇f(x̂)||₂ - 1)²] on random interpolates."""

from __future__ import annotations

import torch
from torch import nn


def gradient_norms(grads: torch.Tensor) -> torch.Tensor:
    """Per-sample L2 norms over *all* non-batch dimensions: (N, ...) -> (N,).

    ``grads.norm(2, dim=1)`` on a 4-D image gradient would take the norm over channels only,
    one norm per pixel: the classic WGAN-GP bug. Flattening first makes it impossible.
    """
    return grads.flatten(1).norm(2, dim=1)


def penalty_from_gradients(grads: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """weight * E[(||grad||_2 - 1)^2]: zero gradients give ``weight``, unit-norm gradients give 0."""
    return weight * ((gradient_norms(grads) - 1) ** 2).mean()


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1] per sample."""
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, generator=generator)
    return eps * real + (1 - eps) * fake


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *cond, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """lambda * E[(||grad_x f(x_hat)||_2 - 1)^2] on random interpolates x_hat (Algorithm 1, lambda = 10).

    ``create_graph=True`` so the penalty's own gradient reaches the critic's weights.
    """
    x_hat = interpolates(real.detach(), fake.detach(), generator).requires_grad_(True)
    scores = critic(x_hat, *cond)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return penalty_from_gradients(grads, weight)
