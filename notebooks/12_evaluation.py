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
# # 12 · Evaluating generators: Fréchet distance, precision/recall, coverage
#
# A GAN has no likelihood, and its losses describe a game, not the samples (notebook 02). So
# generators are judged by comparing a few thousand of their samples with real data. This
# notebook calibrates the three metrics the course uses on image sets whose answer we *know*:
# real digits, blurred digits, noise, a single class, class averages, and a "generator" that
# memorised its training set. Each metric gets the cases it must rank correctly, and the
# cases where it is blind.
#
# **Why not Inception-FID?** The FID of the literature (Heusel et al. 2017) compares features of
# Inception-v3, an ImageNet classifier whose weights (~100 MB) are downloaded on first use;
# the machines that run this course have no network. Inception was also trained on colour
# photographs: on 28×28 digits its features say little. Instead the course trains its own
# small MNIST classifier (`ganutils.evalnet`: three conv blocks, 98.9% on held-out digits,
# 250 KB of weights shipped in the package) and uses its 64-d penultimate layer as the feature
# space. Those features encode what the classifier needs: digit identity, stroke shape and
# thickness, slant. They miss what it was trained to ignore (it was trained with small random
# shifts, rotations and shears, so those are nearly invisible) and pixel-level artefacts that
# do not change the class. And the numbers are on their own scale: compare them within this
# course, at the same sample size, never with published FIDs.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # the evaluation network is small: the CPU is fine
seed = 0
n_eval = None  # images per set (None: the profile's default; the held-out reference holds 1,000)
one_class = 1  # the digit of the single-class "generator"
blur_size = 3  # box-blur kernel of the blurred set
k = 3  # neighbours of the precision/recall manifolds (Kynkäänniemi et al. 2019)
min_confidence = 0.9  # digit coverage: a sample votes for its class only at this classifier confidence
fd_sizes = None  # sample sizes of the Fréchet-distance bias experiment (None: the profile's default)
fd_repeats = None  # random draws per sample size
solutions = False  # True plugs the exercises' reference solutions (the collapsed cells) into their checks

# %%
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

import ganutils as gu
from ganutils import data, metrics, plotting
from ganutils.metrics import evalnet, nearest_neighbour

cfg = gu.setup(profile, "cpu" if device is None else device, seed)
torch.set_num_threads(1)  # a small network and 1,000-image sets: one thread is as fast and leaves the machine free
n_eval = cfg.steps(n_eval, smoke=200, quick=1000, full=1000, name="n_eval")
fd_repeats = cfg.steps(fd_repeats, smoke=1, quick=3, full=10, name="fd_repeats")
fd_sizes = tuple(fd_sizes) if fd_sizes is not None else cfg.pick(smoke=(50, 200), quick=(50, 100, 200, 500, 1000),
                                                                   full=(50, 100, 200, 500, 1000))
if not 0 <= one_class <= 9:
    raise gu.GanutilsError(f"one_class={one_class!r} must be a digit 0..9")

train_set, held_out = data.load_mnist("train"), data.load_mnist("test")
net = evalnet.load_evalnet(cfg.device)  # the shipped evaluation network, shared by every metric below
print(f"evaluation network: {net.meta['accuracy']:.1%} on {net.meta['n_test']} held-out digits "
      f"(trained on {net.meta['n_train']}, {sum(p.numel() for p in net.parameters()):,} parameters)")
if n_eval > len(held_out) or max(fd_sizes) > len(held_out):
    raise gu.GanutilsError(f"n_eval={n_eval} and fd_sizes={fd_sizes} must be at most the {len(held_out)} held-out digits")
gen = torch.Generator().manual_seed(seed)
reference = held_out.images[torch.randperm(len(held_out), generator=gen)[:n_eval]]  # the "real data" every set is scored against

# %%
from ganutils.course import exercises

exercise = exercises.session("12_evaluation", solutions)  # this notebook's exercises; the checkpoint shows your progress

# %% [markdown]
# The test sets, each `n_eval` images in the GAN scale $[-1, 1]$ (the training digits are sorted
# by class, so every subset is drawn at random):
#
# | set | what it stands for |
# |---|---|
# | real | random training digits: a perfect generator (distinct images from the held-out reference) |
# | memoriser | a "generator" that replays training digits it has stored, drawn at random with replacement |
# | blurred | the real set through a 3×3 box blur: right content, wrong sharpness |
# | one class | only the digit `one_class` (at most the 400 the training set has): perfect quality, total mode collapse |
# | class averages | the ten class-mean images, repeated: the blurry "average digit" a regression would output |
# | noise | uniform noise: nothing right |

# %%
real = train_set.images[torch.randperm(len(train_set), generator=gen)[:n_eval]]
sets = {
    "real": real,
    "memoriser": train_set.images[torch.randint(len(train_set), (n_eval,), generator=gen)],
    "blurred": F.avg_pool2d(real, blur_size, stride=1, padding=blur_size // 2, count_include_pad=False),
    "one class": train_set.images[train_set.labels == one_class][:n_eval],
    "class averages": torch.stack([train_set.images[train_set.labels == c].mean(0) for c in range(10)])[
        torch.arange(n_eval) % 10],
    "noise": torch.rand(n_eval, 1, 28, 28, generator=gen) * 2 - 1,
}
fig, axes = plt.subplots(1, len(sets), figsize=(2.2 * len(sets), 2.6))
for ax, (name, images) in zip(axes, sets.items()):
    plotting.image_grid(images[torch.randperm(len(images), generator=torch.Generator().manual_seed(1))[:16]], nrow=4,
                        ax=ax, title=name)
plt.show()
for name, images in sets.items():
    assert images.shape[1:] == (1, 28, 28) and images.min() >= -1 and images.max() <= 1, name


# %% [markdown]
# ## Frechet distance on a small classifier
#
# Fit a Gaussian to the features of each set (mean $\mu$, covariance $\Sigma$) and take the
# *squared* Fréchet (2-Wasserstein) distance between the two Gaussians (Heusel et al. write it $d^2$):
#
# $$\mathrm{FD} = \lVert\mu_r-\mu_g\rVert^2 + \mathrm{Tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big).$$
#
# The first term sees a shift of the average sample, the second a wrong spread (too little
# variety, or too much). In a few lines:

# %% [markdown]
# **Exercise 12-frechet-distance** (implement), before the course's version below: write
# `frechet_distance(f1, f2)` for two NumPy feature arrays (N1, d) and (N2, d): fit a Gaussian to each and return
# $\lVert\mu_1-\mu_2\rVert^2 + \mathrm{Tr}(\Sigma_1+\Sigma_2-2(\Sigma_1\Sigma_2)^{1/2})$ as a float.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("12-frechet-distance")
def frechet_distance_solution(f1, f2):
    ### BEGIN SOLUTION
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)  # features are columns
    covmean = scipy.linalg.sqrtm(s1 @ s2).real  # the matrix square root; rounding can add tiny imaginary parts
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    ### END SOLUTION


# %%
def my_frechet_distance(f1, f2):
    raise NotImplementedError  # your code here


frechet_distance_fn = exercise.check("12-frechet-distance", my_frechet_distance)

# %% [markdown]
# **Exercise 12-fd-of-gaussians** (derive). Real features $\sim \mathcal N(0, I_2)$, generated ones
# $\sim \mathcal N(\mu, 4 I_2)$ with $\lVert\mu\rVert^2 = 1$. What is their Fréchet distance? (The check computes it with
# the course's `frechet_distance_from_features` on point sets whose sample moments are exactly these.)

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("12-fd-of-gaussians")
def fd_of_gaussians_solution():
    ### BEGIN SOLUTION
    return 1 + 2 * (1 + 4 - 2 * np.sqrt(1 * 4))  # |μ|² + Tr(I + 4I - 2·2I), the trace of I₂ being 2
    ### END SOLUTION


# %%
my_fd_of_gaussians = None  # a number
exercise.check("12-fd-of-gaussians", my_fd_of_gaussians)

# %% [markdown]
# **Predict 12-predict-memoriser.** Before the distances are computed: the "memoriser" replays stored training digits.
# Compared with genuinely new real digits, its FD to the held-out digits will be `"much higher"`, `"about the same"` or
# `"much lower"`?

# %%
exercise.predict("12-predict-memoriser", None)  # replace None with your answer, then run the next cells

# %%
def frechet_distance_inline(f1, f2):
    """The FID formula on two (N, d) feature arrays (for teaching; the course uses the tested version)."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real  # the matrix square root of a product of two PSD matrices
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


feats_ref = evalnet.features(reference, model=net).double().numpy()  # (n_eval, 64): the penultimate layer, before its ReLU
feats = {name: evalnet.features(images, model=net).double().numpy() for name, images in sets.items()}
fd = {name: metrics.frechet_distance_from_features(f, feats_ref) for name, f in feats.items()}
fd_inline = frechet_distance_inline(feats["real"], feats_ref)
print(f"real vs held-out: inline {fd_inline:.4f}, ganutils {fd['real']:.4f}")
assert abs(fd_inline - fd["real"]) <= 1e-6 * max(1.0, fd["real"])  # the tested version computes the same formula
assert all(np.isfinite(v) and v >= 0 for v in fd.values())

# %% [markdown]
# `ganutils.metrics.frechet.frechet_distance_from_features` is that formula in float64, with the
# small diagonal nudge pytorch-fid applies when $\Sigma_r\Sigma_g$ is singular;
# `metrics.frechet_distance` / `evaluate_images` compute the same number through
# torchmetrics' `FrechetInceptionDistance` with our network plugged in as its feature extractor
# (`tests/test_image_metrics.py` checks that the two agree). The distances of every set to the
# held-out reference:

# %%
for name, value in fd.items():
    gu.record(f"fd/{name.replace(' ', '_')}", value)
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.barh(list(fd), list(fd.values()), color="tab:blue")
ax.set_xscale("log")
ax.invert_yaxis()
ax.set_xlabel(f"Fréchet distance to {n_eval} held-out digits (log scale)")
plt.show()

# %%
if cfg.asserts_quality:
    assert fd["real"] < 30, fd  # two samples of the same distribution: only the estimation noise and bias
    assert fd["real"] < fd["blurred"] < fd["noise"], fd  # the ordering any image metric must get right
    assert fd["one class"] > 10 * fd["real"] and fd["class averages"] > 10 * fd["real"], fd
    assert fd["memoriser"] < 2 * fd["real"], fd  # replayed training digits look as good as real ones

# %%
memoriser_ratio = fd["memoriser"] / fd["real"]
memoriser_fd = "much higher" if memoriser_ratio > 2 else "much lower" if memoriser_ratio < 0.5 else "about the same"
exercise.reveal("12-predict-memoriser", memoriser_fd, detail=f"FD memoriser {fd['memoriser']:.1f} vs real {fd['real']:.1f}",
                supported=cfg.asserts_quality)

# %% [markdown]
# Real digits sit near zero, blur costs an order of magnitude and more, noise three orders:
# the ordering is right. A single class and the class averages are far away although every
# image in them looks like (or is) a digit: the covariance term punishes missing variety. And
# the **memoriser scores like real data**: FD compares distributions, and copies of the
# training set have the training distribution. It cannot tell generalisation from memorisation
# (precision and recall cannot either, below; a nearest-neighbour check can).
#
# **FD depends on the sample size.** The sample covariance of $N$ points is a noisy estimate,
# and the noise only adds distance, so FD is biased upwards, roughly like $1/N$. Real vs real
# at several sizes:

# %%
feats_train = evalnet.features(train_set.images, model=net).double().numpy()
feats_held = evalnet.features(held_out.images, model=net).double().numpy()
bias = {n: [] for n in fd_sizes}
for n in fd_sizes:
    for r in range(fd_repeats):
        g = torch.Generator().manual_seed(seed * 1000 + r)
        a = torch.randperm(len(feats_train), generator=g)[:n].numpy()
        b = torch.randperm(len(feats_held), generator=g)[:n].numpy()
        bias[n].append(metrics.frechet_distance_from_features(feats_train[a], feats_held[b]))
fd_by_n = {n: float(np.mean(v)) for n, v in bias.items()}
for n, value in fd_by_n.items():
    gu.record(f"fd_bias/real_vs_real_n{n}", value)
fig, ax = plt.subplots(figsize=(5, 3))
ax.errorbar(list(fd_by_n), list(fd_by_n.values()), yerr=[np.std(v) for v in bias.values()], marker="o", capsize=3)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("images per set (N)")
ax.set_ylabel("FD, real vs real")
ax.set_title(f"FD bias: mean ± sd over {fd_repeats} draws")
plt.show()
assert all(np.isfinite(v).all() for v in bias.values())
if cfg.asserts_quality:
    assert fd_by_n[min(fd_sizes)] > 3 * fd_by_n[max(fd_sizes)], fd_by_n

# %% [markdown]
# Two *identical* distributions score an FD that falls by more than an order of magnitude as
# $N$ grows from 50 to 1,000, and the spread between draws is large at small $N$. Rule: compare
# FDs only at the same $N$ (the course uses 1,000 vs the 1,000 held-out digits), and quote the
# real-vs-real value at that $N$ as the floor no model can beat.
#
# **Seed 002's "reconstruction error (MSE or SSIM) against real data" is not a GAN metric.** An
# unconditional sample has no paired target; the only target one can pick is the *closest*
# real image. Score every set that way (`nearest_neighbour.nearest_mse`, pixel MSE in $[-1, 1]$
# to the nearest held-out digit):

# %% [markdown]
# **Predict 12-predict-blur-mse.** Before the next cell: in pixel MSE to the nearest real digit, which set is closer to
# the real data, `"the real digits"` or `"the blurred digits"`?

# %%
exercise.predict("12-predict-blur-mse", None)  # replace None with your answer, then run the next cell

# %%
nearest = {name: nearest_neighbour.nearest_mse(sets[name], reference)[0].mean().item()
           for name in ("real", "blurred", "class averages", "noise")}
for name, value in nearest.items():
    gu.record(f"nearest_real_mse/{name}", value)
    print(f"{name:15s} MSE to the nearest real digit {value:.3f}   FD {fd[name]:9.1f}")
if cfg.asserts_quality:
    # MSE ranks the blurry sets as *better* than real digits; FD ranks them worse
    assert nearest["blurred"] < nearest["real"] and nearest["class averages"] < nearest["real"], nearest
    assert fd["blurred"] > fd["real"] and fd["class averages"] > fd["real"], fd

# %%
exercise.reveal("12-predict-blur-mse", "the blurred digits" if nearest["blurred"] < nearest["real"] else "the real digits",
                detail=f"MSE to the nearest real digit: blurred {nearest['blurred']:.3f}, real {nearest['real']:.3f}",
                supported=cfg.asserts_quality)

# %% [markdown]
# The blurred digits and the ten class averages are *closer* in MSE to real digits than real
# digits are to each other: a blurry average is never far from anything, while a crisp digit
# is far from every other crisp digit that differs in a few strokes. A pixel error therefore
# rewards exactly the blur that GANs are used to avoid. MSE, L1, PSNR and SSIM are right only
# where a paired ground truth exists (pix2pix, notebook 08; a VAE's reconstructions,
# notebook 06); generated samples are judged as a distribution.

# %% [markdown]
# ## Precision and recall
#
# FD mixes two failures into one number: bad samples (low *fidelity*) and missing variety (low
# *diversity*). Kynkäänniemi et al. (2019) separate them with k-nearest-neighbour manifolds in
# feature space. Around each real feature put a ball whose radius is the distance to its
# $k$-th nearest real neighbour ($k=3$); the union of balls approximates the real manifold.
#
# - **precision** = share of generated samples inside the real manifold (are they realistic?);
# - **recall** = share of real samples inside the manifold built the same way from the
#   generated features (is all of the data covered?).

# %% [markdown]
# **Exercise 12-knn-precision** (implement). Write `knn_precision(fake, real, k=3)` for feature tensors (N_fake, d) and
# (N_real, d): around every real point a ball reaching its k-th nearest *other* real point; return the fraction of fakes
# inside at least one ball.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("12-knn-precision")
def knn_precision_solution(fake, real, k=3):
    ### BEGIN SOLUTION
    radii = torch.cdist(real, real).topk(k + 1, dim=1, largest=False).values[:, k]  # column 0 is the point itself
    inside = (torch.cdist(fake, real) <= radii[None, :]).any(dim=1)
    return inside.double().mean().item()
    ### END SOLUTION


# %%
def my_knn_precision(fake, real, k=3):
    raise NotImplementedError  # your code here


knn_precision = exercise.check("12-knn-precision", my_knn_precision)

# %%
pr = {name: metrics.precision_recall_from_features(f, feats_ref, k=k) for name, f in feats.items()}
fig, ax = plt.subplots(figsize=(4.5, 4))
for name, (p, r) in pr.items():
    gu.record(f"precision/{name.replace(' ', '_')}", p)
    gu.record(f"recall/{name.replace(' ', '_')}", r)
    ax.scatter(r, p, s=40)
    ax.annotate(name, (r, p), textcoords="offset points", xytext=(5, 3))
ax.set_xlim(-0.05, 1.05)
ax.set_ylim(-0.05, 1.05)
ax.set_xlabel("recall (diversity)")
ax.set_ylabel("precision (fidelity)")
plt.show()
assert all(0 <= v <= 1 for pair in pr.values() for v in pair)

# %%
if cfg.asserts_quality:
    assert min(pr["real"]) > 0.75, pr["real"]  # real vs real: ~0.87/0.88, the ceiling at this N and k
    assert max(pr["noise"]) < 0.05, pr["noise"]  # nothing realistic, nothing covered
    assert pr["one class"][0] > 0.75 and pr["one class"][1] < 0.3, pr["one class"]  # realistic but collapsed
    assert pr["blurred"][1] < 0.1 < pr["blurred"][0], pr["blurred"]  # the real manifold is not covered by blur
    assert min(pr["memoriser"]) > 0.75, pr["memoriser"]  # copies are as realistic and as varied as real digits

# %% [markdown]
# The two axes separate what FD conflated. One class: high precision (every sample is a real
# digit), recall near the share of that class among the real digits. Blurred digits: most land
# near *some* real digit's features (the classifier still reads them), but the manifold they
# span misses almost all real digits, so recall collapses. Noise: both zero. The memoriser again
# scores like real data.
#
# **Memorisation needs a nearest-neighbour check against the training set.** No metric that
# compares a sample set with held-out data can see it. Measure, for each sample, the pixel
# MSE to its nearest *training* digit (`nearest_neighbour.memorised_fraction` counts those
# below 1e-3, an RMS error of 0.03, far below the closest pair of distinct digits):

# %%
mse_held, idx_held = nearest_neighbour.nearest_mse(reference, train_set.images)
mse_mem, _ = nearest_neighbour.nearest_mse(sets["memoriser"], train_set.images)
memorised = {"held-out digits": nearest_neighbour.memorised_fraction(reference, train_set.images),
             "memoriser": nearest_neighbour.memorised_fraction(sets["memoriser"], train_set.images)}
for name, value in memorised.items():
    gu.record(f"memorised_fraction/{name}", value)
gu.record("nearest_train_mse/held_out_min", mse_held.min().item())
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [1.2, 1]})
bins = np.linspace(0, float(mse_held.max()), 40)
ax0.hist(mse_held.numpy(), bins=bins, alpha=0.7, label="held-out digits (new)")
ax0.hist(mse_mem.numpy(), bins=bins, alpha=0.7, label="memoriser")
ax0.axvline(nearest_neighbour.MEMORISED_MSE, color="k", ls="--", lw=1)
ax0.set_xlabel("pixel MSE to the nearest training digit")
ax0.legend()
pairs = torch.cat([reference[:8], train_set.images[idx_held[:8]]])
plotting.image_grid(pairs, nrow=8, ax=ax1, title="held-out digits (top), nearest training digit (bottom)")
plt.show()
assert memorised["memoriser"] == 1.0  # every replayed digit is an exact copy
if cfg.asserts_quality:
    assert memorised["held-out digits"] == 0.0, mse_held.min()  # genuinely new digits are never copies

# %% [markdown]
# Every memoriser sample sits at distance zero from a training digit; no held-out digit comes
# close, although each has a near-twin in the training set (right). A real check also looks
# at near-copies (small shifts, crops), usually in feature space, and at the nearest neighbours
# by eye; a GAN trained on 4,000 digits for long enough *will* start to replay them.

# %% [markdown]
# ## Digit coverage
#
# On data with known modes, count them. The classifier labels every sample; a sample **votes**
# for its class only if the classifier is at least `min_confidence` (0.9) sure, so ambiguous
# scribbles do not count; a class is **covered** if it holds at least 2% of the votes (a fifth
# of its fair share), which keeps the classifier's own ~1% errors from inventing classes. The KL
# divergence of the vote histogram to uniform (0 … log 10 nats) measures the imbalance.

# %%
cov = {name: metrics.digit_coverage(sets[name], min_confidence=min_confidence, model=net) for name in sets}
literal = metrics.digit_coverage(sets["one class"], min_confidence=0.0, min_fraction=0.0, model=net)
for name, c in cov.items():
    gu.record(f"coverage/{name.replace(' ', '_')}", c["coverage"])
    gu.record(f"class_kl/{name.replace(' ', '_')}", c["class_kl"])
gu.record("coverage/one class, no thresholds", literal["coverage"])
print(f"{'set':15s} {'coverage':>8s} {'class KL':>8s} {'votes':>6s} {'confidence':>10s}")
for name, c in cov.items():
    print(f"{name:15s} {c['coverage']:8d} {c['class_kl']:8.3f} {c['confident_fraction']:6.1%} {c['confidence']:10.3f}")
print(f"one class, counting every argmax: {literal['coverage']} digits {literal['class_counts']}")

thresholds = np.linspace(0.0, 0.999, 40)
fig, ax = plt.subplots(figsize=(5, 3))
for name in ("real", "blurred", "class averages", "noise"):
    top = evalnet.classify(sets[name], model=net).max(dim=1).values
    ax.plot(thresholds, [(top >= t).float().mean().item() for t in thresholds], label=name)
ax.axvline(min_confidence, color="k", ls="--", lw=1)
ax.set_xlabel("min_confidence")
ax.set_ylabel("share of samples that vote")
ax.legend()
plt.show()
assert all(0 <= c["coverage"] <= 10 for c in cov.values())

# %%
if cfg.asserts_quality:
    assert cov["real"]["coverage"] == 10 and cov["memoriser"]["coverage"] == 10, cov
    assert cov["one class"]["coverage"] == 1, cov["one class"]  # the collapse is counted exactly
    assert cov["one class"]["class_kl"] > 0.9 * np.log(10) > 20 * cov["real"]["class_kl"], (cov["one class"], cov["real"])
    # coverage alone is fooled: the classifier reads noise confidently as a digit; precision is what rejects it
    assert cov["noise"]["coverage"] >= 1 and cov["noise"]["confidence"] > 0.9 and pr["noise"][0] < 0.05, cov["noise"]

# %% [markdown]
# Coverage counts the one-class collapse exactly (1 of 10, class KL ≈ log 10) where FD only said
# "far". Without the thresholds the same perfect 1s score more than one class, because the
# classifier reads a few of them as 7s. Two limits: coverage only knows the ten labels (a
# generator drawing only upright, thin 4s covers the class "4"), and it trusts the classifier,
# which reads uniform noise as an 8 with near-total confidence: the threshold cannot help, since
# the classifier is *sure*. Noise has coverage 1, like the perfect single class; precision (0)
# is what tells them apart.
#
# What each metric saw, on the same sets:

# %%
print(f"{'set':15s} {'FD':>9s} {'precision':>9s} {'recall':>7s} {'coverage':>8s}")
for name in sets:
    print(f"{name:15s} {fd[name]:9.1f} {pr[name][0]:9.3f} {pr[name][1]:7.3f} {cov[name]['coverage']:8d}")
print(f"memorised: {memorised}")

# %% [markdown]
# Report all three, at a fixed $N$, with the real-vs-real values beside them, plus a
# nearest-neighbour check for memorisation: FD for one overall number, precision and recall to
# tell blur from collapse, coverage to count modes. Notebooks 02, 03 and 05 use exactly these
# functions (`ganutils.metrics.images.evaluate_images`).

# %% [markdown]
# **Sources** for what is quoted from the literature: FID and its formula, $d^2$ between two
# Gaussians fitted to Inception features: Heusel et al. (2017), the paragraph that defines the FID; precision and recall with k-NN manifolds, k = 3: Kynkäänniemi et al. (2019), sec. 2-3; the
# Inception Score: Salimans et al. (2016), sec. 4. Every number measured here comes from the course's
# own evaluation network.
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("12_evaluation")
