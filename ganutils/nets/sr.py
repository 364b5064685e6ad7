"""A small super-resolution network in ESRGAN's layout (Wang et al. 2018), sized for 28x28 digits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, check_positive_int


class ResidualBlock(nn.Module):
    """conv-LeakyReLU-conv plus the input, without BatchNorm (ESRGAN, sec. 3.1: BatchNorm brings artefacts in SR);
    the branch is scaled by 0.2 ("residual scaling", sec. 3.3) for stable training."""

    def __init__(self, width: int, res_scale: float = 0.2):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(width, width, 3, padding=1))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class SRNet(nn.Module):
    """An x``scale`` upsampler: conv -> ``blocks`` residual blocks at the input resolution -> for each factor 2,
    nearest-neighbour upsampling and a conv (ESRGAN's RRDBNet upsamples this way; channels halve at the last
    step) -> conv. The output is added to the bicubic interpolation of the input (a global skip), so the
    network learns only what interpolation misses."""

    def __init__(self, scale: int = 4, channels: int = 1, width: int = 32, blocks: int = 4):
        super().__init__()
        self.scale = check_positive_int("scale", scale)
        if scale < 2 or scale & (scale - 1):
            raise GanutilsError(f"SRNet upsamples by powers of 2, got scale={scale}: use 2, 4 or 8")
        width = check_positive_int("width", width)
        self.head = nn.Conv2d(check_positive_int("channels", channels), width, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(check_positive_int("blocks", blocks))])
        self.body_out = nn.Conv2d(width, width, 3, padding=1)
        n_up = scale.bit_length() - 1
        chans = [width] * n_up + [max(width // 2, 1)]
        self.up = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(n_up))
        self.tail = nn.Conv2d(chans[-1], channels, 3, padding=1)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        h = self.head(lr)
        h = h + self.body_out(self.body(h))
        for conv in self.up:
            h = F.leaky_relu(conv(F.interpolate(h, scale_factor=2, mode="nearest")), 0.2)
        return base + self.tail(h)
