"""Losses and Lipschitz constraints: the adversarial losses, the gradient penalty, weight clipping, spectral norm, the ELBO.

Each lives in the module named after it (``losses.gradient_penalty.gradient_penalty``, ``losses.elbo``, ...);
only the adversarial losses and the constraint helpers are re-exported here.
"""

from .adversarial import (
                          LOSSES,
                          GANLoss,
                          d_loss_bce,
                          d_loss_hinge,
                          d_loss_lsgan,
                          d_loss_wasserstein,
                          g_loss_hinge,
                          g_loss_lsgan,
                          g_loss_non_saturating,
                          g_loss_saturating,
                          g_loss_wasserstein,
                          get_loss,
)
from .spectral_norm import apply_spectral_norm
from .weight_clipping import clip_weights

__all__ = ["LOSSES", "GANLoss", "apply_spectral_norm", "clip_weights", "d_loss_bce", "d_loss_hinge", "d_loss_lsgan",
           "d_loss_wasserstein", "g_loss_hinge", "g_loss_lsgan", "g_loss_non_saturating", "g_loss_saturating",
           "g_loss_wasserstein", "get_loss"]
