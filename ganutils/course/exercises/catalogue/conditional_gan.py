"""Exercises of notebook 07: the projection discriminator's output, spherical interpolation, the optimal cGAN logit."""

from __future__ import annotations

import math

import torch

from ganutils.latent import lerp, slerp

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import value_and_grads

NB = "07_conditional_gan"


# ----------------------------------------------------------------------------- projection discriminator


def projection_logit(phi, psi, embed, labels):
    """D(x, y) = ψ(φ(x)) + e(y)ᵀ φ(x) (Miyato & Koyama 2018), as ganutils.nets.conditional's projection discriminators
    compute it (tests/test_exercises.py checks it against ConditionalMLPDiscriminator)."""
    return psi + (embed[labels] * phi).sum(dim=1)


def _projection_cases():
    def make(n, f, k=10, same_class=False):
        def build():
            labels = torch.full((n,), 3) if same_class else torch.randint(0, k, (n,))
            return (torch.randn(n, f).requires_grad_(), torch.randn(n).requires_grad_(),
                    torch.randn(k, f).requires_grad_(), labels)
        return build

    return [Case("6 samples, 5 features, 10 classes", make(6, 5), seed=1),
            Case("4 samples all of class 3", make(4, 7, same_class=True), seed=2),
            Case("one sample", make(1, 3), seed=3)]


register(Implement(
    id="07-projection-discriminator", notebook=NB, title="The projection discriminator's output",
    task="projection_logit(phi, psi, embed, labels): phi (N, F) are D's features φ(x), psi (N,) the unconditional "
         "output ψ(φ(x)), embed (K, F) one embedding per class, labels (N,) the classes. Return the logits D(x, y), (N,).",
    explanation="psi + (embed[labels] * phi).sum(dim=1): each sample adds the inner product of *its own* class "
                "embedding with its features (Miyato & Koyama 2018). The derivation in the notebook says why: the "
                "optimal logit splits into an unconditional log-density ratio plus a class term linear in φ(x).",
    reference=projection_logit, cases=_projection_cases,
    observe=lambda out, phi, psi, embed, labels: value_and_grads(out, phi, psi, embed),
    describe={"grads": "the gradients with respect to (phi, psi, embed)"},
    bugs=(
        Bug("projection-sum-without-dim", "(e(y) * φ).sum() without dim=1 sums over the whole batch: every sample gets "
            "the same class term and broadcasting hides the mistake. Sum over the feature dimension only.",
            lambda phi, psi, embed, labels: psi + (embed[labels] * phi).sum()),
        Bug("projection-without-unconditional-term", "the unconditional term ψ(φ(x)) is missing: D(x, y) = ψ(φ(x)) + "
            "e(y)ᵀφ(x). Without ψ, D can judge 'is this a y?' but not 'is this real?'.",
            lambda phi, psi, embed, labels: (embed[labels] * phi).sum(dim=1)),
        Bug("projection-all-classes", "you add the inner products with *every* class embedding (φ Eᵀ summed over "
            "classes): the label is ignored. Take each sample's own class: embed[labels].",
            lambda phi, psi, embed, labels: psi + (phi @ embed.t()).sum(dim=1)),
    ),
))


# ----------------------------------------------------------------------------- slerp


def _slerp_cases():
    def pairs(n, d, t, scale_b=1.0):
        def build():
            return torch.randn(n, d), scale_b * torch.randn(n, d), t
        return build

    def parallel():
        a = torch.randn(3, 8)
        return a, 2 * a, 0.5

    return [Case("5 pairs of 8-D latents, t = 0.3", pairs(5, 8, 0.3), seed=1),
            Case("latents of different norms, t = 0.7", pairs(4, 16, 0.7, scale_b=3.0), seed=2),
            Case("t = 0 (must give a)", pairs(3, 8, 0.0), seed=3), Case("t = 1 (must give b)", pairs(3, 8, 1.0), seed=4),
            Case("parallel latents (b = 2a), t = 0.5", parallel, seed=5)]


def _slerp_variant(a, b, t, *, normalise=True, swap=False, fallback=True):
    dot = (a * b).sum(-1, keepdim=True)
    cos = dot / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)) if normalise else dot
    omega = torch.arccos(cos.clamp(-1, 1) if normalise else cos)
    s = torch.sin(omega)
    wa, wb = torch.sin((1 - t) * omega) / s, torch.sin(t * omega) / s
    if swap:
        wa, wb = wb, wa
    out = wa * a + wb * b
    if fallback:
        out = torch.where(s.abs() > 1e-6, out, (1 - t) * a + t * b)
    return out


register(Implement(
    id="07-slerp", notebook=NB, title="Spherical interpolation between latents",
    task="slerp(a, b, t): a and b are (N, d) latents, t in [0, 1]. Return the point at fraction t along the great circle "
         "from a to b, row by row (for (anti)parallel rows fall back to linear interpolation).",
    explanation="Ω = arccos(a·b / (|a||b|)); slerp = sin((1 - t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b (Shoemake 1985; White "
                "2016 for GANs), with linear interpolation where sin Ω ≈ 0. For Gaussian latents the norm concentrates "
                "at √d, and slerp stays on that shell where lerp cuts inside it.",
    reference=slerp, cases=_slerp_cases, rtol=1e-4, atol=1e-4,
    bugs=(
        Bug("lerp-instead-of-slerp", "that is linear interpolation: the midpoint of two Gaussian latents has norm ≈ "
            "√(d/2), off the shell G was trained on. Walk the great circle.", lambda a, b, t: lerp(a, b, t)),
        Bug("slerp-unnormalised-angle", "Ω = arccos(a·b / (|a||b|)): without dividing by the norms the cosine leaves "
            "[-1, 1] and arccos returns NaN.", lambda a, b, t: _slerp_variant(a, b, t, normalise=False)),
        Bug("slerp-weights-swapped", "weights swapped: sin((1 - t)Ω)/sin Ω multiplies a, so that t = 0 gives a.",
            (lambda a, b, t: _slerp_variant(a, b, t, swap=True),
             lambda a, b, t: _slerp_variant(a, b, t, swap=True, fallback=False))),
        Bug("slerp-parallel-nan", "for parallel latents sin Ω = 0 and your weights are 0/0 = NaN: fall back to linear "
            "interpolation where sin Ω is tiny (slerp and lerp agree in that limit).",
            lambda a, b, t: _slerp_variant(a, b, t, fallback=False)),
    ),
))


# ----------------------------------------------------------------------------- derive


def _optimal_logit(p_data_y_given_x, p_g_y_given_x, density_ratio_x):
    """logit D*(x, y) = log p_data(x, y) / p_g(x, y), with each joint written as p(y|x) p(x)."""
    return math.log((p_data_y_given_x * density_ratio_x) / p_g_y_given_x)


register(Derive(
    id="07-optimal-logit", notebook=NB, title="The optimal conditional logit, split in two",
    task="At the optimum, logit D*(x, y) = log p_data(x, y) / p_g(x, y). Suppose p_data(y|x) = 0.8, p_g(y|x) = 0.4 and "
         "p_data(x) / p_g(x) = 1.5. What is the logit?",
    explanation="log (0.8 / 0.4) + log 1.5 = log 2 + log 1.5 = log 3 ≈ 1.099: a class term plus an unconditional term, "
                "the two parts the projection discriminator builds in.",
    truth=lambda: _optimal_logit(0.8, 0.4, 1.5), hint="Write p(x, y) = p(y|x) p(x) for both distributions.",
    bugs=(
        Bug("logit-class-term-only", "log 2 is only the class term; the unconditional term log p_data(x)/p_g(x) = log 1.5 "
            "adds to it.", lambda: math.log(0.8 / 0.4)),
        Bug("ratio-not-log", "3 is the density ratio; the logit is its log.", lambda: 3.0),
        Bug("d-star-not-logit", "0.75 is D* itself, sigmoid(logit) = 3/(1 + 3); the question asks for the logit.",
            lambda: 0.75),
    ),
))


def _midpoint_norm_ratio(z_dim: int = 64, n: int = 4000) -> float:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, z_dim, generator=g), torch.randn(n, z_dim, generator=g)
    return float((lerp(a, b, 0.5).norm(dim=1) / (0.5 * (a.norm(dim=1) + b.norm(dim=1)))).mean())


register(Derive(
    id="07-midpoint-norm", notebook=NB, title="How far inside the shell is the linear midpoint?",
    task="z_a and z_b are independent draws from N(0, I_64). Roughly what is |(z_a + z_b)/2| divided by the typical norm "
         "of z_a? (Two decimals are enough.)",
    explanation="In high dimension two independent Gaussian vectors are nearly orthogonal and both have norm ≈ √d, so "
                "|a + b|² ≈ 2d and the midpoint has norm ≈ √(d/2): a ratio 1/√2 ≈ 0.71, a region G never saw.",
    truth=_midpoint_norm_ratio, tolerance=0.02, hint="|a + b|² = |a|² + |b|² + 2 a·b, and a·b ≈ 0 in high dimension.",
    bugs=(
        Bug("midpoint-norm-half", "half the norm would need a and b to be *parallel*; nearly orthogonal vectors add "
            "like the sides of a right angle: |a + b| ≈ √2 |a|.", lambda: 0.5),
        Bug("midpoint-keeps-norm", "1 is slerp's ratio; the straight line between two points on a sphere cuts inside it.",
            lambda: 1.0),
    ),
))


register(Predict(
    id="07-predict-conditioning", notebook=NB, title="Concatenation or projection?",
    task="Same generator, seed and budget; only the way D reads the label differs. Which cGAN will the evaluation "
         "network read as the requested class more often?",
    choices=("concat", "projection"), expected="projection",
    explanation="The projection D starts from the structure the optimal logit has (an inner product of a class vector "
                "with D's features), so it only has to learn good features and one direction per class; the "
                "concatenation D must first discover how the label plane interacts with the strokes.",
    bugs=(Bug("concat-sees-more", "concatenation gives D the label from its first layer, but D must still discover how "
              "label and image interact; the projection builds that interaction in.", "concat"),),
))
