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
# # 05 · The modern recipe: why GAN training does not converge, and how GANs are trained today
#
# Notebooks 01–04 built the 2014–2017 toolbox: the non-saturating loss, DCGAN, the tricks, the
# Wasserstein critic with a Lipschitz constraint. GANs trained since 2018 (SNGAN, BigGAN,
# StyleGAN2/3, GigaGAN, the discriminators inside diffusion and super-resolution pipelines) use
# a short recipe on top of it:
#
# 1. **why training circles instead of converging** — the Dirac-GAN (Mescheder et al. 2018),
#    small enough to solve by hand, and the fix it points to: a zero-centred gradient penalty
#    on the real data, **R1**;
# 2. **the recipe on images**, one element at a time at equal budget: non-saturating baseline →
#    **hinge loss + spectral normalisation** → **+ R1** → **+ an exponential moving average (EMA)
#    of G's weights**;
# 3. **a discriminator that overfits** a small training set, measured the way ADA does
#    (Karras et al. 2020), and **DiffAugment** (Zhao et al. 2020), which fixes it — and the
#    mistake it avoids: augmenting the real images only.
#
# Every claim below is computed here and asserted: the Dirac-GAN ones in every profile (they
# cost a second), the image ones in `quick` and `full` on several seeds.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # where the image runs go (None: CUDA if available)
seed = 0  # first seed; the image claims use seeds seed, seed + 1, ...
n_seeds = None  # seeds per image experiment (None: the profile's default)
workers = None  # CPU worker processes for the image runs (None: 2 on a CPU, 1 on a GPU)
dirac_steps = 500  # gradient steps per Dirac-GAN trajectory (the authors' notebook: 500)
dirac_h = 0.2  # Dirac-GAN step size (the authors' notebook: 0.2)
steps = None  # generator iterations per image run (None: the profile's default)
width = None  # DCGAN width of G and D
batch_size = None
lr = None  # Adam learning rate of G and D, betas (0.5, 0.999) (None: 5e-4 on a CPU, 2e-4 in full)
r1_gammas = None  # R1 weights γ swept on images, e.g. "(0.1, 1, 10)" (None: the profile's default)
ema_decay = None  # EMA of G: θ_ema ← β θ_ema + (1 - β) θ (None: the profile's default)
n_small = None  # the small training set of the overfitting experiment (None: 100 in quick, 500 in full)
augment_policy = "color,translation,cutout"  # DiffAugment's policies (Zhao et al. 2020)
datasets = None  # "mnist" or "mnist,fashion": Fashion-MNIST reruns the recipe grid (None: with it in smoke and full, not in quick)

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import plotting
from ganutils.data.augment import diff_augment, parse_policy
from ganutils.data.fashion import fashion_source
from ganutils.experiments import dirac_gan as dirac
from ganutils.experiments import modern_recipe as recipe
from ganutils.losses.r1 import check_gamma
from ganutils.metrics.artefacts import frame_level, grey_fraction
from ganutils.training.ema import check_decay, horizon

cfg = gu.setup(profile, device, seed)
torch.set_num_threads(1)  # tiny networks: one thread each is fastest; on a CPU the image runs fill the cores with worker processes
n_seeds = cfg.steps(n_seeds, smoke=1, quick=2, full=3, name="n_seeds")
seeds = [seed + i for i in range(n_seeds)]
steps = cfg.steps(steps, smoke=20, quick=1000, full=10000)
width = cfg.steps(width, smoke=4, quick=16, full=64, name="width")
batch_size = cfg.steps(batch_size, smoke=16, quick=32, full=64, name="batch_size")
workers = 1 if cfg.device.type != "cpu" else cfg.steps(workers, smoke=1, quick=2, full=2, name="workers")
lr = lr if lr is not None else cfg.pick(smoke=5e-4, quick=5e-4, full=2e-4)
if not (isinstance(lr, (int, float)) and lr > 0):
    raise gu.GanutilsError(f"lr must be a number > 0, got {lr!r}: e.g. -p lr=2e-4")
r1_gammas = tuple(check_gamma(g) for g in (r1_gammas if r1_gammas is not None else cfg.pick((1.0,), (1.0,), (0.1, 1.0, 10.0, 100.0))))
ema_decay = check_decay(ema_decay if ema_decay is not None else cfg.pick(smoke=0.9, quick=0.99, full=0.999))
n_small = cfg.steps(n_small, smoke=32, quick=100, full=500, name="n_small")
if n_small < batch_size:
    raise gu.GanutilsError(f"n_small={n_small} images is fewer than one batch of {batch_size}: use n_small >= batch_size")
augment_policy = ",".join(parse_policy(augment_policy))
datasets = [recipe.check_dataset(d.strip()) for d in (datasets if datasets is not None else cfg.pick(
    smoke="mnist,fashion", quick="mnist", full="mnist,fashion")).split(",") if d.strip()]
if "mnist" not in datasets:
    raise gu.GanutilsError(f"datasets={','.join(datasets)!r} must include mnist (the notebook's experiments are on MNIST)")
n_eval = cfg.pick(smoke=200, quick=1000, full=1000)  # samples scored per model, against as many held-out digits
eval_at = sorted({max(steps // 2, 1), max(3 * steps // 4, 1), steps})  # evaluations per run (raw G and its EMA)
common = dict(steps=steps, width=width, batch_size=batch_size, lr=lr, ema_decay=ema_decay, n_eval=n_eval,
              probe_every=max(steps // 10, 1), n_probe=cfg.pick(smoke=100, quick=500, full=500), device=str(cfg.device))
print(f"images: {len(seeds)} seed(s) x {steps} iterations, width {width}, batch {batch_size}, lr {lr:g}, "
      f"EMA decay {ema_decay} (about {horizon(ema_decay):.0f} steps), {workers} worker(s)")

# %% [markdown]
# ## Why GAN training circles: the Dirac-GAN
#
# Mescheder et al. (2018, sec. 2) strip a GAN down to two numbers. The data is a point mass at
# 0, the generator a point mass at θ ($p_\theta = \delta_\theta$), and the discriminator is
# linear, $D_\psi(x) = \psi x$. In the paper's notation the game is
#
# $$L(\theta, \psi) = \mathbb E_{x\sim p_\theta}\, f(D_\psi(x)) + \mathbb E_{x \sim p_{\mathcal D}}\, f(-D_\psi(x)) = f(\psi\theta) + f(0),$$
#
# minimised by G over θ and maximised by D over ψ, with $f(t) = -\log(1 + e^{-t})$ for the GAN of
# notebook 01 and $f(t) = t$ for the WGAN. The only equilibrium is θ = 0 (G *is* the data) and
# ψ = 0 (D is constant: it cannot tell). Gradient training follows the vector field
#
# $$v(\theta, \psi) = \big(-\partial_\theta L,\; \partial_\psi L\big) = \big(-\psi f'(\psi\theta),\; \theta f'(\psi\theta)\big),
# \qquad J = \frac{\partial v}{\partial(\theta,\psi)}\Big|_{(0,0)} = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0\end{pmatrix}.$$
#
# The Jacobian's eigenvalues are $\pm i f'(0)$ ($f'(0) = 1/2$ for the GAN, 1 for the WGAN):
# **purely imaginary**. Then $\frac{d}{dt}(\theta^2 + \psi^2) = 0$: the continuous dynamics
# circle the equilibrium forever. Gradient descent does worse or no better. *Simultaneous*
# steps $x_{k+1} = x_k + h\,v(x_k)$ multiply the distance by $|1 \pm i h f'(0)| > 1$ near the
# equilibrium, for every step size: they **spiral out**. *Alternating* steps (G, then D on G's
# new θ) have a unit determinant: they keep **circling**. D's answer to a wrong G (tilt ψ
# towards the data) overshoots once G follows, and G's answer to a tilted D overshoots in turn.
# The non-saturating generator loss changes $f$ for G but not $J$; the Wasserstein loss only
# rescales it ($f'(0) = 1$; WGAN keeps ψ in [−1, 1] by clipping): the eigenvalues stay imaginary.
#
# Below: $J$ computed by automatic differentiation of the vector field at (0, 0), against the
# closed forms, then 500 steps of size h = 0.2 from (θ, ψ) = (1, 1), the settings of the authors'
# Dirac-GAN notebook.

# %%
methods = {"gan": "GAN", "ns_gan": "non-saturating GAN", "wgan": "WGAN", "r1": "NS-GAN + R1 (γ = 0.3)",
           "instance_noise": "GAN + instance noise (σ = 0.7)"}
eigen_rows = {}
for m, label in methods.items():
    got, want = dirac.eigenvalues(m), dirac.predicted_eigenvalues(m)
    eigen_rows[m] = {"label": label, "autodiff": got, "closed_form": want}
    print(f"{label:32s} eigenvalues of J: {np.round(np.sort_complex(got), 4)}   closed form: {np.round(np.sort_complex(want), 4)}")
gu.record("dirac/eigenvalues", {m: {"real": float(r["autodiff"].real.max()), "imag": float(np.abs(r["autodiff"].imag).max())}
                                for m, r in eigen_rows.items()}, quiet=True)

trajectories = {(m, mode): dirac.simulate(m, mode=mode, steps=dirac_steps, h=dirac_h)
                for m in ("gan", "ns_gan", "wgan", "r1", "instance_noise") for mode in ("simultaneous", "alternating")}
distances = {key: dirac.distance_to_equilibrium(t) for key, t in trajectories.items()}
near_start = dirac.simulate("ns_gan", mode="simultaneous", steps=dirac_steps, h=dirac_h, start=(0.05, 0.05))

fig, axes = plt.subplots(1, 3, figsize=(14, 4.4))
for ax, m in zip(axes[:2], ("ns_gan", "wgan")):
    dirac.plot_trajectories(ax, m, {mode: trajectories[(m, mode)] for mode in ("simultaneous", "alternating")},
                            title=f"{methods[m]}: h = {dirac_h}, {dirac_steps} steps")
for m in ("gan", "ns_gan", "wgan"):
    for mode, ls in (("simultaneous", "-"), ("alternating", "--")):
        axes[2].plot(distances[(m, mode)], ls, label=f"{methods[m]}, {mode}")
axes[2].plot(dirac.distance_to_equilibrium(near_start), ":", color="k", label="NS-GAN, simultaneous, from (0.05, 0.05)")
axes[2].set(xlabel="step", ylabel="distance to the equilibrium", title=f"none converges in {dirac_steps} steps")
axes[2].legend(fontsize=7, frameon=False)
plt.tight_layout()
plt.show()
for key, d in distances.items():
    if key[0] in ("gan", "ns_gan", "wgan"):
        print(f"{methods[key[0]]:20s} {key[1]:12s}: distance {d[0]:.2f} -> {d[-1]:.2f} (min over the last 100 steps {d[-100:].min():.2f})")

# %%
for m in ("gan", "ns_gan", "wgan"):  # every profile: this costs a second
    assert np.allclose(np.sort_complex(eigen_rows[m]["autodiff"]), np.sort_complex(eigen_rows[m]["closed_form"]), atol=1e-8)
    assert np.allclose(eigen_rows[m]["autodiff"].real, 0), "unregularised: purely imaginary eigenvalues"
    for mode in ("simultaneous", "alternating"):
        assert distances[(m, mode)][-100:].min() > 0.2, f"{m} {mode}: does not converge"
assert distances[("gan", "simultaneous")][-1] > 1.5 * distances[("gan", "simultaneous")][0], "simultaneous GD spirals out"
near = dirac.distance_to_equilibrium(near_start)
assert near[-1] > 3 * near[0], "from next to the equilibrium, simultaneous steps move away: not even locally convergent"

# %% [markdown]
# Read the right panel. Simultaneous steps of the GAN spiral outwards (distance 1.4 → 3.1); the
# non-saturating GAN and the WGAN do not blow up from (1, 1), but they never settle either. The
# WGAN and the simultaneous NS-GAN orbit at a fixed distance, and started *next to* the equilibrium
# (dotted line) simultaneous steps drift *away* from it until they reach that orbit. The mildest
# case, the NS-GAN with alternating steps, creeps inwards only slowly: it is still 0.28 away after
# 500 steps, where the regularised games below get to 10⁻⁶ or closer. This is GAN training's instability in
# its purest form: no vanishing gradient, no mode collapse, no bad architecture — only a game
# whose gradient field rotates around its solution.
#
# ## What makes it converge: R1 and instance noise (and why WGAN-GP does not)
#
# The fix must add a *negative real part* to J's eigenvalues, i.e. friction for D.
#
# - **R1** (sec. 4, eq. 9) penalises D's gradient on the *real* data:
#   $R_1(\psi) = \frac{\gamma}{2}\mathbb E_{p_{\mathcal D}}\|\nabla_x D_\psi(x)\|^2 = \frac{\gamma}{2}\psi^2$.
#   D's field gains $-\gamma\psi$: $J = \begin{pmatrix} 0 & -\frac12 \\ \frac12 & -\gamma\end{pmatrix}$,
#   eigenvalues $-\frac\gamma2 \pm \sqrt{\frac{\gamma^2}{4} - \frac14}$: a damped spiral for every γ > 0.
#   The penalty is **zero-centred**: at the equilibrium D is flat on the data, and R1 pulls it there.
# - **Instance noise** (sec. 3.3): add N(0, σ²) to real and fake samples. The eigenvalues become
#   $\sigma^2 f''(0) \pm \sqrt{\sigma^4 f''(0)^2 - f'(0)^2}$ with $f''(0) = -1/4$: damped too.
# - **WGAN-GP** (sec. 3.2) penalises $\frac\gamma2(\|\nabla D\| - g_0)^2$ with target slope
#   $g_0 = 1$; here $\frac\gamma2(|\psi| - 1)^2$. At the equilibrium the ideal D is flat (ψ = 0),
#   but the penalty wants |ψ| = 1: it pushes D *off* the equilibrium, and the field has a kink
#   there (sign ψ), so J does not even exist. The paper proves it does not converge (with a finite
#   number of D steps per G step), and the run agrees. A gradient penalty helps only when it is
#   centred where the equilibrium is.
#
# The settings are the authors': γ = 0.3 for R1, σ = 0.7, WGAN-GP with γ = 0.7 and $g_0$ = 1.

# %%
gp_kw = dict(gamma=0.7, g0=1.0)
trajectories[("wgan_gp", "alternating")] = dirac.simulate("wgan_gp", mode="alternating", steps=dirac_steps, h=dirac_h, **gp_kw)
trajectories[("wgan_gp", "simultaneous")] = dirac.simulate("wgan_gp", mode="simultaneous", steps=dirac_steps, h=dirac_h, **gp_kw)
for mode in ("simultaneous", "alternating"):
    distances[("wgan_gp", mode)] = dirac.distance_to_equilibrium(trajectories[("wgan_gp", mode)])

fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
for ax, (m, kw) in zip(axes[:3], (("r1", {}), ("instance_noise", {}), ("wgan_gp", gp_kw))):
    dirac.plot_trajectories(ax, m, {mode: trajectories[(m, mode)] for mode in ("simultaneous", "alternating")},
                            title={"r1": "NS-GAN + R1, γ = 0.3", "instance_noise": "GAN + instance noise, σ = 0.7",
                                   "wgan_gp": "WGAN-GP, γ = 0.7, g0 = 1"}[m], **kw)
for m in ("r1", "instance_noise", "wgan_gp"):
    axes[3].semilogy(distances[(m, "alternating")] + 1e-16, label=f"{m}, alternating")
axes[3].set(xlabel="step", ylabel="distance to the equilibrium (log)", title="R1 and noise converge; WGAN-GP does not")
axes[3].legend(fontsize=7, frameon=False)
plt.tight_layout()
plt.show()
for m in ("r1", "instance_noise", "wgan_gp"):
    for mode in ("simultaneous", "alternating"):
        d = distances[(m, mode)]
        print(f"{m:15s} {mode:12s}: distance {d[0]:.2f} -> {d[-1]:.1e}")
gu.record("dirac/final_distance", {f"{m}/{mode}": float(d[-1]) for (m, mode), d in distances.items()}, quiet=True)

# %%
for m in ("r1", "instance_noise"):
    assert np.allclose(np.sort_complex(eigen_rows[m]["autodiff"]), np.sort_complex(eigen_rows[m]["closed_form"]), atol=1e-6)
    assert (eigen_rows[m]["autodiff"].real < 0).all(), f"{m}: eigenvalues in the left half-plane"
    for mode in ("simultaneous", "alternating"):
        assert distances[(m, mode)][-1] < 1e-3, f"{m} {mode} converges"
for mode in ("simultaneous", "alternating"):
    assert distances[("wgan_gp", mode)][-100:].min() > 0.5, "WGAN-GP's penalty keeps D away from the equilibrium"

# %% [markdown]
# **How strong?** R1's slowest mode decays like $e^{\rho t}$ with $\rho = \max \operatorname{Re}\lambda$:
# $\rho = -\gamma/2$ up to $\gamma = 1$, then $\rho = -\gamma/2 + \sqrt{\gamma^2/4 - 1/4} \approx -1/(4\gamma)$.
# Too little γ barely damps the rotation; too much pins D at ψ ≈ 0, where it no longer tells G
# anything, and convergence slows again. The fastest is $\gamma = 2f'(0) = 1$, where the two
# eigenvalues meet (critical damping; the authors' "critical" setting). Counted in steps (γ stays
# below 2/h = 10: beyond it D's own explicit step on the penalty overshoots, a step-size limit
# that the continuous analysis does not see):

# %%
dirac_gammas = np.array([0.03, 0.1, 0.3, 1.0, 3.0, 6.0])
slowest = np.array([dirac.eigenvalues("r1", gamma=g).real.max() for g in dirac_gammas])


def steps_to_converge(gamma, tol=1e-2, limit=3000):
    d = dirac.distance_to_equilibrium(dirac.simulate("r1", mode="alternating", steps=limit, h=dirac_h, gamma=gamma))
    below = np.nonzero(d < tol * d[0])[0]
    return int(below[0]) if len(below) else limit


convergence_steps = np.array([steps_to_converge(g) for g in dirac_gammas])
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.loglog(dirac_gammas, convergence_steps, "o-", label="alternating GD: steps to 1% of the start distance")
ax.loglog(dirac_gammas, np.log(100) / (dirac_h * -slowest), "k:", label="prediction  ln(100) / (h |ρ|)")
ax.set(xlabel="R1 weight γ", ylabel="steps")
ax.legend(fontsize=7, frameon=False)
plt.show()
print({f"γ = {g:g}": int(s) for g, s in zip(dirac_gammas, convergence_steps)})
gu.record("dirac/r1_steps_to_converge", {f"gamma={g:g}": int(s) for g, s in zip(dirac_gammas, convergence_steps)}, quiet=True)

# %%
assert dirac_gammas[np.argmin(convergence_steps)] in (0.3, 1.0, 3.0), "fastest near γ = 1 (critical damping)"
assert convergence_steps[dirac_gammas == 6.0][0] > 5 * convergence_steps.min(), "too much R1 slows training down again"
assert convergence_steps[dirac_gammas == 0.03][0] > 5 * convergence_steps.min(), "so does too little"

# %% [markdown]
# ## The recipe on images
#
# Now the same question on MNIST, one ingredient at a time, at equal budget and on the same
# seeds. Every run is a DCGAN shaped like notebook 02's (G: BatchNorm, ReLU, tanh; D: strided
# convolutions and LeakyReLU(0.2), here *without* normalisation so that each ingredient below is
# the only change), trained on the 4,000 training digits with Adam(β = (0.5, 0.999)), one D step
# per G step, and scored with the course's evaluation network on 1,000 samples against the
# 1,000 held-out digits (FD, precision/recall with k = 3, digit coverage; for scale: the untrained
# generator scores several thousand, printed below, and notebook 12 calibrates the distance on
# sets of real digits). The same grid on Fashion-MNIST follows the EMA section, in `full`
# (`quick` stays on MNIST to fit its time budget; `-p datasets=mnist,fashion` adds it).
#
# 1. **Non-saturating baseline**: $L_D = -\mathbb E\log\sigma(D(x)) - \mathbb E\log(1 - \sigma(D(G(z))))$,
#    $L_G = -\mathbb E\log\sigma(D(G(z)))$ (notebook 01).
# 2. **Hinge loss + spectral normalisation** (Miyato et al. 2018; SAGAN, BigGAN):
#    $L_D = \mathbb E[\max(0, 1 - D(x))] + \mathbb E[\max(0, 1 + D(G(z)))]$, $L_G = -\mathbb E[D(G(z))]$,
#    and every weight of D divided by its largest singular value (notebook 04): D is (about)
#    1-Lipschitz, so its gradients cannot blow up.
# 3. **+ R1** with weight γ (`ganutils/losses/r1.py`):
#    $\frac{\gamma}{2}\mathbb E_{x\sim p_{data}}\|\nabla_x D(x)\|^2$ added to D's loss, computed from
#    the forward pass of D's loss on the real batch (`create_graph=True`: one more backward pass
#    through D). StyleGAN2 and ADA use it with the non-saturating loss; γ depends on the data (ADA's
#    configurations: 0.01 for CIFAR-10, 0.5 to 2 for faces at 256² to 1024²).
# 4. **+ EMA of G** (`ganutils/training/ema.py`, built on `torch.optim.swa_utils.AveragedModel`):
#    $\theta_{ema} \leftarrow \beta\,\theta_{ema} + (1-\beta)\,\theta$ after every G step, with
#    β = `ema_decay`. It costs no training, so every run keeps one, and the EMA generator is scored
#    beside the raw one at three points of each run.
#
# The runs go to `workers` processes of one thread each (tiny networks: one thread per run is
# the fastest use of two cores); each run seeds its own weights, batches, noise and
# augmentations, so the numbers do not depend on the number of workers.

# %%
recipe_specs = [dict(name="NS baseline", variant="ns"), dict(name="hinge + SN", variant="hinge_sn")]
recipe_specs += [dict(name=f"hinge + SN + R1 (γ = {g:g})", variant="hinge_sn_r1", r1_gamma=g) for g in r1_gammas]
key_of = {"NS baseline": "ns", "hinge + SN": "hinge_sn", **{f"hinge + SN + R1 (γ = {g:g})": f"hinge_sn_r1_gamma={g:g}" for g in r1_gammas}}
recipe_results = recipe.run_jobs([dict(common, seed=s, eval_at=eval_at, **spec) for spec in recipe_specs for s in seeds],
                                 workers=workers)
runs = {}  # name -> one result per seed
for r in recipe_results:
    runs.setdefault(r["job"]["name"], []).append(r)

untrained_fd = float(np.mean([recipe.score(recipe.make_gan("ns", width=width, seed=s).generate(
    z=torch.randn(n_eval, 64, generator=torch.Generator().manual_seed(s))), n_eval, coverage=False)["fd"] for s in seeds]))
print(f"\nthe untrained generator: FD {untrained_fd:.0f}")
table = {}
for name, rs in runs.items():
    final, ema_final = [r["scores"][steps] for r in rs], [r["ema_scores"][steps] for r in rs]
    table[name] = {k: float(np.mean([f[k] for f in final])) for k in ("fd", "precision", "recall", "coverage")}
    table[name]["ema_fd"] = float(np.mean([f["fd"] for f in ema_final]))
    table[name]["fd_per_seed"] = [float(f["fd"]) for f in final]
    print(f"{name:26s} FD {table[name]['fd']:5.0f} (seeds: {', '.join(f'{x:.0f}' for x in table[name]['fd_per_seed'])}), "
          f"EMA {table[name]['ema_fd']:5.0f}; precision {table[name]['precision']:.2f}, recall {table[name]['recall']:.2f}, "
          f"coverage {table[name]['coverage']:.1f}/10")
gu.record("recipe", {key_of[name]: row for name, row in table.items()}, quiet=True)
gu.record("recipe_untrained_fd", untrained_fd, quiet=True)

fig, axes = plt.subplots(1, len(runs), figsize=(3.3 * len(runs), 3.6))
for ax, (name, rs) in zip(np.atleast_1d(axes), runs.items()):
    plotting.image_grid(rs[0]["snapshots"][steps][:36], nrow=6, ax=ax, title=f"{name}\nFD {rs[0]['scores'][steps]['fd']:.0f}")
plt.tight_layout()
plt.show()

# %%
for name, rs in runs.items():
    for r in rs:
        assert all(np.isfinite(v) for v in r["losses"]["d_loss"]) and r["snapshots"][steps].shape[1:] == (1, 28, 28)
if cfg.asserts_quality:
    # calibration (quick, seeds 0-1, 1,000 steps): FD 553/723 (NS), 439/454 (hinge + SN), 462/385 (+ R1, γ = 1); untrained 3,319
    # (channels-last networks, reference run of 2026-12-01: 651/585, 483/410, 604/411)
    for name, rs in runs.items():
        assert all(r["scores"][steps]["fd"] < 0.4 * untrained_fd for r in rs), f"{name}: every variant trains G"

# %% [markdown]
# **What the table does and does not say.** At this budget every variant turns noise into
# digits, and the FD differences between variants are of the order of the seed-to-seed spread:
# the notebook does not rank them by FD in `quick` (`full` runs the grid at GPU scale; its
# numbers are recorded, not asserted, because they were never measured here). What is *not*
# noise is each ingredient's mechanism, measured on D at the end of each run in eval mode
# (measuring runs no power iteration and changes no weight):
#
# - spectral normalisation holds every layer's largest singular value at 1, so D's Lipschitz
#   constant is bounded; without it the singular values grow freely;
# - R1 flattens D on the real digits: the average input-gradient norm ‖∇ₓD(x)‖ on real digits
#   drops, which is exactly the quantity it penalises.

# %%
mechanism = {}
for name, rs in runs.items():
    mechanism[name] = {"largest_singular_value": [float(max(r["d_spectral_norms"].values())) for r in rs],
                       "grad_norm_on_reals": [float(r["d_grad_norm"]) for r in rs]}
    mechanism[name].update({f"{k}_mean": float(np.mean(v)) for k, v in list(mechanism[name].items())})
    print(f"{name:26s} largest singular value of a D layer: {np.round(mechanism[name]['largest_singular_value'], 2)}; "
          f"mean ||∇x D(x)|| on held-out digits: {np.round(mechanism[name]['grad_norm_on_reals'], 3)}")
gu.record("recipe_mechanism", {key_of[name]: row for name, row in mechanism.items()}, quiet=True)

# %%
if cfg.asserts_quality:
    # calibration (quick, seeds 0-1): σ_max 2.75/2.80 without SN, 1.00-1.09 with; ||∇D|| 0.58/0.59 -> 0.35/0.44 with R1 (γ = 1)
    # (channels-last networks, reference run of 2026-12-01: σ_max 2.76/2.90 and 1.00-1.03; ||∇D|| 0.47/0.48 -> 0.37/0.37)
    assert all(s < 1.2 for name in runs if "SN" in name for s in mechanism[name]["largest_singular_value"]), "SN: σ ≈ 1"
    assert all(s > 1.5 for s in mechanism["NS baseline"]["largest_singular_value"]), "without SN the singular values grow"
    for g in r1_gammas:
        if g >= 1:  # a weak R1 changes the gradient norm by less than the seed spread
            with_r1, without = mechanism[f"hinge + SN + R1 (γ = {g:g})"]["grad_norm_on_reals"], mechanism["hinge + SN"]["grad_norm_on_reals"]
            assert all(a < 0.9 * b for a, b in zip(with_r1, without)), f"R1 (γ = {g:g}) flattens D on the real digits"

# %% [markdown]
# **The EMA generator, along each run.** FD of the raw G and of its EMA at the evaluations of
# each run, and how far the same 256 samples move between two evaluations (mean absolute pixel
# change). Two things to read. The EMA *lags*: early in a run, when G improves quickly, the
# average of recent weights is an average of worse generators (and averaging weights that are
# still far apart gives a network that is none of them). And it *moves less*: once G only
# circles around a solution, as the Dirac-GAN predicts, the average sits near the centre of the
# circle. Whether that centre has a lower FD than the raw iterate at the moment you stop is a
# question of budget: ProGAN, BigGAN and StyleGAN average over thousands of steps of a long run.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ema_rows = {}
for i, (name, rs) in enumerate(runs.items()):
    for r in rs:
        marks = sorted(r["scores"])
        row = {"steps": marks, "raw_fd": [float(r["scores"][m]["fd"]) for m in marks],
               "ema_fd": [float(r["ema_scores"][m]["fd"]) for m in marks],
               "drift": recipe.sample_drift(r["snapshots"]), "ema_drift": recipe.sample_drift(r["ema_snapshots"])}
        ema_rows.setdefault(name, []).append(row)
        if r["job"]["seed"] == seeds[0]:
            axes[0].plot(marks, row["raw_fd"], "-o", color=f"C{i}", label=f"{name}: raw G")
            axes[0].plot(marks, row["ema_fd"], "--s", color=f"C{i}", label=f"{name}: EMA")
            if len(marks) > 1:
                axes[1].plot(marks[1:], row["drift"], "-o", color=f"C{i}")
                axes[1].plot(marks[1:], row["ema_drift"], "--s", color=f"C{i}")
axes[0].set(xlabel="generator iteration", ylabel="FD (lower is better)", title=f"seed {seeds[0]}: raw G (solid), EMA (dashed)")
axes[1].set(xlabel="generator iteration", ylabel="mean |Δ pixel| since the last evaluation", title="how far the samples move")
axes[0].legend(fontsize=7, frameon=False)
plt.tight_layout()
plt.show()
for name, rows in ema_rows.items():
    print(f"{name:26s} final FD raw {[round(x['raw_fd'][-1]) for x in rows]} vs EMA {[round(x['ema_fd'][-1]) for x in rows]}; "
          f"drift over the last interval raw {[round(x['drift'][-1], 3) for x in rows if x['drift']]} "
          f"vs EMA {[round(x['ema_drift'][-1], 3) for x in rows if x['ema_drift']]}")
gu.record("recipe_ema", {key_of[name]: {
    "raw_fd": [x["raw_fd"][-1] for x in rows], "ema_fd": [x["ema_fd"][-1] for x in rows],
    "raw_fd_mean": float(np.mean([x["raw_fd"][-1] for x in rows])), "ema_fd_mean": float(np.mean([x["ema_fd"][-1] for x in rows])),
    "last_drift_mean": float(np.mean([x["drift"][-1] if x["drift"] else 0.0 for x in rows])),
    "last_ema_drift_mean": float(np.mean([x["ema_drift"][-1] if x["ema_drift"] else 0.0 for x in rows]))}
    for name, rows in ema_rows.items()}, quiet=True)

# %%
if cfg.asserts_quality:
    # calibration (quick, seeds 0-1, evaluations 600/800/1,000 of 1,000): EMA drift 0.08-0.11 vs raw 0.11-0.14 per interval
    for name, rows in ema_rows.items():
        if name != "NS baseline":
            assert all(x["ema_drift"][i] < x["drift"][i] for x in rows for i in range(len(x["drift"]))), \
                f"{name}: the averaged generator moves less than the raw one"
    if cfg.profile == "full":  # the long-run claim: averaging beats the last iterate (ProGAN, BigGAN, StyleGAN)
        assert all(x["ema_fd"][-1] < x["raw_fd"][-1] for rows in ema_rows.values() for x in rows), "EMA FD < raw FD"

# %% [markdown]
# **The same grid on Fashion-MNIST** (when `datasets` includes it and the data is on this machine:
# `ganutils/data/fashion.py` finds it offline). Clothes have textures and large uniform areas that
# digits lack, so an ingredient that only helps on strokes would show it here. The scores come from
# the course's Fashion-MNIST evaluation network (`ganutils/metrics/evalnet.py`, `dataset="fashion"`),
# so its FDs are not on the same scale as the MNIST ones: compare variants within a data set. These
# numbers are recorded, not asserted (they were never calibrated on a CPU).

# %%
fashion_table = {}
if "fashion" in datasets:
    try:
        print("Fashion-MNIST:", fashion_source())
    except gu.GanutilsError as err:
        print(f"Fashion-MNIST is not on this machine, so this part does not run: {err}")
    else:
        fashion_jobs = [dict(common, seed=s, eval_at=[steps], dataset="fashion", **{**spec, "name": f"Fashion-MNIST, {spec['name']}"})
                        for spec in recipe_specs for s in seeds]
        for r in recipe.run_jobs(fashion_jobs, workers=workers):
            fashion_table.setdefault(r["job"]["name"].split(", ", 1)[1], []).append(r["scores"][steps])
        print()
        fashion_rows = {name: {**{k: float(np.mean([f[k] for f in finals])) for k in ("fd", "precision", "recall", "coverage")},
                               "fd_per_seed": [float(f["fd"]) for f in finals]} for name, finals in fashion_table.items()}
        for name, row in fashion_rows.items():
            print(f"Fashion-MNIST, {name:26s} FD {row['fd']:5.0f} (seeds: {', '.join(f'{x:.0f}' for x in row['fd_per_seed'])}); "
                  f"precision {row['precision']:.2f}, recall {row['recall']:.2f}, coverage {row['coverage']:.1f}/10")
        gu.record("recipe_fashion", {key_of[name]: row for name, row in fashion_rows.items()}, quiet=True)
        for finals in fashion_table.values():
            assert all(np.isfinite(f["fd"]) and 0 <= f["precision"] <= 1 for f in finals)
else:
    print("Fashion-MNIST is not among this profile's data sets: add it with -p datasets=mnist,fashion")

# %% [markdown]
# ## A discriminator that overfits
#
# With few training images, D can win by **memorising** them instead of learning what digits look
# like. Its verdicts then stop carrying information about the data: G is pushed towards *those*
# images, and in long runs FD gets worse after a point (Karras et al. 2020, Fig. 1; Zhao et al.
# 2020, Fig. 1). Memorisation is visible in D itself: a D that has memorised its training reals
# scores them higher than real digits it has never seen. We measure it three ways on 500
# training digits (or all of them, when fewer), the 500 first held-out digits and 500 samples,
# every tenth of a run:
#
# - **the membership AUC**: the probability that D scores a random training digit above a
#   random held-out one; 0.5 = D cannot tell them apart, 1 = it recognises every training image;
# - ADA's **r_v** = (E[D(x_train)] − E[D(x_held-out)]) / (E[D(x_train)] − E[D(G(z))]): where
#   held-out reals sit between training reals (0) and fakes (1);
# - ADA's **r_t** = E[sign D(x_train)], the signal ADA steers on because it needs no held-out
#   data (it raises the augmentation probability while r_t > 0.6).
#
# The experiment: the same hinge + SN GAN trained on **`n_small` digits** instead of 4,000, same
# steps, same seeds. Why `n_small` = 100 in `quick`: at 500 digits the gap did not open within a
# CPU budget (calibration: no gap after 1,500 steps, with D as wide as G or four times wider); at
# 100 digits, DiffAugment's "100-shot" regime, it opens after a few hundred steps. `full` trains
# ten times longer and uses 500; set `n_small` to change it. Then the
# fix, **DiffAugment** (Zhao et al. 2020): every image D sees, real or fake, in D's update and in
# G's, goes through the same random differentiable transform T (`ganutils/data/augment.py`:
# colour — brightness ± 0.5, saturation, contrast ×[0.5, 1.5]; translation by up to 1/8 of the
# side; cutout of a square half the side), so memorising pixels no longer pays, and since
# $T(x)$ and $T(G(z))$ match exactly when $x$ and $G(z)$ do, G is still pushed towards the
# clean data.

# %%
aug_specs = [dict(name=f"{n_small} digits", variant="hinge_sn", n_train=n_small),
             dict(name=f"{n_small} digits + DiffAugment", variant="hinge_sn", n_train=n_small, augment=augment_policy)]
reals_only_steps = max(steps // 2, 1)
aug_specs.append(dict(name=f"{n_small} digits, reals-only augmentation", variant="hinge_sn", n_train=n_small,
                      augment=augment_policy, augment_fakes=False, steps=reals_only_steps))
aug_results = recipe.run_jobs([dict(common, seed=s, eval_at=eval_at, **spec) for spec in aug_specs for s in seeds],
                              workers=workers)
for r in aug_results:
    runs.setdefault(r["job"]["name"], []).append(r)
small, small_da, reals_only = (spec["name"] for spec in aug_specs)
overfit_names = {"4,000 digits": "hinge + SN", small: small, f"{small} + DiffAugment": small_da}
overfit_keys = {"4,000 digits": "all", small: "small", f"{small} + DiffAugment": "small_diffaugment"}

# %%
def second_half(r, key):
    """Mean of a probe signal over the second half of a run (one number per run, less noisy than one probe)."""
    values = [p[key] for p in r["probes"] if p["step"] > r["job"]["steps"] / 2]
    return float(np.mean(values)) if values else float("nan")


fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
overfitting = {}
for i, (label, name) in enumerate(overfit_names.items()):
    overfitting[label] = {key: [second_half(r, key) for r in runs[name]] for key in ("auc", "r_v", "r_t")}
    overfitting[label]["fd"] = [float(r["scores"][steps]["fd"]) for r in runs[name]]
    for r in runs[name]:
        probe_steps = [p["step"] for p in r["probes"]]
        for ax, key in zip(axes, ("auc", "r_v", "r_t")):
            ax.plot(probe_steps, [p[key] for p in r["probes"]], color=f"C{i}", alpha=0.9 if r["job"]["seed"] == seeds[0] else 0.45,
                    label=label if r["job"]["seed"] == seeds[0] else None)
axes[0].axhline(0.5, color="k", ls=":", lw=0.8)
axes[0].set(title="membership AUC: can D tell its training digits from new ones?", ylabel="AUC")
axes[1].set(title="ADA's r_v", ylim=(-1, 1.5))
axes[2].set(title="ADA's r_t = E[sign D(x_train)]", ylim=(-1.05, 1.05))
for ax in axes:
    ax.set_xlabel("generator iteration")
axes[0].legend(fontsize=8, frameon=False)
plt.tight_layout()
plt.show()
for label, row in overfitting.items():
    print(f"{label:30s} second half of the run: AUC {np.round(row['auc'], 2)}, r_v {np.round(row['r_v'], 2)}, "
          f"r_t {np.round(row['r_t'], 2)}; final FD {np.round(row['fd'], 0)}")
gu.record("overfitting", {overfit_keys[label]: {**row, **{f"{k}_mean": float(np.mean(row[k])) for k in ("auc", "r_v", "r_t", "fd")}}
                          for label, row in overfitting.items()}, quiet=True)
gu.record("overfitting_n_small", n_small, quiet=True)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for ax, name in zip(axes, (small, small_da)):
    scores = runs[name][0]["final_scores"]
    bins = np.linspace(min(float(v.min()) for v in scores.values()), max(float(v.max()) for v in scores.values()), 40)
    for key, label in (("train", "training digits"), ("held_out", "held-out digits"), ("fake", "generated")):
        ax.hist(scores[key].numpy(), bins=bins, histtype="step", lw=1.5, density=True, label=label)
    ax.set(title=f"{name}: D's scores at the end (seed {seeds[0]})", xlabel="D(x)")
axes[0].legend(fontsize=8, frameon=False)
plt.tight_layout()
plt.show()

# %%
if cfg.asserts_quality:
    # calibration (quick, seeds 0-1, 1,000 steps, second-half means): AUC 0.62/0.60 on 100 digits,
    # 0.49/0.46 on 4,000, 0.48/0.50 on 100 digits + DiffAugment (channels-last networks, reference run of 2026-12-01:
    # 0.62/0.59, 0.46/0.49, 0.50/0.51)
    auc = {label: np.array(row["auc"]) for label, row in overfitting.items()}
    assert (auc[small] > 0.57).all(), "on the small set D recognises its training digits"
    assert (auc[small] > auc["4,000 digits"] + 0.05).all(), "more data: D cannot memorise it"
    assert (auc[small] > auc[f"{small} + DiffAugment"] + 0.05).all(), "DiffAugment closes the gap"

# %% [markdown]
# Read the AUC panel first. On 4,000 digits D scores training and held-out digits alike (AUC ≈ 0.5
# throughout): it judges digits, not images it has seen. On the small set the AUC climbs over
# training: D now recognises the images it was trained on. With DiffAugment on the same small set
# it stays at 0.5. ADA's r_v tells the same story in its own units; r_t, the one signal that needs
# no held-out data, is much noisier at this scale (D's scores on *all* reals drift up and down as
# G improves), which is why ADA averages it over four minibatches at a time and steers on its
# trend.
#
# What the numbers do *not* show yet: at this budget the memorising D has not hurt G (compare the
# final FDs). The damage comes later in a long run, when D's verdicts on G's samples are mostly
# about the training images it remembers; `full` trains ten times longer on 500 digits.
#
# **The mistake DiffAugment avoids.** Augmenting only the real images looks like the classifier
# recipe, but D then learns that "real" means *shifted, cut-out, recoloured* digits, and G
# follows: it learns to draw the augmentations (Zhao et al. 2020, sec. 3.1). On MNIST they are
# easy to detect: translation's zero fill and cutout's zero square are mid-grey on a black
# background, and the brightness shift lifts the background. Two statistics of the samples:
# the share of mid-grey pixels (|x| < 0.5) and the mean of the 3-pixel frame (black, −1, on
# every real digit), for the reals-only run and for the DiffAugment run at the same step.

# %%
held_out_digits = recipe.mnist_split()[1][:n_eval]
augmented_digits = diff_augment(held_out_digits, augment_policy, torch.Generator().manual_seed(seed))
artefacts = {"real digits": held_out_digits, "real digits, augmented": augmented_digits.clamp(-1, 1)}
for name in (reals_only, small_da):
    for r in runs[name]:
        artefacts.setdefault(name, []).append(r["snapshots"][reals_only_steps])
artefact_rows = {}
for name, images in artefacts.items():
    images = images if isinstance(images, list) else [images]
    artefact_rows[name] = {"grey_fraction": [grey_fraction(x) for x in images], "frame_level": [frame_level(x) for x in images]}
    print(f"{name:42s} mid-grey pixels {np.round(artefact_rows[name]['grey_fraction'], 3)}, "
          f"frame level {np.round(artefact_rows[name]['frame_level'], 2)}")
artefact_keys = {"real digits": "real", "real digits, augmented": "real_augmented", reals_only: "reals_only", small_da: "diffaugment"}
gu.record("augmentation_artefacts", {artefact_keys[name]: {**row, **{f"{k}_mean": float(np.mean(row[k])) for k in row}}
                                     for name, row in artefact_rows.items()}, quiet=True)
gu.record("augmentation_artefacts_fd", {artefact_keys[name]: float(np.mean([r["scores"][reals_only_steps]["fd"] for r in runs[name]]))
                                        for name in (reals_only, small_da)}, quiet=True)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
plotting.image_grid(artefacts["real digits, augmented"][:36], nrow=6, ax=axes[0], title="real digits, augmented (what D sees)")
plotting.image_grid(artefacts[reals_only][0][:36], nrow=6, ax=axes[1], title=f"G, reals-only augmentation\n(step {reals_only_steps})")
plotting.image_grid(artefacts[small_da][0][:36], nrow=6, ax=axes[2], title=f"G, DiffAugment\n(step {reals_only_steps})")
plt.tight_layout()
plt.show()

# %%
if cfg.asserts_quality:
    # calibration (quick, seeds 0-1, step 500): reals-only frame -0.58/-0.56 and grey 0.27/0.22; DiffAugment -0.96/-0.97
    # and 0.067/0.069; real digits -0.99 and 0.05 (channels-last networks, reference run of 2026-12-01: reals-only
    # -0.62/-0.58 and 0.25/0.23, DiffAugment -0.96/-0.97 and 0.067/0.065)
    leak, fixed = artefact_rows[reals_only], artefact_rows[small_da]
    assert all(f > -0.8 for f in leak["frame_level"]) and all(f < -0.9 for f in fixed["frame_level"]), \
        "with reals-only augmentation G paints the augmentations' frame; with DiffAugment it keeps the black border"
    assert all(a > 2 * b for a in leak["grey_fraction"] for b in fixed["grey_fraction"]), "and their mid-grey squares"

# %%
image_runs = recipe_results + aug_results
cpu_seconds = sum(r["cpu_seconds"] for r in image_runs)
print(f"{len(image_runs)} image runs: {cpu_seconds:.0f} CPU seconds in the workers "
      f"(about {cpu_seconds / workers:.0f} s of wall time on {workers} free core(s))")
gu.record("cost/image_runs_cpu_seconds", cpu_seconds, quiet=True)
gu.record("cost/image_runs", len(image_runs), quiet=True)

# %% [markdown]
# ## What this budget shows, and what `full` adds
#
# Settled here, on every seed: the Dirac-GAN's unregularised dynamics circle or spiral out, R1
# and instance noise converge, WGAN-GP does not, and too much R1 is as slow as too little
# (every profile); on images, spectral normalisation pins D's layers at σ = 1, R1 flattens D on
# the data, the EMA generator moves less than the raw one, a discriminator trained on 100 digits
# recognises them while one trained on 4,000 does not, DiffAugment removes that gap, and
# augmenting the reals only teaches G the augmentations (`quick` and `full`).
#
# Left to `full` (a GPU; not run here): width-64 networks for 10,000 iterations on 3 seeds, the
# R1 sweep γ ∈ {0.1, 1, 10, 100}, the same grid on Fashion-MNIST, 500 vs all training digits, and the FD consequences that need
# long runs: whether each ingredient improves FD, whether the EMA generator beats the last
# iterate (asserted there), and how much FD a memorising D costs. Rerun any part with papermill,
# e.g. `python -m ganutils run 05 -p r1_gammas="(0.1, 1, 10)" -p steps=3000`.
#
# **Sources** for what is quoted from the literature: the Dirac-GAN, its vector fields, Jacobians and
# the (non-)convergence of simultaneous and alternating gradient descent: Mescheder et al. (2018),
# sec. 2 (Lemma 2.2 and after); WGAN, WGAN-GP and instance noise on it: sec. 3.1–3.3; R1 and its
# eigenvalues: sec. 4, eq. 9; the settings h = 0.2, (θ, ψ) = (1, 1), 500 steps, γ = 0.3 (and the
# critical γ = 1), σ = 0.7, WGAN-GP's γ = 0.7 and $g_0$ = 1, WGAN's clip 1: the authors' Dirac-GAN
# notebook (`notebooks/DiracGAN.ipynb` in their GAN_stability repository). The hinge loss: Lim &
# Ye (2017), as used by SAGAN and BigGAN; spectral normalisation with one power-iteration step:
# Miyato et al. (2018), sec. 2.1. R1's γ in practice: the configurations of ADA's official code.
# EMA of G: Karras et al. (2018, ProGAN: β = 0.999), Brock et al. (2019, BigGAN: 0.9999), Yazıcı et
# al. (2019). DiffAugment's three policies and their strengths (brightness ± 0.5, saturation ×[0, 2],
# contrast ×[0.5, 1.5], translation 1/8, cutout 1/2, zero fill), "augment reals only" and the
# 100-shot setting: Zhao et al. (2020), sec. 3–4 and their `DiffAugment_pytorch.py`. r_t and r_v:
# Karras et al. (2020, ADA), sec. 2–3 (target r_t = 0.6, updated every four minibatches). The
# membership AUC, the artefact statistics and every measured number above are the course's own.
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("05_modern_recipe")
