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
# # 11 · Super-resolution: the GAN application that survived
#
# Diffusion models replaced GANs for open-ended generation (notebook 10), but adversarial losses are
# still shipped wherever an output is tied to an input and must come out in one pass: upscalers
# (ESRGAN, Real-ESRGAN, the GigaGAN upsampler, AuraSR), face restoration (GFPGAN), and the
# autoencoder inside Stable Diffusion. This notebook measures the two ideas those models rest on, on
# x4 super-resolution of digits (7x7 -> 28x28):
#
# 1. why a pixel loss gives blurry outputs, and what a perceptual loss and an adversarial loss buy:
#    the *perception-distortion trade-off* (Blau & Michaeli 2018), as a measured plot;
# 2. Real-ESRGAN's point (Wang et al. 2021): a network trained on bicubic downsampling fails on
#    realistically degraded inputs; training on a high-order degradation model is the fix.
#
# The code lives in `ganutils.nets.sr`, `ganutils.training.super_resolution`, `ganutils.losses.perceptual`,
# `ganutils.data.degradations` (tested in `tests/test_super_resolution.py`) and
# `ganutils.experiments.super_resolution`; this notebook explains and calls them.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # None: CUDA when available, else the CPU
seed = 0
scale = 4  # the upscaling factor; it must divide 28 (and SRNet upsamples by powers of 2)
pretrain_steps = None  # the L1 network every variant starts from (None: smoke 4, quick 300, full 5000)
finetune_steps = None  # steps of each variant after that (None: smoke 4, quick 200, full 5000)
width = 32  # channels of the SR network
blocks = 4  # residual blocks of the SR network
perceptual_weight = 1.0  # Real-ESRGAN's x4plus weights: L1 1, perceptual 1, adversarial 0.1
adversarial_weight = 0.1
n_test = None  # held-out digits every model is scored on (None: smoke 100, quick 1000, full 1000)
n_degraded = None  # training digits given a degraded input, one random draw each (None: smoke 64, quick 2000, full all)
threads = None  # torch threads (None: 1 in smoke and quick, where a busy 2-core machine makes threads wait on each other; every core in full)

# %%
import copy
import re
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import data, metrics, plotting, training
from ganutils.data import degradations as dg
from ganutils.experiments import super_resolution as sr
from ganutils.metrics.cost import forward_flops

cfg = gu.setup(profile, device, seed)


def metric_key(label):
    """A metric key without spaces, so that answers can quote it: "GAN, G faster" -> "gan_g_faster"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


torch.set_num_threads(cfg.steps(threads, smoke=1, quick=1, full=torch.get_num_threads(), name="threads"))
pretrain_steps = cfg.steps(pretrain_steps, smoke=4, quick=300, full=5000, name="pretrain_steps")
finetune_steps = cfg.steps(finetune_steps, smoke=4, quick=200, full=5000, name="finetune_steps")
n_test = cfg.steps(n_test, smoke=100, quick=1000, full=1000, name="n_test")
losses = {name: dict(w) for name, w in sr.LOSSES.items()}
losses["L1 + perceptual"]["perceptual"] = losses["L1 + perceptual + adversarial"]["perceptual"] = float(perceptual_weight)
losses["L1 + perceptual + adversarial"]["adversarial"] = float(adversarial_weight)
setup = dict(scale=scale, width=width, blocks=blocks)
train_set, test_set = data.load_mnist("train"), data.load_mnist("test", verbose=False)
order = torch.randperm(len(test_set.images), generator=torch.Generator().manual_seed(seed))[:n_test]  # test digits may be sorted
hr_train, hr_test, labels = train_set.images, test_set.images[order], test_set.labels[order]
lr_train, lr_test = sr.bicubic_inputs(hr_train, scale), sr.bicubic_inputs(hr_test, scale)
n_degraded = min(cfg.steps(n_degraded, smoke=64, quick=2000, full=len(hr_train), name="n_degraded"), len(hr_train))
feature_net = metrics.load_evalnet(cfg.device)
print(f"x{scale}: {tuple(lr_test.shape[-2:])} -> {tuple(hr_test.shape[-2:])}; L1 pre-training {pretrain_steps} steps, "
      f"then {finetune_steps} steps per variant; {len(hr_train)} training digits, {n_test} held-out digits")

# %% [markdown]
# ## The task, and the baseline to beat
#
# The low-resolution input is the 28x28 digit downsampled by bicubic interpolation to 7x7
# (antialiased, the way benchmark LR images are made). The baseline is bicubic interpolation back up.
# A scale that does not divide the image size gets one clear line instead of a silently cropped image:

# %%
try:
    dg.bicubic_down(sr.to_unit(hr_test[:1]), 3)
except gu.GanutilsError as err:
    print("scale 3:", err)

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
plotting.image_grid(hr_test[:16], nrow=4, ax=axes[0], title="true 28x28")
plotting.image_grid(torch.nn.functional.interpolate(lr_test[:16], scale_factor=scale, mode="nearest"), nrow=4, ax=axes[1],
                    title=f"input {28 // scale}x{28 // scale} (pixels enlarged)")
plotting.image_grid(sr.interpolate(lr_test[:16], scale), nrow=4, ax=axes[2], title="bicubic interpolation")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Why a pixel loss blurs, and the trade-off it cannot escape
#
# Many 28x28 digits shrink to the same 7x7 input. A network trained with an L2 loss outputs, for each
# input, the *mean* of the plausible high-resolution images; with an L1 loss, their per-pixel median.
# An average of differently placed sharp strokes is a soft, wide stroke: the minimum-distortion answer
# is not itself a plausible digit. Blau & Michaeli (2018) make this exact. Let distortion be the
# expected error $\mathbb E\,\Delta(X, \hat X)$ (e.g. MSE, hence PSNR) and perceptual quality a
# divergence $d(p_X, p_{\hat X})$ between the distribution of outputs and that of real images, the
# quantity a discriminator estimates. The best perceptual quality reachable at distortion at most $D$,
#
# $$P(D) = \min_{p_{\hat X \mid Y}} d(p_X, p_{\hat X}) \quad \text{s.t.} \quad \mathbb E\,\Delta(X, \hat X) \le D,$$
#
# is non-increasing in $D$ (and convex when $d$ is convex in its second argument; their Theorem 1):
# below some distortion, better perception *requires* more distortion. No architecture removes the
# trade-off; a loss only chooses a point near the bound. SRGAN (Ledig et al. 2017) added a perceptual
# loss (distances between VGG features) and an adversarial loss (a discriminator between outputs and
# real images) to the pixel loss; ESRGAN (Wang et al. 2018) and Real-ESRGAN keep that recipe, and
# Real-ESRGAN's training configuration weighs the L1, perceptual and adversarial terms 1 : 1 : 0.1.
#
# **What we train.** An ESRGAN-style network: convolutions and residual blocks without BatchNorm at
# 7x7, two nearest-neighbour x2 upsampling steps, and a global skip from the bicubic interpolation.
# Three losses:
#
# * **L1**: the PSNR-oriented network (Real-ESRGAN's first stage, "Real-ESRNet");
# * **+ perceptual**: L1 distances between the conv features (after BatchNorm, before ReLU, as ESRGAN
#   takes VGG's before the activation) of the course's evaluation network, which stands in for VGG
#   (ImageNet weights cannot be downloaded here);
# * **+ adversarial**: plus a non-saturating GAN loss from the course's DCGAN discriminator, which sees
#   real and super-resolved 28x28 digits.
#
# As in Real-ESRGAN, the L1 network trains first and every variant continues from its weights for the
# same number of steps, so the three differ only in the loss. **How we measure.** Distortion: PSNR
# against the true digit. Perception, two ways: the sharpness (variance of the Laplacian; real digits
# set the reference) and the Fréchet distance on the evaluation network (FD). The FD is *not* an
# independent judge of the perceptual loss, which trains on the same network's features; the
# sharpness shares nothing with any loss. Last, whether the evaluation network still reads the right
# digit.

# %%
def fit(model, lr_images, hr_images, steps, name, sampler_seed):
    return training.train(model, sr.sampler(lr_images, hr_images, seed=sampler_seed, device=model.device), steps=steps,
                          desc=name)


tic = time.perf_counter()
pre = sr.build("L1", seed=seed, device=cfg.device, **setup)
fit(pre, lr_train, hr_train, pretrain_steps, "L1 pre-training", seed)
init = copy.deepcopy(pre.G.state_dict())

models = {}
for name, weights in losses.items():
    models[name] = sr.build(name, weights=weights, feature_net=feature_net, init=init, seed=seed, device=cfg.device, **setup)
    fit(models[name], lr_train, hr_train, finetune_steps, name, seed + 1)
train_seconds = time.perf_counter() - tic
sr_flops = forward_flops(pre.G, lr_test[:10].to(cfg.device)) / 10  # one forward pass per image, whatever the loss
print(f"the SR network: {sum(p.numel() for p in pre.G.parameters()):,} parameters, {sr_flops / 1e6:.1f} MFLOP per 28x28 output")
gu.record("sr_flops_per_image", sr_flops, quiet=True)

outputs = {"bicubic interpolation": sr.interpolate(lr_test, scale)}
outputs.update({name: m.upscale(lr_test) for name, m in models.items()})
scores = {name: sr.evaluate(x, hr_test, labels) for name, x in outputs.items()}
real_sharpness = metrics.sharpness.laplacian_variance(hr_test).mean().item()
for name, s in scores.items():
    print(f"{name:30s} PSNR {s['psnr']:5.2f} dB   FD {s['fd']:7.1f}   sharpness {s['sharpness']:.3f}   "
          f"digit read right {s['digit_accuracy']:.1%}")
print(f"{'true digits':30s} sharpness {real_sharpness:.3f}   (training took {train_seconds:.0f} s on this machine)")
gu.record("tradeoff", {metric_key(name): s for name, s in scores.items()}, quiet=True)
gu.record("real_sharpness", real_sharpness, quiet=True)
gu.record("sr_train_seconds", train_seconds, quiet=True)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for name, s in scores.items():
    for ax, metric in zip(axes, ("fd", "sharpness")):
        ax.scatter(s["psnr"], s[metric], s=40)
        ax.annotate(name, (s["psnr"], s[metric]), fontsize=7, xytext=(4, 4), textcoords="offset points")
axes[0].set_ylabel("FD to true digits (lower: closer in distribution)")
axes[0].set_yscale("log")
axes[1].axhline(real_sharpness, color="k", ls=":", label="true digits")
axes[1].set_ylabel("sharpness (Laplacian variance)")
axes[1].legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("PSNR, dB (higher: less distortion)")
fig.suptitle("the perception-distortion plane: up-left is the impossible corner", fontsize=10)
fig.tight_layout()
plt.show()

fig, axes = plt.subplots(1, len(outputs) + 1, figsize=(2.6 * (len(outputs) + 1), 2.9))
for ax, (name, x) in zip(axes, [("true", hr_test), *outputs.items()]):
    plotting.image_grid(x[:16], nrow=4, ax=ax, title=name.replace(" + ", "\n+ "))
fig.tight_layout()
plt.show()

# %%
l1_s, perc_s, adv_s = (scores[name] for name in losses)
bic_s = scores["bicubic interpolation"]
assert all(np.isfinite(s["psnr"]) and np.isfinite(s["fd"]) for s in scores.values())
assert all(x.shape == hr_test.shape and x.min() >= -1 and x.max() <= 1 for x in outputs.values())
if cfg.asserts_quality:
    for name in losses:
        assert scores[name]["psnr"] > bic_s["psnr"] + 2 and scores[name]["fd"] < bic_s["fd"] / 2, f"{name} beats interpolation"
    assert adv_s["psnr"] < l1_s["psnr"], "the adversarial term costs distortion (PSNR)"
    assert adv_s["sharpness"] > l1_s["sharpness"] * 1.3, "and buys sharpness: strokes closer to real ones"
    assert abs(adv_s["sharpness"] - real_sharpness) < abs(l1_s["sharpness"] - real_sharpness)
    assert perc_s["fd"] < l1_s["fd"], "the perceptual loss lowers the FD on its own feature network"

# %% [markdown]
# **Reading the plane.** Every network beats bicubic interpolation by several dB and by a large
# factor in FD. Among the three losses, the L1 network's strokes are the softest: its sharpness is far
# below that of true digits, the visible blur of a conditional median. The perceptual term lowers the
# FD (on the network it trains on, so this is partly self-grading) and sharpens a little. The
# adversarial term moves the output where a pixel loss never goes: the sharpest strokes, closest to
# true digits, paid for with lower PSNR: the trade-off of Theorem 1, measured. (At this small budget
# the perceptual loss can even *raise* PSNR a little: it adds a gradient signal that speeds up
# training; the trade-off shows between the adversarial network and the others.) That is why
# Real-ESRGAN ships two models: Real-ESRNet (L1, for fidelity) and Real-ESRGAN (L1 + perceptual + GAN,
# for realism), and why SR papers report both PSNR and a perceptual score.
#
# ## Real-ESRGAN: train on the degradations the inputs really have
#
# Benchmarks make low-resolution inputs by bicubic downsampling; real low-resolution images are
# blurred by optics, resized by software, noisy from sensors and JPEG-compressed, often several times
# (a photo uploaded, downloaded, re-saved). Real-ESRGAN (Wang et al. 2021) synthesises training inputs
# with a *high-order* degradation model: the classical model (sec. 3.1, eq. 1)
#
# $$x = \mathcal D(y) = \big[(y \circledast k)\downarrow_r + n\big]_\text{JPEG}$$
#
# (blur kernel $k$, downsampling by $r$, noise $n$, JPEG compression) applied twice with random
# parameters (sec. 3.2, eq. 2: $x = \mathcal D^2(y) = (\mathcal D_2 \circ \mathcal D_1)(y)$), plus sinc
# filters for ringing and overshoot artefacts (sec. 3.3). `ganutils.data.degradations.degrade`
# follows the authors' training code: Gaussian, generalized-Gaussian and plateau kernels, random
# up/down/keep resizes with area, bilinear or bicubic interpolation, Gaussian or Poisson noise, JPEG
# (through Pillow's libjpeg) at quality 30-95, twice, with the authors' probabilities. For 28x28 digits
# the spatial ranges are shrunk (blur widths halved, resizes within 0.5-1.5x and 0.6-1.2x: a digit is
# the size of one detail of their 256-pixel crops); noise levels, JPEG qualities and the order of
# operations are theirs. A JPEG quality outside 1-100 gets one clear line:

# %%
try:
    dg.jpeg(sr.to_unit(hr_test[:1]), 0)
except gu.GanutilsError as err:
    print("quality 0:", err)

tic = time.perf_counter()
hr_train_degraded = hr_train[:n_degraded]
lr_train_degraded = sr.degraded_inputs(hr_train_degraded, scale, seed=seed)  # one random degradation per training digit
lr_test_degraded = sr.degraded_inputs(hr_test, scale, seed=seed + 1)  # fresh draws for the test digits
degrade_seconds = time.perf_counter() - tic
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
enlarge = lambda x: torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest")  # noqa: E731
plotting.image_grid(enlarge(lr_test[:16]), nrow=4, ax=axes[0], title="bicubic-downsampled input")
plotting.image_grid(enlarge(lr_test_degraded[:16]), nrow=4, ax=axes[1], title="Real-ESRGAN-degraded input")
plotting.image_grid(sr.interpolate(lr_test_degraded[:16], scale), nrow=4, ax=axes[2], title="its bicubic interpolation")
fig.tight_layout()
plt.show()
print(f"degrading {n_degraded + len(hr_test)} digits took {degrade_seconds:.0f} s on this machine")

# %% [markdown]
# Now two L1 networks from the same pre-trained weights, for the same `finetune_steps`: the **L1**
# network above (bicubic inputs) and one trained on the degraded inputs. Both are tested on bicubic
# test inputs and on freshly degraded ones.

# %%
degraded_model = sr.build("L1", seed=seed, init=init, device=cfg.device, **setup)
fit(degraded_model, lr_train_degraded, hr_train_degraded, finetune_steps, "L1 on degraded inputs", seed + 1)
bicubic_model = models["L1"]
robust = {
    "bicubic-trained, bicubic inputs": sr.evaluate(bicubic_model.upscale(lr_test), hr_test, labels),
    "bicubic-trained, degraded inputs": sr.evaluate(bicubic_model.upscale(lr_test_degraded), hr_test, labels),
    "degradation-trained, bicubic inputs": sr.evaluate(degraded_model.upscale(lr_test), hr_test, labels),
    "degradation-trained, degraded inputs": sr.evaluate(degraded_model.upscale(lr_test_degraded), hr_test, labels),
    "interpolation, degraded inputs": sr.evaluate(sr.interpolate(lr_test_degraded, scale), hr_test, labels),
}
for name, s in robust.items():
    print(f"{name:38s} PSNR {s['psnr']:5.2f} dB   FD {s['fd']:7.1f}   sharpness {s['sharpness']:.3f}   "
          f"digit read right {s['digit_accuracy']:.1%}")
gu.record("degradations", {metric_key(name): s for name, s in robust.items()}, quiet=True)

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
plotting.image_grid(hr_test[:16], nrow=4, ax=axes[0], title="true")
plotting.image_grid(bicubic_model.upscale(lr_test_degraded[:16]), nrow=4, ax=axes[1], title="bicubic-trained\non degraded inputs")
plotting.image_grid(degraded_model.upscale(lr_test_degraded[:16]), nrow=4, ax=axes[2], title="degradation-trained\non degraded inputs")
fig.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(6, 3))
names = list(robust)[:4]
ax.barh(range(4), [robust[n]["digit_accuracy"] for n in names], color=["tab:blue", "tab:red", "tab:green", "tab:orange"])
ax.set_yticks(range(4), names, fontsize=8)
ax.set_xlabel("digit read right by the evaluation network")
ax.set_xlim(0, 1)
fig.tight_layout()
plt.show()

# %%
bb, bd = robust["bicubic-trained, bicubic inputs"], robust["bicubic-trained, degraded inputs"]
db, dd = robust["degradation-trained, bicubic inputs"], robust["degradation-trained, degraded inputs"]
assert lr_test_degraded.shape == lr_test.shape and lr_train_degraded.shape == lr_train[:n_degraded].shape
if cfg.asserts_quality:
    assert bd["digit_accuracy"] < 0.6 * bb["digit_accuracy"], "the bicubic-trained network fails on degraded inputs"
    assert bd["psnr"] < bb["psnr"] - 3, "and its distortion grows by several dB"
if cfg.profile == "quick":  # measured at quick's budget (calibration run: 37.5% against 30.1% on degraded inputs, 83.1% against 91.1% on clean ones)
    assert dd["digit_accuracy"] > bd["digit_accuracy"] + 0.03, "training on the degradations recovers part of it"
    assert db["digit_accuracy"] < bb["digit_accuracy"], "at a price on clean inputs"

# %% [markdown]
# **What this shows.** The bicubic-trained network is good on the inputs it was trained on and
# breaks on degraded ones: the digit is read right far less often and the PSNR drops by several dB.
# The network trained on Real-ESRGAN's degradations reads more of the same degraded digits right,
# at a price on clean bicubic inputs (compare its two rows): it has learnt that a fine detail may be
# an artefact. By PSNR and FD the two are about equal on degraded inputs, and neither output is sharp
# (the sharpness of both is a fraction of the clean-input value). At 7x7 pixels many
# degraded inputs have lost the digit for good (the interpolation row), and an L1 network that cannot
# tell which digit it sees outputs the conditional median of the candidates, a blur: the first half of
# this notebook again. That is why Real-ESRGAN trains the degradation model *and* the GAN stage on
# top of the L1 network, and why a face restorer adds a generative prior (GFPGAN, below). On 256-pixel
# photographs, where far more of the signal survives, the same recipe is what made Real-ESRGAN usable
# on real images.
#
# ## What the models in the news add to this
#
# * **Real-ESRGAN** (Wang et al. 2021): the degradation model above, an ESRGAN generator (RRDB blocks,
#   no BatchNorm), and a U-Net discriminator with spectral normalisation (sec. 3.4) that judges every
#   pixel, which stabilises training under these harsh degradations; trained L1 first (Real-ESRNet),
#   then L1 + perceptual + GAN.
# * **GFPGAN** (Wang et al. 2021, "Towards Real-World Blind Face Restoration with Generative Facial
#   Prior"): face restoration that uses a *pre-trained StyleGAN2* as a prior. A degradation-removal
#   U-Net encodes the damaged face into latent codes and spatial features, and channel-split spatial
#   feature transform layers modulate the StyleGAN's features with them, so the prior supplies
#   realistic detail (eyes, teeth, skin) while the input keeps identity; losses add a facial-component
#   discriminator and an identity loss to the L1/perceptual/adversarial mix measured here.
# * **GigaGAN** (Kang et al. 2023): a 1-billion-parameter GAN that scales StyleGAN with text
#   conditioning, a sample-adaptive kernel bank and attention, plus a GAN upsampler built the same
#   way; both run in one forward pass (the paper reports 0.13 s for a 512-pixel image, and 16-megapixel
#   upsampled images in 3.66 s).
# * **AuraSR** (fal.ai): an open 4x upscaler, "a variation of the GigaGAN paper for image-conditioned
#   upscaling" (its README), applied tile by tile; the one-pass speed of a GAN is the reason
#   to use it after a diffusion model.
#
# The measured part of this notebook is the core of all four: a pixel loss alone blurs, an
# adversarial loss trades a little distortion for realistic detail, and the training inputs must look
# like the inputs the model will see.
#
# **Sources** for the numbers quoted from the literature: the perception-distortion function and its
# monotonicity: Blau & Michaeli (2018), Theorem 1; the perceptual (VGG) and adversarial losses
# added to a pixel loss: Ledig et al. (2017, SRGAN), sec. 2.2; no BatchNorm, residual scaling 0.2 and
# features before the activation: Wang et al. (2018, ESRGAN), sec. 3.1 and 3.3; the classical and
# second-order degradation models and sinc filters: Wang et al. (2021, Real-ESRGAN), sec. 3.1-3.3 (eq.
# 1, 2, 4), the U-Net discriminator with spectral normalisation: sec. 3.4; the loss weights 1 : 1 : 0.1,
# Adam betas (0.9, 0.99), kernel, resize, noise and JPEG ranges: the authors' configuration
# `options/train_realesrgan_x4plus.yml` and `realesrgan/data/realesrgan_dataset.py`; GFPGAN: Wang et
# al. (2021), sec. 3; GigaGAN's size and timings: Kang et al. (2023), abstract and Fig. 2; AuraSR: the
# fal-ai/aura-sr README. A classifier two-sample test (Lopez-Paz & Oquab 2017) is in
# `ganutils.metrics.two_sample` for readers who want a third perception score.
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("11_super_resolution")
