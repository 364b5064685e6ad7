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
# # 07 · Conditional GAN and controllable generation
#
# A GAN draws *some* digit. A conditional GAN (cGAN) draws the digit you ask for: the class
# label $y$ goes to both players, $G(z, y)$ and $D(x, y)$. This notebook builds the two usual
# ways of giving $y$ to the discriminator — concatenation and the projection discriminator —
# trains both on MNIST for the same budget, and scores them with the course's evaluation
# network: does the classifier read the digit that was asked for, and does it look real?
#
# Then it takes the trained generator apart with the **latent explorer**: sliders along
# directions of the latent space, a class dropdown, interpolation between two seeds, and
# vector arithmetic, all live in Jupyter and all driven by the same Python API that the
# tests call. Along the way: why $z$ is noise at all, why attributes live along *directions*
# of $z$ rather than single coordinates, and what DCGAN's famous "window" experiment edited.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # None: CUDA if available, else CPU
seed = 0
steps = None  # training steps of each cGAN (None: the profile's default)
lr = None  # None: 4e-4 for the short smoke/quick budgets (conditions faster, measured on seeds 0-2), DCGAN's 2e-4 in full
batch_size = 64
z_dim = 64
embed_dim = 16  # G's label embedding, concatenated with z
width = None  # DCGAN channel width (None: 8 smoke, 32 quick, 64 full; the paper's 64 is ~2.5x slower on a CPU)
n_per_class = None  # generated digits per class for the scores (None: the profile's default)
n_fit = None  # latents sampled to fit the explorer's directions and the attribute experiments
solutions = False  # True plugs the exercises' reference solutions (the collapsed cells) into their checks

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import data, latent, nets, plotting, training
from ganutils.course import explorer
from ganutils.metrics import conditional as cmetrics

cfg = gu.setup(profile, device, seed)
steps = cfg.steps(steps, smoke=100, quick=1250, full=10000)  # smoke: enough for images that react to the explorer
width = cfg.steps(width, smoke=8, quick=32, full=64, name="width")
lr = cfg.pick(4e-4, 4e-4, 2e-4) if lr is None else float(lr)
n_per_class = cfg.steps(n_per_class, smoke=10, quick=100, full=100, name="n_per_class")  # 100/class = the held-out size
n_fit = cfg.steps(n_fit, smoke=200, quick=2000, full=5000, name="n_fit")
train_set = data.load_mnist("train")
held_out = data.load_mnist("test")  # 100 digits per class: the reference for every score below
grid_labels = cmetrics.class_grid_labels(10, 8)  # one row per class in every class grid


def train_cgan(mode):
    """A DCGAN-style cGAN whose D conditions by ``mode`` ("concat" or "projection"), trained with the shared loop."""
    torch.manual_seed(seed)
    G, D = nets.make_conditional("dcgan", mode, z_dim=z_dim, embed_dim=embed_dim, width=width, seed=seed)
    model = training.GAN(G, D, z_dim=z_dim, lr_g=lr, lr_d=lr, seed=seed, device=cfg.device, snapshot_size=len(grid_labels))
    model.fixed_z = model.fixed_z[:8].repeat(10, 1)  # snapshots: 8 latents (columns) drawn as each class (rows)
    model.fixed_cond = (grid_labels.to(cfg.device),)
    history = training.train(
        model, data.TensorSampler(train_set.images, train_set.labels, batch_size=batch_size, seed=seed),
        steps=steps, snapshot_every=max(steps // 4, 1), desc=f"cGAN, {mode} D",
        checkpoint=gu.checkpoint_path(f"cgan_{mode}", z_dim=z_dim, embed_dim=embed_dim, width=width, steps=steps,
                                      lr=lr, batch_size=batch_size, seed=seed),
    )
    return model, history


def evaluate(model):
    return cmetrics.evaluate_conditional(model.G, z_dim=z_dim, real_images=held_out.images,
                                            real_labels=held_out.labels, n_per_class=n_per_class, seed=seed)


def summary(r):
    keys = ("label_accuracy", "fd", "intra_fd_mean", "precision", "recall", "coverage")
    return {k: r[k] for k in keys} | {"per_class_accuracy": r["per_class_accuracy"]}


# %%
from ganutils.course import exercises

exercise = exercises.session("07_conditional_gan", solutions)  # this notebook's exercises; the checkpoint shows your progress

# %% [markdown]
# ## Conditioning G and D
#
# **The objective.** Mirza & Osindero (2014) give the label to both players:
#
# $$\min_G \max_D \; \mathbb E_{(x,y)\sim p_\text{data}}[\log D(x, y)] + \mathbb E_{z\sim p_z,\,y\sim p(y)}[\log(1 - D(G(z, y), y))].$$
#
# D now answers "is $x$ a real digit **of class $y$**?", so a sharp 3 presented as a 7 is
# fake. At the optimum (notebook 01's argument, pointwise in $(x, y)$)
# $D^*(x,y) = p_\text{data}(x,y) / (p_\text{data}(x,y) + p_g(x,y))$, and G's best reply is
# $p_g(x \mid y) = p_\text{data}(x \mid y)$ for every class: the user picks $y$, the model
# draws from that class.
#
# **Generator.** A learned embedding $e_G(y) \in \mathbb R^{16}$ is concatenated with
# $z \in \mathbb R^{64}$ and fed to the DCGAN generator of notebook 02
# (`nets.ConditionalDCGANGenerator`).
#
# **Discriminator, two ways.**
# *Concatenation* stacks the label on D's input — here a learned 28×28 label plane as a second
# image channel, so every filter of D's first layer sees it — and leaves D to discover how
# class and image interact. *Projection* (Miyato & Koyama 2018) builds the interaction in.
# Write D's logit at the optimum as a log density ratio and split it:
#
# $$\operatorname{logit} D^*(x, y) = \log\frac{p_\text{data}(x,y)}{p_g(x,y)}
#   = \underbrace{\log\frac{p_\text{data}(y\mid x)}{p_g(y\mid x)}}_{\text{class term}}
#   + \underbrace{\log\frac{p_\text{data}(x)}{p_g(x)}}_{\text{unconditional term}}.$$
#
# If both conditionals are softmax classifiers on shared features, $p(y\mid x) \propto \exp(v_y^\top\phi(x))$,
# the class term is $(v^\text{data}_y - v^g_y)^\top \phi(x)$ plus a function of $x$ alone. So
#
# $$D(x, y) = \psi(\phi(x)) + e_D(y)^\top \phi(x):$$
#
# an unconditional critic $\psi(\phi(x))$ plus the inner product of a class embedding with
# D's features (`nets.ConditionalDCGANDiscriminator(mode="projection")`; $e_D$ starts at
# zero, i.e. as an unconditional D). Both variants are plain `nn.Module`s called as
# `G(z, labels)` and `D(x, labels)`, so the shared `gan.GAN` step trains them unchanged with
# batches `(images, labels)` from `data.TensorSampler`.
#
# **Evaluating a cGAN** asks two questions: is each sample good, and is it the class that
# was asked for? For the second, generate 100 digits per class and let an *independent*
# classifier (the course's evaluation network, 98.9% on held-out digits) read them: the
# **label accuracy**, overall and per class. For the first, the Fréchet distance (FD) of all
# samples to the held-out digits (held-out vs training digits: about 12; blurred digits:
# about 550), precision/recall, and the per-class FD ("intra-FD", which also catches a class
# that collapsed to a few styles). Losses and D's accuracy are not metrics.
#
# First the projection cGAN (it checkpoints: interrupt and rerun the cell to resume).

# %%
proj_model, proj_history = train_cgan("projection")
proj = evaluate(proj_model)
plotting.image_snapshots(proj_history, n=80, nrow=8)
plt.show()
print(f"projection cGAN, {steps} steps: label accuracy {proj['label_accuracy']:.3f}, FD {proj['fd']:.1f}, "
      f"intra-FD {proj['intra_fd_mean']:.1f}, precision {proj['precision']:.2f}, recall {proj['recall']:.2f}")
gu.record("projection", summary(proj))

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.1]})
plotting.image_grid(proj_model.snapshot(), nrow=8, ax=ax1, title="rows: requested class 0-9; columns: the same z")
conf = np.array(proj["confusion"])
ax2.imshow(conf / conf.sum(1, keepdims=True), cmap="Blues", vmin=0, vmax=1)
ax2.set_xlabel("class the evaluation network reads")
ax2.set_ylabel("class requested")
ax2.set_xticks(range(10))
ax2.set_yticks(range(10))
ax2.set_title("projection cGAN: who reads what")
plt.show()

# %%
assert proj["images"].shape == (10 * n_per_class, 1, 28, 28) and np.isfinite(proj["fd"])
assert all(np.isfinite(proj_history[k]).all() for k in ("d_loss", "g_loss"))
if cfg.asserts_quality:
    assert proj["label_accuracy"] >= 0.90, "the evaluation network reads the requested class in >= 90% of samples"
    assert proj["fd"] < 150 and proj["coverage"] == 10, "recognisable digits of every class"

# %% [markdown]
# **Exercise 07-optimal-logit** (derive). At the optimum, $\operatorname{logit} D^*(x, y) = \log p_\text{data}(x, y) /
# p_g(x, y)$. Suppose $p_\text{data}(y\mid x) = 0.8$, $p_g(y\mid x) = 0.4$ and $p_\text{data}(x) / p_g(x) = 1.5$.
# What is the logit?

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("07-optimal-logit")
def optimal_logit_solution():
    ### BEGIN SOLUTION
    return np.log(0.8 / 0.4) + np.log(1.5)  # class term + unconditional term = log 3
    ### END SOLUTION


# %%
my_optimal_logit = None  # a number
exercise.check("07-optimal-logit", my_optimal_logit)

# %% [markdown]
# **Exercise 07-projection-discriminator** (implement). Write the projection discriminator's output,
# `projection_logit(phi, psi, embed, labels)`: `phi` (N, F) are D's features $\phi(x)$, `psi` (N,) the unconditional
# output $\psi(\phi(x))$, `embed` (K, F) one embedding per class, `labels` (N,) the classes; return the logits (N,).

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("07-projection-discriminator")
def projection_logit_solution(phi, psi, embed, labels):
    ### BEGIN SOLUTION
    return psi + (embed[labels] * phi).sum(dim=1)  # each sample's own class vector, inner product over features
    ### END SOLUTION


# %%
def my_projection_logit(phi, psi, embed, labels):
    raise NotImplementedError  # your code here


projection_logit = exercise.check("07-projection-discriminator", my_projection_logit)

# %% [markdown]
# ## Concatenation vs projection discriminator
#
# Same generator, same seed, same number of steps; only the way D reads the label changes.

# %% [markdown]
# **Predict 07-predict-conditioning.** Before training the second model: with the same generator, seed and budget,
# which D will make the evaluation network read the requested class more often, `"concat"` or `"projection"`?

# %%
exercise.predict("07-predict-conditioning", None)  # replace None with your answer, then run the next cells

# %%
concat_model, concat_history = train_cgan("concat")
concat = evaluate(concat_model)
gu.record("concat", summary(concat))
results = {"concat": concat, "projection": proj}
print(f"{'':12s} {'label acc':>9s} {'FD':>7s} {'intra-FD':>9s} {'precision':>9s} {'recall':>7s}")
for name, r in results.items():
    print(f"{name:12s} {r['label_accuracy']:9.3f} {r['fd']:7.1f} {r['intra_fd_mean']:9.1f} {r['precision']:9.2f} {r['recall']:7.2f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 4), gridspec_kw={"width_ratios": [1, 1, 1.3]})
for ax, (name, model) in zip(axes, (("concat D", concat_model), ("projection D", proj_model))):
    plotting.image_grid(model.snapshot(), nrow=8, ax=ax, title=name)
x = np.arange(10)
for i, (name, r) in enumerate(results.items()):
    axes[2].bar(x + (i - 0.5) * 0.4, r["per_class_accuracy"], width=0.4, label=f"{name} D")
axes[2].axhline(0.9, color="k", lw=0.8, ls=":")
axes[2].set_xticks(x)
axes[2].set_xlabel("requested class")
axes[2].set_ylabel("label accuracy")
axes[2].set_ylim(0, 1.05)
axes[2].legend(frameon=False, loc="lower right")
plt.show()

# %%
assert np.isfinite(concat["fd"]) and len(concat["per_class_accuracy"]) == 10
if cfg.asserts_quality:
    assert proj["label_accuracy"] > concat["label_accuracy"], "projection D conditions faster on this budget"

# %%
exercise.reveal("07-predict-conditioning", "projection" if proj["label_accuracy"] > concat["label_accuracy"] else "concat",
                detail=f"label accuracy: projection {proj['label_accuracy']:.3f}, concat {concat['label_accuracy']:.3f}",
                supported=cfg.asserts_quality)

# %% [markdown]
# What the numbers mean. In the course's `quick` reference run (seed 0, 1,250 steps each) the projection
# D reached a label accuracy of 0.961<!--{{07_conditional_gan:projection/label_accuracy}}--> (FD 44.7<!--{{07_conditional_gan:projection/fd}}-->,
# intra-FD 128<!--{{07_conditional_gan:projection/intra_fd_mean}}-->) and the concatenation D 0.892<!--{{07_conditional_gan:concat/label_accuracy}}-->
# (FD 88.8<!--{{07_conditional_gan:concat/fd}}-->, intra-FD 229<!--{{07_conditional_gan:concat/intra_fd_mean}}-->); the numbers printed above are this run's. The projection D starts from the
# structure the derivation asks for: the class enters as an inner product with D's features, so
# D only has to learn good features φ and, per class, a direction in their space. The
# concatenation D must first discover, through its first-layer filters, that the second input
# channel matters and how it interacts with the strokes; on a short budget it conditions more
# slowly, and a sample of the wrong class that looks like *some* real digit is judged partly real,
# so G is pushed less hard towards the requested class. (The concatenation model's higher
# recall is not better conditioning: k-NN recall ignores labels, and its lower precision says
# more of its samples fall outside the real digits' manifold.) Both cover all ten digits. The
# assertion checks only the ordering of label accuracy, the claim these runs support; one seed
# and one budget do not rank the two designs in general (Miyato & Koyama report the same ordering
# on ImageNet).
#
# ### Why G and D use separate label embeddings
#
# A common question: both networks embed the same ten labels, so why not share one table?
#
# 1. **They have different shapes.** $e_G(y)$ is an input of G, sized like a part of $z$
#    (16 numbers next to 64 of noise). $e_D(y)$ in the projection D enters through
#    $e_D(y)^\top\phi(x)$, so it must live in the space of D's features: its size is D's
#    feature size. For the concatenation D it is a 28×28 label plane. The cell below prints
#    the three tables: each is sized for its own role (next to z, in D's feature space, as an image plane).
# 2. **They mean different things.** The derivation above says what D's embedding should
#    become: $e_D(y) = v^\text{data}_y - v^g_y$, the *difference* between the weight vectors of
#    a classifier of real digits and one of generated digits. It describes where G is still
#    wrong about class $y$, and it keeps changing as G improves. $e_G(y)$ is a code from which
#    G draws class $y$; it has no reason to point anywhere in D's feature space.
# 3. **Each player owns its parameters.** The game is min over G's parameters, max over
#    D's. A shared table would be moved by both optimizers for opposite purposes, and G could
#    lower its loss by moving the judge's class vectors instead of drawing better digits. The
#    shared training step encodes the ownership: `gan.GAN.g_step` freezes every parameter of D
#    while G is updated (`D.requires_grad_(False)`), so a table shared with D would silently
#    stay frozen in G's step and G could never adapt its own label code.
#
# Large conditional GANs follow the same rule: BigGAN shares one class embedding across G's
# layers, but D has its own projection embedding.

# %%
shapes = {"G (concatenated with z)": tuple(proj_model.G.embed.weight.shape),
          "projection D (one vector per class in φ's space)": tuple(proj_model.D.embed.weight.shape),
          "concat D (one 28x28 plane per class)": tuple(concat_model.D.embed.weight.shape)}
for name, shape in shapes.items():
    print(f"{name:50s} {shape}")
widths = [shape[1] for shape in shapes.values()]
assert widths == [embed_dim, 2 * width * 7 * 7, 28 * 28], "sized for z, for D's features, for the image: three roles"

# %% [markdown]
# ## Latent explorer
#
# **Why the input is noise.** G is a deterministic function: the same $(z, y)$ gives the same
# digit, bit for bit (checked below). All the variety of its samples comes from $z$:
# $p_g(x\mid y)$ is the push-forward of $\mathcal N(0, I)$ through $G(\cdot, y)$. The noise is
# only the source of randomness that G learns to shape — it is not G's "training data" (as
# seed 001 puts it); the training data are the real digits that D sees.
#
# **The explorer** (`ganutils.course.explorer.LatentExplorer`) shows what G did with $z$. Its current
# latent is $\operatorname{interp}(z_A, z_B, t) + \sum_k v_k d_k$: two seeds A and B, an
# interpolation slider $t$ (linear or spherical), and sliders $v_k$ along directions $d_k$
# of one of three bases:
#
# - `raw`: the coordinate axes of $z$;
# - `pca_z`: principal directions of sampled $z$ — for an isotropic prior every direction has
#   variance 1, so these are arbitrary (measured below);
# - `features` (GANSpace, Härkönen et al. 2020): principal directions of G's first-layer
#   activations over `n_fit` sampled latents (2,000 in `quick`), carried back to $z$ by least squares. They are the
#   directions along which G's internal representation varies most.
#
# A class dropdown swaps $y$ with $z$ fixed, "new seed" draws a new $z_A$, and $a - b + c$
# does vector arithmetic on seeds (a list of seeds is averaged, as DCGAN averaged three
# exemplars). Run this notebook in Jupyter to get the live widget; an executed copy shows
# the explorer's current image instead. Every control calls the same Python API used below
# (`set`, `set_class`, `interpolate`, `arithmetic`, `image`), which is what the tests drive.

# %%
ex = explorer.explorer_for(proj_model, n_fit=n_fit, seed=seed)
ex.set_class(3)
ex.show()
plt.show()

# %%
z0 = ex.z()
same = ex.render(torch.stack([z0, z0]), labels=[3, 3])
start = ex.image()
ex.set(direction=0, value=2.0)
moved = ex.image()
ex.set(direction=0, value=0.0).set_class(7)
swapped = ex.image()
ex.set_class(3)
print(f"same (z, y) twice: max |Δpixel| = {np.abs(same[0] - same[1]).max():.1e}; "
      f"direction 0 at +2: mean |Δpixel| = {np.abs(moved - start).mean():.3f}; class 3 -> 7: {np.abs(swapped - start).mean():.3f}")
# equal up to float rounding (a GPU may pick different kernels for two rows of one batch)
assert np.allclose(same[0], same[1], atol=1e-5), "G is deterministic: all randomness comes from z"
assert np.abs(moved - start).mean() > 0 and np.abs(swapped - start).mean() > 0, "the API changes the image"

# %% [markdown]
# ### Style in z, class in y
#
# Keep $z$ and swap the class: each row below is one $z$ drawn as every digit. If the cGAN
# separated *what* (the label) from *how* (the noise), slant, thickness and size carry over
# across the row. The evaluation network reads each swapped image.

# %%
n_swap = cfg.pick(2, 20, 50)  # latents, each drawn as all ten classes
swap_z = torch.stack([ex.seed_z(s) for s in range(seed, seed + n_swap)]).repeat_interleave(10, dim=0)
swap = torch.from_numpy(ex.render(swap_z, labels=list(range(10)) * n_swap))[:, None]
read = cmetrics.label_accuracy(swap * 2 - 1, torch.arange(10).repeat(n_swap))
plotting.image_grid(swap[:60], nrow=10, title="each row: one z, classes 0-9")
plt.show()
api_reads = [ex.set_class(c).classify()[0] for c in range(10)]  # the class dropdown, through the explorer's API
ex.set_class(3)
print(f"class swap: the evaluation network reads the requested class in {read['accuracy']:.1%} of {len(swap)} swapped images; "
      f"via the explorer, classes 0-9 of seed {ex.seed_a} are read as {api_reads}")
gu.record("explorer/class_swap_accuracy", read["accuracy"])
assert len(api_reads) == 10
if cfg.asserts_quality:
    assert read["accuracy"] >= 0.9 and len(set(api_reads)) >= 8, "swapping the class changes the digit the classifier reads"

# %% [markdown]
# ### Directions, not coordinates
#
# Where do attributes live in $z$? Take one easily measured attribute, **ink** (the mean
# brightness of a digit: stroke thickness and size), draw `n_fit` latents as one class, and
# ask how much of ink's variance one coordinate $z_i$ explains ($R^2$) versus the best
# *direction* (a least-squares fit). Both are fitted on half of the latents and scored on the
# other half, so the direction cannot win by overfitting.

# %%
g = torch.Generator().manual_seed(seed + 1)
z_fit = torch.randn(n_fit, z_dim, generator=g)
ink_fit = latent.ink(torch.from_numpy(ex.render(z_fit, labels=3)), scale="unit")
half = n_fit // 2
ink_dir = latent.attribute_direction(z_fit[:half], ink_fit[:half])
r2_direction = latent.r_squared(z_fit[half:] @ ink_dir, ink_fit[half:])
r2_coords = np.array([latent.r_squared(z_fit[half:, i], ink_fit[half:]) for i in range(z_dim)])
ex.set_basis("pca_z")
pca_z_top = float(ex.explained_variance[0])
ex.set_basis("features")
features_top = ex.explained_variance.tolist()
cos_ink = np.abs((ex.directions @ ink_dir).numpy())

fig, axes = plt.subplots(1, 3, figsize=(14, 3.4), gridspec_kw={"width_ratios": [1.2, 1, 1]})
axes[0].bar(range(z_dim), r2_coords, color="0.6", label="one coordinate $z_i$")
axes[0].axhline(r2_direction, color="C3", label="best direction")
axes[0].set_xlabel("coordinate i")
axes[0].set_ylabel("held-out $R^2$ for ink")
axes[0].legend(frameon=False)
axes[1].plot(range(1, len(features_top) + 1), features_top, "o-", label="G's first-layer features")
axes[1].axhline(1 / z_dim, color="0.5", ls=":", label="z: 1/64 each")
axes[1].plot([1], [pca_z_top], "s", color="0.3", label="top PC of sampled z")
axes[1].set_xlabel("principal direction")
axes[1].set_ylabel("share of variance")
axes[1].legend(frameon=False, fontsize=8)
sweep = np.linspace(-3, 3, 7)
strips = []
for k in range(3):
    for v in sweep:
        strips.append(ex.render(ex.z_a + v * ex.directions[k], labels=3)[0])
plotting.image_grid(torch.from_numpy(np.stack(strips))[:, None], nrow=len(sweep), ax=axes[2], scale="unit",
                    title="GANSpace directions 0-2, values -3..3")
plt.show()
print(f"ink: best single coordinate R² = {r2_coords.max():.3f} (z_{r2_coords.argmax()}), best direction R² = {r2_direction:.3f}")
print(f"share of variance of the top principal direction: sampled z {pca_z_top:.3f} (1/64 = {1 / z_dim:.3f}); "
      f"G's features {features_top[0]:.3f}; |cos| of GANSpace directions 0-5 with the ink direction: {np.round(cos_ink, 2).tolist()}")
gu.record("explorer/ink_r2", {"best_coordinate": r2_coords.max(), "direction": r2_direction})
gu.record("explorer/top_pc_share", {"sampled_z": pca_z_top, "features": features_top[0]})
assert 0 <= r2_direction <= 1 and len(features_top) == ex.n_directions
if cfg.asserts_quality:
    assert r2_direction > 2 * r2_coords.max(), "ink lies along a direction of z, not along one coordinate"
    assert pca_z_top < 2 / z_dim < features_top[0], "z is isotropic; G's features are not"

# %% [markdown]
# ### Interpolation: linear or spherical
#
# For $z \sim \mathcal N(0, I_d)$ the norm concentrates at $\sqrt d$ ($= 8$ here): samples live
# on a thin shell. The straight line between two such points cuts inside the shell — for two
# nearly orthogonal latents its midpoint has norm $\approx \sqrt{d/2}$, a region G never saw
# in training. Spherical interpolation (`slerp`, White 2016) walks along the great circle
# and keeps the norm.

# %% [markdown]
# **Exercise 07-midpoint-norm** (derive), before the measurement below: $z_a, z_b$ are independent draws from
# $\mathcal N(0, I_{64})$. Roughly what is $\|(z_a + z_b)/2\|$ divided by the typical norm of $z_a$? Two decimals are
# enough; the check compares with a Monte Carlo estimate.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("07-midpoint-norm")
def midpoint_norm_solution():
    ### BEGIN SOLUTION
    return 1 / np.sqrt(2)  # nearly orthogonal, both of norm ≈ √d: |a + b| ≈ √(2d), halved: √(d/2)
    ### END SOLUTION


# %%
my_midpoint_norm = None  # a number
exercise.check("07-midpoint-norm", my_midpoint_norm)

# %%
pairs = torch.randn(200, 2, z_dim, generator=torch.Generator().manual_seed(seed + 2))
mid_lin = latent.lerp(pairs[:, 0], pairs[:, 1], 0.5).norm(dim=1)
mid_sph = latent.slerp(pairs[:, 0], pairs[:, 1], 0.5).norm(dim=1)
ends = pairs.norm(dim=2).mean(1)
print(f"norm at the midpoint / mean norm of the endpoints: linear {(mid_lin / ends).mean():.3f}, slerp {(mid_sph / ends).mean():.3f}")
gu.record("explorer/midpoint_norm_ratio", {"linear": (mid_lin / ends).mean(), "slerp": (mid_sph / ends).mean()})
ex.new_seed(seed + 3).new_seed(seed + 4, which="b")
ts = np.linspace(0, 1, 9)
path = []
for mode in ("linear", "slerp"):
    path += [ex.interpolate(t, mode).image() for t in ts]
plotting.image_grid(torch.from_numpy(np.stack(path))[:, None], nrow=len(ts), scale="unit", title="seed A -> seed B: linear (top), slerp (bottom)")
plt.show()
ex.interpolate(0.0)
assert abs((mid_lin / ends).mean() - 2**-0.5) < 0.05 and abs((mid_sph / ends).mean() - 1) < 0.02

# %% [markdown]
# **Exercise 07-slerp** (implement). Write `slerp(a, b, t)` for (N, d) latents, row by row: the point at fraction t
# along the great circle from a to b, with linear interpolation where a and b are (anti)parallel.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("07-slerp")
def slerp_solution(a, b, t):
    ### BEGIN SOLUTION
    cos = (a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True))
    omega = torch.arccos(cos.clamp(-1, 1))
    sin = torch.sin(omega)
    safe = torch.where(sin.abs() > 1e-6, sin, torch.ones_like(sin))
    out = torch.sin((1 - t) * omega) / safe * a + torch.sin(t * omega) / safe * b
    return torch.where(sin.abs() > 1e-6, out, (1 - t) * a + t * b)  # parallel rows: lerp, the limit of slerp
    ### END SOLUTION


# %%
def my_slerp(a, b, t):
    raise NotImplementedError  # your code here


slerp_fn = exercise.check("07-slerp", my_slerp)
mid_yours = slerp_fn(pairs[:, 0], pairs[:, 1], 0.5).norm(dim=1)
print(f"norm at the midpoint / mean norm of the endpoints with your slerp: {(mid_yours / ends).mean():.3f}")

# %% [markdown]
# ### Vector arithmetic
#
# DCGAN's "smiling woman − neutral woman + neutral man" averaged the latents of three
# exemplars per concept. The same on digits: among `n_fit` latents drawn as 3s, average the
# three heaviest ($a$) and the three lightest ($b$); $a - b$ is a "more ink" vector. Add it to
# new latents $c$ and draw them as *any* class: if style lives in $z$, the result is a heavier
# version of the same digit.

# %%
order = torch.argsort(ink_fit)
heavy, light = z_fit[order[-3:]], z_fit[order[:3]]  # three exemplars each, as in DCGAN
ex.set_class(0).arithmetic(heavy, light, seed + 10)  # what the widget's "a − b + c" button does
api_result = ex.image()
n_c = cfg.pick(2, 20, 50)
z_c = torch.stack([ex.seed_z(s) for s in range(seed + 10, seed + 10 + n_c)]).repeat_interleave(10, dim=0)
classes = list(range(10)) * n_c
plain = ex.render(z_c, labels=classes)
result = ex.render(z_c + heavy.mean(0) - light.mean(0), labels=classes)
ink_plain = latent.ink(torch.from_numpy(plain), "unit")
ink_result = latent.ink(torch.from_numpy(result), "unit")
heavier = float((ink_result > ink_plain).float().mean())
pairs_shown = np.concatenate([plain[:10], result[:10], plain[10:20], result[10:20]])
plotting.image_grid(torch.from_numpy(pairs_shown)[:, None], nrow=10, scale="unit",
                    title="rows 1, 3: c drawn as 0-9; rows 2, 4: (heavy 3s) − (light 3s) + c")
plt.show()
print(f"a − b + c is heavier than c in {heavier:.0%} of {len(classes)} (latent, class) pairs; "
      f"mean ink {ink_plain.mean():.3f} -> {ink_result.mean():.3f}")
gu.record("explorer/arithmetic_heavier", heavier)
assert np.allclose(api_result, result[0], atol=1e-5), "the explorer's arithmetic is a − b + c on latents"
ex.new_seed(seed).set_class(3)
if cfg.asserts_quality:
    assert heavier >= 0.9, "the ink vector found on 3s transfers to every class"

# %% [markdown]
# ### What DCGAN's "window" experiment edited
#
# Seed 004 says DCGAN found "the latent dimensions that encode windows" and blanked them.
# Radford et al. (2016) did something else: they fitted a logistic regression on the
# **feature maps** of the generator's second-highest convolution layer, to find the maps
# that fire on windows, and dropped those maps; $z$ was not touched. The same surgery here:
# rank the 14×14 feature maps of our G by how well they track ink, zero the top few
# (`latent.ablate_channels`), and compare with zeroing as many random maps.

# %%
layer = proj_model.G.body.net[2]  # ReLU after the 14x14 transposed convolution: width feature maps
n_small = min(500, n_fit)
z_small, y_small = z_fit[:n_small], torch.arange(n_small) % 10
with latent.record_activations(layer) as acts:
    base = ex.render(z_small, labels=y_small.tolist())
maps = acts[0].mean(dim=(2, 3))  # (500, width): how strongly each map fires per digit
base_ink = latent.ink(torch.from_numpy(base), "unit")
corr = np.array([np.corrcoef(maps[:, j], base_ink)[0, 1] if maps[:, j].std() > 0 else 0.0 for j in range(maps.shape[1])])
k = max(width // 8, 1)
top = np.argsort(-np.nan_to_num(corr))[:k].tolist()
rand = np.random.default_rng(seed).choice(maps.shape[1], size=k, replace=False).tolist()
drops = {}
for name, chans in (("top ink maps", top), ("random maps", rand)):
    with latent.ablate_channels(layer, chans):
        edited = ex.render(z_small, labels=y_small.tolist())
    drops[name] = float((base_ink - latent.ink(torch.from_numpy(edited), "unit")).mean())
    if name == "top ink maps":
        shown = edited[:8]
plotting.image_grid(torch.from_numpy(np.concatenate([base[:8], shown]))[:, None], nrow=8, scale="unit",
                    title=f"top: G as trained; bottom: {k} ink-tracking feature maps zeroed (z unchanged)")
plt.show()
print(f"ink lost when zeroing {k} of {maps.shape[1]} feature maps: top ink maps {drops['top ink maps']:.4f}, "
      f"random maps {drops['random maps']:.4f}")
gu.record("explorer/feature_map_edit_ink_drop", drops)
if cfg.asserts_quality:
    assert drops["top ink maps"] > 2 * max(drops["random maps"], 0), "editing the right feature maps removes the attribute"

# %% [markdown]
# What the explorer shows (numbers of the `quick` calibration run; this run's are printed above):
#
# - **z is style, y is class.** Keeping z and swapping y, the evaluation network read the
#   requested class in 95.5% of the swapped images, with slant and thickness carried along the
#   row: the cGAN separated *what* from *how*.
# - **Attributes are directions.** Ink was explained by the best single coordinate with a
#   held-out R² of 0.07 and by the best direction with 0.79. The principal directions of sampled
#   z are arbitrary (the top one holds 2.1% of the variance, the isotropic 1/64 = 1.6% plus
#   sampling noise), while G's first-layer features have a dominant direction (18%): GANSpace
#   sliders move along directions G actually uses, raw coordinates mix several attributes.
# - **Interpolate on the sphere.** The linear midpoint of two latents has 0.71 of their norm
#   (the predicted 1/√2), slerp keeps it (1.00), so slerp stays where G was trained.
# - **Arithmetic transfers.** "heavy 3s − light 3s + c" made every one of 200 (latent, class)
#   pairs heavier, for all ten classes, with a vector found on 3s only.
# - **Edit features, not z.** Zeroing the 4 of 32 feature maps that track ink removed ink
#   (0.073 lost on average) where 4 random maps removed none (−0.020): DCGAN's window removal,
#   redone on digits.

# %% [markdown]
# **Sources** for what is quoted from the literature: the conditional objective: Mirza & Osindero
# (2014); the projection discriminator and its ordering against concatenation on ImageNet: Miyato &
# Koyama (2018), sec. 3 and 5; latent vector arithmetic averaged over three exemplars and the "window"
# feature-map experiment: Radford et al. (2016), sec. 6.3.
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("07_conditional_gan")
