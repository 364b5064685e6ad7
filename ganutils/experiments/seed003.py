"""Seed 003's "Wasserstein GAN" as written, to show what goes wrong (notebook 04).

Labels 1/0 in Keras' ``mean(y_true * y_pred)``, no clipping, no penalty, a BatchNorm critic: the
fake term of the critic loss is identically 0, the real term has the wrong sign, and the
generator's loss ``mean(0 * f(G(z)))`` gives G no gradient at all.
"""

from __future__ import annotations

import torch
from torch import nn

from ..losses.adversarial import GANLoss
from ..training.gan import GAN


def d_loss_label_product(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """Seed 003's Keras ``mean(y_true * y_pred)`` with y_true = 1 (real), 0 (fake), minimised by the critic.

    The fake term is identically 0 and the real term pushes f(real) *down*: the wrong sign.
    The WGAN critic loss is E[f(fake)] - E[f(real)] (``losses.d_loss_wasserstein``), no labels.
    """
    return (real_label * real_out).mean() + (fake_label * fake_out).mean()


def g_loss_label_product(fake_out: torch.Tensor) -> torch.Tensor:
    """Seed 003's generator loss ``mean(0 * f(G(z)))``: identically zero, so G gets no gradient at all."""
    return (0.0 * fake_out).mean()


SEED003_LOSS = GANLoss("seed003_label_product", d_loss_label_product, g_loss_label_product)


def seed003_wgan(G: nn.Module, D: nn.Module, *, z_dim: int, seed: int = 0, device=None) -> GAN:
    """Seed 003's "Wasserstein GAN" as written: labels 1/0 in mean(y_true * y_pred), no clipping, no penalty,
    one critic step per G step, Adam(2e-4) with Keras' default betas (0.9, 0.999). Pass a BatchNorm critic
    (``MLPCritic(norm="batch")``) to copy it fully. For demonstrating what goes wrong, not for use.
    """
    return GAN(G, D, z_dim=z_dim, loss=SEED003_LOSS, lr_g=2e-4, lr_d=2e-4, betas=(0.9, 0.999), n_critic=1,
               seed=seed, device=device)
