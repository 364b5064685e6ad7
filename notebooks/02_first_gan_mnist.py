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
# # 02 · A first GAN on MNIST
#
# From the objective of notebook 01 to pictures: an MLP GAN, then a DCGAN, trained with the
# course's shared loop. Then the three things every first GAN teaches: why its losses do not
# go down, which of the classic tricks actually matter (each measured by an ablation), and
# what goes wrong in a GAN written with the mistakes of the seed material.
#
# Quality is measured with the course's evaluation network (a small MNIST classifier,
# notebook 12): the Fréchet distance (FD) between its features of generated and held-out
# digits (held-out vs training digits: about 12; blurred digits: about 550; noise: about
# 20,000), precision (share of samples that look like real digits) and recall (share of real
# digits the samples cover), and coverage (how many of the 10 classes appear).

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # None: CUDA if available, else CPU
seed = 0
steps = None  # DCGAN training steps (None: the profile's default)
mlp_steps = None  # MLP GAN training steps
ablation_steps = None  # steps of each ablation run
seed_bug_steps = None  # steps of each run of the seed-001 port
lr = 2e-4
batch_size = 64
z_dim = 64
width = 32  # DCGAN channel width (the paper's 64 is ~2.5x slower on a CPU)
n_eval = None  # generated digits per evaluation (None: the profile's default)
workers = None  # independent runs trained side by side, one thread each (None: 1 in smoke and on a GPU, 2 on a CPU)
solutions = False  # True plugs the exercises' reference solutions (the collapsed cells) into their checks

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import data, metrics, nets, plotting, training
from ganutils.experiments import first_gan
from ganutils.experiments.workers import submit_jobs

cfg = gu.setup(profile, device, seed)
steps = cfg.steps(steps, smoke=30, quick=2000, full=20000)
mlp_steps = cfg.steps(mlp_steps, smoke=30, quick=3000, full=20000, name="mlp_steps")
ablation_steps = cfg.steps(ablation_steps, smoke=10, quick=500, full=3000, name="ablation_steps")
seed_bug_steps = cfg.steps(seed_bug_steps, smoke=20, quick=3000, full=20000, name="seed_bug_steps")
n_eval = cfg.steps(n_eval, smoke=200, quick=1000, full=1000, name="n_eval")  # FD is compared at equal sample sizes
cores = gu.config.cpu_threads()  # every core, or the share `python -m ganutils run --jobs N` gave this kernel
workers = 1 if cfg.device.type != "cpu" else cfg.steps(workers, smoke=1, quick=min(2, cores), full=cores, name="workers")
train_set = data.load_mnist("train")
held_out = data.load_mnist("test")

# Seed 001's port (the last section) trains four small runs: as written, then with one bug fixed at a time. They
# train in the background, in worker processes of one thread each (`ganutils/experiments/first_gan.py`): the
# first now, beside the MLP GAN, which gains nothing from a second core; the other three beside the ablations.
variants = {
    "as written": {},
    "G target fixed": {"wrong_target": False},
    "+ no double sigmoid": {"wrong_target": False, "double_sigmoid": False},
    "+ batches, fresh noise": {"wrong_target": False, "double_sigmoid": False, "fixed_noise": False},
}
common = dict(held_out=held_out.images, seed=seed, batch_size=batch_size, n_eval=n_eval, device=cfg.device)
unit_images = (train_set.images + 1) / 2  # the seed's x / 255 scaling and sigmoid output
seed_jobs = [dict(common, name=name, fixes=fixes, images=unit_images, steps=seed_bug_steps) for name, fixes in variants.items()]
seed_futures = submit_jobs(first_gan.train_seed001, seed_jobs[:1], workers=workers)


def evaluate(model, scale="tanh"):
    """FD / precision / recall / coverage of ``n_eval`` samples against the held-out digits."""
    fake = model.generate(n_eval)
    fake = fake * 2 - 1 if scale == "unit" else fake
    return metrics.evaluate_images(fake, held_out.images)


def show(result, keys=("fd", "precision", "recall", "coverage")):
    return ", ".join(f"{k} {result[k]:.3g}" for k in keys)


# %%
from ganutils.course import exercises

exercise = exercises.session("02_first_gan_mnist", solutions)  # this notebook's exercises; the checkpoint shows your progress

# %% [markdown]
# ## An MLP GAN on MNIST
#
# The generator maps $z \sim \mathcal N(0, I_{64})$ through two hidden layers to 784 pixels and
# ends in `tanh`, because the data is scaled to $[-1, 1]$. The discriminator is the mirror image
# and outputs a **logit**: the sigmoid lives inside the loss (`BCEWithLogits`), which is
# numerically stable. One training iteration, in `ganutils.training.GAN.step`:
#
# ```python
# # D step: real -> 1, fake -> 0 (fake detached: this step does not train G)
# fake = G(z).detach()
# d_loss = bce(D(real), 1) + bce(D(fake), 0)
# # G step: the non-saturating loss -log D(G(z)) (notebook 01)
# g_loss = bce(D(G(z)), 1)
# ```
#
# Both use Adam(2e-4, β1 = 0.5), the DCGAN paper's setting. `train(model, sample, steps=...)`
# is the loop every model in the course shares: progress bar, loss history, snapshots from a
# fixed noise batch, checkpoints, and a guard that stops on a NaN loss.

# %%
torch.manual_seed(seed)
mlp = training.GAN(nets.MLPGenerator(z_dim, (1, 28, 28), hidden=256, depth=2, act="leaky_relu", out_act="tanh"),
              nets.MLPDiscriminator((1, 28, 28), hidden=256, depth=2, act="leaky_relu"),
              z_dim=z_dim, lr_g=lr, lr_d=lr, seed=seed, device=cfg.device)  # targets 1 and 0, as the DCGAN below
with gu.config.threads(1):  # as fast as on two; the other core trains seed 001's first run meanwhile
    mlp_history = training.train(mlp, data.TensorSampler(train_set.images, batch_size=batch_size, seed=seed),
                              steps=mlp_steps, snapshot_every=max(mlp_steps // 4, 1), desc="MLP GAN")
mlp_result = evaluate(mlp)
plotting.image_snapshots(mlp_history)
plt.show()
print("MLP GAN:", show(mlp_result))
gu.record("mlp", {k: mlp_result[k] for k in ("fd", "precision", "recall", "coverage")})

# %% [markdown]
# **Exercise 02-discriminator-loss** (implement). Write the loss of one D update, `discriminator_loss(G, D, real, z)`:
# D returns logits; real images get the label 1, the generated images $G(z)$ the label 0, and this step must not
# train G. The check runs your loss and the course's on small networks, calls `backward()`, and looks at the value
# and at which network receives a gradient. (Solution: the collapsed cell below.)

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("02-discriminator-loss")
def discriminator_loss_solution(G, D, real, z):
    ### BEGIN SOLUTION
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real_logits, fake_logits = D(real), D(G(z).detach())  # detached: the D step does not train G
    return bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
    ### END SOLUTION


# %%
def my_discriminator_loss(G, D, real, z):
    raise NotImplementedError  # your code here


discriminator_loss = exercise.check("02-discriminator-loss", my_discriminator_loss)

# %% [markdown]
# **Exercise 02-generator-loss** (implement). Now G's side, `generator_loss(G, D, z)`: the non-saturating loss
# $-\mathbb E[\log D(G(z))]$, whose gradient must reach G's parameters.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("02-generator-loss")
def generator_loss_solution(G, D, z):
    ### BEGIN SOLUTION
    logits = D(G(z))  # no detach here: this loss is how G learns
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    ### END SOLUTION


# %%
def my_generator_loss(G, D, z):
    raise NotImplementedError  # your code here


generator_loss = exercise.check("02-generator-loss", my_generator_loss)

# %% [markdown]
# ## DCGAN
#
# Radford et al. (2016) made GANs train reliably on images with a few architectural rules:
# strided (transposed) convolutions instead of pooling, BatchNorm in both networks (not on
# G's output or D's input), ReLU in G with `tanh` at the end, LeakyReLU(0.2) in D, and
# Adam(2e-4, β1 = 0.5). For 28×28: $z \to 7{\times}7 \to 14{\times}14 \to 28{\times}28$ in G
# and the reverse in D (`ganutils.nets.DCGANGenerator` / `DCGANDiscriminator`). The run
# checkpoints: interrupt it and run the cell again to resume where it stopped. It also keeps its
# state at step `ablation_steps` as the checkpoint of that shorter run: the ablations below start
# from this very setup, and notebook 03 trains it too, so both load it instead of training it again.

# %%
def dcgan_checkpoint(n_steps, **change):
    return gu.checkpoint_path("dcgan_mnist", z_dim=z_dim, width=width, steps=n_steps, lr=lr, batch_size=batch_size, seed=seed,
                              **change)


for f in seed_futures:
    f.result()  # the DCGAN trains on every core: let seed 001's first run finish first
torch.manual_seed(seed)
dcgan = training.GAN(nets.DCGANGenerator(z_dim, width), nets.DCGANDiscriminator(width),
                z_dim=z_dim, lr_g=lr, lr_d=lr, seed=seed, device=cfg.device)
dcgan_history = training.train(
    dcgan, data.TensorSampler(train_set.images, batch_size=batch_size, seed=seed), steps=steps,
    snapshot_every=max(steps // 5, 1), desc="DCGAN",
    checkpoint=dcgan_checkpoint(steps), milestones={ablation_steps: dcgan_checkpoint(ablation_steps)},
)
dcgan_result = evaluate(dcgan)
plotting.image_snapshots(dcgan_history)
plt.show()
plotting.image_grid(dcgan.generate(64), title=f"DCGAN after {steps} steps")
plt.show()
print("DCGAN:", show(dcgan_result))
print(f"{steps * batch_size / max(dcgan_history.seconds, 1e-9):.0f} images/s on {cfg.device}")
gu.record("dcgan", {k: dcgan_result[k] for k in ("fd", "precision", "recall", "coverage")})

# %%
assert all(np.isfinite(dcgan_history[k]).all() for k in ("d_loss", "g_loss"))
assert dcgan.generate(4).shape == (4, 1, 28, 28)
if cfg.asserts_quality:
    assert dcgan_result["fd"] < 0.5 * mlp_result["fd"], "the DCGAN should beat the MLP GAN clearly"
    assert dcgan_result["fd"] < 400 and dcgan_result["precision"] > 0.5, "recognisable digits"
    assert dcgan_result["coverage"] >= 9, "and nearly every digit class"

# %% [markdown]
# ## Tricks, each an ablation
#
# The usual checklist (Radford et al. 2016; Salimans et al. 2016; the "GAN hacks" list):
# scale images to $[-1, 1]$ and end G in `tanh`; LeakyReLU in D; one-sided label smoothing
# (real label 0.9). Two pieces of folklore from the seeds ride along: *two-sided* smoothing
# (fake label 0.1 too), which Salimans et al. advise against, and "SGD for D, Adam for G".
# Each run changes one thing from the DCGAN above and trains for the same (short) budget on
# the same seed; the table shows what each one does here. Read it as evidence for this
# budget and data, not as a law: on the full MNIST and longer runs the ranking can move.
#
# The runs take a few minutes, so they start now and train in the background while the next
# section looks at the losses; their table comes after it.

# %%
ablations = {
    "baseline (tanh, LeakyReLU D)": {},
    "[0, 1] data + sigmoid output": {"out_act": "sigmoid"},
    "ReLU in D": {"d_act": "relu"},
    "one-sided smoothing 0.9": {"real_label": 0.9},
    "two-sided smoothing 0.9/0.1": {"real_label": 0.9, "fake_label": 0.1},
    "SGD for D, Adam for G": {"optimizer_d": "sgd"},
}
# The runs are independent, so `workers` processes of one thread each train them side by side
# (`ganutils/experiments/first_gan.py`: build, train, score, as for the DCGAN above); each run seeds its
# own networks, batches and noise, so it is the same run in any process, up to float rounding. The other three runs
# of seed 001's port queue behind them.
ablation_futures = submit_jobs(first_gan.train_ablation, [
    dict(common, name=name, change=change, images=train_set.images, z_dim=z_dim, width=width, lr=lr,
         steps=ablation_steps, checkpoint=dcgan_checkpoint(ablation_steps, **change))  # the baseline: the DCGAN's
    for name, change in ablations.items()], workers=workers)                            # checkpoint at this step
seed_futures += submit_jobs(first_gan.train_seed001, seed_jobs[1:], workers=workers)
print(f"{len(ablation_futures)} ablation runs of {ablation_steps} steps each are training in the background")

# %% [markdown]
# ## Why GAN losses do not go down
#
# A classifier's loss falls towards zero. A GAN's losses are two players' scores in a game:
# when G improves, D's task gets harder and D's loss *rises*; when D improves, G's loss rises.
# With the non-saturating loss the reference values at the ideal equilibrium ($D = 1/2$
# everywhere) are $2\log 2 \approx 1.39$ for D and $\log 2 \approx 0.69$ for G. So the curves
# hover, and they say little about sample quality. Below, the DCGAN's losses beside the FD of
# its snapshots (same fixed noise, scored like the final samples).

# %%
snapshot_steps = [s for s, _ in dcgan_history.snapshots]
snapshot_fd = [metrics.frechet_distance(x, held_out.images) for _, x in dcgan_history.snapshots]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
plotting.plot_losses(dcgan_history, ["d_loss", "g_loss"], ax=ax1, title="DCGAN losses")
ax1.axhline(2 * np.log(2), color="C0", ls=":", lw=0.8)
ax1.axhline(np.log(2), color="C1", ls=":", lw=0.8)
ax2.plot(snapshot_steps, snapshot_fd, "o-")
ax2.set_xlabel("step")
ax2.set_ylabel("FD of the snapshot (lower is better)")
plt.show()
tenth = max(len(dcgan_history.steps) // 10, 1)
d_early, d_late = np.mean(dcgan_history["d_loss"][:tenth]), np.mean(dcgan_history["d_loss"][-tenth:])
print(f"D loss: first 10% {d_early:.3f}, last 10% {d_late:.3f}; snapshot FD: {snapshot_fd[0]:.0f} -> {snapshot_fd[-1]:.0f}")
gu.record("losses", {"d_first_tenth": d_early, "d_last_tenth": d_late, "snapshot_fd_first": snapshot_fd[0],
                     "snapshot_fd_last": snapshot_fd[-1]})

# %% [markdown]
# **Exercise 02-equilibrium-losses** (derive). At the ideal equilibrium $p_g = p_\text{data}$ and $D(x) = 1/2$
# everywhere. What are D's loss (BCE on real + BCE on fake) and G's non-saturating loss there? Answer a tuple
# `(d_loss, g_loss)`; the check evaluates the course's loss functions at $D = 1/2$.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("02-equilibrium-losses")
def equilibrium_losses_solution():
    ### BEGIN SOLUTION
    return (2 * np.log(2), np.log(2))  # each BCE term is -log(1/2) = log 2; D's loss has two of them
    ### END SOLUTION


# %%
my_equilibrium_losses = None  # (d_loss, g_loss)
exercise.check("02-equilibrium-losses", my_equilibrium_losses)

# %% [markdown]
# **Predict 02-predict-d-only.** Before running the next cell: we freeze G and keep training a fresh D against it.
# Will D's loss `"fall towards 0"`, `"stay near 2 log 2"` or `"rise"`?

# %%
exercise.predict("02-predict-d-only", None)  # replace None with your answer, then run the next cell

# %% [markdown]
# What a falling D loss really means: freeze G and keep training D. D wins the game, its loss
# heads to zero like a classifier's, and G's non-saturating loss explodes. A GAN whose D loss
# goes to zero has not converged; its generator has lost.

# %%
frozen_d = training.GAN(dcgan.G, nets.DCGANDiscriminator(width), z_dim=z_dim, lr_d=lr, seed=seed, device=cfg.device)
frozen_d.g_step = lambda n, *cond: {}  # G never moves
sampler = data.TensorSampler(train_set.images, batch_size=batch_size, seed=seed + 1)
# quick calibration (seed 0, torch 2.14.1 CPU): D loss 0.58 at 300 steps, 0.33 at 600, 0.20 at 1,000, 0.16 at 1,500
# channels-last networks (reference run of 2026-12-01): final D loss 0.14 (notebook), 0.14/0.09/0.13/0.08 on D seeds 0-3
with gu.config.threads(1):  # the ablations train on the cores meanwhile
    frozen_history = training.train(frozen_d, sampler, steps=cfg.pick(10, 1000, 1000), desc="D only")
d_only_final = float(np.mean(frozen_history["d_loss"][-20:]))
print(f"D alone against a frozen G: loss {frozen_history['d_loss'][0]:.3f} -> {d_only_final:.3f}")
gu.record("losses/d_only_final", d_only_final)
if cfg.asserts_quality:
    # calibration (quick, seed 0): snapshot FD 711 at step 400 -> 387 at step 2,000 (64 fixed-noise samples each);
    # since G and D train channels-last on a CPU (reference run of 2026-12-01): 714 -> 252
    assert snapshot_fd[-1] < 0.6 * snapshot_fd[0], "samples improve a lot during training..."
    assert d_late > 0.5, "...while D's loss stays far from zero: the game does not converge like a classifier"
    assert d_only_final < 0.5 * d_late, "a D that wins drives its loss far below the game's level"

# %%
d_only_start = float(np.mean(frozen_history["d_loss"][:5]))
d_only_trend = "fall towards 0" if d_only_final < 0.5 * d_only_start else "rise" if d_only_final > 1.2 * d_only_start else "stay near 2 log 2"
exercise.reveal("02-predict-d-only", d_only_trend, detail=f"D loss {d_only_start:.2f} -> {d_only_final:.2f}",
                supported=cfg.asserts_quality)

# %% [markdown]
# ## What the tricks did
#
# The ablations trained while you read the last section; this cell waits for any still running.

# %%
ablation_results = {name: f.result() for name, f in zip(ablations, ablation_futures)}
for name, result in ablation_results.items():
    print(f"{name:32s} {show(result)}")
gu.record("ablation", {name: {k: r[k] for k in ("fd", "precision", "recall")} for name, r in ablation_results.items()})
gu.record("ablation_fd", dict(zip(("baseline", "sigmoid_output", "relu_d", "one_sided", "two_sided", "sgd_d"),
                                  (r["fd"] for r in ablation_results.values()), strict=True)), quiet=True)  # keys to quote

# %%
names = list(ablation_results)
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(names[::-1], [ablation_results[n]["fd"] for n in names[::-1]])
ax.set_xlabel(f"FD after {ablation_steps} steps (lower is better)")
plt.show()
assert all(np.isfinite(r["fd"]) for r in ablation_results.values())
# One seed and 500 steps: the table illustrates, it does not rank the tricks, so nothing about their
# effect is asserted here.

# %% [markdown]
# How to read the table: it is **one seed at 500 steps**, so it illustrates what each change does
# here and ranks nothing (the printout above is this run's; the course's `quick` reference run on
# seed 0 gave FD 633<!--{{02_first_gan_mnist:ablation_fd/baseline}}--> for the baseline). Two gaps
# were large there: the sigmoid output on $[0, 1]$ data (994<!--{{02_first_gan_mnist:ablation_fd/sigmoid_output}}-->)
# and SGD for D (758<!--{{02_first_gan_mnist:ablation_fd/sgd_d}}-->), in the direction the literature
# predicts: centred data with a zero-centred output are easier to fit, and "SGD for D, Adam for G"
# comes from the ganhacks list (December 2016), a year *after* DCGAN, while DCGAN before it and
# WGAN-GP, SNGAN, BigGAN and StyleGAN after it all use Adam for both networks. The rest sat within
# what one seed can resolve: one-sided smoothing (645<!--{{02_first_gan_mnist:ablation_fd/one_sided}}-->),
# two-sided smoothing (663<!--{{02_first_gan_mnist:ablation_fd/two_sided}}-->) and *ReLU* in D
# (619<!--{{02_first_gan_mnist:ablation_fd/relu_d}}-->) near the baseline. The runs train in worker
# processes of one thread each; one thread and two add up in different orders, and 500 GAN steps
# amplify that rounding into differences of a few per cent in FD: another reason to read one seed
# loosely. Claims about these tricks need several seeds and longer runs;
# the `quick` profile makes none. Two-sided smoothing is argued against on other grounds
# (Salimans et al. 2016, sec. 3.4: a fake target β > 0 leaves $D^* = \beta$ wherever there is no
# data, so samples there are no longer pushed away), not by this FD.

# %% [markdown]
# **Exercise 02-label-smoothing** (implement). Write `smoothed_d_loss(real_logits, fake_logits)`: D's BCE loss with
# one-sided label smoothing, real target 0.9 instead of 1 (Salimans et al. 2016), fake target 0.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("02-label-smoothing")
def smoothed_d_loss_solution(real_logits, fake_logits):
    ### BEGIN SOLUTION
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    return bce(real_logits, torch.full_like(real_logits, 0.9)) + bce(fake_logits, torch.zeros_like(fake_logits))
    ### END SOLUTION


# %%
def my_smoothed_d_loss(real_logits, fake_logits):
    raise NotImplementedError  # your code here


smoothed_d_loss = exercise.check("02-label-smoothing", my_smoothed_d_loss)

# %% [markdown]
# ## The seed's TensorFlow GAN, fixed
#
# Seed 001 gives a "simple GAN" in TensorFlow. Ported faithfully (`ganutils/experiments/seed001.py`), it
# has three bugs:
#
# 1. `generator_loss = cross_entropy(zeros_like(fake), fake)`: G is trained towards the *fake*
#    label — to be detected. It must target ones (that is the non-saturating loss).
# 2. D ends in `sigmoid` while the loss says `from_logits=True`: a second sigmoid is applied,
#    so D's probabilities are squeezed into (0.5, 0.73) and it can never be confident.
# 3. `for image in x_train: train_step(image, noise)` with `noise` drawn once: one real image
#    per step and the same 128 noise vectors forever, so G only learns 128 points.
#
# Below: the port as written, then with one more bug fixed at a time (same seed, same number
# of steps, the seed's small networks and learning rate). The four runs trained in the
# background (`first_gan.train_seed001`, started at the top of the notebook); this cell collects them.

# %%
seed_results = {name: f.result() for name, f in zip(variants, seed_futures, strict=True)}
seed_samples = {name: r.pop("samples") for name, r in seed_results.items()}
for name, result in seed_results.items():
    print(f"{name:24s} D(G(z)) {result['d_of_fake']:.3f}, {show(result)}")
gu.record("seed001", {name: {k: r[k] for k in ("fd", "precision", "d_of_fake")} for name, r in seed_results.items()})

fig, axes = plt.subplots(1, len(variants), figsize=(2.4 * len(variants), 2.6))
for ax, (name, samples) in zip(axes, seed_samples.items()):
    plotting.image_grid(samples, nrow=4, ax=ax, title=name, scale="unit")  # the seed's G ends in a sigmoid
plt.show()

# %%
fds = [seed_results[name]["fd"] for name in variants]
if cfg.asserts_quality:
    assert fds[-1] < 0.5 * fds[0], "fixing the three bugs must improve the samples a lot"
    assert seed_results["as written"]["precision"] < 0.05, "as written, no sample looks like a digit"

# %% [markdown]
# What the numbers say. As written, D's reported probability of the fakes sits at 0.5 — the
# *lowest* value its doubled sigmoid can output — so G has succeeded at what bug 1 asked:
# being detected; nothing it draws looks like a digit. Fixing the target lets G learn, the
# second fix lets D be confident, and real minibatches with fresh noise give the largest
# single gain. The seed's one-hidden-layer networks still fall well short of the DCGAN
# above, which is the point of the architecture section.

# %% [markdown]
# **Sources** for the numbers quoted from the literature: the DCGAN rules and Adam(2e-4, β1 = 0.5),
# LeakyReLU slope 0.2: Radford et al. (2016), sec. 3-4; one-sided label smoothing (target 0.9) and why
# not two-sided: Salimans et al. (2016), sec. 3.4; "SGD for D, Adam for G" and the 0.7-1.2 / 0-0.3 noisy
# labels: the ganhacks list (Chintala et al., first published December 2016, tips 6 and 9). The
# Fréchet-distance reference values (held-out vs training ≈ 12, blur ≈ 550, noise ≈ 20,000) are the
# course's own measurements (notebook 12).
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("02_first_gan_mnist")
