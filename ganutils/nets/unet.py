"""The pix2pix U-Net generator (Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1).

An encoder of 4x4 stride-2 convs down to 1x1, a mirrored decoder, and skip connections that
concatenate each encoder layer to its mirror (``skips=False`` removes them: a plain
encoder-decoder, for the ablation). Dropout (p = 0.5) in the innermost decoder layers is the only
noise source and stays on at test time. ``upsample`` picks ConvTranspose (the paper) or
resize-then-conv (no checkerboard at initialisation, Odena et al. 2016).
Images are (N, C, H, W) in [-1, 1]; H = W must be a power of two >= 8.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .dcgan import init_dcgan_weights

UPSAMPLE = ("convtranspose", "resize")


def unet_depth(size: int) -> int:
    """Number of stride-2 levels that take a ``size`` x ``size`` image down to 1x1 (log2 of the size)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8 or size & (size - 1):
        raise GanutilsError(f"image size must be a power of two >= 8 (the U-Net halves it down to 1x1), got {size!r}: resize to e.g. 32, 64 or 256")
    return size.bit_length() - 1


def _up(in_ch: int, out_ch: int, mode: str, bias: bool) -> nn.Module:
    if mode == "convtranspose":
        return nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=bias)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=bias))


class UNetGenerator(nn.Module):
    """x (N, in_channels, S, S) -> y (N, out_channels, S, S) in [-1, 1], S a power of two.

    Encoder: log2(S) 4x4 stride-2 convs (LeakyReLU 0.2, BatchNorm except on the first and the
    innermost), widths width, 2·width, ... capped at max_mult·width (8 in the paper). Decoder: ReLU,
    up-convolution, BatchNorm, Dropout(0.5) in the ``n_dropout`` innermost layers (the paper's
    CD512-CD512-CD512; its reference code leaves the innermost one out); with ``skips`` each
    decoder layer's output is concatenated with its mirrored encoder layer's output.
    """

    def __init__(self, size: int, in_channels: int = 3, out_channels: int = 3, width: int = 64, *, max_mult: int = 8,
                 skips: bool = True, n_dropout: int = 3, dropout: float = 0.5, upsample: str = "convtranspose"):
        super().__init__()
        if upsample not in UPSAMPLE:
            raise GanutilsError(f"unknown upsample {upsample!r}: use 'convtranspose' (the paper) or 'resize' (resize-then-conv)")
        if not 0 <= dropout < 1:
            raise GanutilsError(f"dropout must be in [0, 1), got {dropout!r}")
        self.size, self.depth = size, unet_depth(size)
        self.in_channels, self.out_channels = check_positive_int("in_channels", in_channels), check_positive_int("out_channels", out_channels)
        width = check_positive_int("width", width)
        self.skips, self.upsample = bool(skips), upsample
        max_mult = check_positive_int("max_mult", max_mult)
        widths = [width * min(2**i, max_mult) for i in range(self.depth)]  # encoder output widths, outermost first
        self.down = nn.ModuleList()
        prev = in_channels
        for i, w in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            norm = 0 < i < self.depth - 1
            layers.append(nn.Conv2d(prev, w, 4, 2, 1, bias=not norm))
            if norm:
                layers.append(nn.BatchNorm2d(w))
            self.down.append(nn.Sequential(*layers))
            prev = w
        self.up = nn.ModuleList()
        n_dropout = min(int(n_dropout), self.depth - 1) if dropout > 0 else 0
        for j in range(self.depth):  # j = 0 is the innermost decoder layer
            i = self.depth - 1 - j  # the encoder level it mirrors
            in_ch = widths[i] * (2 if self.skips and j > 0 else 1)
            if i == 0:  # outermost: back to the image
                self.up.append(nn.Sequential(nn.ReLU(), _up(in_ch, out_channels, upsample, bias=True), nn.Tanh()))
            else:
                layers = [nn.ReLU(), _up(in_ch, widths[i - 1], upsample, bias=False), nn.BatchNorm2d(widths[i - 1])]
                if j < n_dropout:
                    layers.append(nn.Dropout(dropout))
                self.up.append(nn.Sequential(*layers))
        self.n_dropout = n_dropout
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-2:] != (self.size, self.size):
            raise GanutilsError(
                f"UNetGenerator built for (N, {self.in_channels}, {self.size}, {self.size}) got {tuple(x.shape)}: "
                "resize the images or build the generator for their size"
            )
        features = []
        for layer in self.down:
            x = layer(x)
            features.append(x)
        x = self.up[0](features[-1])
        for j, layer in enumerate(self.up[1:], start=1):
            skip = features[self.depth - 1 - j]
            x = layer(torch.cat([x, skip], 1) if self.skips else x)
        return x
