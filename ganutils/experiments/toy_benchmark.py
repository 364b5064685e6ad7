"""The mode-collapse benchmark: every remedy on the same toy protocol, budget and seeds.

    results = run_methods(["vanilla", "unrolled"], data.ring(), seeds=[0, 1, 2], steps=1500)
    table = summarize(results)          # {method: {"modes_mean": ..., "modes_std": ..., ...}}
    print(format_table(table, "ring"))  # beside the published VEEGAN-protocol numbers

Every method shares ``SETUP`` (networks, optimizer, learning rates, batch size, number of
generator updates); a method changes only what its name says. Notebook 03 and
``bench/bench_toy.py`` both use this module.

``run_jobs`` trains the runs that share a model type, architecture and length as one vectorised
batch (``training.vectorised``): every run keeps its own weights, optimiser, noise and data, so
it ends where it would alone (up to float rounding), several times faster on a CPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import GanutilsError, check_positive_int, seeded
from ..data.toy import GaussianMixture2D
from ..metrics.toy import ToyMetrics
from ..nets.minibatch_stddev import MinibatchStdDevDiscriminator
from ..nets.mlp import MLPDiscriminator, MLPGenerator
from ..nets.pacgan import pac_discriminator
from ..training.gan import GAN
from ..training.replay import ReplayGAN
from ..training.unrolled import UnrolledGAN
from ..training.vectorised import batch_key
from .workers import imap_jobs
from .workers import shutdown as shutdown_pools  # noqa: F401  (public: stops the session's worker processes)
from .toy_gan import train_toy, train_toys_vectorised

# The collapsing baseline: G's learning rate is twice D's, so G outruns D (notebook 03 maps lr_G x lr_D).
SETUP = {
    "z_dim": 2,
    "hidden": 128,
    "depth": 2,
    "lr_g": 1e-3,
    "lr_d": 5e-4,
    "betas": (0.5, 0.999),
    "batch_size": 256,
}

# What each method changes relative to SETUP.
METHODS = {
    "vanilla": "non-saturating GAN, nothing else",
    "label_smoothing": "one-sided label smoothing: real target 0.9 (Salimans et al. 2016)",
    "replay": "D sees half its fakes from a buffer of 8,192 old fakes (experience replay)",
    "minibatch_stddev": "D's last hidden layer gets the minibatch-stddev feature, groups of 4 (Karras et al. 2018)",
    "pacgan": "D judges 4 samples packed into one input (PacGAN4, Lin et al. 2018)",
    "unrolled": "G looks 5 D updates ahead, backprop through them (Metz et al. 2017)",
    "wgan_gp": "Wasserstein loss, gradient penalty 0.1, 5 critic steps per G step (Gulrajani et al. 2017)",
}

# Published numbers on the VEEGAN protocol (Srivastava et al. 2017, Table 1; PacGAN4: Lin et al. 2018, Table 3).
PUBLISHED = {
    "ring": {"GAN": 1.0, "Unrolled GAN": 7.6, "VEEGAN": 8.0},
    "grid": {"GAN": 3.3, "Unrolled GAN": 23.6, "VEEGAN": 24.6, "PacGAN4": 24.8},
}


def build(method: str, *, seed: int = 0, device="cpu", **setup) -> GAN:
    """The model for ``method`` with SETUP's values, overridden by ``setup`` (e.g. ``z_dim=64``)."""
    if method not in METHODS:
        raise GanutilsError(f"unknown mode-collapse method {method!r}: use one of {', '.join(METHODS)}")
    unknown = set(setup) - set(SETUP) - {"unroll_steps", "pack", "group_size"}
    if unknown:
        raise GanutilsError(f"unknown setting(s) {sorted(unknown)} for the toy benchmark: use {', '.join(SETUP)}")
    s = {**SETUP, **setup}
    z_dim, hidden, depth = (check_positive_int(k, s[k]) for k in ("z_dim", "hidden", "depth"))
    with seeded(seed):  # the same seed gives every method the same initial G
        G = MLPGenerator(z_dim, (2,), hidden, depth)
        if method == "minibatch_stddev":
            D = MinibatchStdDevDiscriminator((2,), hidden, depth, group_size=s.get("group_size", 4))
        elif method == "pacgan":
            D = pac_discriminator(s.get("pack", 4), 2, hidden, depth)
        else:
            D = MLPDiscriminator((2,), hidden, depth)
    common = {"z_dim": z_dim, "lr_g": s["lr_g"], "lr_d": s["lr_d"], "betas": s["betas"], "device": device, "seed": seed}
    if method == "label_smoothing":
        return GAN(G, D, real_label=0.9, **common)
    if method == "replay":
        return ReplayGAN(G, D, buffer_size=8192, replay_fraction=0.5, **common)
    if method == "unrolled":
        return UnrolledGAN(G, D, unroll_steps=s.get("unroll_steps", 5), **common)
    if method == "wgan_gp":
        return GAN(G, D, loss="wasserstein", gp_weight=0.1, n_critic=5, **common)
    return GAN(G, D, **common)


@dataclass
class ToyRun:
    """One method, one distribution, one seed: the protocol metrics and what the run cost."""

    method: str
    dist: str
    seed: int
    steps: int
    metrics: ToyMetrics
    seconds: float  # wall time of training; for a vectorised batch, this run's share (batch time / runs)
    samples: torch.Tensor = field(repr=False)
    history: object = field(default=None, repr=False)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")


def run_method(method: str, dist: GaussianMixture2D, *, seed: int, steps: int, snapshot_every: int | None = None,
               device="cpu", **setup) -> ToyRun:
    """Train ``method`` for ``steps`` generator updates on ``dist`` and score 2,500 samples."""
    batch_size = check_positive_int("batch_size", setup.pop("batch_size", SETUP["batch_size"]))
    model = build(method, seed=seed, device=device, **setup)
    tic = time.perf_counter()
    history, metrics = train_toy(model, dist, steps=steps, seed=seed, batch_size=batch_size, snapshot_every=snapshot_every,
                                 desc=f"{method} {dist.name} seed {seed}")
    seconds = time.perf_counter() - tic
    samples = model.generate(500)  # for plots; the metrics used their own 2,500
    return ToyRun(method, dist.name, seed, steps, metrics, seconds, samples, history)


def run_methods(methods, dist: GaussianMixture2D, *, seeds, steps: int, snapshot_every: int | None = None,
                verbose: bool = True, workers: int = 1, vectorise: bool = True, **setup) -> list[ToyRun]:
    """Every method in ``methods`` x every seed in ``seeds``, same steps and setup; one line per run."""
    seeds, methods = list(seeds), list(methods)
    if not seeds or not methods:
        raise GanutilsError("run_methods needs at least one method and one seed, e.g. methods=['vanilla'], seeds=[0, 1, 2]")
    jobs = [dict(method=m, dist=dist, seed=s, steps=steps, snapshot_every=snapshot_every, **setup) for m in methods for s in seeds]
    return run_jobs(jobs, workers=workers, verbose=verbose, vectorise=vectorise)


def run_jobs(jobs: list[dict], *, workers: int = 1, verbose: bool = True, vectorise: bool = True) -> list[ToyRun]:
    """Independent toy runs (each a dict of ``run_method`` arguments); results in the order of ``jobs``.

    vectorise: the runs that can train together (``plan_batches``) do, as one vectorised batch
    each; a run's result is what it gets alone, up to float rounding. Every run seeds its own
    networks, data and noise, so the results do not depend on ``workers``: the batches (or,
    without ``vectorise``, the runs) are spread over that many single-threaded processes; on a
    2-core laptop two workers halve the wall time.
    """
    workers = check_positive_int("workers", workers)
    pieces = plan_batches(jobs, workers) if vectorise else [[i] for i in range(len(jobs))]
    work = [[jobs[i] for i in piece] for piece in pieces]
    results: list = [None] * len(jobs)
    for piece, out in zip(pieces, imap_jobs(_run_batch, work, workers=workers)):
        for i, r in zip(piece, out):
            results[i] = r
            _report(r, verbose)
    return results


def _batch_key(job: dict) -> tuple:
    """Jobs with equal keys can train as one batch (seed, distribution and learning rates may differ)."""
    settings = {k: v for k, v in job.items() if k not in ("method", "dist", "seed", "steps", "snapshot_every", "batch_size")}
    key = batch_key(build(job["method"], seed=0, **settings))
    return (repr(sorted(key.items())), job["steps"], job.get("snapshot_every"), job.get("batch_size", SETUP["batch_size"]))


def _cost(job: dict) -> float:
    """A run's relative cost, to balance the workers: steps x the method's cost per step relative to vanilla
    (measured with bench/bench_toy.py: unrolled with k = 5 about 8.5x, WGAN-GP with 5 critic steps about 5x)."""
    per_step = {"unrolled": 1 + 1.5 * job.get("unroll_steps", 5), "wgan_gp": 5.0}.get(job["method"], 1.0)
    return job["steps"] * per_step


def plan_batches(jobs: list[dict], workers: int = 1) -> list[list[int]]:
    """Indices of ``jobs`` grouped into batches that can train together, most expensive first.

    With several workers, the costliest batch is halved while it costs more than a worker's fair
    share and both halves keep at least 2 runs (a run's result does not depend on the size of its
    batch, from 2 runs up; a single run takes the plain path, which rounds differently).
    """
    groups: dict = {}
    for i, job in enumerate(jobs):
        groups.setdefault(_batch_key(job), []).append(i)
    pieces = list(groups.values())
    cost = lambda piece: sum(_cost(jobs[i]) for i in piece)  # noqa: E731
    fair = sum(_cost(job) for job in jobs) / workers
    while workers > 1:
        big = max(pieces, key=cost)
        if len(big) < 4 or cost(big) <= fair:
            break
        pieces.remove(big)
        pieces += [big[: len(big) // 2], big[len(big) // 2 :]]
    return sorted(pieces, key=cost, reverse=True)


def _run_batch(jobs: list[dict]) -> list[ToyRun]:
    """Train ``jobs`` (one batch from ``plan_batches``) together and score each run as ``run_method`` does."""
    if len(jobs) == 1:
        return [_run_job(jobs[0])]
    models, dists, seeds = [], [], []
    for job in jobs:
        settings = {k: v for k, v in job.items() if k not in ("method", "dist", "seed", "steps", "snapshot_every", "batch_size")}
        models.append(build(job["method"], seed=job["seed"], **settings))
        dists.append(job["dist"])
        seeds.append(job["seed"])
    first = jobs[0]
    batch_size = check_positive_int("batch_size", first.get("batch_size", SETUP["batch_size"]))
    names = "+".join(dict.fromkeys(job["method"] for job in jobs))
    trained = train_toys_vectorised(models, dists, steps=first["steps"], seeds=seeds, batch_size=batch_size,
                                    snapshot_every=first.get("snapshot_every"), desc=f"{names} x {len(jobs)}")
    return [ToyRun(job["method"], job["dist"].name, job["seed"], job["steps"], metrics, history.seconds,
                   model.generate(500), history)  # 500 samples for plots; the metrics used their own 2,500
            for job, model, (history, metrics) in zip(jobs, models, trained)]


def _run_job(job: dict) -> ToyRun:
    job = dict(job)
    return run_method(job.pop("method"), job.pop("dist"), **job)


def _report(r: ToyRun, verbose: bool) -> None:
    if verbose:
        print(f"{r.dist:4s} {r.method:17s} seed {r.seed}: {r.metrics}  ({r.seconds:.1f} s, {r.steps_per_s:.0f} steps/s)")


def mode_trajectory(history, dist: GaussianMixture2D) -> list[dict]:
    """For each snapshot: the mode nearest to most snapshot samples, its share, and how many modes hold >= 10%.

    Distances are not thresholded here (every sample votes for its nearest mode), so the
    trajectory shows where G's mass *is*, even before it is sharp enough to count as high quality.
    """
    if not history.snapshots:
        raise GanutilsError("the history has no snapshots: train with snapshot_every=... (e.g. steps // 8)")
    rows = []
    for step, samples in history.snapshots:
        nearest = torch.cdist(samples.double(), dist.centers.double()).argmin(dim=1)
        share = torch.bincount(nearest, minlength=dist.n_modes).double() / len(nearest)
        rows.append({"step": int(step), "mode": int(share.argmax()), "share": float(share.max()),
                     "modes_with_10pct": int((share >= 0.1).sum())})
    return rows


def summarize(results: list[ToyRun]) -> dict:
    """{method: {modes_mean, modes_std, modes_min, hq_mean, hq_std, kl_mean, kl_std, steps_per_s, n_seeds, modes_per_seed}}.

    std is the sample standard deviation over seeds (ddof=1; 0 for one seed).
    """
    if not results:
        raise GanutilsError("summarize got no results: run run_methods first")
    table: dict = {}
    for method in dict.fromkeys(r.method for r in results):
        rows = [r for r in results if r.method == method]
        modes = np.array([r.metrics.modes_covered for r in rows], dtype=float)
        hq = np.array([r.metrics.pct_high_quality for r in rows])
        kl = np.array([r.metrics.reverse_kl for r in rows])
        std = (lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0)
        table[method] = {
            "modes_mean": float(modes.mean()), "modes_std": std(modes), "modes_min": int(modes.min()),
            "hq_mean": float(hq.mean()), "hq_std": std(hq),
            "kl_mean": float(kl.mean()), "kl_std": std(kl),
            "steps_per_s": float(np.mean([r.steps_per_s for r in rows])),
            "n_seeds": len(rows), "modes_per_seed": [int(m) for m in modes],
        }
    return table


def format_table(table: dict, dist_name: str, n_modes: int | None = None) -> str:
    """A plain-text table: mean ± std per method, then the published numbers for ``dist_name``."""
    n_modes = n_modes or {"ring": 8, "grid": 25}.get(dist_name, 0)
    lines = [f"{dist_name}: {'method':17s} {'modes (of ' + str(n_modes) + ')':>16s} {'% high quality':>16s} {'reverse KL':>14s} {'steps/s':>8s}"]
    for method, row in table.items():
        lines.append(f"{'':{len(dist_name) + 1}s} {method:17s} {row['modes_mean']:7.2f} ± {row['modes_std']:<5.2f}"
                     f"  {row['hq_mean']:7.1f} ± {row['hq_std']:<5.1f}  {row['kl_mean']:6.3f} ± {row['kl_std']:<5.3f}"
                     f" {row['steps_per_s']:7.0f}")
    published = PUBLISHED.get(dist_name, {})
    if published:
        lines.append(f"{'':{len(dist_name) + 1}s} published (modes): " + ", ".join(f"{k} {v:g}" for k, v in published.items()))
    return "\n".join(lines)
