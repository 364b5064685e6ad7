"""Exercises of notebook 08: the PatchGAN receptive field, pix2pix's generator loss, L1's median."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganutils import losses
from ganutils.nets.receptive_field import Layer, receptive_field

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import value_and_grads

NB = "08_pix2pix"


# ----------------------------------------------------------------------------- receptive field


def _rf_reference(layers):
    """ganutils.nets.receptive_field on (kernel, stride) pairs."""
    return receptive_field([Layer(int(k), int(s)) for k, s in layers]).size


def _rf_walk(layers, *, skip=None, jump_first=False, strides=True):
    if skip == "last":
        layers = layers[:-1]
    elif skip == "first":
        layers = layers[1:]
    size, jump = 1, 1
    for k, s in layers:
        if jump_first:
            jump *= s if strides else 1
            size += (k - 1) * jump
        else:
            size += (k - 1) * jump
            jump *= s if strides else 1
    return size


PAPER_PATCHGAN = [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]
register(Implement(
    id="08-receptive-field", notebook=NB, title="The PatchGAN's receptive field",
    task="receptive_field(layers): layers is a list of (kernel, stride) pairs from the input to the output. Return how "
         "many input pixels (per side) one output unit sees.",
    explanation="Walk forwards with r = 1, jump j = 1: each layer adds (k - 1)·j to r, then multiplies j by its stride "
                "(or walk back from the output with r_in = (r - 1)·s + k). The paper's C64-C128-C256-C512 plus the "
                "output conv: 1 -> 4 -> 7 -> 16 -> 34 -> 70.",
    reference=_rf_reference,
    cases=lambda: [Case("the pix2pix PatchGAN, (4, 2) x 3 + (4, 1) x 2", lambda: ([*PAPER_PATCHGAN],)),
                   Case("the 16x16 PatchGAN, (4, 2) + (4, 1) x 2", lambda: ([(4, 2), (4, 1), (4, 1)],)),
                   Case("one 3x3 convolution", lambda: ([(3, 1)],)),
                   Case("a VGG-like stack with pooling", lambda: ([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)],)),
                   Case("a ResNet-like stem, (7, 2), (3, 2), (3, 1)", lambda: ([(7, 2), (3, 2), (3, 1)],))],
    bugs=(
        Bug("rf-off-by-one-layer", "one layer is missing from your walk: you get the field of the stack without its "
            "last (or first) layer. The paper's 70x70 counts all five convolutions, the 4x4 output conv included.",
            (lambda layers: _rf_walk(layers, skip="last"), lambda layers: _rf_walk(layers, skip="first"))),
        Bug("rf-jump-before-kernel", "you multiplied the jump by the stride before adding the kernel's extent: a "
            "layer's kernel spans (k - 1) steps of the jump of its *input*; add (k - 1)·j first, then j *= s.",
            lambda layers: _rf_walk(layers, jump_first=True)),
        Bug("rf-ignores-stride", "strides widen the field of every later layer: r += (k - 1)·j with j the product of "
            "the earlier strides. Without it five 4x4 convolutions see only 16 pixels.",
            lambda layers: _rf_walk(layers, strides=False)),
    ),
))


# ----------------------------------------------------------------------------- generator loss


def pix2pix_generator_loss(fake_logits, fake, target, lam=100.0):
    """L_cGAN + λ·L1 (Isola et al. 2017, eq. 4), as ganutils.training.pix2pix.Pix2Pix.step computes G's loss."""
    return losses.g_loss_non_saturating(fake_logits) + lam * F.l1_loss(fake, target)


def _p2p_cases():
    def make(n, lam, scale=1.0):
        def build():
            return ((scale * torch.randn(n, 1, 3, 3)).requires_grad_(), (torch.rand(n, 3, 8, 8) * 2 - 1).requires_grad_(),
                    torch.rand(n, 3, 8, 8) * 2 - 1), {"lam": lam}
        return build

    return [Case("4 patch maps of logits and 8x8 outputs, λ = 100", make(4, 100.0), seed=1),
            Case("2 samples, λ = 10", make(2, 10.0), seed=2),
            Case("confident patch logits (scale 20), λ = 100", make(3, 100.0, 20.0), seed=3)]


register(Implement(
    id="08-generator-loss", notebook=NB, title="Pix2pix's generator loss",
    task="pix2pix_generator_loss(fake_logits, fake, target, lam=100.0): fake_logits are the PatchGAN's logits on "
         "(input, G(input)), fake = G(input), target the ground truth. Return the non-saturating adversarial loss plus "
         "lam times the L1 distance (mean over pixels).",
    explanation="BCE-with-logits(fake_logits, 1) + λ·mean|target - fake| (Isola et al. 2017, eq. 4, λ = 100): the "
                "adversarial term averages over every patch's logit, the L1 term over every pixel.",
    reference=pix2pix_generator_loss, cases=_p2p_cases,
    observe=lambda out, fake_logits, fake, target, lam=100.0: value_and_grads(out, fake_logits, fake),
    describe={"grads": "the gradients with respect to (fake_logits, fake)"},
    bugs=(
        Bug("l1-without-lambda", "λ is missing: the L1 term is 100x weaker than in the paper and the adversarial term "
            "dominates (artefacts, colours that ignore the input).",
            lambda lo, fake, target, lam=100.0: losses.g_loss_non_saturating(lo) + F.l1_loss(fake, target)),
        Bug("lambda-on-adversarial-term", "λ multiplies the L1 term, not the adversarial one: L = L_cGAN + λ·L_L1.",
            lambda lo, fake, target, lam=100.0: lam * losses.g_loss_non_saturating(lo) + F.l1_loss(fake, target)),
        Bug("l2-instead-of-l1", "MSE (L2) where the paper uses L1: L2 is minimised by the *mean* of the plausible outputs "
            "and blurs more (Isola et al. 2017, sec. 3.1).",
            lambda lo, fake, target, lam=100.0: losses.g_loss_non_saturating(lo) + lam * F.mse_loss(fake, target)),
        Bug("g-towards-fake-label", "the adversarial term trains G towards the *fake* label (BCE against 0): G learns to "
            "be detected. Target 1.",
            lambda lo, fake, target, lam=100.0: F.binary_cross_entropy_with_logits(lo, torch.zeros_like(lo))
            + lam * F.l1_loss(fake, target)),
    ),
))


# ----------------------------------------------------------------------------- derive: what L1 and L2 aim at


def _minimisers(p_one: float = 0.3) -> tuple[float, float]:
    v = np.linspace(0.0, 1.0, 1001)
    l1 = (1 - p_one) * np.abs(v) + p_one * np.abs(v - 1)
    l2 = (1 - p_one) * v**2 + p_one * (v - 1) ** 2
    return float(v[l1.argmin()]), float(v[l2.argmin()])


register(Derive(
    id="08-l1-median", notebook=NB, title="What L1 and L2 regression predict for a two-valued pixel",
    task="A pixel's target is 0 with probability 0.7 and 1 with probability 0.3. Which constant prediction v minimises "
         "E|v - t|, and which minimises E(v - t)²? Answer (v_L1, v_L2).",
    explanation="E|v - t| = 0.7 v + 0.3 (1 - v) grows with v: the minimiser is 0, the median. E(v - t)² is minimised by "
                "the mean, 0.3. Neither is a valid texture when the target is multimodal, which is why the notebook's "
                "L1-only model blurs and the adversarial term is needed.",
    truth=_minimisers, tolerance=1e-2, answer_format="a tuple of two numbers (v_L1, v_L2)",
    hint="Differentiate each expectation with respect to v.",
    bugs=(
        Bug("l1-l2-swapped", "swapped: L1 is minimised by a *median* (here 0), L2 by the *mean* (0.3).", lambda: (0.3, 0.0)),
        Bug("l1-minimiser-is-mean", "L1's minimiser is a median, not the mean: E|v - t| = 0.3 + 0.4 v is smallest at v = 0.",
            lambda: (0.3, 0.3)),
    ),
))


register(Predict(
    id="08-predict-lowest-l1", notebook=NB, title="Which model has the lowest pixel L1?",
    task="L1 only, cGAN only, and L1 + cGAN, same U-Net, batches and steps. Which one will have the lowest L1 distance "
         "to the ground truth on held-out inputs?",
    choices=("L1", "cGAN", "L1 + cGAN"), expected="L1",
    explanation="L1 alone minimises exactly the pixel L1, and with several valid textures per input the cheapest answer "
                "is a blend: the lowest L1 and the worst pictures. Pixel distances rank these models backwards from how "
                "they look, which is why pix2pix was judged by people and a segmentation network.",
    bugs=(Bug("lowest-l1-looks-best", "the best-looking model pays for its sharp, plausible textures with a higher pixel "
              "L1: a distance to *one* drawn target rewards the blend.", "L1 + cGAN"),),
))
