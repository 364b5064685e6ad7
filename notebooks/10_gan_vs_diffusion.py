# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · GANs and diffusion, measured on the same protocol
#
# Diffusion models took over open-ended image generation from GANs. This notebook builds a small
# denoising diffusion model (DDPM, Ho et al. 2020) from its three equations, samples it the slow
# way (ancestral sampling, one network evaluation per noise level) and the fast way (DDIM, Song et
# al. 2021), and sets it beside the GANs of notebook 03 on *the same* VEEGAN ring/grid protocol and
# seeds, then on digits. The interview questions of the AIGC era (seed 004: how GANs and Stable
# Diffusion differ, what each is good at, which one collapses) are answered at the end from the
# numbers this run produces.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # the toy models run on the CPU; the digit models use `device` when set
seed = 0  # toy runs use seeds seed, seed + 1, ...: the seeds of notebook 03's tables
n_seeds = None  # seeds per toy row (None: smoke 1, quick 2, full 5)
gan_steps = None  # generator updates per toy GAN run, notebook 03's budget (None: smoke 20, quick 1000, full 10000)
ddpm_steps = None  # updates per toy DDPM (None: smoke 20, quick 2000, full 10000)
diffusion_T = None  # noise levels T of the toy and latent DDPMs, Ho et al.'s linear betas rescaled to T (None: smoke 50, quick 200, full 1000)
ddim_steps = (1, 2, 5, 10, 20, 50)  # sampling steps swept for the quality-vs-steps plots
digit_gan_steps = None  # DCGAN updates on digits, notebook 03's MNIST run (None: smoke 4, quick 500, full 3000)
vae_steps = None  # first-stage (VAE) updates of the latent diffusion model (None: smoke 4, quick 400, full 5000)
latent_steps = None  # DDPM updates on the latents (None: smoke 10, quick 1000, full 20000)
n_eval = None  # digits per FD / precision / recall (None: smoke 100, quick 500, full 1000)
workers = None  # processes for the toy GAN runs (None: 1 in smoke, 2 otherwise)
threads = None  # torch threads for the digit models (None: 1 in smoke and quick, every core in full)

# %%
import os
import re
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import data, metrics, plotting, training
from ganutils.experiments import gan_vs_diffusion as gvd
from ganutils.experiments import mnist_collapse
from ganutils.experiments import toy_benchmark as tb
from ganutils.metrics import toy as tm
from ganutils.metrics.cost import forward_flops, step_flops
from ganutils.nets.denoisers import TinyUNet
from ganutils.training.diffusion import Diffusion, EvaluationCounter, NoiseSchedule, cosine_schedule, linear_schedule

cfg = gu.setup(profile, device, seed)


def metric_key(label):
    """A metric key without spaces, so that answers can quote it: "GAN, G faster" -> "gan_g_faster"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


default_threads = torch.get_num_threads()
torch.set_num_threads(1)  # 2-D toy MLPs run fastest on one thread (and do not fight a busy machine)
n_seeds = cfg.steps(n_seeds, smoke=1, quick=2, full=5, name="n_seeds")
gan_steps = cfg.steps(gan_steps, smoke=20, quick=1000, full=10000, name="gan_steps")
ddpm_steps = cfg.steps(ddpm_steps, smoke=20, quick=2000, full=10000, name="ddpm_steps")
digit_gan_steps = cfg.steps(digit_gan_steps, smoke=4, quick=500, full=3000, name="digit_gan_steps")
vae_steps = cfg.steps(vae_steps, smoke=4, quick=400, full=5000, name="vae_steps")
latent_steps = cfg.steps(latent_steps, smoke=10, quick=1000, full=20000, name="latent_steps")
n_eval = cfg.steps(n_eval, smoke=100, quick=500, full=1000, name="n_eval")
threads = cfg.steps(threads, smoke=1, quick=1, full=default_threads, name="threads")
workers = cfg.steps(workers, smoke=1, quick=min(2, os.cpu_count() or 1), full=os.cpu_count() or 1, name="workers")
diffusion_T = cfg.steps(diffusion_T, smoke=50, quick=200, full=1000, name="diffusion_T")
ddim_steps = sorted({gu.config.check_positive_int("ddim_steps", s) for s in ddim_steps if s <= diffusion_T})
seeds = [seed + i for i in range(n_seeds)]
ring, grid = data.ring(), data.grid()
dists = {"ring": ring, "grid": grid}
print(f"seeds {seeds}; toy GAN {gan_steps} steps, toy DDPM {ddpm_steps} steps, T = {diffusion_T}; "
      f"digits: DCGAN {digit_gan_steps} steps, VAE {vae_steps} + latent DDPM {latent_steps} steps")

# %% [markdown]
# ## The forward process, in closed form
#
# A diffusion model fixes a *forward* process that destroys data in $T$ small Gaussian steps,
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big), \qquad t = 1, \dots, T,$$
#
# with an increasing variance schedule $\beta_1 < \dots < \beta_T$. Two Gaussian steps compose into
# one: if $x_{t-1} = \sqrt{\bar\alpha_{t-1}}\,x_0 + \sqrt{1-\bar\alpha_{t-1}}\,\varepsilon'$ then
# $x_t = \sqrt{\alpha_t\bar\alpha_{t-1}}\,x_0 + \big(\sqrt{\alpha_t(1-\bar\alpha_{t-1})}\,\varepsilon' +
# \sqrt{\beta_t}\,\varepsilon''\big)$, and the two independent noises add to variance
# $\alpha_t - \alpha_t\bar\alpha_{t-1} + 1 - \alpha_t = 1 - \alpha_t\bar\alpha_{t-1}$. By induction
# (Ho et al. 2020, eq. 4), with $\alpha_t = 1-\beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$,
#
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big)
# \quad\Longleftrightarrow\quad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\ \ \varepsilon\sim\mathcal N(0, I).$$
#
# Any noise level is one line away from the data: training never runs the chain. For sampling to
# start from $\mathcal N(0, I)$, $\bar\alpha_T$ must be close to 0 (Ho et al., sec. 4: $T = 1000$,
# $\beta$ linear from $10^{-4}$ to $0.02$, which leaves $\bar\alpha_T = 4\cdot 10^{-5}$). The check below
# runs the chain step by step on ring samples and compares the moments with the closed form; then it
# shows three schedules, and what the library says about one that stops too early.

# %%
g = torch.Generator().manual_seed(seed)
schedule = linear_schedule(diffusion_T)
x0 = ring.sample(20000, g) / gvd.toy_scale(ring)
x = x0.clone()
t_check = diffusion_T // 4
for t in range(t_check):  # the Markov chain, one small step at a time
    beta = float(schedule.betas[t])
    x = (1 - beta) ** 0.5 * x + beta ** 0.5 * torch.randn(x.shape, generator=g)
ab = float(schedule.alpha_bar[t_check - 1])
residual = x - ab ** 0.5 * x0  # should be N(0, 1 - alpha_bar) noise, independent of x0
print(f"after {t_check} steps: alpha_bar = {ab:.4f}; residual noise variance {residual.var().item():.4f} "
      f"(closed form {1 - ab:.4f}), mean {residual.mean().item():+.4f}")
assert abs(residual.var().item() - (1 - ab)) < 0.02 and abs(residual.mean().item()) < 0.02

fig, ax = plt.subplots(figsize=(5.5, 3))
for sch in (linear_schedule(1000), schedule, cosine_schedule(diffusion_T)):
    ax.plot(np.linspace(0, 1, sch.steps), sch.alpha_bar.numpy(), label=f"{sch.name}: alpha_bar_T = {sch.alpha_bar[-1]:.1e}")
ax.set_xlabel("t / T")
ax.set_ylabel(r"$\bar\alpha_t$ (signal kept)")
ax.legend(fontsize=7)
plt.show()

import warnings  # noqa: E402  (shown here, where it is used)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    NoiseSchedule(torch.linspace(1e-4, 0.02, diffusion_T), name="Ho's line, not rescaled")
print("a schedule that stops too early:", caught[0].message if caught else "no warning")

# %% [markdown]
# Reading it: the chain and the closed form agree. Ho et al.'s line over $T = 1000$ steps and the
# same line rescaled by $1000/T$ to $T = 200$ steps (as in Nichol & Dhariwal's improved-diffusion
# code) both end near 0; the cosine schedule (Nichol & Dhariwal 2021, sec. 3.2) destroys the signal
# more slowly at first. Ho's line *not* rescaled to 200 steps leaves a visible part of the signal at
# $t = T$, and the library says so with the value.
#
# ## Training: predict the noise
#
# The reverse process $p_\theta(x_{t-1}\mid x_t)$ is a Gaussian whose mean a network predicts. Ho et
# al. parameterise it through the noise: a network $\varepsilon_\theta(x_t, t)$ guesses which
# $\varepsilon$ made $x_t$, and the simplified variational bound is a plain regression
# (eq. 14, Algorithm 1):
#
# $$L_\text{simple} = \mathbb E_{x_0,\ t\sim U\{1..T\},\ \varepsilon}\Big[\big\lVert \varepsilon -
# \varepsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\ t\big)\big\rVert^2\Big].$$
#
# One training step draws one $t$ per example and does one forward and one backward pass: no chain,
# no adversary, nothing that can win a game. (Seed 004 says diffusion training is expensive because
# it "requires multi-step back-propagation"; it does not. The many steps are paid at *sampling* time,
# measured below.) The library's loss is these lines:

# %%
import inspect  # noqa: E402

print(inspect.getsource(Diffusion.loss))

# %% [markdown]
# ## Sampling: Algorithm 2, and DDIM
#
# Ancestral sampling (Ho et al., Algorithm 2) starts from $x_T \sim \mathcal N(0, I)$ and takes $T$
# steps, each one network evaluation:
#
# $$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,
# \varepsilon_\theta(x_t, t)\Big) + \sigma_t z, \qquad \sigma_t^2 = \beta_t,\ z \sim \mathcal N(0, I).$$
#
# DDIM (Song et al. 2021) keeps the trained network and changes only the sampler: it predicts
# $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta)/\sqrt{\bar\alpha_t}$ and jumps to an
# earlier noise level $s < t$ on a subsequence of $S \ll T$ steps (eq. 12; sec. 4.2),
#
# $$x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1-\bar\alpha_s-\sigma^2}\,\varepsilon_\theta(x_t, t) + \sigma z,
# \qquad \sigma = \eta\sqrt{\tfrac{1-\bar\alpha_s}{1-\bar\alpha_t}}\sqrt{1-\tfrac{\bar\alpha_t}{\bar\alpha_s}}.$$
#
# With $\eta = 0$ the sampler is deterministic given $x_T$, and costs $S$ evaluations instead of
# $T$; with $\eta = 1$ on every step it is DDPM again (a unit test checks both). A GAN's generator
# costs one evaluation per sample. How much quality each step count buys is measured below.
#
# ## The same protocol as notebook 03
#
# The ring of 8 (radius 2, σ = 0.02) and the grid of 25 (spacing 2, σ = 0.05), 2,500 samples,
# high quality within 3σ, reverse KL of the mode histogram (`ganutils.toy_metrics`), on notebook 03's
# seeds. Two GANs from notebook 03, both with 2x128 ReLU MLPs, batch 256, Adam(β1 = 0.5), `gan_steps`
# generator updates:
#
# * **GAN, G faster**: notebook 03's vanilla baseline (lr_G = 1e-3, lr_D = 5e-4), the setting that
#   collapses;
# * **GAN, D faster**: the same GAN with the learning rates swapped (lr_G = 5e-4, lr_D = 1e-3), the
#   direction notebook 03's learning-rate sweep found healthy, so that the comparison is not with a
#   broken GAN only.
#
# The DDPM: $\varepsilon_\theta$ is a 3x128 SiLU MLP whose input is $x$, Fourier features of $x$
# (sin and cos at 6 octaves) and a sinusoidal embedding of $t$; $T$ = `diffusion_T` with the rescaled
# linear schedule; Adam 3e-3 with cosine decay, batch 256, an exponential moving average of the
# weights (decay 0.995) for sampling, as Ho et al. do (0.9999 over far longer runs); data divided by 2
# (ring) or 4 (grid) so that they lie in about $[-1, 1]$. The Fourier features are the one
# architectural help: a plain MLP is slow to learn a function that changes on the scale of σ = 0.02
# (Tancik et al. 2020); without them the calibration run reached 17% high-quality ring samples in 4,000
# steps, with them 82% in 3,000. Without them the samples lie around the right places but too
# spread out, and the protocol, which counts a mode only through samples within 3σ of its centre, sees
# few of them; with them the modes are sharp enough to be counted. The GANs run in worker processes while the DDPMs of all (distribution, seed) pairs train in
# lock-step in this one: stacked into one vectorised model (`torch.func.vmap`), each keeping its own
# initialisation, data and noise.

# %%
gan_settings = {"GAN, G faster": dict(lr_g=1e-3, lr_d=5e-4), "GAN, D faster": dict(lr_g=5e-4, lr_d=1e-3)}
gan_setup = dict(hidden=128, depth=2, batch_size=256)  # notebook 03's setup
gan_jobs = [dict(method="vanilla", dist=dists[name], seed=s, steps=gan_steps, device="cpu", **gan_setup, **lrs)
            for lrs in gan_settings.values() for name in dists for s in seeds]
futures = gvd.start_gan_runs(gan_jobs, workers=workers) if workers > 1 else None

ddpm_jobs = [(dists[name], s) for name in dists for s in seeds]
toy_ddpm = gvd.ToyDDPMs(ddpm_jobs, T=diffusion_T)
toy_sampler = toy_ddpm.sampler()
ddpm_step_flops = step_flops(toy_ddpm, toy_sampler()) / len(ddpm_jobs)  # one job's share of one lock-step update
tic = time.perf_counter()
ddpm_history = training.train(toy_ddpm, toy_sampler, steps=ddpm_steps, desc="toy DDPMs",
                              schedulers=[toy_ddpm.cosine_decay(ddpm_steps)],
                              checkpoint=gu.checkpoint_path("toy-ddpm", steps=ddpm_steps, seeds=seeds, **{**gvd.TOY_DDPM, "T": diffusion_T}))
ddpm_train_seconds = time.perf_counter() - tic

gan_runs = [f.result() for f in futures] if futures else tb.run_jobs(gan_jobs, workers=1, verbose=False)
gvd.shutdown_gan_pool()

# %%
rows, samples_of = {}, {}
for label, lrs in gan_settings.items():
    for name in dists:
        runs = [r for r, job in zip(gan_runs, gan_jobs) if r.dist == name and job["lr_g"] == lrs["lr_g"]]
        rows[(name, label)] = [r.metrics for r in runs]
        samples_of[(name, label)] = runs[0].samples
counters = {}
for k, (dist, s) in enumerate(ddpm_jobs):
    counter = EvaluationCounter()
    toy_result = toy_ddpm.metrics(k, counter=counter)
    rows.setdefault((dist.name, "DDPM"), []).append(toy_result)
    counters[(dist.name, s)] = counter.per_sample(tm.PROTOCOL_SAMPLES)
    if s == seeds[0]:
        samples_of[(dist.name, "DDPM")] = toy_ddpm.generate(k, n=500)

table = {}
for (name, label), ms in rows.items():
    table.setdefault(name, {})[label] = {
        "modes_per_seed": [m.modes_covered for m in ms], "modes_mean": float(np.mean([m.modes_covered for m in ms])),
        "hq_mean": float(np.mean([m.pct_high_quality for m in ms])), "kl_mean": float(np.mean([m.reverse_kl for m in ms])),
        "hq_per_seed": [round(m.pct_high_quality, 1) for m in ms], "kl_per_seed": [round(m.reverse_kl, 3) for m in ms]}
for name, dist in dists.items():
    print(f"{name} ({dist.n_modes} modes), seeds {seeds}:")
    for label, row in table[name].items():
        print(f"  {label:14s} modes {row['modes_per_seed']}  high quality % {row['hq_per_seed']}  reverse KL {row['kl_per_seed']}")
    print("  published (VEEGAN protocol, modes): " + ", ".join(f"{k} {v:g}" for k, v in tb.PUBLISHED[name].items()))
gu.record("toy", {name: {metric_key(label): row for label, row in per.items()} for name, per in table.items()}, quiet=True)
gu.record("toy_protocol", {"seeds": seeds, "gan_steps": gan_steps, "ddpm_steps": ddpm_steps, "T": diffusion_T}, quiet=True)

fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for i, name in enumerate(dists):
    for j, label in enumerate(["GAN, G faster", "GAN, D faster", "DDPM"]):
        m = rows[(name, label)][0]
        plotting.plot_samples_2d(samples_of[(name, label)], dists[name], ax=axes[i, j], s=2,
                                 title=f"{label}, seed {seeds[0]}\n{m.modes_covered}/{m.n_modes} modes, {m.pct_high_quality:.0f}% HQ")
fig.tight_layout()
plt.show()

# %%
for name, dist in dists.items():
    for row in table[name].values():
        assert len(row["modes_per_seed"]) == n_seeds and 0 <= row["modes_mean"] <= dist.n_modes and np.isfinite(row["kl_mean"])
assert all(v == diffusion_T for v in counters.values()), counters  # ancestral sampling: one evaluation per noise level
ddpm_full = {name: min(table[name]["DDPM"]["modes_per_seed"]) == dist.n_modes for name, dist in dists.items()}
gan_best_grid = max(max(table["grid"][label]["modes_per_seed"]) for label in gan_settings)
gu.record("toy_claims", {"ddpm_covers_every_mode_every_seed": ddpm_full, "gan_best_grid_modes": gan_best_grid}, quiet=True)
if cfg.asserts_quality:
    assert all(ddpm_full.values()), f"the DDPM covers every ring and grid mode on every seed: {table}"
    for name in dists:
        for label in gan_settings:
            assert table[name]["DDPM"]["kl_mean"] < table[name][label]["kl_mean"], (name, label)
            assert table[name]["DDPM"]["hq_mean"] > table[name][label]["hq_mean"], (name, label)
if cfg.profile == "quick":  # a claim about quick's budget (1,000 GAN steps); full's 10,000 steps are not measured yet
    assert gan_best_grid < grid.n_modes, "no GAN run covers the whole grid at this budget"

# %% [markdown]
# **What the table says.** (This run's numbers are above; the `quick` assertions check each
# sentence.) The DDPM found every mode of both mixtures on every seed, with a reverse KL near 0
# (an even spread over the modes) and the most high-quality samples. The GAN of notebook 03 whose G
# outruns D collapses or hops, as it did there. The GAN with the faster D covers most of the ring
# but spreads its mass unevenly (a larger reverse KL) and still misses grid modes on every seed. The
# published numbers (VEEGAN's Table 1) are anchors for the order of magnitude; our GANs are smaller
# and train for far fewer steps than theirs.
#
# Why the difference is structural, not luck: the GAN's generator is paid per sample for fooling
# the current D, which a subset of the modes does as well as all of them (notebook 03); nothing in
# its loss counts the modes it misses. The DDPM's loss is a regression at every point of the data
# distribution: every training example, from every mode, appears in every batch's noise-prediction
# error, and $L_\text{simple}$ is a reweighted bound on the negative log-likelihood (Ho et al., sec.
# 3.4), which charges an infinite price for a mode with no probability. Mode-seeking is a property of
# the GAN game, not of generative models in general.
#
# ## What each one costs
#
# Training cost per update is counted in floating-point operations (torch's `FlopCounterMode`:
# matrix products, forward and backward), which do not depend on the machine; sampling cost is the
# number of network evaluations per sample, counted while sampling. Wall-clock times are printed for
# the reader's machine and are not part of any claim.

# %%
gan_model = tb.build("vanilla", seed=seeds[0], **gan_setup, **gan_settings["GAN, G faster"])
gan_step_flops = step_flops(gan_model, data.DistributionSampler(ring, 256, seed=0)())
g_flops = forward_flops(gan_model.G, torch.randn(1000, 2)) / 1000
denoiser = toy_ddpm.net(0)
d_flops = forward_flops(denoiser, torch.randn(1000, 2), torch.zeros(1000, dtype=torch.long)) / 1000
cost = {
    "gan_train_flops_per_step": gan_step_flops, "ddpm_train_flops_per_step": ddpm_step_flops,
    "gan_train_flops": gan_step_flops * gan_steps, "ddpm_train_flops": ddpm_step_flops * ddpm_steps,
    "gan_evals_per_sample": 1, "ddpm_evals_per_sample": counters[(ring.name, seeds[0])],
    "gan_flops_per_sample": g_flops, "ddpm_flops_per_sample": d_flops * counters[(ring.name, seeds[0])],
}
for S in ddim_steps:
    counter = EvaluationCounter()
    toy_ddpm.generate(0, n=100, sampler="ddim", steps=S, counter=counter)
    cost[f"ddim{S}_evals_per_sample"] = counter.per_sample(100)
    cost[f"ddim{S}_flops_per_sample"] = d_flops * counter.per_sample(100)
with torch.no_grad():
    tic = time.perf_counter()
    gan_model.G(torch.randn(tm.PROTOCOL_SAMPLES, 2, generator=torch.Generator().manual_seed(seed)))
    gan_wall = (time.perf_counter() - tic) / tm.PROTOCOL_SAMPLES
tic = time.perf_counter()
toy_ddpm.generate(0)
ddpm_wall = (time.perf_counter() - tic) / tm.PROTOCOL_SAMPLES
print(f"training: GAN {gan_step_flops / 1e6:.0f} MFLOP per step x {gan_steps} = {cost['gan_train_flops'] / 1e9:.0f} GFLOP; "
      f"DDPM {ddpm_step_flops / 1e6:.0f} MFLOP per step x {ddpm_steps} = {cost['ddpm_train_flops'] / 1e9:.0f} GFLOP per run")
print(f"sampling: GAN 1 evaluation = {g_flops / 1e3:.0f} kFLOP per sample; DDPM {cost['ddpm_evals_per_sample']} evaluations "
      f"= {cost['ddpm_flops_per_sample'] / 1e6:.1f} MFLOP per sample; DDIM: "
      + ", ".join(f"{S} -> {cost[f'ddim{S}_evals_per_sample']}" for S in ddim_steps))
print(f"wall time per sample on this machine (not a claim): GAN {gan_wall * 1e6:.1f} µs, DDPM {ddpm_wall * 1e6:.0f} µs "
      f"(DDPM toy training took {ddpm_train_seconds:.0f} s for {len(ddpm_jobs)} runs at once)")
gu.record("toy_cost", cost, quiet=True)
gu.record("toy_wall_seconds_per_sample", {"gan": gan_wall, "ddpm": ddpm_wall}, quiet=True)
assert cost["gan_evals_per_sample"] == 1 and cost["ddpm_evals_per_sample"] == diffusion_T
assert all(cost[f"ddim{S}_evals_per_sample"] == S for S in ddim_steps)
assert d_flops > g_flops and cost["ddpm_flops_per_sample"] > diffusion_T * cost["gan_flops_per_sample"], "T evaluations of a larger net"

# %% [markdown]
# Per sample, the DDPM pays `diffusion_T` evaluations of a network a few times the GAN generator's
# size (its input carries Fourier features and a time embedding): more than `diffusion_T` times the
# GAN's arithmetic for one sample (the assertion checks it). Per training update it is the cheaper of the two (one network, one
# forward/backward, against the GAN's two networks and three passes), but it was trained for more
# updates here: its total training arithmetic is printed beside the GAN's, so the comparison is
# explicit. Neither number depends on the machine.
#
# ## Quality against the number of sampling steps
#
# The same trained DDPMs, sampled with DDIM ($\eta = 0$) on `ddim_steps` steps, scored on the protocol.

# %%
sweep = {}
for k, (dist, s) in enumerate(ddpm_jobs):
    for S in ddim_steps:
        m = toy_ddpm.metrics(k, sampler="ddim", steps=S)
        sweep.setdefault(dist.name, {}).setdefault(S, []).append(m)
fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for name, dist in dists.items():
    for ax, field, label in zip(axes, ("modes_covered", "pct_high_quality", "reverse_kl"),
                              ("modes covered (fraction)", "% high quality", "reverse KL")):
        ys = [np.mean([getattr(m, field) / (dist.n_modes if field == "modes_covered" else 1) for m in sweep[name][S]]) for S in ddim_steps]
        ax.plot(ddim_steps, ys, "o-", label=f"{name}, DDIM")
        full_val = table[name]["DDPM"][{"modes_covered": "modes_mean", "pct_high_quality": "hq_mean", "reverse_kl": "kl_mean"}[field]]
        ax.scatter([diffusion_T], [full_val / (dist.n_modes if field == "modes_covered" else 1)], marker="*", s=80,
                   label=f"{name}, DDPM ({diffusion_T} steps)")
        ax.set_xscale("log")
        ax.set_xlabel("network evaluations per sample")
        ax.set_title(label, fontsize=9)
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()
sweep_record = {name: {str(S): {"modes_mean": float(np.mean([m.modes_covered for m in ms])),
                                "hq_mean": float(np.mean([m.pct_high_quality for m in ms])),
                                "kl_mean": float(np.mean([m.reverse_kl for m in ms]))} for S, ms in per.items()}
                for name, per in sweep.items()}
gu.record("toy_steps", sweep_record, quiet=True)
few, many = min(ddim_steps), max(ddim_steps)
if cfg.asserts_quality:
    for name, dist in dists.items():
        assert sweep_record[name][str(few)]["modes_mean"] < 0.5 * dist.n_modes, "one or two steps cannot place samples on the modes"
        assert sweep_record[name][str(many)]["modes_mean"] == dist.n_modes, f"{many} steps cover every mode"

# %% [markdown]
# One DDIM step returns the network's estimate of $\mathbb E[x_0 \mid x_T]$: for noise that carries no
# information about the data, that is close to the data mean, the centre of the ring, where no mode
# is. A handful of steps start to split the samples between modes; from about 20 steps on every mode
# is covered, and sharpness keeps improving up to 50. This is the price structure of diffusion:
# quality is bought with network evaluations at sampling time, and cheaper sampling needs a different
# method (distillation, consistency models, or an adversarial loss, as in adversarial diffusion
# distillation), not a different sampler for the same network. A GAN sits at the far left of these
# plots: one evaluation.
#
# ## Digits: a DCGAN against latent diffusion
#
# On images the course's CPU budget changes the design. A DDPM whose U-Net works on the 28x28 pixels
# (`ganutils` has one: `TinyUNet`, Ho et al.'s architecture scaled down) needs thousands of updates
# before its samples look like digits, more than a laptop `quick` run has (the calibration: FD about
# 7,600 after 1,000 updates). Stable Diffusion solves the same problem at scale the way this section
# does: *latent* diffusion (Rombach et al. 2022). A first-stage autoencoder compresses images into a
# small latent; the diffusion model learns the distribution of latents; a sample is the diffusion
# model's sample, decoded once. Here the first stage is notebook 06's convolutional VAE (16 channels,
# a 32-dimensional latent, KL weight 0.01: nearly an autoencoder, like Stable Diffusion's KL-regularised
# one), and the DDPM is an MLP on the standardised latents. The GAN is notebook 03's healthy DCGAN
# (BatchNorm in G), with its number of updates. All four metrics use the evaluation network, on
# `n_eval` samples against the same number of held-out digits.

# %%
torch.set_num_threads(threads)  # convolutions profit from more cores, but on a busy 2-core machine threads wait on each other
digits = data.load_mnist("train")
held_out = data.load_mnist("test", verbose=False).images
if n_eval < len(held_out):  # the held-out digits may be sorted by class: draw a random subset
    held_out = held_out[torch.randperm(len(held_out), generator=torch.Generator().manual_seed(seed))[:n_eval]]
dig_device = "cpu" if device is None else cfg.device

dcgan = mnist_collapse.dcgan(batchnorm_in_g=True, seed=seed, device=dig_device)
dcgan_step_flops = step_flops(dcgan, digits.images[:64].to(dcgan.device))
dcgan_history = mnist_collapse.train_mnist(dcgan, digits.images, steps=digit_gan_steps, seed=seed, desc="DCGAN")
dcgan_seconds = dcgan_history.seconds

tic = time.perf_counter()
ldm, ldm_info = gvd.train_latent_diffusion(digits.images, vae_steps=vae_steps, ddpm_steps=latent_steps, seed=seed,
                                           device=dig_device, T=diffusion_T,
                                           vae_checkpoint=gu.checkpoint_path("ldm-vae", steps=vae_steps, seed=seed, **gvd.LATENT),
                                           ddpm_checkpoint=gu.checkpoint_path("ldm-ddpm", steps=latent_steps, vae_steps=vae_steps,
                                                                              seed=seed, **{**gvd.LATENT, "T": diffusion_T}))
ldm_seconds = time.perf_counter() - tic

gen = lambda: torch.Generator(device=dig_device).manual_seed(seed + 1)  # noqa: E731  (the same noise for every sampler)
fakes = {"DCGAN": dcgan.generate(n_eval),
         "latent DDPM (ancestral)": ldm.generate(n_eval, "ddpm", generator=gen()),
         "latent DDIM (20 steps)": ldm.generate(n_eval, "ddim", steps=min(20, diffusion_T), generator=gen())}
reconstructions = ldm.reconstruct(held_out)
results = {name: metrics.evaluate_images(x, held_out) for name, x in fakes.items()}
results["VAE reconstructions (ceiling)"] = metrics.evaluate_images(reconstructions, held_out)
keys = ("fd", "precision", "recall", "coverage", "class_kl")
for name, r in results.items():
    print(f"{name:48s} " + "  ".join(f"{k} {r[k]:.3f}" if isinstance(r[k], float) else f"{k} {r[k]}" for k in keys))
gu.record("digits", {metric_key(name): {k: r[k] for k in keys + ("class_counts",)} for name, r in results.items()}, quiet=True)

fig, axes = plt.subplots(2, 3, figsize=(11, 6), gridspec_kw={"height_ratios": [1.4, 1]})
for j, (name, x) in enumerate(fakes.items()):
    plotting.image_grid(x[:36], nrow=6, ax=axes[0, j], title=name)
    axes[1, j].bar(range(10), results[name]["class_counts"], color="tab:blue")
    axes[1, j].set_xticks(range(10))
    axes[1, j].set_title(f"digits the classifier reads: {results[name]['coverage']}/10", fontsize=9)
fig.tight_layout()
plt.show()

# %%
ddim_name = "latent DDIM (20 steps)"
gan_r, dm_r = results["DCGAN"], results[ddim_name]
assert all(np.isfinite(r["fd"]) and 0 <= r["coverage"] <= 10 for r in results.values())
if cfg.profile == "quick":  # measured at quick's budgets (calibration run: recall 0.79 against 0.11, FD 406 against 586)
    assert dm_r["recall"] > gan_r["recall"] + 0.2, "the diffusion model covers much more of the held-out digits (recall)"
    assert dm_r["class_kl"] < gan_r["class_kl"] and dm_r["coverage"] == 10, "and spreads over all ten digits"
    assert dm_r["fd"] < gan_r["fd"], "with a lower Fréchet distance at this budget"

# %% [markdown]
# **What the digits say.** The DCGAN's samples are sharp where they exist (its precision, the share
# of its samples that land among real digits, is of the same order as the diffusion model's), but
# its recall is low: most held-out digits have no generated digit near them, and its class histogram
# is lopsided. The latent diffusion model spreads over all ten digits with a far higher recall: the
# same failure and the same remedy as on the toys, now on images. Its FD is bounded below by the
# first stage: the row "VAE reconstructions" is what a perfect latent DDPM would reach with this
# autoencoder. That is the trade Stable Diffusion makes: the diffusion model's cost drops by working
# on small latents, and the autoencoder's quality becomes the ceiling, which is why its autoencoder
# is trained with a perceptual and a patch-GAN loss (Rombach et al. 2022, sec. 3.1).
#
# Quality against steps, on digits:

# %%
digit_sweep = {}
for S in ddim_steps:
    r = metrics.evaluate_images(ldm.generate(n_eval, "ddim", steps=S, generator=gen()), held_out)
    digit_sweep[str(S)] = {k: r[k] for k in ("fd", "precision", "recall", "coverage")}
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(ddim_steps, [digit_sweep[str(S)]["fd"] for S in ddim_steps], "o-", label="latent DDIM")
ax.axhline(gan_r["fd"], color="0.5", ls="--", label="DCGAN (1 evaluation)")
ax.axhline(results["VAE reconstructions (ceiling)"]["fd"], color="k", ls=":", label="VAE reconstructions")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("denoiser evaluations per sample")
ax.set_ylabel("FD (lower is better)")
ax.legend(fontsize=7)
plt.show()
gu.record("digit_steps", digit_sweep, quiet=True)

z = torch.zeros(100, 64)  # FLOPs do not depend on the values
gan_sample_flops = forward_flops(dcgan.G, z.to(dcgan.device)) / 100
mlp_flops = forward_flops(ldm.ddpm.ema.module, torch.randn(100, gvd.LATENT["z_dim"]), torch.zeros(100, dtype=torch.long)) / 100
decoder_flops = forward_flops(ldm.vae.decoder, torch.randn(100, gvd.LATENT["z_dim"])) / 100
pixel_unet = TinyUNet(1, 32, (1, 2, 2))  # a pixel-space DDPM denoiser of Ho et al.'s layout, scaled down
unet_flops = forward_flops(pixel_unet, torch.randn(10, 1, 28, 28), torch.zeros(10, dtype=torch.long)) / 10
digit_cost = {"gan_flops_per_sample": gan_sample_flops,
              "latent_ddim20_flops_per_sample": 20 * mlp_flops + decoder_flops,
              "pixel_unet_ddim20_flops_per_sample": 20 * unet_flops,
              "dcgan_train_flops": dcgan_step_flops * digit_gan_steps,
              "latent_ddpm_train_flops": step_flops(ldm.ddpm, ldm_info["ddpm_sampler"]()) * latent_steps}
print(f"per sample: DCGAN {gan_sample_flops / 1e6:.1f} MFLOP; latent DDIM-20 {digit_cost['latent_ddim20_flops_per_sample'] / 1e6:.1f} MFLOP "
      f"(20 x {mlp_flops / 1e6:.2f} denoiser + {decoder_flops / 1e6:.1f} decoder); the same 20 steps in pixel space with a "
      f"small U-Net: {digit_cost['pixel_unet_ddim20_flops_per_sample'] / 1e6:.0f} MFLOP")
print(f"training (not a claim, this machine): DCGAN {dcgan_seconds:.0f} s, VAE + latent DDPM {ldm_seconds:.0f} s")
gu.record("digit_cost", digit_cost, quiet=True)
assert digit_cost["pixel_unet_ddim20_flops_per_sample"] > 10 * digit_cost["latent_ddim20_flops_per_sample"]

# %% [markdown]
# The pixel-space U-Net costs far more per evaluation than the latent MLP plus one decoder pass:
# that ratio, at 512x512 instead of 28x28, is why Stable Diffusion denoises in a latent space.
#
# ## What the numbers answer
#
# **How do GANs and (Stable) Diffusion differ?** A GAN maps noise to a sample in one network
# evaluation and learns it through an adversary; a diffusion model learns to undo a fixed noising
# process by regression ($L_\text{simple}$) and samples by iterating its denoiser, here `diffusion_T`
# evaluations (ancestral) or 20-50 (DDIM) against the GAN's one. Stable Diffusion is a latent
# diffusion model: an autoencoder plus a diffusion U-Net (with text cross-attention) on its latents,
# as in the digits section above at toy scale.
#
# **What is each good at?** Measured here: the diffusion model covers every mode on every seed and
# has the higher recall, with a training loss that is a plain regression (no balance to tune); the
# GAN samples with one evaluation, orders of magnitude fewer FLOPs per sample, and its samples are
# precise where it puts them. Not measured here but well documented: diffusion models take
# conditioning (text, masks, ControlNet) naturally, GANs have a compact latent space that is easy to
# edit, and GANs are the fast choice when the output is tied to an input (super-resolution,
# restoration: notebook 11).
#
# **Which is more prone to collapse?** The GAN, and the reason is its objective (notebook 03): both
# toy tables and the digit histograms above show it dropping modes where the DDPM does not. Diffusion
# models have their own diversity problems: strong classifier-free guidance trades diversity for
# fidelity, small datasets get memorised, and training on generated data degrades any model ("model
# collapse"); none of these is the GAN's mode collapse.
#
# **Sources** for the numbers quoted from the literature: the forward process in closed form (eq. 4),
# $L_\text{simple}$ (eq. 14), Algorithms 1 and 2, $\sigma_t^2 = \beta_t$ or $\tilde\beta_t$ giving similar
# results (sec. 3.2), $L_\text{simple}$ as a reweighted bound (sec. 3.4), $T = 1000$ with $\beta$ from
# $10^{-4}$ to $0.02$ and data in $[-1, 1]$ (sec. 4), the sinusoidal time embedding and the EMA of the
# weights (appendix B): Ho et al. (2020); the linear schedule rescaled by $1000/T$: Nichol & Dhariwal's
# improved-diffusion code (`get_named_beta_schedule`); the cosine schedule: Nichol & Dhariwal (2021),
# sec. 3.2, eq. 17; DDIM's update and $\sigma(\eta)$: Song et al. (2021), eq. 12 and 16, the timestep
# subsequence: sec. 4.2; Fourier features for MLPs: Tancik et al. (2020); the VEEGAN protocol and its
# published mode counts: Srivastava et al. (2017), Table 1; latent diffusion and its KL-regularised
# autoencoder trained with perceptual and patch-GAN losses: Rombach et al. (2022), sec. 3.1; seed 004's
# "训练资源高（需多步反向传播）": its table in section 4.
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("10_gan_vs_diffusion")
