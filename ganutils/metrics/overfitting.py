"""Is the discriminator memorising its training images? (Karras et al. 2020, "Training GANs with
limited data", sec. 2-3.)

An overfitting D scores its *training* reals as real and *held-out* reals, which it has never
seen, more and more like fakes. ADA's two signals:
- r_t = E[sign(D(x_train))]: the share of training reals D calls real, minus the share it calls
  fake; 0 when D cannot tell, 1 when it is sure of every one (ADA steers augmentation to r_t = 0.6);
- r_v = (E[D(x_train)] - E[D(x_valid)]) / (E[D(x_train)] - E[D(G(z))]): where held-out reals sit
  between training reals (0) and generated images (1). Scale-free, but noisy when D scores
  reals and fakes alike (the denominator goes to 0).
- the membership AUC: how often D scores a training image above a held-out one (0.5: it cannot
  tell them apart; 1: it has memorised the training set). Bounded and scale-free: the course
  asserts on this one.

Probing never changes D: it runs in eval mode (no spectral-norm power iteration, no BatchNorm
statistics update) without gradients.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError
from ..nets.utils import eval_mode


@torch.no_grad()
def discriminator_scores(D: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """D's raw scores (logits) on ``x``, shape (N,), in eval mode; D's mode is restored afterwards."""
    if not isinstance(x, torch.Tensor) or len(x) == 0:
        raise GanutilsError(f"need a non-empty batch of images to score, got {getattr(x, 'shape', type(x).__name__)}")
    device = next(D.parameters()).device
    with eval_mode(D):
        return torch.cat([D(x[i : i + batch_size].to(device)).flatten().float().cpu() for i in range(0, len(x), batch_size)])


def membership_auc(train_scores: torch.Tensor, held_out_scores: torch.Tensor) -> float:
    """P(D scores a random training image above a random held-out one), ties counting 1/2 (Mann-Whitney AUC).

    0.5: D cannot tell the images it was trained on from new ones; 1: it has memorised them all.
    """
    a, b = torch.as_tensor(train_scores).flatten().double(), torch.as_tensor(held_out_scores).flatten().double()
    if len(a) == 0 or len(b) == 0:
        raise GanutilsError("membership_auc needs at least one training and one held-out score")
    diff = a[:, None] - b[None, :]
    return ((diff > 0).double().mean() + 0.5 * (diff == 0).double().mean()).item()


def overfitting_signals(D: nn.Module, train: torch.Tensor, held_out: torch.Tensor, fake: torch.Tensor) -> dict:
    """{train, held_out, fake (mean scores), gap = train - held_out, r_t (on ``train``), r_t_held_out, r_v, auc}."""
    s_train, s_held, s_fake = (discriminator_scores(D, x) for x in (train, held_out, fake))
    train_mean, held_mean, fake_mean = s_train.mean().item(), s_held.mean().item(), s_fake.mean().item()
    spread = train_mean - fake_mean
    return {
        "train": train_mean,
        "held_out": held_mean,
        "fake": fake_mean,
        "gap": train_mean - held_mean,
        "r_t": s_train.sign().mean().item(),
        "r_t_held_out": s_held.sign().mean().item(),
        "r_v": (train_mean - held_mean) / spread if abs(spread) > 1e-8 else float("nan"),
        "auc": membership_auc(s_train, s_held),
    }
