"""Small tools for networks: does it have BatchNorm, how many parameters, its memory layout, and measuring it
without changing it.

``eval_mode`` and ``unchanged`` are what every probe uses, so that measuring a model never changes it
(no BatchNorm statistics update, no spectral-norm power iteration, no mode left switched).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def fast_layout(module: nn.Module, device) -> nn.Module:
    """On a CPU, a network with 2-D convolutions stored channels-last (NHWC), in place; otherwise unchanged.

    oneDNN's CPU convolutions take NHWC without the layout conversions NCHW costs on every call:
    a DCGAN training step is ~1.1-1.2x faster on one or two cores (``bench/bench_channels_last.py``).
    The network computes the same function; only the order of float sums in a convolution may
    change, so results agree to float rounding, not bit for bit.
    """
    device = torch.device(device)
    if device.type == "cpu" and any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in module.modules()):
        module.to(memory_format=torch.channels_last)
    return module


@contextlib.contextmanager
def eval_mode(*modules: nn.Module):
    """Eval mode for the block (BatchNorm uses running statistics, dropout is off, spectral norm reuses its
    stored vectors), each module's own mode restored after."""
    modes = [(m, m.training) for m in modules if isinstance(m, nn.Module)]  # plain callables have no mode
    try:
        for m, _ in modes:
            m.eval()
        yield
    finally:
        for m, was_training in modes:
            m.train(was_training)


@contextlib.contextmanager
def unchanged(*modules: nn.Module):
    """Run the block, then put back every buffer (BatchNorm statistics, spectral-norm vectors) and each mode.

    For probes that must see a model in training mode (e.g. how BatchNorm couples a batch) but may
    not change it. Parameters are not restored: a probe that steps an optimiser is not a probe.
    """
    saved = [(m, m.training, {k: b.detach().clone() for k, b in m.named_buffers()}) for m in modules if isinstance(m, nn.Module)]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, was_training, buffers in saved:
                for name, buf in m.named_buffers():
                    buf.copy_(buffers[name])
                m.train(was_training)
