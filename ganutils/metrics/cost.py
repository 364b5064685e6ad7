"""What a training step costs, counted rather than timed: floating-point operations of one ``model.step``.

Wall time depends on the machine and on whatever else runs on it; a FLOP count does not. The
count comes from ``torch.utils.flop_counter.FlopCounterMode`` (matrix multiplies and convolutions,
forward and backward, double backward included) on a deep copy of the model, so counting never
changes the model, its optimiser or its random generator.
"""

from __future__ import annotations

import copy

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import GanutilsError


class _Everything:
    """Stands in for FlopCounterMode's per-module tracker, whose backward hooks break ``torch.autograd.grad``
    (the gradient penalty); every count goes to the one total."""

    parents = ("Global",)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _mv_flops(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """Matrix-vector product (spectral norm's power iteration): 2·m·n."""
    return 2 * a_shape[0] * a_shape[1]


def _dot_flops(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    return 2 * a_shape[0]


def _counter() -> FlopCounterMode:
    """PyTorch's counter knows matmuls and convolutions; matrix-vector products and dot products are added,
    so that spectral normalisation's power iteration is counted too."""
    counter = FlopCounterMode(display=False, custom_mapping={torch.ops.aten.mv: _mv_flops, torch.ops.aten.dot: _dot_flops})
    counter.mod_tracker = _Everything()
    return counter


def step_flops(model, batch, by_operator: bool = False):
    """FLOPs of one ``model.step`` on the fixed ``batch`` (a tensor or a tuple of tensors), counted on a copy of ``model``.

    With ``by_operator`` returns {operator name: FLOPs} instead of the total, e.g. the share of
    ``convolution_backward`` that a double backward adds.
    """
    if not hasattr(model, "step"):
        raise GanutilsError(f"step_flops needs a model with a step(sample) method, got {type(model).__name__}")
    batch = batch if isinstance(batch, tuple) else (batch,)
    clone = copy.deepcopy(model)
    counter = _counter()
    with counter:
        clone.step(lambda: batch)
    return _result(counter, by_operator)


def forward_flops(module: torch.nn.Module, *inputs, by_operator: bool = False):
    """FLOPs of one forward pass of ``module`` (no gradient, on a copy: BatchNorm statistics stay as they are)."""
    clone = copy.deepcopy(module)
    counter = _counter()
    with torch.no_grad(), counter:
        clone(*inputs)
    return _result(counter, by_operator)


def _result(counter: FlopCounterMode, by_operator: bool):
    counts = counter.get_flop_counts().get("Global", {})
    if by_operator:
        return {getattr(op, "__name__", str(op)).split(".")[0]: int(n) for op, n in counts.items()}
    return int(sum(counts.values()))
