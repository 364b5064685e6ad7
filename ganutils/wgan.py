"""Tools for notebook 04 (WGAN, WGAN-GP, spectral norm): critics, the critic gap, its landscape, clipping diagnostics.

The models themselves are ``gan.GAN(loss="wasserstein", ...)``: with ``clip_value`` (WGAN),
``gp_weight`` (WGAN-GP) or a spectrally normalised critic (``spectral_norm.apply_spectral_norm``).
This module adds what the notebook measures about them:

- ``critic_gap``: E[f(x)] - E[f(G(z))], the critic's estimate of W1 (meaningful only when f
  is 1-Lipschitz); ``empirical_w1``: the exact W1 between two equal-size point clouds
  (optimal assignment), the ground truth on the 2-D toys;
- ``fit_critic``: train a critic alone between two fixed distributions (Kantorovich-Rubinstein
  duality in action, and what happens without a constraint);
- ``train_toy_probed``: a toy run that stops every few steps to measure the gap, W1 and the
  VEEGAN metrics on fixed samples;
- critic landscapes, weight histograms and per-layer gradient norms (clipping's failure modes);
- seed 003's "WGAN" as written (labels 1/0 in mean(y_true * y_pred), BatchNorm, no constraint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn
from tqdm.auto import tqdm

from . import data, toy_gan, train
from .config import GanutilsError, check_positive_int
from .gan import GAN, make_optimizer
from .gradient_penalty import clip_weights, gradient_penalty
from .losses import GANLoss, d_loss_wasserstein
from .nets import DCGANDiscriminator, DCGANGenerator, activation
from .spectral_norm import apply_spectral_norm
from .toy_metrics import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics

CONSTRAINTS = ("gp", "clip", "none")

# ----------------------------------------------------------------------------- critics


class MLPCritic(nn.Module):
    """x (N, *in_shape) -> raw score (N,): ``depth`` Linear + [norm] + activation blocks, then a linear unit.

    No sigmoid: a critic's score is unbounded. ``norm="batch"`` reproduces seed 003's critic
    (BatchNorm couples the samples of a batch, which breaks a per-sample gradient penalty);
    ``"layer"`` is the normalisation Gulrajani et al. allow; None is the default.
    """

    def __init__(self, in_shape=(2,), hidden: int = 128, depth: int = 3, act: str = "relu", norm: str | None = None):
        super().__init__()
        if norm not in (None, "batch", "layer"):
            raise GanutilsError(f"unknown critic norm {norm!r}: use None, 'layer' or 'batch'")
        hidden, depth = check_positive_int("hidden", hidden), check_positive_int("depth", depth)
        self.in_shape = tuple(in_shape)
        width = int(np.prod(self.in_shape))
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(hidden))
            elif norm == "layer":
                layers.append(nn.LayerNorm(hidden))
            layers.append(activation(act))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


def _check_batch(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or len(x) < 2:
        raise GanutilsError(f"{name} must be an (N, ...) tensor with N >= 2, got {getattr(x, 'shape', type(x).__name__)}")
    return x


@torch.no_grad()
def critic_gap(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *cond) -> float:
    """E[f(real)] - E[f(fake)] in eval mode: the critic's W1 estimate (the negative critic loss without penalty).

    Eval mode: BatchNorm uses running statistics and spectral norm reuses its stored vectors,
    so measuring does not change the critic.
    """
    real, fake = _check_batch("real", real), _check_batch("fake", fake)
    was_training = critic.training
    critic.eval()
    try:
        return float(critic(real, *cond).mean() - critic(fake, *cond).mean())
    finally:
        critic.train(was_training)


def empirical_w1(a, b) -> float:
    """Exact W1 between two equal-size point clouds (N, d): the mean distance of the optimal one-to-one matching.

    Uses SciPy's linear_sum_assignment (O(N^3)): keep N to a few thousand.
    """
    a = np.asarray(torch.as_tensor(a).detach().cpu().reshape(len(a), -1), dtype=np.float64)
    b = np.asarray(torch.as_tensor(b).detach().cpu().reshape(len(b), -1), dtype=np.float64)
    if a.shape != b.shape or len(a) == 0:
        raise GanutilsError(f"empirical_w1 needs two non-empty point clouds of the same shape, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def cross_sample_gradient(critic: nn.Module, x: torch.Tensor) -> float:
    """||d f(x_0) / d x_j|| summed over the *other* samples j != 0 of the batch (training mode).

    Zero for a per-sample critic; non-zero with BatchNorm, whose batch statistics make each
    score depend on the whole batch, so the "per-sample" input gradient of WGAN-GP is not one.
    """
    x = _check_batch("x", x).detach().clone().requires_grad_(True)
    was_training = critic.training
    critic.train()
    try:
        (grads,) = torch.autograd.grad(critic(x)[0], x)
    finally:
        critic.train(was_training)
    return float(grads[1:].norm())


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
    G, D = toy_gan.toy_nets(hidden=hidden, depth=depth, seed=seed)
    return _wasserstein_gan(G, D, constraint, z_dim=2, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, gp_weight=gp_weight,
                            clip_value=clip_value, betas=betas, seed=seed, device="cpu")


def make_mnist_wgan(constraint: str, *, width: int = 64, z_dim: int = 64, seed: int = 0, lr_g: float = 1e-4,
                    lr_d: float = 1e-4, n_critic: int = 5, gp_weight: float = 10.0, clip_value: float = 0.01,
                    betas=(0.0, 0.9), device=None) -> GAN:
    """A DCGAN-shaped Wasserstein GAN for 28x28 MNIST: ``nets.DCGANGenerator`` and a ``DCGANDiscriminator``
    critic *without* BatchNorm (norm=None, linear output), with one of the critics of ``make_toy_wgan``."""
    torch.manual_seed(seed)
    G, D = DCGANGenerator(z_dim, width), DCGANDiscriminator(width, norm=None)
    return _wasserstein_gan(G, D, constraint, z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, gp_weight=gp_weight,
                            clip_value=clip_value, betas=betas, seed=seed, device=device)


# ----------------------------------------------------------------------------- training with a decaying learning rate


class LinearDecay:
    """Scales every learning rate of ``model.opt_g`` and ``model.opt_d`` to base * (1 - done / steps)."""

    def __init__(self, model: GAN, steps: int):
        self.steps = check_positive_int("steps", steps)
        self.optimizers = [model.opt_g, model.opt_d]
        self.base = [[group["lr"] for group in opt.param_groups] for opt in self.optimizers]

    def update(self, done: int) -> None:
        scale = max(0.0, 1.0 - done / self.steps)
        for opt, bases in zip(self.optimizers, self.base):
            for group, base in zip(opt.param_groups, bases):
                group["lr"] = base * scale


def train_with_linear_decay(model: GAN, sample, *, steps: int, chunks: int = 20, desc: str = "train") -> train.History:
    """``train.train`` in ``chunks`` pieces; after each, both learning rates become base * (1 - done / steps).

    A staircase version of the linear decay to 0 used by the official WGAN-GP code.
    """
    steps, chunks = check_positive_int("steps", steps), check_positive_int("chunks", chunks)
    decay, history, done = LinearDecay(model, steps), train.History(), 0
    with tqdm(total=steps, desc=desc, disable=not train.progress_enabled()) as bar:
        while done < steps:
            chunk = min(-(-steps // chunks), steps - done)
            _append(history, train.train(model, sample, steps=chunk, progress=False, desc=desc), done)
            done += chunk
            decay.update(done)
            bar.update(chunk)
    return history


def _append(history: train.History, part: train.History, offset: int) -> None:
    history.steps += [offset + s for s in part.steps]
    for name, values in part.losses.items():
        history.losses.setdefault(name, []).extend(values)
    history.snapshots += [(offset + s, x) for s, x in part.snapshots]
    history.seconds += part.seconds


# ----------------------------------------------------------------------------- toy runs with probes


@torch.no_grad()
def probe_toy(model: GAN, dist: data.GaussianMixture2D, real: torch.Tensor, z: torch.Tensor, n_w1: int = 1000) -> dict:
    """Critic gap, exact W1 (first ``n_w1`` points) and VEEGAN metrics of G(z) against fixed ``real`` samples.

    Fixed real samples and fixed z: between two probes only the networks change. Does not
    touch the model's own noise generator, so probing never changes the training run.
    """
    fake = model.generate(z=z)
    gap = critic_gap(model.D, real.to(model.device), fake.to(model.device)) if torch.isfinite(fake).all() else float("nan")
    m = toy_metrics(fake, dist)
    return {"critic_gap": gap, "w1": empirical_w1(fake[:n_w1], real[:n_w1]), "modes_covered": m.modes_covered,
            "pct_high_quality": m.pct_high_quality, "reverse_kl": m.reverse_kl}


def train_toy_probed(model: GAN, dist: data.GaussianMixture2D, *, steps: int, probe_every: int, seed: int = 0,
                     batch_size: int = 256, n_w1: int = 1000, lr_decay: bool = False,
                     desc: str = "toy") -> tuple[train.History, list[dict], ToyMetrics]:
    """Like ``toy_gan.train_toy`` (same sampler, same final metrics), plus a probe every ``probe_every`` steps.

    lr_decay: scale both learning rates by (1 - step / steps) after every probe (a staircase
    version of the linear decay of the official WGAN-GP code), so G stops jittering around
    the narrow modes at the end.
    Returns (history, probes, final ToyMetrics); probes[i] has "step" and the keys of ``probe_toy``,
    starting with the untrained model at step 0.
    """
    steps, probe_every = check_positive_int("steps", steps), check_positive_int("probe_every", probe_every)
    n_w1 = min(check_positive_int("n_w1", n_w1), PROTOCOL_SAMPLES)
    sample = data.DistributionSampler(dist, batch_size, seed=seed, device=model.device)
    rng = torch.Generator().manual_seed(seed + 1_000_003)  # the probes' own fixed samples
    real, z = dist.sample(PROTOCOL_SAMPLES, rng), torch.randn(PROTOCOL_SAMPLES, model.z_dim, generator=rng)
    decay = LinearDecay(model, steps)
    history, probes, done = train.History(), [], 0
    probes.append({"step": 0, **probe_toy(model, dist, real, z, n_w1)})
    with tqdm(total=steps, desc=desc, disable=not train.progress_enabled()) as bar:
        while done < steps:
            chunk = min(probe_every, steps - done)
            _append(history, train.train(model, sample, steps=chunk, progress=False, desc=desc), done)
            done += chunk
            probes.append({"step": done, **probe_toy(model, dist, real, z, n_w1)})
            if lr_decay:
                decay.update(done)
            bar.update(chunk)
    return history, probes, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)


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
    was_training = critic.training
    critic.eval()
    try:
        f = critic(points.to(device)).cpu().reshape(n, n)
    finally:
        critic.train(was_training)
    return g.numpy(), g.numpy(), f.numpy()


def plot_critic_landscape(critic: nn.Module, dist=None, samples=None, ax=None, lim: float | None = None,
                          title: str | None = None, levels: int = 20):
    """Filled contours of a 2-D critic, the data's mode centres (+) and optionally generated samples."""
    import matplotlib.pyplot as plt

    from .plotting import square_panel

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
    loss = d_loss_wasserstein(critic(_check_batch("real", real)), critic(_check_batch("fake", fake)))
    grads = torch.autograd.grad(loss, weights)
    return [float(g.norm()) for g in grads]


# ----------------------------------------------------------------------------- seed 003's "WGAN"


def d_loss_label_product(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0, fake_label: float = 0.0) -> torch.Tensor:
    """Seed 003's Keras ``mean(y_true * y_pred)`` with y_true = 1 (real), 0 (fake), minimised by the critic.

    The fake term is identically 0 and the real term pushes f(real) *down*: the wrong sign.
    The WGAN critic loss is E[f(fake)] - E[f(real)] (``losses.d_loss_wasserstein``), no labels.
    """
    return (real_label * real_out).mean() + (fake_label * fake_out).mean()


def g_loss_label_product(fake_out: torch.Tensor) -> torch.Tensor:
    """Seed 003's generator loss ``mean(0 * f(G(z)))``: identically zero, so G gets no gradient at all."""
    return (0.0 * fake_out).mean()


SEED003_LOSS = GANLoss("seed003_label_product", d_loss_label_product, g_loss_label_product)


def seed003_wgan(G: nn.Module, D: nn.Module, *, z_dim: int, seed: int = 0, device=None) -> GAN:
    """Seed 003's "Wasserstein GAN" as written: labels 1/0 in mean(y_true * y_pred), no clipping, no penalty,
    one critic step per G step, Adam(2e-4) with Keras' default betas (0.9, 0.999). Pass a BatchNorm critic
    (``MLPCritic(norm="batch")``) to copy it fully. For demonstrating what goes wrong, not for use.
    """
    model = GAN(G, D, z_dim=z_dim, loss="wasserstein", lr_g=2e-4, lr_d=2e-4, betas=(0.9, 0.999), n_critic=1,
                seed=seed, device=device)
    model.loss = SEED003_LOSS
    return model


__all__ = [
    "CONSTRAINTS",
    "CRITICS",
    "MLPCritic",
    "NoisyCopy",
    "SEED003_LOSS",
    "critic_gap",
    "critic_landscape",
    "cross_sample_gradient",
    "d_loss_label_product",
    "empirical_w1",
    "fit_critic",
    "fraction_at_clip",
    "g_loss_label_product",
    "LinearDecay",
    "layer_gradient_norms",
    "make_mnist_wgan",
    "make_toy_wgan",
    "plot_critic_landscape",
    "probe_toy",
    "seed003_wgan",
    "train_toy_probed",
    "train_with_linear_decay",
    "weight_values",
]
