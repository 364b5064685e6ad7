"""GAN losses, each a small function of discriminator logits (raw scores).

Every function returns the quantity its network *minimises*. With D(x) = sigmoid(logit):

- discriminator (minimax and non-saturating GANs): -[log D(x) + log(1 - D(G(z)))]
- generator, saturating (the original minimax): log(1 - D(G(z)))      -> gradient vanishes when D rejects fakes
- generator, non-saturating (what everyone uses): -log D(G(z))         -> strong gradient exactly then

Notebook 01 plots both gradients.

Labels: the BCE losses take ``real_label``/``fake_label`` (label smoothing), LSGAN takes them as its
targets b (real) and a (fake) (Mao et al. 2017, eq. 2); the hinge and Wasserstein losses have no
labels and refuse any other than the defaults, instead of ignoring them.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from ..config import GanutilsError


def d_loss_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))].

    ``real_label`` < 1 is one-sided label smoothing (e.g. 0.9, Salimans et al. 2016);
    ``fake_label`` > 0 as well makes it two-sided, which the same paper advises against.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.full_like(fake_logits, fake_label))
    return real + fake


def g_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], minimised by G: the minimax objective's own generator loss.

    log(1 - sigmoid(l)) = -softplus(l); its gradient w.r.t. l is -sigmoid(l) = -D(G(z)),
    which vanishes when D(G(z)) -> 0, i.e. early in training when D wins.
    """
    return -F.softplus(fake_logits).mean()


def g_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))], minimised by G (Goodfellow et al. 2014, section 3).

    -log sigmoid(l) = softplus(-l); gradient w.r.t. l is -(1 - D(G(z))), close to -1 when D wins.
    """
    return F.softplus(-fake_logits).mean()


def d_loss_lsgan(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """Least-squares GAN (Mao et al. 2017, eq. 2): 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2], b = ``real_label``,
    a = ``fake_label``; the default a-b-c = 0-1-1 is the paper's eq. 9 setting."""
    return 0.5 * ((real_out - real_label) ** 2).mean() + 0.5 * ((fake_out - fake_label) ** 2).mean()


def g_loss_lsgan(fake_out: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((fake_out - 1) ** 2).mean()


def _no_labels(loss: str, real_label: float, fake_label: float) -> None:
    if (real_label, fake_label) != (1.0, 0.0):
        raise GanutilsError(
            f"the {loss} loss has no labels, but real_label={real_label!r}, fake_label={fake_label!r} were given: "
            "label smoothing applies to the BCE and LSGAN losses; leave the labels at 1 and 0 here"
        )


def d_loss_hinge(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """Hinge loss (Lim & Ye 2017; SAGAN, BigGAN): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    _no_labels("hinge", real_label, fake_label)
    return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()


def g_loss_hinge(fake_out: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake_out.mean()


def d_loss_wasserstein(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """Critic loss E[f(G(z))] - E[f(x)]: minimising it maximises the critic gap, the W1 estimate.

    Meaningful only with a Lipschitz constraint (clipping, gradient penalty or spectral norm);
    there are no labels here, neither 1/0 nor +-1.
    """
    _no_labels("wasserstein", real_label, fake_label)
    return fake_out.mean() - real_out.mean()


def g_loss_wasserstein(fake_out: torch.Tensor) -> torch.Tensor:
    """-E[f(G(z))]."""
    return -fake_out.mean()


class GANLoss(NamedTuple):
    """A named pair of losses: ``d(real_out, fake_out, real_label, fake_label)`` and ``g(fake_out)``, each minimised.

    ``uses_labels``: whether ``d`` takes label smoothing (False for hinge and Wasserstein).
    """

    name: str
    d: Callable[..., torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    uses_labels: bool = True


LOSSES = {
    "minimax": GANLoss("minimax", d_loss_bce, g_loss_saturating),
    "non_saturating": GANLoss("non_saturating", d_loss_bce, g_loss_non_saturating),
    "lsgan": GANLoss("lsgan", d_loss_lsgan, g_loss_lsgan),
    "hinge": GANLoss("hinge", d_loss_hinge, g_loss_hinge, uses_labels=False),
    "wasserstein": GANLoss("wasserstein", d_loss_wasserstein, g_loss_wasserstein, uses_labels=False),
}
LOSSES["saturating"] = LOSSES["minimax"]


def get_loss(name) -> GANLoss:
    """A (d, g) loss pair by name (minimax (= saturating), non_saturating, lsgan, hinge, wasserstein), or a ``GANLoss`` as is."""
    if isinstance(name, GANLoss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise GanutilsError(f"unknown GAN loss {name!r}: use one of {', '.join(sorted(LOSSES))}, or pass a losses.GANLoss")
    return LOSSES[name]
