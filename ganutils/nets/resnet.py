"""The CycleGAN generator (Zhu et al. 2017, Sec. 4 and Appendix 7.2), after Johnson et al. 2016.

c7s1-k, d2k, d4k, R4k x n_blocks, u2k, uk, c7s1-out: a 7x7 convolution, two stride-2 3x3
convolutions down, residual blocks at 1/4 resolution, two stride-1/2 (transposed) 3x3
convolutions up, a 7x7 convolution to the output and tanh. Every convolution but the last is
followed by instance normalisation and ReLU; reflection padding instead of zeros ("to reduce
artifacts", Appendix 7.2). The paper uses k = 64 and 6 blocks at 128x128, 9 at 256x256.

Unlike the U-Net of pix2pix, no skip connects input and output directly: everything passes
through the residual bottleneck, whose identity paths keep the image's layout.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .dcgan import init_dcgan_weights


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """Per-image, per-channel normalisation, no learned scale/shift, no running statistics (the official code's setting)."""
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """x + [reflect-pad, 3x3 conv, IN, ReLU, reflect-pad, 3x3 conv, IN](x)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=True), instance_norm(channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=True), instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """x (N, in_channels, H, W) -> y (N, out_channels, H, W) in [-1, 1]; H and W divisible by 4 (28 works)."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, n_blocks: int = 6):
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.out_channels = check_positive_int("out_channels", out_channels)
        k = check_positive_int("width", width)
        if isinstance(n_blocks, bool) or int(n_blocks) != n_blocks or n_blocks < 0:
            raise GanutilsError(f"n_blocks must be a whole number >= 0, got {n_blocks!r}")
        self.n_blocks = int(n_blocks)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, k, 7), instance_norm(k), nn.ReLU()]
        for mult in (1, 2):  # d2k, d4k
            layers += [nn.Conv2d(k * mult, k * mult * 2, 3, stride=2, padding=1), instance_norm(k * mult * 2), nn.ReLU()]
        layers += [ResidualBlock(4 * k) for _ in range(self.n_blocks)]
        for mult in (4, 2):  # u2k, uk
            layers += [nn.ConvTranspose2d(k * mult, k * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       instance_norm(k * mult // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(k, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)  # N(0, 0.02), as the official code's init_type="normal"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise GanutilsError(
                f"ResnetGenerator built for (N, {self.in_channels}, H, W) with H, W divisible by 4 got {tuple(x.shape)}: "
                "pad or resize the images (28x28 works)"
            )
        return self.net(x)
