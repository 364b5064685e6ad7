"""Receptive fields of convolution stacks: how many input pixels one output unit sees.

Walking a stack from the input, with r the receptive field, j the jump (the input distance
between two neighbouring units) and ``start`` the input coordinate of the first unit's centre:

    r_out = r_in + (k - 1) * d * j_in        j_out = j_in * s        start_out = start_in + ((k - 1) * d / 2 - p) * j_in

for a layer with kernel k, stride s, padding p and dilation d. Read backwards from one output
unit it is the rule the pix2pix paper's 70x70 comes from: r_in = (r_out - 1) * s + k, so
C64-C128-C256-C512 (4x4 kernels, strides 2, 2, 2, 1) and a 4x4 stride-1 output conv give
1 -> 4 -> 7 -> 16 -> 34 -> 70.

``receptive_field(module)`` walks a module's layers in registration order, so it is right for
plain stacks (``nn.Sequential``, a PatchGAN) and wrong for nets with branches (a U-Net);
``empirical_receptive_field`` measures it with a gradient and is the check. Normalisation layers
count as pointwise, as is conventional: their statistics are treated as constants (BatchNorm in
eval mode); InstanceNorm/GroupNorm/LayerNorm statistics do in fact couple all positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .utils import eval_mode

# layers that act on each pixel (or each channel) on its own: they do not widen the receptive field
POINTWISE = (
    nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Dropout, nn.Dropout2d,
    nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm,
)
SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class Layer:
    """One spatial layer as the receptive-field arithmetic sees it (square kernels)."""

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1


@dataclass(frozen=True)
class ReceptiveField:
    """size: input pixels one output unit sees (per side); jump: input pixels between two output units;
    start: input coordinate of the centre of output unit 0 (negative when padding reaches outside the image)."""

    size: int
    jump: int
    start: float

    def __str__(self) -> str:
        return f"{self.size}x{self.size}"


def _pair_value(value, what: str, layer) -> int:
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise GanutilsError(f"{layer} has a non-square {what} {value}: receptive_field handles square kernels, strides and padding only")
        value = value[0]
    if not isinstance(value, int):
        raise GanutilsError(f"{layer} has {what}={value!r}: use integer padding (not 'same'/'valid') for receptive_field")
    return value


def layer_of(module: nn.Module) -> Layer | None:
    """The ``Layer`` of a Conv2d/MaxPool2d/AvgPool2d, None for a pointwise layer; an error for anything else."""
    if isinstance(module, SPATIAL):
        dilation = module.dilation if isinstance(module, (nn.Conv2d, nn.MaxPool2d)) else 1
        return Layer(*(_pair_value(getattr(module, a) if a != "dilation" else dilation, a, module)
                       for a in ("kernel_size", "stride", "padding", "dilation")))
    if isinstance(module, POINTWISE):
        return None
    raise GanutilsError(
        f"receptive_field does not know {type(module).__name__}: it walks plain stacks of Conv2d/pooling and pointwise "
        "layers; for other nets pass their layers as Layer(kernel, stride, padding, dilation) or use empirical_receptive_field"
    )


def stack_layers(module: nn.Module) -> list[Layer]:
    """The spatial layers of ``module`` in registration order (which must be the order they run in)."""
    layers = []
    for m in module.modules():
        if list(m.children()):  # containers: their leaves are visited on their own
            continue
        layer = layer_of(m)
        if layer is not None:
            layers.append(layer)
    if not layers:
        raise GanutilsError(f"{type(module).__name__} has no Conv2d or pooling layer: nothing to compute a receptive field of")
    return layers


def receptive_field(net) -> ReceptiveField:
    """Receptive field of an output unit of ``net``: an ``nn.Module`` (walked) or a list of ``Layer``."""
    layers = stack_layers(net) if isinstance(net, nn.Module) else list(net)
    if not layers or not all(isinstance(layer, Layer) for layer in layers):
        raise GanutilsError("receptive_field needs an nn.Module or a non-empty list of Layer(kernel, stride, padding, dilation)")
    size, jump, start = 1, 1, 0.0
    for layer in layers:
        k, s = check_positive_int("kernel", layer.kernel), check_positive_int("stride", layer.stride)
        d = check_positive_int("dilation", layer.dilation)
        start += ((k - 1) * d / 2 - layer.padding) * jump
        size += (k - 1) * d * jump
        jump *= s
    return ReceptiveField(size, jump, start)


def output_size(net, in_size: int) -> int:
    """Side of the output map for an ``in_size`` x ``in_size`` input: floor((n + 2p - d(k - 1) - 1) / s) + 1 per layer."""
    layers = stack_layers(net) if isinstance(net, nn.Module) else list(net)
    n = check_positive_int("in_size", in_size)
    for layer in layers:
        n = (n + 2 * layer.padding - layer.dilation * (layer.kernel - 1) - 1) // layer.stride + 1
        if n <= 0:
            raise GanutilsError(f"an input of {in_size}x{in_size} is too small for this stack: it shrinks to nothing")
    return n


def patchgan_layers(n_layers: int = 3) -> list[Layer]:
    """The pix2pix PatchGAN layout: n_layers 4x4 stride-2 convs, one 4x4 stride-1 conv, a 4x4 stride-1 output conv.

    n_layers=3 is the paper's 70x70 (C64-C128-C256-C512); 2 gives 34x34, 1 gives 16x16.
    """
    n_layers = check_positive_int("n_layers", n_layers)
    return [Layer(4, 2, 1)] * n_layers + [Layer(4, 1, 1), Layer(4, 1, 1)]


def empirical_receptive_field(net: nn.Module, in_channels: int, size: int, *extra_inputs: torch.Tensor) -> int:
    """Side of the input square that the centre output unit's gradient reaches (the check on ``receptive_field``).

    The net runs in eval mode (train-mode BatchNorm mixes the whole batch and would leak gradient
    everywhere) on one random input of ``size`` x ``size``, which must exceed the receptive field so
    the border does not clip it. ``extra_inputs`` are passed after the input (e.g. a condition image).
    """
    size = check_positive_int("size", size)
    with eval_mode(net):
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(1, in_channels, size, size, generator=gen, requires_grad=True)
        out = net(x, *extra_inputs)
        if out.dim() != 4:
            raise GanutilsError(f"empirical_receptive_field needs a net with an (N, C, H, W) output map, got shape {tuple(out.shape)}")
        h, w = out.shape[-2] // 2, out.shape[-1] // 2
        (grad,) = torch.autograd.grad(out[0, :, h, w].sum(), x)
    reached = grad.abs().sum((0, 1)) > 0
    rows, cols = reached.any(1).nonzero(), reached.any(0).nonzero()
    side_h, side_w = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise GanutilsError(f"the gradient reaches the border of the {size}x{size} input: pass a larger size than the receptive field")
    return max(side_h, side_w)
