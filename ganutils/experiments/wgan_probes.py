"""What notebook 04 (WGAN, WGAN-GP, spectral norm) measures about Wasserstein critics.

The models themselves are ``training.GAN(loss="wasserstein", ...)``: with ``clip_value`` (WGAN),
``gp_weight`` (WGAN-GP) or a spectrally normalised critic (``losses.spectral_norm``), built here by
``make_toy_wgan`` / ``make_mnist_wgan``. This module adds:

- ``fit_critic``: train a critic alone between two fixed distributions (Kantorovich-Rubinstein
  duality in action, and what happens without a constraint);
- ``train_toy_probed``: a toy run with a probe every few steps (critic gap, exact W1, VEEGAN metrics
  on fixed samples), through ``training.train``'s callbacks, with checkpoints and exact resume;
- ``linear_decay``: the official WGAN-GP code's learning-rate decay to 0, as ``lr_scheduler`` objects;
- ``train_mnist_wgan``: the MNIST run of one critic, scored and costed, as a job for the worker pool;
- critic landscapes, weight histograms and per-layer gradient norms (clipping's failure modes).

The measurements themselves (critic gap, exact W1, input-gradient norms) are in ``metrics.lipschitz``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..config import GanutilsError, check_positive_int, seeded
from ..data.samplers import DistributionSampler, TensorSampler
from ..data.toy import GaussianMixture2D
from ..losses.adversarial import d_loss_wasserstein
from ..losses.gradient_penalty import gradient_penalty
from ..losses.spectral_norm import apply_spectral_norm
from ..losses.weight_clipping import clip_weights
from ..metrics.cost import step_flops
from ..metrics.images import evaluate_images
from ..metrics.lipschitz import _check_batch, critic_gap, empirical_w1
from ..metrics.toy import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics
from ..nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ..nets.mlp import toy_nets
from ..nets.utils import eval_mode, unchanged
from ..training.gan import GAN, make_optimizer
from ..training.loop import Every, History, train
from ..training.vectorised import train_vectorised

CONSTRAINTS = ("gp", "clip", "none")

# ----------------------------------------------------------------------------- critics


# ----------------------------------------------------------------------------- a critic alone


@dataclass(frozen=True)
class NoisyCopy:
    """Samples of ``dist`` plus N(0, std^2) noise: the fixed "generator" of Gulrajani et al. (2017), Fig. 1a."""

    dist: object
    std: float = 1.0

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        x = self.dist.sample(n, generator)
        return x + self.std * torch.randn(x.shape, generator=generator)


def fit_critic(critic: nn.Module, real_dist, fake_dist, *, steps: int, constraint: str = "gp", lr: float = 1e-4,
               betas=(0.0, 0.9), optimizer: str = "adam", gp_weight: float = 10.0, clip_value: float = 0.01,
               batch_size: int = 256, seed: int = 0) -> dict:
    """Train ``critic`` to maximise E[f(real)] - E[f(fake)] between two *fixed* distributions.

    real_dist, fake_dist: objects with ``sample(n, generator)`` (``data.GaussianMixture1D``/``2D``).
    constraint: "gp" (penalty ``gp_weight``), "clip" (clamp to ``clip_value``) or "none".
    Returns {"gap": per-step batch gaps, "final_gap": the gap on 4,096 fresh samples of each}.
    By Kantorovich-Rubinstein duality the best 1-Lipschitz critic's gap is W1; without a
    constraint the gap has no maximum and keeps growing.
    """
    if constraint not in CONSTRAINTS:
        raise GanutilsError(f"unknown constraint {constraint!r}: use one of {', '.join(CONSTRAINTS)}")
    for name, dist in (("real_dist", real_dist), ("fake_dist", fake_dist)):
        if not hasattr(dist, "sample"):
            raise GanutilsError(f"{name} needs a sample(n, generator) method, e.g. ganutils.data.ring(); got {type(dist).__name__}")
    steps, batch_size = check_positive_int("steps", steps), check_positive_int("batch_size", batch_size)
    rng = torch.Generator().manual_seed(seed)
    opt = make_optimizer(critic.parameters(), optimizer, lr, tuple(float(b) for b in betas))
    gaps = []
    for _ in range(steps):
        real, fake = real_dist.sample(batch_size, rng), fake_dist.sample(batch_size, rng)
        real_out, fake_out = critic(real), critic(fake)
        loss = d_loss_wasserstein(real_out, fake_out)
        if constraint == "gp":
            loss = loss + gradient_penalty(critic, real, fake, weight=gp_weight, generator=rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if constraint == "clip":
            clip_weights(critic, clip_value)
        gaps.append(float(real_out.detach().mean() - fake_out.detach().mean()))
    final = critic_gap(critic, real_dist.sample(4096, rng), fake_dist.sample(4096, rng))
    return {"gap": gaps, "final_gap": final}


# ----------------------------------------------------------------------------- the four critics, one protocol

CRITICS = ("gp", "clip", "sn", "none")


def _wasserstein_gan(G: nn.Module, D: nn.Module, constraint: str, *, z_dim: int, lr_g: float, lr_d: float, n_critic: int,
                     gp_weight: float, clip_value: float, betas, seed: int, device) -> GAN:
    if constraint not in CRITICS:
        raise GanutilsError(f"unknown critic constraint {constraint!r}: use one of {', '.join(CRITICS)}")
    if constraint == "gp" and not gp_weight > 0:
        raise GanutilsError(f"a gradient-penalty critic needs gp_weight > 0, got {gp_weight!r}: use constraint='none' for no penalty")
    common = dict(z_dim=z_dim, loss="wasserstein", n_critic=n_critic, lr_g=lr_g, lr_d=lr_d, seed=seed, device=device)
    if constraint == "clip":  # WGAN (Arjovsky et al. 2017): RMSProp, clamp after every critic step
        return GAN(G, D, optimizer="rmsprop", clip_value=clip_value, **common)
    if constraint == "sn":
        with seeded(seed + 1):  # the power iteration's random start vectors, from the model's own seed
            apply_spectral_norm(D)
    betas = tuple(float(b) for b in betas)
    return GAN(G, D, betas=betas, gp_weight=gp_weight if constraint == "gp" else 0.0, **common)


def make_toy_wgan(constraint: str, *, seed: int = 0, lr_g: float = 1e-4, lr_d: float = 1e-4, n_critic: int = 5,
                  gp_weight: float = 10.0, clip_value: float = 0.01, betas=(0.0, 0.9), hidden: int = 128,
                  depth: int = 3) -> GAN:
    """A Wasserstein GAN on the 2-D toys (CPU): ``toy_gan.toy_nets`` (3x128 ReLU MLPs, z in R^2), critic loss
    E[f(fake)] - E[f(real)], ``n_critic`` critic steps per G step, one of four critics:

    "gp": gradient penalty ``gp_weight``, Adam(``betas``) (WGAN-GP, Algorithm 1: lr 1e-4, (0, 0.9), 10);
    "clip": weights clamped to [-clip_value, clip_value], RMSProp (WGAN: lr 5e-5, c = 0.01);
    "sn": spectral normalisation in every critic layer, Adam(``betas``);
    "none": no Lipschitz constraint at all, Adam(``betas``) (what the loss alone does).
    ``lr_g``/``lr_d``: the generator's and the critic's learning rates (equal in both papers).
    """
    G, D = toy_nets(hidden=hidden, depth=depth, seed=seed)
    return _wasserstein_gan(G, D, constraint, z_dim=2, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, gp_weight=gp_weight,
                            clip_value=clip_value, betas=betas, seed=seed, device="cpu")


def make_mnist_wgan(constraint: str, *, width: int = 64, z_dim: int = 64, seed: int = 0, lr_g: float = 1e-4,
                    lr_d: float = 1e-4, n_critic: int = 5, gp_weight: float = 10.0, clip_value: float = 0.01,
                    betas=(0.0, 0.9), device=None) -> GAN:
    """A DCGAN-shaped Wasserstein GAN for 28x28 MNIST, initialised from ``seed``: ``nets.DCGANGenerator`` and a
    ``DCGANDiscriminator`` critic *without* BatchNorm (norm=None, linear output), with one of the critics of
    ``make_toy_wgan``."""
    with seeded(seed):
        G, D = DCGANGenerator(z_dim, width), DCGANDiscriminator(width, norm=None)
    return _wasserstein_gan(G, D, constraint, z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, gp_weight=gp_weight,
                            clip_value=clip_value, betas=betas, seed=seed, device=device)


# ----------------------------------------------------------------------------- a decaying learning rate


def linear_decay(model: GAN, steps: int) -> list[torch.optim.lr_scheduler.LambdaLR]:
    """Schedulers that scale both learning rates by (1 - step / steps) after every step, down to 0 at ``steps``
    (the official WGAN-GP code's decay); pass them to ``training.train(..., schedulers=...)``."""
    steps = check_positive_int("steps", steps)
    factor = lambda step: max(0.0, 1.0 - step / steps)  # noqa: E731
    return [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in (model.opt_g, model.opt_d)]


# ----------------------------------------------------------------------------- the MNIST comparison, as one job


def train_mnist_wgan(job: dict) -> dict:
    """Notebook 04's MNIST run for one critic, scored and costed: a function so that a worker process can train it.

    ``job``: constraint ("gp" or "sn"), images (N, 1, 28, 28) in [-1, 1], held_out (the digits the samples are
    scored against), width, seed, lr, n_critic, gp_weight, steps, batch_size, n_eval, checkpoint (a path or None),
    device. Returns the FD of the *untrained* generator (the starting point both critics share), the FLOPs of one
    iteration (total and by operator, counted on a copy before training: the model is untouched), the training
    history, ``n_eval`` samples and their scores (``metrics.evaluate_images``). Both critics' runs start from the
    same generator (same seed), so their untrained FDs are equal.
    """
    model = make_mnist_wgan(job["constraint"], width=job["width"], seed=job["seed"], lr_g=job["lr"], lr_d=job["lr"],
                            n_critic=job["n_critic"], gp_weight=job["gp_weight"], device=job.get("device"))
    n_eval, held_out = job["n_eval"], job["held_out"]
    z = torch.randn(n_eval, model.z_dim, generator=torch.Generator().manual_seed(job["seed"]))  # not the run's own noise:
    untrained_fd = evaluate_images(model.generate(z=z), held_out, device=model.device)["fd"]  # scoring changes nothing
    sampler = TensorSampler(job["images"], batch_size=job.get("batch_size", 64), seed=job["seed"], device=model.device)
    flops = step_flops(model, sampler())  # one iteration on one batch, counted on a copy: the model is untouched
    flops_by_op = step_flops(model, sampler(), by_operator=True)
    history = train(model, sampler, steps=job["steps"], schedulers=linear_decay(model, job["steps"]),
                    checkpoint=job.get("checkpoint"), desc=f"MNIST {job['constraint']}")
    images = model.generate(n_eval)
    return {"constraint": job["constraint"], "untrained_fd": untrained_fd, "flops": flops, "flops_by_op": flops_by_op,
            "history": history, "images": images, "metrics": evaluate_images(images, held_out, device=model.device)}


# ----------------------------------------------------------------------------- toy runs with probes


def probe_toy(model: GAN, dist: GaussianMixture2D, real: torch.Tensor, z: torch.Tensor, n_w1: int = 1000) -> dict:
    """Critic gap, exact W1 (first ``n_w1`` points) and VEEGAN metrics of G(z) against fixed ``real`` samples.

    Fixed real samples and fixed z: between two probes only the networks change. Eval mode and no
    draw from the model's own noise generator, so probing never changes the training run.
    """
    with torch.no_grad():
        fake = model.generate(z=z)
        gap = critic_gap(model.D, real.to(model.device), fake.to(model.device)) if torch.isfinite(fake).all() else float("nan")
    m = toy_metrics(fake, dist)
    return {"critic_gap": gap, "w1": empirical_w1(fake[:n_w1], real[:n_w1]), "modes_covered": m.modes_covered,
            "pct_high_quality": m.pct_high_quality, "reverse_kl": m.reverse_kl}


def train_toy_probed(model: GAN, dist: GaussianMixture2D, *, steps: int, probe_every: int, seed: int = 0,
                     batch_size: int = 256, n_w1: int = 1000, lr_decay: bool = False, checkpoint=None,
                     desc: str = "toy") -> tuple[History, ToyMetrics]:
    """Like ``toy_gan.train_toy`` (same sampler, same final metrics), plus a probe every ``probe_every`` steps.

    lr_decay: both learning rates decay linearly to 0 (``linear_decay``), so G stops jittering
    around the narrow modes at the end.
    Returns (history, final ToyMetrics); ``history.probes["probe"]`` holds one dict per probe with
    "step" and the keys of ``probe_toy``, starting with the untrained model at step 0.
    """
    steps, probe_every = check_positive_int("steps", steps), check_positive_int("probe_every", probe_every)
    sample = DistributionSampler(dist, batch_size, seed=seed, device=model.device)
    probe = _probe(model, dist, seed, probe_every, n_w1)
    history = train(model, sample, steps=steps, callbacks=[probe], checkpoint=checkpoint, desc=desc,
                    schedulers=linear_decay(model, steps) if lr_decay else ())
    return history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)


def train_toys_probed(models, dist: GaussianMixture2D, *, seeds, steps: int, probe_every: int, batch_size: int = 256,
                      n_w1: int = 1000, lr_decay: bool = False, desc: str = "toys") -> list[tuple[History, ToyMetrics]]:
    """``train_toy_probed`` for several compatible models (e.g. one constraint, several seeds) as one vectorised batch.

    Model i gets seed ``seeds[i]``'s sampler, probe samples and schedule, so it trains and is probed
    exactly as ``train_toy_probed`` would do alone (up to float rounding; ``training.vectorised``).
    A batch has no checkpoint. ``History.seconds`` is each run's share of the batch's time.
    """
    steps, probe_every = check_positive_int("steps", steps), check_positive_int("probe_every", probe_every)
    samplers = [DistributionSampler(dist, batch_size, seed=seed, device=model.device) for model, seed in zip(models, seeds)]
    probes = [[_probe(model, dist, seed, probe_every, n_w1)] for model, seed in zip(models, seeds)]
    schedules = [linear_decay(model, steps) if lr_decay else [] for model in models]
    histories = train_vectorised(models, samplers, steps=steps, callbacks=probes, schedulers=schedules, desc=desc)
    return [(history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)) for model, history in zip(models, histories)]


def _probe(model: GAN, dist: GaussianMixture2D, seed: int, probe_every: int, n_w1: int) -> Every:
    """``probe_toy`` every ``probe_every`` steps (and at step 0) on fixed samples drawn from ``seed``."""
    n_w1 = min(check_positive_int("n_w1", n_w1), PROTOCOL_SAMPLES)
    rng = torch.Generator().manual_seed(seed + 1_000_003)  # the probes' own fixed samples
    real, z = dist.sample(PROTOCOL_SAMPLES, rng), torch.randn(PROTOCOL_SAMPLES, model.z_dim, generator=rng)
    return Every(probe_every, lambda step, m: probe_toy(m, dist, real, z, n_w1), name="probe", at_start=True)


# ----------------------------------------------------------------------------- landscapes and clipping


@torch.no_grad()
def critic_landscape(critic: nn.Module, lim: float = 3.0, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, f) with f[i, j] = critic((xs[j], ys[i])) on an n x n grid over [-lim, lim]^2 (eval mode)."""
    n = check_positive_int("n", n)
    if not lim > 0:
        raise GanutilsError(f"lim must be positive, got {lim!r}")
    g = torch.linspace(-lim, lim, n)
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    device = next(critic.parameters()).device
    with eval_mode(critic):
        f = critic(points.to(device)).cpu().reshape(n, n)
    return g.numpy(), g.numpy(), f.numpy()


def plot_critic_landscape(critic: nn.Module, dist=None, samples=None, ax=None, lim: float | None = None,
                          title: str | None = None, levels: int = 20):
    """Filled contours of a 2-D critic, the data's mode centres (+) and optionally generated samples."""
    import matplotlib.pyplot as plt

    from ..plotting import square_panel

    lim = lim or (float(dist.centers.abs().max()) + 1.0 if dist is not None else 3.0)
    xs, ys, f = critic_landscape(critic, lim)
    ax = ax or plt.subplots(figsize=(3.2, 3.2))[1]
    ax.contourf(xs, ys, f, levels=levels, cmap="viridis")
    ax.contour(xs, ys, f, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    if samples is not None:
        s = torch.as_tensor(samples).detach().cpu().numpy()
        ax.scatter(s[:, 0], s[:, 1], s=1, c="w", alpha=0.5, lw=0)
    if dist is not None:
        ax.scatter(*dist.centers.numpy().T, marker="+", c="r", s=40, lw=1.2)
    return square_panel(ax, title)


def weight_values(module: nn.Module) -> np.ndarray:
    """Every entry of every weight matrix/kernel (parameters with >= 2 dims; biases excluded), as one array."""
    values = [p.detach().cpu().reshape(-1) for p in module.parameters() if p.dim() >= 2]
    if not values:
        raise GanutilsError(f"{type(module).__name__} has no weight matrices")
    return torch.cat(values).double().numpy()


def fraction_at_clip(module: nn.Module, c: float, rtol: float = 0.01) -> float:
    """Share of weight entries with |w| >= (1 - rtol) * c: how many sit on the clipping box's walls."""
    if not c > 0:
        raise GanutilsError(f"the clipping value c must be positive, got {c!r}")
    w = weight_values(module)
    return float((np.abs(w) >= (1 - rtol) * c).mean())


def layer_gradient_norms(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> list[float]:
    """||dL/dW|| of the critic loss E[f(fake)] - E[f(real)] for each weight matrix, input layer first.

    Weight clipping makes these shrink or grow geometrically with depth (vanishing or
    exploding gradients depending on c; Gulrajani et al. 2017, Fig. 1b).
    """
    weights = [p for p in critic.parameters() if p.dim() >= 2]
    if not weights:
        raise GanutilsError(f"{type(critic).__name__} has no weight matrices")
    with unchanged(critic):  # the critic as it trains (its mode), but no statistics or power-iteration update kept
        loss = d_loss_wasserstein(critic(_check_batch("real", real)), critic(_check_batch("fake", fake)))
        grads = torch.autograd.grad(loss, weights)
    return [float(g.norm()) for g in grads]
