"""The perceptual loss: distances between a frozen network's feature maps instead of between pixels."""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError


class PerceptualLoss(nn.Module):
    """sum_l w_l * mean |phi_l(x) - phi_l(y)| over the conv blocks of a frozen classifier, taken before their ReLU.

    SRGAN (Ledig et al. 2017, sec. 2.2.1) compares VGG-19 feature maps; ESRGAN (Wang et al. 2018, sec. 3.3)
    takes them *before* the activation, where they are denser. ``net`` must have ``net.conv``: a sequence of
    (conv, BatchNorm, ReLU, pool) blocks, as the course's evaluation network has; the features used are
    the BatchNorm outputs. The network is held outside this module's tree and never switched to train
    mode, so computing the loss never changes it (its BatchNorm uses the stored statistics).
    """

    def __init__(self, net: nn.Module, weights=(0.1, 1.0, 1.0)):
        super().__init__()
        blocks = getattr(net, "conv", None)
        if blocks is None or len(blocks) != len(weights):
            raise GanutilsError(f"PerceptualLoss needs a network with .conv blocks (one weight each): got "
                                f"{type(net).__name__} with {len(blocks) if blocks is not None else 'no'} blocks and {len(weights)} weights")
        if net.training:
            raise GanutilsError("the feature network is in training mode: pass it in eval mode (e.g. metrics.load_evalnet())")
        self._net = (net,)
        self.weights = tuple(float(w) for w in weights)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, h = [], x
        for conv, norm, act, pool in (tuple(block) for block in self._net[0].conv):
            h = norm(conv(h))
            feats.append(h)
            h = pool(act(h))
        return feats

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return sum(w * (a - b).abs().mean() for w, a, b in zip(self.weights, self.features(x), self.features(y)))
