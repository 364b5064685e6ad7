"""Exercises of notebook 03: the VEEGAN mode count, minibatch standard deviation, reverse KL, two folklore predictions."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from ganutils.nets.minibatch_stddev import MinibatchStdDev
from ganutils.metrics.toy import kl_to_uniform, toy_metrics

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import grads_of

NB = "03_mode_collapse"


# ----------------------------------------------------------------------------- modes covered


def _ring_centers(n: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(n, dtype=torch.float64) * 2 * math.pi / n
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1).float()


def _at_distance(centers, modes, distance, per_mode=20):
    """``per_mode`` points at exactly ``distance`` from each centre in ``modes``, in random directions."""
    points = []
    for k in modes:
        angle = torch.rand(per_mode) * 2 * math.pi
        points.append(centers[k] + distance * torch.stack([torch.cos(angle), torch.sin(angle)], 1))
    return torch.cat(points)


def _modes_cases():
    ring = _ring_centers()
    grid = torch.cartesian_prod(torch.arange(-4.0, 5.0, 2.0), torch.arange(-4.0, 5.0, 2.0))
    sigma = 0.02

    def mixed():  # 0.5σ² < d: high quality at 2.5σ, not at 4σ or 10σ
        return torch.cat([_at_distance(ring, [0], 0.0005), _at_distance(ring, [1, 2], 2.5 * sigma),
                          _at_distance(ring, [3, 4, 5], 4 * sigma), _at_distance(ring, [6, 7], 10 * sigma)]), ring, sigma

    def far():  # every sample 0.5 from its mode: no high-quality sample at all
        return _at_distance(ring, range(8), 0.5), ring, sigma

    def grid_case():  # σ = 0.05: 1σ samples on 20 modes, 4σ samples on the other 5
        return torch.cat([_at_distance(grid, range(20), 0.05), _at_distance(grid, range(20, 25), 0.2)]), grid, 0.05

    def diverged():  # a generator that produced NaN for some z
        good = _at_distance(ring, range(8), 0.0005, per_mode=5)
        return torch.cat([good, torch.full((7, 2), float("nan"))]), ring, sigma

    def collapsed():
        return ring[3] + sigma * torch.randn(500, 2), ring, sigma

    return [Case("ring samples at 0, 2.5σ, 4σ and 10σ from their modes", mixed, seed=1),
            Case("ring samples 0.5 away from every mode", far, seed=2),
            Case("a collapsed generator: 500 samples on one mode", collapsed, seed=3),
            Case("the 5x5 grid, σ = 0.05", grid_case, seed=4),
            Case("a diverged generator: 7 NaN samples among 40 good ones", diverged, seed=5)]


def _modes_reference(samples, centers, std):
    return toy_metrics(samples, SimpleNamespace(centers=centers, std=std)).modes_covered


def _nearest(samples, centers):
    d = torch.cdist(samples.double(), centers.double())
    return d.min(dim=1)


def _count(samples, centers, keep):
    dist, idx = _nearest(samples, centers)
    return int(torch.unique(idx[keep(dist)]).numel())


register(Implement(
    id="03-modes-covered", notebook=NB, title="Modes covered, by the VEEGAN protocol",
    task="modes_covered(samples, centers, std): samples (N, 2), mode centres (K, 2), the mixture's std. A sample is "
         "high quality if its nearest centre is within 3 std; a mode is covered if it is the nearest centre of at "
         "least one high-quality sample. Return the number of covered modes (an int); NaN samples never count.",
    explanation="Assign every sample to its nearest centre (torch.cdist, argmin), keep the samples within 3σ of it, "
                "count the distinct centres they hit (Srivastava et al. 2017, VEEGAN). Without the quality filter a "
                "blurry generator would cover every mode.",
    reference=_modes_reference, cases=_modes_cases,
    bugs=(
        Bug("no-quality-filter", "you count every sample's nearest mode; the protocol counts only *high-quality* "
            "samples (within 3σ). With your count a generator that puts a blur between the modes covers them all.",
            lambda s, c, std: _count(s, c, lambda d: torch.isfinite(d))),
        Bug("quality-radius-variance", "3 standard deviations is 3·σ, not 3·σ²: your radius is 50x too small on the "
            "ring (σ = 0.02).", lambda s, c, std: _count(s, c, lambda d: d <= 3 * std**2)),
        Bug("quality-squared-distance", "you compare a *squared* distance with 3σ: take the square root (or compare "
            "with (3σ)²). Your radius is √(3σ) = 0.24 on the ring, not 0.06.",
            lambda s, c, std: _count(s, c, lambda d: d**2 <= 3 * std)),
    ),
))


# ----------------------------------------------------------------------------- minibatch standard deviation


def _mbstd_reference(x):
    """One group: the whole batch (ganutils.nets.minibatch_stddev.MinibatchStdDev with group_size = N)."""
    return MinibatchStdDev(group_size=len(x))(x)


def _mbstd_cases():
    return [Case("8 samples with 5 features", lambda: (torch.randn(8, 5).requires_grad_(),), seed=1),
            Case("4 samples with 3 features, float64", lambda: (torch.randn(4, 3, dtype=torch.float64).requires_grad_(),),
                 seed=2),
            Case("a fully collapsed batch: 8 identical samples", lambda: (torch.randn(1, 5).repeat(8, 1).requires_grad_(),),
                 seed=3),
            Case("2 samples with 6 features", lambda: ((3 * torch.randn(2, 6)).requires_grad_(),), seed=4)]


def _mbstd_observe(out, x):
    weights = torch.randn(out.shape, dtype=out.dtype) if isinstance(out, torch.Tensor) and out.is_floating_point() else None
    (grad,) = grads_of(out * weights, x) if weights is not None else (None,)
    return {"output": out, "grads": grad}


def _stat(x, dim, unbiased, eps):
    var = x.var(dim=dim, unbiased=unbiased, keepdim=True)
    return (var + eps).sqrt() if eps else var.sqrt()


def _append_batch_stat(x, unbiased=False, eps=1e-8):
    s = _stat(x, 0, unbiased, eps).mean()
    return torch.cat([x, s.expand(len(x), 1)], dim=1)


register(Implement(
    id="03-minibatch-stddev", notebook=NB, title="The minibatch standard-deviation feature",
    task="minibatch_stddev(x): x (N, F) are D's features of a batch. Compute each feature's standard deviation "
         "across the batch, average them into one number, and append it to every sample: return (N, F + 1). "
         "Keep it differentiable everywhere, also for a batch of identical samples.",
    explanation="std = sqrt(mean over the batch of (x - mean)² + ε), averaged over features, appended as one more "
                "feature (Karras et al. 2018, sec. 3; ProGAN uses groups of 4, here the whole batch is one group). A "
                "collapsed batch gives a small value that D learns to reject. The ε keeps the square root "
                "differentiable at 0: a collapsed batch is exactly the input this layer exists for.",
    reference=_mbstd_reference, cases=_mbstd_cases, observe=_mbstd_observe, atol=2e-3, rtol=1e-4,
    describe={"grads": "the gradient with respect to x"},
    variants=(Bug("unbiased-std", "you used the unbiased std (N - 1); ProGAN averages squared deviations over N. "
                  "Either works as a feature.", lambda x: _append_batch_stat(x, unbiased=True)),),
    bugs=(
        Bug("mbstd-over-features", "you took the std over each sample's *features*: a per-sample number D could compute "
            "anyway. The point is the spread *across the batch* (dim 0), averaged over features.",
            (lambda x: torch.cat([x, _stat(x, 1, False, 1e-8)], 1), lambda x: torch.cat([x, x.std(dim=1, keepdim=True)], 1))),
        Bug("mbstd-sqrt-without-eps", "on a fully collapsed batch (identical samples, the case this layer exists to "
            "detect) the std is 0 and the square root's gradient is infinite: your layer returns NaN gradients and "
            "training dies. Add a small ε inside the square root (ProGAN: 1e-8).",
            (lambda x: _append_batch_stat(x, eps=0.0), lambda x: _append_batch_stat(x, unbiased=True, eps=0.0))),
    ),
))


# ----------------------------------------------------------------------------- reverse KL


register(Derive(
    id="03-reverse-kl", notebook=NB, title="The reverse KL of a half-collapsed generator",
    task="A generator puts its high-quality samples evenly on 2 of the ring's 8 modes and none on the others. What is "
         "the protocol's reverse KL, KL(q || uniform) of its mode histogram q (in nats)?",
    explanation="q = (1/2, 1/2, 0, ..., 0): KL(q || u) = sum q log(q / (1/8)) = log 4 ≈ 1.386 = log 8 - H(q). Empty bins "
                "add nothing (0 log 0 = 0): the reverse KL charges only for the *concentration* of q, never infinitely "
                "for the missing modes; that is why the protocol reports the modes covered beside it.",
    truth=lambda: kl_to_uniform([100, 100, 0, 0, 0, 0, 0, 0]), hint="KL(q || u) = log 8 - H(q).",
    bugs=(
        Bug("forward-kl-infinite", "infinity is the *forward* KL(u || q), which charges without bound for every missing "
            "mode; the protocol's reverse KL(q || u) skips the empty bins (0 log 0 = 0).", lambda: math.inf),
        Bug("kl-is-entropy", "log 2 is the entropy H(q) of the histogram; KL(q || u) = log 8 - H(q).", lambda: math.log(2)),
        Bug("kl-one-mode", "log 8 is the value for a generator on a *single* mode; this one covers two.", lambda: math.log(8)),
    ),
))


register(Predict(
    id="03-predict-latent-size", notebook=NB, title="Does a bigger latent vector fix collapse?",
    task="Seed 002 advises a larger z to fix mode collapse. Will the vanilla GAN with a 64-D z cover, on average, at "
         "least as many ring modes as the best targeted remedy in the table above?",
    choices=("yes", "no"), expected="no",
    explanation="Collapse is a property of the G-D dynamics, not of too few latent dimensions: a 2-D z can already "
                "cover the ring, and a 64-D z collapses the same way.",
    bugs=(Bug("bigger-z-fixes-collapse", "the folklore of seed 002; G still best-responds to one D, whatever the size of "
              "z.", "yes"),),
))


register(Predict(
    id="03-predict-ttur", notebook=NB, title="Which network should learn faster?",
    task="The vanilla GAN on the ring for every pair of learning rates. On average, which side covers more modes: the "
         "cells where D has the larger learning rate, or those where G has?",
    choices=("D faster", "G faster", "no difference"), expected="D faster",
    explanation="When G outruns D, G best-responds to a stale D by collapsing onto its favourite point; a faster D keeps "
                "up (TTUR, Heusel et al. 2017; SAGAN: D 4e-4, G 1e-4).",
    bugs=(Bug("larger-lr-for-g", "seed 002 gives G the larger rate; on this protocol that is the collapsing side.",
              "G faster"),),
))
