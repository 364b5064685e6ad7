"""Exercises of notebook 02: the discriminator and generator losses of one GAN step, label smoothing, the equilibrium."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganutils import losses

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import backward_grads, tiny_discriminator, tiny_generator, value_and_grads

NB = "02_first_gan_mnist"


def _gd_cases(with_real: bool):
    def make(n):
        def build():
            G, D = tiny_generator(), tiny_discriminator()
            z = torch.randn(n, 4)
            if not with_real:
                return G, D, z
            return G, D, torch.rand(n, 1, 4, 4) * 2 - 1, z
        return build

    return [Case("a batch of 8 (tiny G and D on 4x4 images)", make(8), seed=1),
            Case("a batch of 3, other weights", make(3), seed=2)]


# ----------------------------------------------------------------------------- the D step


def _d_loss_reference(G, D, real, z):
    """The course's D step (ganutils.training.GAN.update_d without the optimiser): real -> 1, detached fake -> 0."""
    return losses.d_loss_bce(D(real), D(G(z).detach()))


def _d_observe(loss, G, D, real, z):
    d_grads, g_grads = backward_grads(loss, D, G)
    return {"output": loss, "d_grads": d_grads, "g_gets_gradient": g_grads is not None and bool(g_grads.abs().sum() > 0)}


def _bce_real_fake(D, real, fake, real_target, fake_target, squash=False):
    r, f = D(real), D(fake)
    if squash:
        r, f = torch.sigmoid(r), torch.sigmoid(f)
    return (F.binary_cross_entropy_with_logits(r, torch.full_like(r, real_target))
            + F.binary_cross_entropy_with_logits(f, torch.full_like(f, fake_target)))


register(Implement(
    id="02-discriminator-loss", notebook=NB, title="The discriminator's loss in one GAN step",
    task="discriminator_loss(G, D, real, z): D's loss for one update; D returns logits; real images get the label 1, "
         "the generated images G(z) the label 0, and this step must not train G.",
    explanation="-[log D(x) + log(1 - D(G(z)))] = BCE-with-logits(D(real), 1) + BCE-with-logits(D(fake), 0), with "
                "fake = G(z).detach(): the D step only updates D, so no gradient should flow back into G (it would "
                "be wasted work, and with a shared optimiser or a missing zero_grad it would push G to help D).",
    reference=_d_loss_reference, cases=lambda: _gd_cases(True), observe=_d_observe,
    describe={"d_grads": "the gradient D's parameters receive", "g_gets_gradient": "whether G's parameters get a gradient"},
    bugs=(
        Bug("fakes-not-detached", "the fakes are not detached: D's loss backpropagates into G. Use G(z).detach() in the "
            "D step (the G step is where G gets its gradient).",
            lambda G, D, real, z: losses.d_loss_bce(D(real), D(G(z)))),
        Bug("d-labels-swapped", "labels swapped: your D learns to call real images fake. Real -> 1, fake -> 0.",
            lambda G, D, real, z: _bce_real_fake(D, real, G(z).detach(), 0.0, 1.0)),
        Bug("sigmoid-into-from-logits", "you apply a sigmoid and then a loss that applies its own (BCE *with logits*, "
            "Keras from_logits=True): D's outputs are squeezed into (0.5, 0.73) and it can never be confident (seed "
            "001's bug). Pass the raw logits.",
            lambda G, D, real, z: _bce_real_fake(D, real, G(z).detach(), 1.0, 0.0, squash=True), shipped="seed 001"),
        Bug("bce-on-logits", "F.binary_cross_entropy expects probabilities in [0, 1], but D returns logits (it has no "
            "sigmoid at its end, by design). Use F.binary_cross_entropy_with_logits, which applies the sigmoid inside, "
            "stably.",
            lambda G, D, real, z: F.binary_cross_entropy(D(real), torch.ones(len(real)))
            + F.binary_cross_entropy(D(G(z).detach()), torch.zeros(len(z)))),
    ),
))


# ----------------------------------------------------------------------------- the G step


def _g_loss_reference(G, D, z):
    """The course's G step loss (ganutils.training.GAN.g_step): the non-saturating loss on D's logits of G(z)."""
    return losses.g_loss_non_saturating(D(G(z)))


def _g_observe(loss, G, D, z):
    (g_grads,) = backward_grads(loss, G)
    return {"output": loss, "g_grads": g_grads}


register(Implement(
    id="02-generator-loss", notebook=NB, title="The generator's loss in one GAN step",
    task="generator_loss(G, D, z): the non-saturating generator loss -E[log D(G(z))] for one G update; its gradient "
         "must reach G's parameters.",
    explanation="BCE-with-logits(D(G(z)), 1) = softplus(-D(G(z))) averaged: G is trained towards the *real* label. "
                "Here the fakes must not be detached, or no gradient reaches G (ganutils.training.GAN.g_step freezes D's "
                "parameters instead, so only G is updated).",
    reference=_g_loss_reference, cases=lambda: _gd_cases(False), observe=_g_observe,
    describe={"g_grads": "the gradient G's parameters receive"},
    bugs=(
        Bug("g-towards-fake-label", "G is trained towards the *fake* label (BCE against zeros, seed 001's "
            "zeros_like(fake)): it learns to be detected. The generator's target is 1.",
            lambda G, D, z: F.binary_cross_entropy_with_logits(D(G(z)), torch.zeros(len(z))), shipped="seed 001"),
        Bug("saturating-instead-of-non-saturating", "that is the saturating loss log(1 - D(G(z))), whose gradient "
            "vanishes when D rejects the fakes; the non-saturating loss is -log D(G(z)) (BCE against 1).",
            lambda G, D, z: losses.g_loss_saturating(D(G(z)))),
        Bug("fakes-detached-in-g-step", "you detached the fakes in the G step: the loss has the right value but no "
            "gradient reaches G, so G never learns. Detach only in the D step.",
            lambda G, D, z: losses.g_loss_non_saturating(D(G(z).detach()))),
        Bug("sigmoid-into-from-logits", "a sigmoid before a loss that applies its own (BCE *with logits*): pass the "
            "raw logits.",
            lambda G, D, z: F.binary_cross_entropy_with_logits(torch.sigmoid(D(G(z))), torch.ones(len(z)))),
    ),
))


# ----------------------------------------------------------------------------- one-sided label smoothing


def _logit_pair_cases():
    return [Case("8 real and 8 fake logits", lambda: (torch.randn(8).requires_grad_(), torch.randn(8).requires_grad_()), seed=3),
            Case("confident logits (±6), float64", lambda: ((6 + torch.rand(5, dtype=torch.float64)).requires_grad_(),
                                                          (-6 - torch.rand(5, dtype=torch.float64)).requires_grad_()))]


register(Implement(
    id="02-label-smoothing", notebook=NB, title="One-sided label smoothing",
    task="smoothed_d_loss(real_logits, fake_logits): the discriminator's BCE loss with one-sided label smoothing: "
         "real target 0.9 instead of 1 (Salimans et al. 2016), fakes keep their target 0.",
    explanation="BCE-with-logits(real, 0.9) + BCE-with-logits(fake, 0) = losses.d_loss_bce(real, fake, real_label=0.9). "
                "Only the real side is smoothed: a fake target above 0 would reward D for calling the current fakes "
                "partly real, which reinforces them (Salimans et al. 2016, sec. 3.4).",
    reference=lambda r, f: losses.d_loss_bce(r, f, real_label=0.9), cases=_logit_pair_cases,
    observe=lambda out, r, f: value_and_grads(out, r, f), describe={"grads": "the gradients with respect to the logits"},
    bugs=(
        Bug("two-sided-smoothing", "two-sided smoothing (fake target 0.1 as well): Salimans et al. smooth only the real "
            "label, because a positive fake target rewards D for calling the current fakes partly real.",
            lambda r, f: losses.d_loss_bce(r, f, real_label=0.9, fake_label=0.1), shipped="the 'GAN hacks' folklore"),
        Bug("smoothing-on-fake-label", "you smoothed the *fake* label (0 -> 0.1) and left the real one at 1: "
            "one-sided smoothing is on the real side (1 -> 0.9).",
            lambda r, f: losses.d_loss_bce(r, f, real_label=1.0, fake_label=0.1)),
        Bug("smoothing-amount-as-label", "the real target became 0.1: smoothing *by* 0.1 replaces 1 with 0.9.",
            lambda r, f: losses.d_loss_bce(r, f, real_label=0.1)),
    ),
))


# ----------------------------------------------------------------------------- the equilibrium values


def _equilibrium() -> tuple[float, float]:
    half = torch.zeros(1)  # logit 0: D = 1/2 for every input
    return losses.d_loss_bce(half, half).item(), losses.g_loss_non_saturating(half).item()


register(Derive(
    id="02-equilibrium-losses", notebook=NB, title="The losses at the ideal equilibrium",
    task="At the ideal equilibrium p_g = p_data and D(x) = 1/2 everywhere. What are D's loss "
         "(BCE on real + BCE on fake) and G's non-saturating loss? Answer (d_loss, g_loss).",
    explanation="Each BCE term is -log(1/2) = log 2: D's loss has two of them, 2 log 2 ≈ 1.386, G's one, log 2 ≈ "
                "0.693. These are the dotted lines in the loss plot: a healthy GAN's losses hover, they do not go to 0.",
    truth=_equilibrium, answer_format="a tuple of two numbers (d_loss, g_loss)", hint="What is -log(1/2)? How many terms?",
    bugs=(
        Bug("losses-go-to-zero", "a GAN's losses do not go to zero at the equilibrium: D cannot beat chance there, and "
            "each BCE term is -log(1/2) = log 2.", lambda: (0.0, 0.0)),
        Bug("d-loss-one-term", "D's loss has two terms, one on real and one on fake images, each log 2.",
            lambda: (losses.d_loss_bce(torch.zeros(1), torch.zeros(1)).item() / 2, losses.g_loss_non_saturating(torch.zeros(1)).item())),
        Bug("probability-not-loss", "1/2 is D's output; the loss is -log(1/2) = log 2 per term.", lambda: (0.5, 0.5)),
    ),
))


register(Predict(
    id="02-predict-d-only", notebook=NB, title="What a discriminator alone does to its loss",
    task="Freeze the trained generator and keep training a fresh D against it. D's loss will...",
    choices=("fall towards 0", "stay near 2 log 2", "rise"), expected="fall towards 0",
    explanation="Against a frozen G, D is an ordinary classifier of real vs generated digits and wins: its loss heads to "
                "0 and G's non-saturating loss explodes. A GAN whose D loss goes to 0 has not converged; its G has lost.",
    bugs=(Bug("loss-level-is-fixed", "2 log 2 is the value of the *game* at its equilibrium, held there by G improving; "
              "a D that plays alone wins.", "stay near 2 log 2"),),
))
