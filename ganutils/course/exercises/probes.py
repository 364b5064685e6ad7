"""Small observation helpers shared by the exercise definitions (what a check looks at besides the output)."""

from __future__ import annotations

import torch
from torch import nn


def grads_of(out, *inputs) -> tuple:
    """d(sum of ``out``)/d(each input) when ``out`` is a tensor that depends on them; None per input otherwise.

    A loss that was detached (or built without autograd) gives None: "no gradient reaches it".
    """
    if not (isinstance(out, torch.Tensor) and out.requires_grad and out.is_floating_point()):
        return tuple(None for _ in inputs)
    targets = [x for x in inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    found = torch.autograd.grad(out.sum(), targets, allow_unused=True, retain_graph=True) if targets else ()
    found = iter(found)
    return tuple(next(found) if isinstance(x, torch.Tensor) and x.requires_grad else None for x in inputs)


def value_and_grads(out, *inputs) -> dict:
    """{"output": out, "grads": gradients of out w.r.t. the inputs that require them} (None where none flows)."""
    return {"output": out, "grads": grads_of(out, *inputs)}


def flat_params(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def flat_grads(module: nn.Module):
    """All parameter gradients of ``module`` as one vector, or None when no parameter has one."""
    grads = [p.grad for p in module.parameters()]
    if all(g is None for g in grads):
        return None
    params = module.parameters()
    return torch.cat([(g if g is not None else torch.zeros_like(p)).detach().flatten() for g, p in zip(grads, params)])


def backward_grads(loss, *modules) -> tuple:
    """Run ``loss.backward()`` (when it can) and return each module's gradient vector (None: no gradient reached it)."""
    for m in modules:
        m.zero_grad(set_to_none=True)
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.dim() == 0:
        loss.backward()
    return tuple(flat_grads(m) for m in modules)


def tiny_generator(z_dim: int = 4, shape=(1, 4, 4)) -> nn.Module:
    """z -> an (N, *shape) image in [-1, 1]: small enough for a check to run in milliseconds."""
    n = 1
    for s in shape:
        n *= s
    return nn.Sequential(nn.Linear(z_dim, 16), nn.ReLU(), nn.Linear(16, n), nn.Tanh(), nn.Unflatten(1, tuple(shape)))


class Squeeze(nn.Module):
    def forward(self, x):
        return x.squeeze(1)


def tiny_discriminator(shape=(1, 4, 4)) -> nn.Module:
    """An (N, *shape) image -> (N,) logits."""
    n = 1
    for s in shape:
        n *= s
    return nn.Sequential(nn.Flatten(), nn.Linear(n, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), Squeeze())


def couples_samples(critic: nn.Module, n: int = 8, dim: int = 2) -> bool:
    """True if critic(x)[0] depends on the other samples x[1:] (BatchNorm in training mode does that)."""
    x = torch.randn(n, dim, requires_grad=True)
    critic.train()
    out = critic(x)
    (grad,) = torch.autograd.grad(out.flatten()[0], x, allow_unused=True)
    return grad is not None and bool(grad[1:].abs().max() > 0)
