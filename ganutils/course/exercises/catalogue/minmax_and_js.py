"""Exercises of notebook 01: the optimal discriminator, the non-saturating loss, V(D*, G), the saturating gradient."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganutils.metrics import divergences as dv
from ganutils import losses
from ganutils.data import GaussianMixture1D

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import value_and_grads

NB = "01_minmax_and_js"


# ----------------------------------------------------------------------------- D*


def _safe_ratio(num, den, fill):
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full_like(den, fill), where=den > 0)


def _d_star_cases():
    xs = np.linspace(-5, 5, 201)
    rng = np.random.default_rng(1)
    m1, m2, s1, s2 = rng.normal(0, 1.5), rng.normal(0, 1.5), rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5)
    mixture = GaussianMixture1D((0.6, 0.4), (1.0, 3.0), (0.5, 0.4))
    generator = GaussianMixture1D((1.0,), (0.5,), (1.2,))
    grid = np.linspace(-0.5, 2.0, 251)
    return [
        Case("two Gaussian densities on a 201-point grid",
             lambda: (dv.gaussian_pdf(xs, m1, s1), dv.gaussian_pdf(xs, m2, s2))),
        Case("the notebook's mixture against N(0.5, 1.2²)", lambda: (mixture.pdf(xs), generator.pdf(xs))),
        Case("U[0, 1] against U[0.5, 1.5] on [-0.5, 2] (one density is 0 on each side, both vanish at the ends)",
             lambda: (dv.uniform_pdf(grid, 0.0, 1.0), dv.uniform_pdf(grid, 0.5, 1.5))),
    ]


register(Implement(
    id="01-optimal-discriminator", notebook=NB, title="The optimal discriminator D*(x) on a grid",
    task="Given p_data(x) and p_g(x) on a grid (NumPy arrays), return D*(x), the discriminator that maximises "
         "V(D, G) for this G; where both densities vanish any value is optimal: return 1/2 there.",
    explanation="Pointwise, a·log y + b·log(1 − y) is maximised at y = a / (a + b), so D*(x) = p_data / (p_data + p_g) "
                "(Goodfellow et al. 2014, Prop. 1): the probability that x is real. Where both densities are 0 the "
                "integrand vanishes for every y; 1/2 keeps the array free of NaN.",
    reference=dv.optimal_discriminator,
    cases=_d_star_cases,
    bugs=(
        Bug("d-star-inverted", "that is p_g / (p_data + p_g), the probability that x is *fake*. D* gives the probability "
            "of real: p_data / (p_data + p_g).",
            (lambda p_data, p_g: p_g / (p_data + p_g), lambda p_data, p_g: _safe_ratio(p_g, p_data + p_g, 0.5))),
        Bug("d-star-density-ratio", "that is the density ratio p_data / p_g (the odds; D*'s logit is its log), not a "
            "probability. D* = r / (1 + r) = p_data / (p_data + p_g).",
            (lambda p_data, p_g: p_data / p_g, lambda p_data, p_g: _safe_ratio(p_data, p_g, 0.5))),
        Bug("d-star-nan-where-both-vanish", "where both densities are 0 your D* is 0/0 = NaN, and one NaN spoils every "
            "integral and plot after it. Any value is optimal there; use 1/2 (np.divide(..., out=np.full_like(total, "
            "0.5), where=total > 0)).", lambda p_data, p_g: p_data / (p_data + p_g)),
    ),
))


# ----------------------------------------------------------------------------- non-saturating loss


def _logit_cases():
    return [
        Case("16 random logits", lambda: ((2 * torch.randn(16)).requires_grad_(),), seed=1),
        Case("logits of a D that rejects every fake (-200 to -20)",
             lambda: (torch.linspace(-200.0, -20.0, 8).requires_grad_(),)),
        Case("logits where D = 1/2 (zeros), float64", lambda: (torch.zeros(5, dtype=torch.float64, requires_grad=True),)),
        Case("an (N, 1) column of logits, as nn.Linear(h, 1) returns them", lambda: (torch.randn(6, 1).requires_grad_(),),
             seed=2),
    ]


def _ns_observe(out, logits):
    return value_and_grads(out, logits)


register(Implement(
    id="01-non-saturating-loss", notebook=NB, title="The non-saturating generator loss from logits",
    task="Given D's logits on a batch of fakes, return the non-saturating generator loss -E[log D(G(z))] "
         "(a scalar tensor, differentiable), computed stably from the logits.",
    explanation="With D = sigmoid(l): -log sigmoid(l) = softplus(-l) = BCE-with-logits against the label 1. Its gradient "
                "with respect to l is -(1 - D), close to -1 when D rejects the fakes, where the saturating loss "
                "log(1 - D) has gradient -D -> 0. Computing log(sigmoid(l)) in two steps underflows to log 0 for very "
                "negative logits: use softplus / logsigmoid / BCE-with-logits.",
    reference=losses.g_loss_non_saturating,
    cases=_logit_cases,
    observe=_ns_observe,
    describe={"grads": "the gradient with respect to the logits"},
    bugs=(
        Bug("saturating-instead-of-non-saturating", "that is the saturating loss log(1 - D(G(z))) = -softplus(l): its "
            "gradient -D(G(z)) vanishes exactly when D rejects the fakes (early in training). The non-saturating loss "
            "is -log D(G(z)) = softplus(-l).",
            (lambda logits: -F.softplus(logits).mean(), lambda logits: torch.log(1 - torch.sigmoid(logits)).mean()),
            shipped="seed 004 states it backwards"),
        Bug("g-towards-fake-label", "your loss is BCE against the *fake* label 0: minimising it trains G to be detected "
            "(seed 001's zeros_like(fake)). The generator's target is the real label 1.",
            (lambda logits: F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits)),
             lambda logits: -torch.log(1 - torch.sigmoid(logits)).mean()),
            shipped="seed 001's TensorFlow GAN"),
        Bug("sigmoid-into-from-logits", "you apply a sigmoid and then a loss that applies its own (BCE *with logits*, "
            "Keras from_logits=True): D's probabilities are squeezed into (0.5, 0.73) and the gradient nearly vanishes. "
            "Pass the raw logits.",
            lambda logits: F.binary_cross_entropy_with_logits(torch.sigmoid(logits), torch.ones_like(logits)), shipped="seed 001"),
        Bug("missing-minus-sign", "the minus sign is missing: you minimise log D(G(z)), which drives D(G(z)) to 0, the "
            "opposite of what G wants (seed 002 drops the minus of the cross-entropy too). The loss is -log D(G(z)).",
            (lambda logits: F.logsigmoid(logits).mean(), lambda logits: torch.log(torch.sigmoid(logits)).mean()), shipped="seed 002"),
        Bug("log-of-sigmoid-overflow", "the formula is right but unstable: torch.log(torch.sigmoid(l)) underflows to "
            "log 0 = -inf for very negative logits, i.e. exactly when D confidently rejects a fake. Use "
            "F.softplus(-l), -F.logsigmoid(l) or BCE-with-logits against ones.",
            lambda logits: -torch.log(torch.sigmoid(logits)).mean()),
        Bug("sum-instead-of-mean", "you sum over the batch: the loss, and with it the gradient and the effective "
            "learning rate, grows with the batch size. The loss is an expectation: take the mean.",
            lambda logits: F.softplus(-logits).sum()),
    ),
))


# ----------------------------------------------------------------------------- V(D*, G) for two uniforms


def _value_at_optimum() -> float:
    xs = np.linspace(-0.5, 2.0, 25001)
    p_data, p_g = dv.uniform_pdf(xs, 0.0, 1.0), dv.uniform_pdf(xs, 0.5, 1.5)
    p_data, p_g = p_data / dv.integrate(p_data, xs), p_g / dv.integrate(p_g, xs)
    return dv.value_function(dv.optimal_discriminator(p_data, p_g), p_data, p_g, xs)


register(Derive(
    id="01-value-at-optimum", notebook=NB, title="V(D*, G) for two uniforms that half overlap",
    task="p_data = U[0, 1] and p_g = U[0.5, 1.5]. Write D*(x) on [0, 0.5), [0.5, 1) and [1, 1.5], then compute "
         "V(D*, G) = E_data[log D*] + E_g[log(1 - D*)] (natural log).",
    explanation="D* = 1 on [0, 0.5) (only data), 1/2 on the overlap [0.5, 1), 0 on [1, 1.5] (only fakes). Only the "
                "overlap contributes: V = 0.5 log(1/2) + 0.5 log(1/2) = -log 2 ≈ -0.693, and indeed JS = (1/2) log 2 "
                "so 2 JS - log 4 = -log 2.",
    truth=_value_at_optimum, tolerance=2e-3,
    hint="Only the overlap contributes: there D* = 1/2 and each density has mass 1/2.",
    bugs=(
        Bug("v-optimum-as-if-equal", "-log 4 is V(D*, G) when p_g = p_data (JS = 0, D* = 1/2 everywhere); here only half of "
            "each support overlaps.", lambda: -dv.LOG4),
        Bug("js-instead-of-v", "that is JS(p_data || p_g) = (1/2) log 2; V(D*, G) = 2 JS - log 4.", lambda: 0.5 * dv.LOG2),
        Bug("v-optimum-disjoint", "0 is V(D*, G) for *disjoint* supports (D* = 1 on the data, 0 on the fakes); here "
            "half of each support overlaps, where D* = 1/2 and log(1/2) counts.", lambda: 0.0),
    ),
))


# ----------------------------------------------------------------------------- the saturating gradient


def _gradients_at_001() -> tuple[float, float]:
    logit = torch.logit(torch.tensor([0.01], dtype=torch.float64)).requires_grad_(True)
    (sat,) = torch.autograd.grad(losses.g_loss_saturating(logit), logit)
    (ns,) = torch.autograd.grad(losses.g_loss_non_saturating(logit), logit)
    return sat.item(), ns.item()


register(Derive(
    id="01-saturating-gradient", notebook=NB, title="Both generator losses' gradients at D(G(z)) = 0.01",
    task="D(G(z)) = sigmoid(l) = 0.01. Give (d/dl of the saturating loss log(1 - D), d/dl of the non-saturating loss "
         "-log D) as a tuple of two numbers.",
    explanation="d/dl log(1 - sigmoid(l)) = -sigmoid(l) = -D = -0.01 and d/dl [-log sigmoid(l)] = -(1 - D) = -0.99: "
                "a 99x larger push for the non-saturating loss exactly where D rejects the fake.",
    truth=_gradients_at_001, answer_format="a tuple of two numbers (saturating, non-saturating)",
    hint="Use dD/dl = D(1 - D) and the chain rule.",
    bugs=(
        Bug("gradients-swapped", "swapped: the saturating loss has gradient -D = -0.01 (it *saturates*), the "
            "non-saturating one -(1 - D) = -0.99. Seed 004 swaps them too.", lambda: (-0.99, -0.01)),
        Bug("gradient-wrt-d-not-logit", "those are derivatives with respect to D, not to the logit l: multiply by "
            "dD/dl = D(1 - D).", lambda: (-1 / 0.99, -1 / 0.01)),
        Bug("gradient-sign-flipped", "signs flipped: both losses *decrease* as l (and D(G(z))) grows, so both "
            "derivatives are negative.", lambda: (0.01, 0.99)),
    ),
))


# ----------------------------------------------------------------------------- predict


register(Predict(
    id="01-predict-saturating", notebook=NB, title="Which generator reaches the data?",
    task="Two generators G(z) = μ + 0.7z start at μ = -3, far from the data (mean 1.8), against a D trained to reject "
         "them; same D, same seed, plain SGD. Which one ends within 1 of the data mean after the run?",
    choices=("saturating", "non_saturating", "both", "neither"), expected="non_saturating",
    explanation="The saturating loss's gradient is -D(G(z)) ≈ 0 while D rejects the fakes, so its μ barely moves; the "
                "non-saturating loss pushes with -(1 - D) ≈ -1 and walks to the data.",
    bugs=(
        Bug("seed-004-backwards", "seed 004 says to minimise log(1 - D(G(z))) to *avoid* vanishing gradients; it is the "
            "other way round.", "saturating"),
        Bug("same-fixed-point-same-dynamics", "the two losses share their fixed point, not their gradients far from it.",
            "both"),
    ),
))
