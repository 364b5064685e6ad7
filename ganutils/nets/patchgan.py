"""The PatchGAN discriminator of pix2pix (Isola et al. 2017, sec. 3.2.2): one logit per image patch.

D(y, x) scores the pair (output y, input x) with a fully convolutional stack whose every output
unit sees one patch (70x70 for ``n_layers=3``; ``nets.receptive_field`` computes it). The
condition of this cGAN is the input image itself, concatenated to the judged image.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from .dcgan import init_dcgan_weights


class PatchDiscriminator(nn.Module):
    """D(y, x) -> a map of logits, one per patch: the pix2pix PatchGAN conditioned on the input x.

    ``n_layers`` 4x4 stride-2 convs (widths width, 2·width, ... capped at 8·width), one 4x4 stride-1
    conv, a 4x4 stride-1 conv to one channel; LeakyReLU(0.2), BatchNorm except on the first layer.
    ``n_layers=3`` is the paper's 70x70 PatchGAN. With ``cond_channels=0`` it is unconditional.
    ``norm="instance"`` is CycleGAN's variant (Zhu et al. 2017, Appendix 7.2: C64-C128-C256-C512 with
    InstanceNorm except on C64, no learned scale and no running statistics); there D judges one image,
    so ``cond_channels=0``.
    """

    def __init__(self, in_channels: int = 3, cond_channels: int = 3, width: int = 64, n_layers: int = 3, norm: str | None = "batch"):
        super().__init__()
        if norm not in ("batch", "instance", None):
            raise GanutilsError(f"unknown norm {norm!r}: use 'batch', 'instance' or None")
        self.in_channels, self.cond_channels = check_positive_int("in_channels", in_channels), int(cond_channels)
        n_layers, width = check_positive_int("n_layers", n_layers), check_positive_int("width", width)
        self.n_layers = n_layers
        layers: list[nn.Module] = [nn.Conv2d(in_channels + self.cond_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        prev = width
        for i in range(1, n_layers + 1):
            w = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers.append(nn.Conv2d(prev, w, 4, stride, 1, bias=norm != "batch"))  # the official code keeps the bias with IN
            if norm == "batch":
                layers.append(nn.BatchNorm2d(w))
            elif norm == "instance":
                layers.append(nn.InstanceNorm2d(w, affine=False, track_running_stats=False))
            layers.append(nn.LeakyReLU(0.2))
            prev = w
        layers.append(nn.Conv2d(prev, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, y: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        if (x is None) != (self.cond_channels == 0):
            raise GanutilsError(
                f"this PatchDiscriminator has cond_channels={self.cond_channels}: "
                + ("call D(output, input)" if self.cond_channels else "call D(output) without a condition")
            )
        return self.net(y if x is None else torch.cat([y, x], 1))
