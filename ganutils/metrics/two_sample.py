"""Can a fresh classifier tell two image sets apart? A classifier two-sample test (Lopez-Paz & Oquab 2017).

Blau & Michaeli (2018) define the perceptual quality of an image-restoration method by the distance
between the distribution of its outputs and that of real images, and connect it to the success of the
best discriminator between the two. ``two_sample_accuracy`` trains a small discriminator from scratch on
part of the images and scores it on the rest: 0.5 means the sets are indistinguishable to it, 1.0 that
every image is told apart. It trains only its own new network; nothing passed in changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, check_positive_int, seeded


def judge_net(channels: int = 1, width: int = 16) -> nn.Sequential:
    """28 -> 14 -> 7 strided convolutions, LeakyReLU, no normalisation, one logit."""
    return nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(width, 2 * width, 4, 2, 1),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.LazyLinear(1))


def two_sample_accuracy(real: torch.Tensor, fake: torch.Tensor, *, steps: int = 300, train_fraction: float = 0.6,
                        batch_size: int = 64, lr: float = 1e-3, seed: int = 0) -> float:
    """Held-out accuracy of a discriminator trained to separate ``real`` from ``fake`` images (N, C, H, W).

    Both sets are cut to the smaller size, shuffled with ``seed`` and split into a training part
    (``train_fraction``) and a held-out part; the score is the accuracy on the held-out part.
    """
    steps = check_positive_int("steps", steps)
    if not (torch.is_tensor(real) and torch.is_tensor(fake)) or real.dim() != 4 or real.shape[1:] != fake.shape[1:]:
        raise GanutilsError(f"real and fake must be image batches (N, C, H, W) of one shape, got "
                            f"{tuple(getattr(real, 'shape', ()))} and {tuple(getattr(fake, 'shape', ()))}")
    if not 0 < train_fraction < 1:
        raise GanutilsError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    n = min(len(real), len(fake))
    n_train = int(n * train_fraction)
    if n_train < 2 or n - n_train < 2:
        raise GanutilsError(f"a two-sample test needs more images: got {len(real)} real and {len(fake)} fake")
    g = torch.Generator().manual_seed(seed)
    real = real.detach().cpu().float()[torch.randperm(len(real), generator=g)[:n]]
    fake = fake.detach().cpu().float()[torch.randperm(len(fake), generator=g)[:n]]
    x_train, x_test = torch.cat([real[:n_train], fake[:n_train]]), torch.cat([real[n_train:], fake[n_train:]])
    y_train = torch.cat([torch.ones(n_train), torch.zeros(n_train)])
    y_test = torch.cat([torch.ones(n - n_train), torch.zeros(n - n_train)])
    with seeded(seed):
        net = judge_net(real.shape[1])
        net(x_train[:1])  # materialise the lazy layer inside the seeded block
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        idx = torch.randint(0, len(x_train), (batch_size,), generator=g)
        loss = F.binary_cross_entropy_with_logits(net(x_train[idx]).squeeze(1), y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return ((net(x_test).squeeze(1) > 0).float() == y_test).float().mean().item()
