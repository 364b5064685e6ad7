"""The R1 gradient penalty (Mescheder et al. 2018, sec. 4, eq. 9): γ/2 · E_{x~p_data}[||∇_x D(x)||²].

A *zero-centred* penalty on the real data only. At the equilibrium the discriminator cannot
tell real from fake and is flat on the data, so its gradient there should be zero: R1 pulls
towards exactly that, while WGAN-GP's (||∇D|| - 1)² pulls towards a slope of one, which the
equilibrium cannot have. In the Dirac-GAN it turns the purely imaginary eigenvalues ±i/2 into
-γ/2 ± sqrt(γ²/4 - 1/4): training converges (``ganutils.experiments.dirac_gan``).

StyleGAN2 (Karras et al. 2020) and ADA use it with the non-saturating loss (their γ from 0.01 to
100 depending on the data set: the weight is data dependent); the authors' code multiplies by γ
without the 1/2 (GAN_stability, gan_training/train.py), StyleGAN2's by γ/2 as in the paper.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..config import GanutilsError


def check_gamma(gamma) -> float:
    """γ as a float >= 0, or one clear error."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma >= 0:
        raise GanutilsError(f"the R1 weight gamma must be a number >= 0, got {gamma!r}: e.g. gamma=1 (0 turns R1 off)")
    return float(gamma)


def r1_penalty(critic: Callable[..., torch.Tensor], real: torch.Tensor, *cond, gamma: float) -> torch.Tensor:
    """γ/2 · mean over the batch of ||∇_x D(x)||² at the real images ``real`` (all non-batch dims summed).

    ``critic`` is D, or any differentiable function of the images such as ``lambda x: D(augment(x))``
    (then the gradient is taken through the augmentation, as in ADA). ``create_graph=True`` so the
    penalty's own gradient reaches D's weights. Returns a 0-d tensor (0 when γ = 0, without a pass).
    """
    gamma = check_gamma(gamma)
    if not isinstance(real, torch.Tensor) or real.dim() < 2 or len(real) == 0:
        raise GanutilsError(f"real must be a non-empty (N, ...) batch of images, got {getattr(real, 'shape', type(real).__name__)}")
    if gamma == 0:
        return real.new_zeros(())
    x = real.detach().requires_grad_(True)
    with torch.enable_grad():
        return r1_from_scores(critic(x, *cond), x, gamma)


def r1_from_scores(scores: torch.Tensor, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """γ/2 · E||∇_x D(x)||² from D's scores on ``real`` (a tensor that required grad before the forward pass).

    Lets a training step reuse the forward pass of its loss on the real batch instead of a second one.
    """
    gamma = check_gamma(gamma)
    if gamma == 0:
        return scores.new_zeros(())
    (grads,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    return 0.5 * gamma * grads.flatten(1).pow(2).sum(1).mean()
