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
# # 01 · The min-max objective and the Jensen–Shannon divergence
#
# Everything in a GAN follows from one value function. This notebook derives the optimal
# discriminator, shows that plugging it in turns the game into a Jensen–Shannon divergence,
# and then shows the two places where that divergence hurts training: the saturating
# generator loss and distributions with disjoint supports. Every identity is checked
# numerically on 1-D data, where densities are known and integrals are exact quadratures.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # this notebook's networks are tiny: the CPU is fastest
seed = 0
d_steps = None  # discriminator training steps (None: the profile's default)
d_lr = 3e-3
batch_size = 1024
g_steps = 500  # generator steps in the saturating vs non-saturating experiment
g_lr = 0.05  # plain SGD for the generator, so the gradient's size is what moves it
solutions = False  # True plugs the exercises' reference solutions (the collapsed cells) into their checks

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import data, losses, nets
from ganutils.metrics import divergences as dv

cfg = gu.setup(profile, "cpu" if device is None else device, seed)
torch.set_num_threads(1)  # networks this small run fastest on one thread (and do not fight a busy machine)
d_steps = cfg.steps(d_steps, smoke=600, quick=1500, full=3000, name="d_steps")
g_steps = gu.config.check_positive_int("g_steps", g_steps)

# %%
from ganutils.course import exercises

exercise = exercises.session("01_minmax_and_js", solutions)  # this notebook's exercises; the checkpoint shows your progress

# %% [markdown]
# ## The min-max objective
#
# Goodfellow et al. (2014) define the game
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x\sim p_\text{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))].$$
#
# D is a binary classifier (real = 1, fake = 0) and $V$ is the negative of its cross-entropy,
# so "D maximises $V$" is "D minimises its cross-entropy". (Seed 002 writes the GAN
# objective as "L_G + λ·L_D" and drops the minus sign of cross-entropy; both are wrong:
# the two players optimise *the same* $V$ in opposite directions.)
#
# Our 1-D example: $p_\text{data}$ is a two-component Gaussian mixture, and a fixed
# "generator" distribution $p_g = \mathcal N(0.5, 1.2^2)$ overlaps it.

# %%
p_data = data.GaussianMixture1D((0.6, 0.4), (1.0, 3.0), (0.5, 0.4))
p_gen = data.GaussianMixture1D((1.0,), (0.5,), (1.2,))
xs = np.linspace(-6, 8, 4001)
pd, pg = p_data.pdf(xs), p_gen.pdf(xs)
print(f"both densities integrate to 1: {dv.integrate(pd, xs):.6f}, {dv.integrate(pg, xs):.6f}")

# %% [markdown]
# **One summed loss is not the game.** Seed 002 writes the GAN objective as one total loss,
# $L_G + \lambda L_D$, to be minimised. Try it with $\lambda = 1$ on this example: a generator
# $G(z) = \mu + 0.7z$ that starts at $\mu = -3$, a small discriminator, and **one** Adam optimiser over
# *all* parameters, next to the game, where D minimises $L_D$ and G minimises $L_G$, each with its own
# optimiser (same networks, data and number of steps; two seeds).

# %%
def summed_vs_game(run_seed, summed, steps):
    """mu after `steps` updates, and D's mean output on real and on fake samples."""
    torch.manual_seed(run_seed)
    rng = torch.Generator().manual_seed(run_seed)
    disc = nets.MLPDiscriminator((1,), hidden=64, depth=2, act="elu")
    mu = torch.nn.Parameter(torch.tensor(-3.0))
    if summed:  # seed 002: one loss, one optimiser, every parameter
        opt = torch.optim.Adam([*disc.parameters(), mu], lr=1e-3)
    else:  # the game: each player its own loss, optimiser and parameters
        opt_d, opt_g = torch.optim.Adam(disc.parameters(), lr=1e-3), torch.optim.Adam([mu], lr=3e-2)
    for _ in range(steps):
        real, fake = p_data.sample(256, rng), mu + 0.7 * torch.randn(256, 1, generator=rng)
        if summed:
            loss = losses.g_loss_non_saturating(disc(fake)) + losses.d_loss_bce(disc(real), disc(fake))
            opt.zero_grad()
            loss.backward()
            opt.step()
            continue
        d_loss = losses.d_loss_bce(disc(real), disc(fake.detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = losses.g_loss_non_saturating(disc(mu + 0.7 * torch.randn(256, 1, generator=rng)))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    with torch.no_grad():
        d_real = torch.sigmoid(disc(p_data.sample(2000, rng))).mean().item()
        d_fake = torch.sigmoid(disc(mu + 0.7 * torch.randn(2000, 1, generator=rng))).mean().item()
    return {"mu": mu.item(), "d_real": d_real, "d_fake": d_fake}


summed_steps = cfg.pick(smoke=30, quick=300, full=300)
summed_runs = {name: [summed_vs_game(seed + i, name == "summed", summed_steps) for i in range(2)]
               for name in ("game", "summed")}
for name, rows in summed_runs.items():
    print(f"{name:>6}: " + "; ".join(f"μ {r['mu']:.2f}, D(real) {r['d_real']:.2f}, D(fake) {r['d_fake']:.2f}"
                                     for r in rows))
gu.record("summed_loss", {name: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
                          for name, rows in summed_runs.items()}, quiet=True)
assert all(np.isfinite(r["mu"]) for rows in summed_runs.values() for r in rows)
if cfg.asserts_quality:
    # calibration (seeds 0-2, 300 steps): game μ 1.68-1.74 (data mean 1.8); summed μ -3.20 to -3.19,
    # D(real) >= 0.998, D(fake) 0.497-0.501
    assert all(r["mu"] > 0.5 for r in summed_runs["game"]), "the game moves G towards the data"
    assert all(r["mu"] < -2.5 for r in summed_runs["summed"]), "one summed loss leaves G where it started"
    assert all(abs(r["d_fake"] - 0.5) < 0.05 for r in summed_runs["summed"]), "and D settles at 1/2 on the fakes"

# %% [markdown]
# The game moves G to the data; the summed loss leaves it near −3. With one optimiser each network
# also minimises the *other* player's loss. D's parameters get G's term $-\log D(G(z))$ next to their
# own $-\log(1 - D(G(z)))$; the sum is smallest at $D(G(z)) = 1/2$, so D learns to output ½ on the
# fakes wherever they are (printed above) and 1 on the data. G's part of the sum,
# $-\log D(G(z)) - \log(1 - D(G(z)))$, is then already at its minimum: nothing pulls G towards the
# data. Two losses, each minimised by its own optimiser over its own parameters, is what makes it a game.

# %% [markdown]
# ## The optimal discriminator
#
# For a fixed G, $V = \int p_\text{data}(x)\log D(x) + p_g(x)\log(1-D(x))\,dx$. Pointwise,
# $a\log y + b\log(1-y)$ is maximised at $y = a/(a+b)$, so
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}.$$
#
# The experiment: train a small MLP discriminator with the course's BCE loss on samples only,
# then compare it with the closed form.

# %%
torch.manual_seed(seed)
D = nets.MLPDiscriminator((1,), hidden=64, depth=2, act="elu")
opt = torch.optim.Adam(D.parameters(), lr=d_lr)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, d_steps)
rng = torch.Generator().manual_seed(seed)
for step in range(d_steps):
    loss = losses.d_loss_bce(D(p_data.sample(batch_size, rng)), D(p_gen.sample(batch_size, rng)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()

with torch.no_grad():
    d_trained = torch.sigmoid(D(torch.tensor(xs, dtype=torch.float32)[:, None])).double().numpy()
d_star = dv.optimal_discriminator(pd, pg)
mixture = 0.5 * (pd + pg)
d_error = dv.integrate(np.abs(d_trained - d_star) * mixture, xs)  # E_{x ~ (p_data + p_g)/2} |D - D*|

fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(xs, pd, label="$p_{data}$")
ax.plot(xs, pg, label="$p_g$")
ax.plot(xs, d_star, "k", lw=2, label="$D^*$ (closed form)")
ax.plot(xs, d_trained, "r--", label=f"trained D ({d_steps} steps)")
ax.set_xlim(-4, 6)
ax.legend(frameon=False)
plt.show()
print(f"mean |D - D*| under the mixture: {d_error:.4f}")
gu.record("d_star/mean_abs_error", d_error)

# %% [markdown]
# **Exercise 01-optimal-discriminator** (implement). Write `optimal_discriminator(p_data, p_g)`: given the
# two densities on a grid (NumPy arrays), return $D^*(x)$. Where both densities vanish any value is optimal:
# return 1/2 there. Run the cell: the check compares your function with the tested one on random and edge-case
# densities and names the classic mistake if it recognises one. Until it passes, the notebook goes on with
# `ganutils`' version. (The solution is in the collapsed cell below; expand it once you have tried.)

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("01-optimal-discriminator")
def optimal_discriminator_solution(p_data, p_g):
    ### BEGIN SOLUTION
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)
    ### END SOLUTION


# %%
def my_optimal_discriminator(p_data, p_g):
    raise NotImplementedError  # your code here


d_star_fn = exercise.check("01-optimal-discriminator", my_optimal_discriminator)
print(f"on this notebook's densities: max |D*(x) - closed form| = {np.abs(d_star_fn(pd, pg) - d_star).max():.1e}")

# %% [markdown]
# ## V(D*, G) = 2 JS - log 4
#
# Substituting $D^*$ and writing $m = (p_\text{data}+p_g)/2$:
#
# $$V(D^*, G) = \int p_\text{data}\log\frac{p_\text{data}}{2m} + p_g\log\frac{p_g}{2m}
#  = \mathrm{KL}(p_\text{data}\|m) + \mathrm{KL}(p_g\|m) - \log 4 = 2\,\mathrm{JS}(p_\text{data}\|p_g) - \log 4.$$
#
# So the generator, facing a perfect discriminator, minimises the JS divergence. JS is never
# negative and is 0 only at $p_g = p_\text{data}$, where $V(D^*, G)$ takes its minimum $-\log 4$
# (Goodfellow et al. 2014, Theorem 1); JS itself ranges over $[0, \log 2]$. Below: JS by quadrature, a
# second JS from SciPy on the discretised densities, $V(D^*,G)$ and $V$ of the trained D,
# which must lie below the maximum.

# %%
from scipy.spatial.distance import jensenshannon

js = dv.js_divergence(pd, pg, xs)
js_scipy = jensenshannon(pd, pg) ** 2  # SciPy returns the square root of JS, natural log
v_star = dv.value_function(d_star, pd, pg, xs)
v_trained = dv.value_function(d_trained, pd, pg, xs)
print(f"JS (quadrature) = {js:.6f}, JS (SciPy) = {js_scipy:.6f}")
print(f"V(D*, G) = {v_star:.6f}   2 JS - log 4 = {2 * js - dv.LOG4:.6f}")
print(f"V(trained D, G) = {v_trained:.6f}  (gap to the maximum: {v_star - v_trained:.4f})")
gu.record("js", js)
gu.record("v_star_minus_2js_plus_log4", v_star - (2 * js - dv.LOG4))
gu.record("v_gap_trained", v_star - v_trained)

# %%
assert abs(v_star - (2 * js - dv.LOG4)) < 1e-6, "V(D*, G) = 2 JS - log 4 must hold to quadrature accuracy"
assert abs(js - js_scipy) < 1e-4 and 0 < js < dv.LOG2
assert v_trained <= v_star + 1e-9, "no discriminator beats D*"
assert v_star - v_trained < 0.02, f"the trained D should be near-optimal, gap {v_star - v_trained:.4f}"
assert d_error < 0.03, f"trained D should match D* closely, mean error {d_error:.4f}"

# %% [markdown]
# **Exercise 01-value-at-optimum** (derive). Take $p_\text{data} = U[0, 1]$ and $p_g = U[0.5, 1.5]$. Write
# $D^*$ on $[0, 0.5)$, $[0.5, 1)$ and $[1, 1.5]$, then compute $V(D^*, G)$ with natural logs. The check compares
# your number with a quadrature of the same integral (`ganutils.metrics.divergences.value_function`).

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("01-value-at-optimum")
def value_at_optimum_solution():
    ### BEGIN SOLUTION
    # D* = 1 on [0, 0.5) (data only), 1/2 on the overlap [0.5, 1), 0 on [1, 1.5] (fakes only):
    # only the overlap contributes, half of each density's mass, each with log(1/2)
    return 0.5 * np.log(0.5) + 0.5 * np.log(0.5)
    ### END SOLUTION


# %%
my_value_at_optimum = None  # your number, e.g. -0.5 or np.log(3)
exercise.check("01-value-at-optimum", my_value_at_optimum)

# %% [markdown]
# ## Saturating vs non-saturating generator loss
#
# The minimax generator minimises $\log(1 - D(G(z)))$. Write $D = \sigma(l)$ with $l$ the
# logit. Then $\partial_l \log(1-\sigma(l)) = -\sigma(l) = -D$: when D confidently rejects
# the fakes ($D(G(z)) \to 0$, the situation at the start of training) the gradient
# vanishes. The *non-saturating* loss $-\log D(G(z))$ has the same fixed point but gradient
# $-(1-D)$, close to $-1$ exactly then. Seed 004 states this backwards ("use
# min log(1−D(G(z))) instead of max log D(G(z)) to avoid vanishing gradients"): the
# non-saturating loss *is* max log D(G(z)). The curves below are autograd through the
# course's loss functions, checked against the closed forms.

# %%
d_values = torch.linspace(0.001, 0.999, 400, dtype=torch.float64)
logits = torch.logit(d_values).requires_grad_(True)
grad_sat = torch.autograd.grad(losses.g_loss_saturating(logits) * len(logits), logits)[0]
grad_ns = torch.autograd.grad(losses.g_loss_non_saturating(logits) * len(logits), logits)[0]
assert torch.allclose(grad_sat, -d_values) and torch.allclose(grad_ns, -(1 - d_values))

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(d_values, grad_sat.abs(), label=r"saturating: $\min \log(1-D(G(z)))$")
ax.plot(d_values, grad_ns.abs(), label=r"non-saturating: $\min -\log D(G(z))$")
ax.set_xlabel("D(G(z))")
ax.set_ylabel("|d loss / d logit|")
ax.axvspan(0, 0.1, color="0.9")
ax.text(0.01, 0.5, "early training:\nD rejects fakes", fontsize=8)
ax.legend(frameon=False, fontsize=8)
plt.show()
ratio = grad_ns[0].abs().item() / grad_sat[0].abs().item()
print(f"at D(G(z)) = {d_values[0].item():.3f} the non-saturating gradient is {ratio:.0f}x larger")


# %% [markdown]
# **Exercise 01-saturating-gradient** (derive). At $D(G(z)) = \sigma(l) = 0.01$, what are
# $\partial_l \log(1 - D)$ (saturating) and $\partial_l [-\log D]$ (non-saturating)? Answer a tuple of two
# numbers; the check differentiates the course's two loss functions with autograd.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("01-saturating-gradient")
def saturating_gradient_solution():
    ### BEGIN SOLUTION
    d = 0.01  # d/dl log(1 - sigmoid(l)) = -sigmoid(l);  d/dl -log sigmoid(l) = -(1 - sigmoid(l))
    return (-d, -(1 - d))
    ### END SOLUTION


# %%
my_saturating_gradient = None  # (saturating, non_saturating), e.g. (0.5, -0.5)
exercise.check("01-saturating-gradient", my_saturating_gradient)

# %% [markdown]
# **Exercise 01-non-saturating-loss** (implement). Write `g_loss_non_saturating(fake_logits)`: the
# non-saturating generator loss $-\mathbb E[\log D(G(z))]$ from D's logits, as a differentiable scalar, and
# stable for very negative logits (a D that rejects the fakes with confidence).

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("01-non-saturating-loss")
def g_loss_non_saturating_solution(fake_logits):
    ### BEGIN SOLUTION
    return torch.nn.functional.softplus(-fake_logits).mean()  # -log sigmoid(l) = softplus(-l), without log(0)
    ### END SOLUTION


# %%
def my_g_loss_non_saturating(fake_logits):
    raise NotImplementedError  # your code here


g_loss_ns_fn = exercise.check("01-non-saturating-loss", my_g_loss_non_saturating)

# %% [markdown]
# The same thing in a training run. A 1-D generator $G(z) = \mu + 0.7z$ starts at
# $\mu = -3$, far from the data (mean 1.8). A discriminator is trained for 300 steps first,
# so it rejects the fakes, and then D (Adam) and G (plain SGD, so that the size of the
# gradient is what moves it) alternate. Same seed, same D, only the generator loss differs.

# %% [markdown]
# **Predict 01-predict-saturating.** Before running the next two cells: both generators start at μ = −3, against
# a D that already rejects their samples. Which one ends within 1 of the data mean: `"saturating"`,
# `"non_saturating"`, `"both"` or `"neither"`?

# %%
exercise.predict("01-predict-saturating", None)  # replace None with your answer, then run the experiment

# %%
def generator_run(loss_name):
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    disc = nets.MLPDiscriminator((1,), hidden=64, depth=2, act="elu")
    mu = torch.nn.Parameter(torch.tensor(-3.0))
    opt_d, opt_g = torch.optim.Adam(disc.parameters(), lr=1e-3), torch.optim.SGD([mu], lr=g_lr)
    g_loss = losses.get_loss(loss_name).g
    trajectory, first_grad = [], None
    for step in range(300 + g_steps):
        fake = (mu + 0.7 * torch.randn(256, 1, generator=rng)).detach()
        d_loss = losses.d_loss_bce(disc(p_data.sample(256, rng)), disc(fake))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        if step < 300:
            continue
        loss = g_loss(disc(mu + 0.7 * torch.randn(256, 1, generator=rng)))
        opt_g.zero_grad()
        loss.backward()
        first_grad = mu.grad.item() if first_grad is None else first_grad
        opt_g.step()
        trajectory.append(mu.item())
    return np.array(trajectory), first_grad


runs = {name: generator_run(name) for name in ("saturating", "non_saturating")}
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, (traj, grad) in runs.items():
    ax.plot(traj, label=f"{name} (first dL/dμ = {grad:.3g})")
ax.axhline(1.8, color="k", ls=":", label="data mean")
ax.set_xlabel("generator step")
ax.set_ylabel("μ")
ax.legend(frameon=False, fontsize=8)
plt.show()
moved_sat = runs["saturating"][0][-1] - (-3.0)
final_ns = runs["non_saturating"][0][-1]
print(f"saturating: μ moved {moved_sat:.2f}; non-saturating: μ ended at {final_ns:.2f}")
gu.record("grad_ratio_at_d0.001", ratio)
gu.record("saturating/mu_moved", moved_sat)
gu.record("non_saturating/mu_final", final_ns)
gu.record("first_grad_ratio", abs(runs["non_saturating"][1] / runs["saturating"][1]))

# %%
assert ratio > 500, "NS gradient must dominate where D rejects fakes"
assert abs(runs["non_saturating"][1]) > 50 * abs(runs["saturating"][1]), "the first generator gradient vanishes only for the saturating loss"
assert abs(final_ns - 1.8) < 1.0, f"non-saturating G should reach the data, ended at {final_ns:.2f}"
assert moved_sat < 1.0, f"saturating G should barely move, moved {moved_sat:.2f}"

# %%
reached = [name for name, (trajectory, _) in runs.items() if abs(trajectory[-1] - 1.8) < 1.0]
exercise.reveal("01-predict-saturating", "both" if len(reached) == 2 else reached[0] if reached else "neither",
                detail=", ".join(f"{name} ended at μ = {trajectory[-1]:.2f}" for name, (trajectory, _) in runs.items()))

# %% [markdown]
# ## Disjoint supports: JS is stuck, Wasserstein moves
#
# Real data usually lives on a thin manifold, so early in training $p_g$ and
# $p_\text{data}$ barely overlap. Take the extreme: $p_\text{data} = U[0,1]$ and
# $p_g = U[\theta, \theta+1]$. For every $|\theta| \ge 1$ the supports are disjoint, and
# $\mathrm{JS} = \log 2$ *whatever* $\theta$ is: a flat function with zero gradient, so a
# generator following JS gets no signal about which way the data lies. The Wasserstein-1
# distance, $\int |F_p - F_q|$, equals $|\theta|$: it keeps decreasing as G moves toward the
# data. (Notebook 04 builds the WGAN on this.)

# %%
thetas = np.linspace(0.0, 4.0, 81)
grid_x = np.linspace(-1, 6, 70001)


def uniform(low):
    """U[low, low + 1] on the grid, renormalised so the trapezoid rule integrates it to exactly 1."""
    p = dv.uniform_pdf(grid_x, low, low + 1.0)
    return p / dv.integrate(p, grid_x)


p_unif = uniform(0.0)
js_curve = np.array([dv.js_divergence(p_unif, uniform(t), grid_x) for t in thetas])
w1_curve = np.array([dv.wasserstein1(p_unif, uniform(t), grid_x) for t in thetas])

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(thetas, js_curve, label="JS")
ax.plot(thetas, w1_curve, label="Wasserstein-1")
ax.axhline(dv.LOG2, color="k", ls=":", lw=0.8)
ax.text(3.0, dv.LOG2 + 0.08, "log 2", fontsize=8)
ax.axvspan(1, 4, color="0.93")
ax.text(2.0, 3.2, "disjoint supports", fontsize=8)
ax.set_xlabel("θ (how far $p_g$ is from $p_{data}$)")
ax.legend(frameon=False)
plt.show()

disjoint = thetas > 1.05
js_grad = np.gradient(js_curve, thetas)
w1_grad = np.gradient(w1_curve, thetas)
print(f"disjoint region: JS in [{js_curve[disjoint].min():.6f}, {js_curve[disjoint].max():.6f}] (log 2 = {dv.LOG2:.6f}), "
      f"max |dJS/dθ| = {np.abs(js_grad[disjoint][1:-1]).max():.2e}; dW1/dθ = {w1_grad[disjoint][1:-1].mean():.3f}")
gu.record("disjoint/js_max_deviation_from_log2", float(np.abs(js_curve[disjoint] - dv.LOG2).max()))
gu.record("disjoint/w1_slope", float(w1_grad[disjoint][1:-1].mean()))

# %%
assert np.abs(js_curve[disjoint] - dv.LOG2).max() < 1e-6, "JS must be exactly log 2 on disjoint supports"
assert np.abs(js_grad[disjoint][1:-1]).max() < 1e-6, "and its gradient zero"
assert np.all(np.diff(w1_curve) > 0), "W1 keeps growing with the distance, so it has a gradient everywhere"
assert np.abs(w1_curve - thetas).max() < 1e-3, "for two shifted uniforms W1 equals the shift"

# %% [markdown]
# What a *trained* discriminator does there: with disjoint supports it separates the two
# perfectly, $D(G(z)) \to 0$, and the saturating generator loss is left with no gradient at
# all; the non-saturating one still pushes, but its direction comes from how D happens to
# extrapolate, not from the distance to the data. That is the motivation for WGAN.

# %%
torch.manual_seed(seed)
rng = torch.Generator().manual_seed(seed)
disc = nets.MLPDiscriminator((1,), hidden=64, depth=2, act="elu")
opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
theta = torch.tensor(2.5, requires_grad=True)  # p_g = U[theta, theta + 1], disjoint from U[0, 1]
for _ in range(d_steps // 3):
    real = torch.rand(256, 1, generator=rng)
    fake = (theta + torch.rand(256, 1, generator=rng)).detach()
    loss = losses.d_loss_bce(disc(real), disc(fake))
    opt.zero_grad()
    loss.backward()
    opt.step()
fake_logits = disc(theta + torch.rand(1024, 1, generator=rng))
d_fake = torch.sigmoid(fake_logits).mean().item()
(g_sat,) = torch.autograd.grad(losses.g_loss_saturating(fake_logits), theta, retain_graph=True)
(g_ns,) = torch.autograd.grad(losses.g_loss_non_saturating(fake_logits), theta)
print(f"D(G(z)) = {d_fake:.2e}; dLoss/dθ saturating = {g_sat.item():.2e}, non-saturating = {g_ns.item():.2e}")
gu.record("disjoint/d_fake", d_fake)
gu.record("disjoint/grad_saturating", abs(g_sat.item()))
assert d_fake < 0.01 and abs(g_sat.item()) < 1e-2 * max(abs(g_ns.item()), 1e-12)

# %% [markdown]
# **Sources** for the numbers quoted from the literature: the value function, $D^*$ and
# $V(D^*, G) = -\log 4 + 2\,\mathrm{JS}$ with its minimum $-\log 4$: Goodfellow et al. (2014), sec. 4.1
# (Proposition 1, Theorem 1); the saturation of $\log(1 - D(G(z)))$ early in training and the
# non-saturating alternative: the same paper, sec. 3; JS constant on disjoint supports: Arjovsky &
# Bottou (2017), sec. 2. Every other number on this page is computed above.
#
# ## Interview checkpoint
#
# The answers cite the experiments above: D* against the trained discriminator, the JS
# identity to quadrature precision, the saturating generator that barely moved, and JS stuck
# at log 2 while W1 kept decreasing.

# %%
gu.interview.checkpoint("01_minmax_and_js")
