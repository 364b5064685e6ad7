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
# # 08 · Pix2Pix
#
# Pix2pix (Isola et al. 2017) translates one image into another when training pairs exist:
# label map → photo, edges → shoe, day → night. It is a *conditional* GAN whose condition is
# the input image itself. Its objective is
#
# $$G^* = \arg\min_G \max_D \; \mathcal L_\text{cGAN}(G, D) + \lambda\, \mathcal L_{L1}(G), \qquad
# \mathcal L_\text{cGAN} = \mathbb E_{x,y}[\log D(x, y)] + \mathbb E_{x}[\log(1 - D(x, G(x)))],$$
#
# with $\mathcal L_{L1} = \mathbb E_{x,y}\lVert y - G(x)\rVert_1$ and $\lambda = 100$. D sees the
# pair: the input $x$ concatenated with either the real $y$ or the generated $G(x)$, so it judges
# whether the output is a plausible translation *of this input*. (Seed 002 conditions an
# image-enhancement cGAN on a "resolution label" or "sharpening label"; in super-resolution,
# denoising or colourisation the condition is the degraded image itself, exactly as here.) There is
# no $z$: the authors found G learned to ignore it, so the only noise is dropout.
#
# This notebook builds the two networks (U-Net, PatchGAN), computes the PatchGAN's receptive
# field, and trains L1 only, cGAN only and L1 + cGAN on a paired set where one input has many
# correct outputs, to show why L1 alone blurs and what the adversarial term adds. All runs here
# use the same budget and seed.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None
seed = 0
image_size = None  # a power of two (None: 32 on the CPU profiles, 64 in full)
steps = None  # training steps of every model (None: the profile's default)
batch_size = 8
lam = 100.0  # weight of L1 in L1 + cGAN (Isola et al.: 100)
lr = 2e-4  # Adam(lr, beta1 = 0.5) for G and D, as in the paper
width = None  # U-Net base width (None: 16 on the CPU profiles, 64 = the paper in full)
d_layers = None  # PatchGAN stride-2 layers (None: 1 at 32x32 -> 16x16 patches, 2 at 64x64 -> 34x34)
n_eval = None  # held-out label maps the models are scored on
dropout_draws = 4  # outputs per input in the dropout-as-noise section
shoe_steps = None  # steps of each edges -> shoes model (None: smoke 4, quick 800, full 20000)
n_shoes = None  # edges -> shoes training pairs (None: smoke 64, quick 6,000, full 18,000 = all)
n_shoe_eval = None  # held-out edges -> shoes pairs they are scored on (None: smoke 16, quick 500, full 1,500)
solutions = False  # True plugs the exercises' reference solutions (the collapsed cells) into their checks

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import ganutils as gu
from ganutils import nets, plotting, training
from ganutils.data import edges, fashion
from ganutils.data import paired as pdata
from ganutils.experiments import translation as tx
from ganutils.metrics import evalnet, translation
from ganutils.nets import receptive_field as rf
from ganutils.nets.unet import UPSAMPLE

cfg = gu.setup(profile, device, seed)
image_size = image_size if image_size is not None else cfg.pick(32, 32, 64)
nets.unet_depth(image_size)  # a clear error now if the size is not a power of two
steps = cfg.steps(steps, smoke=6, quick=1500, full=20000)
n_eval = cfg.steps(n_eval, smoke=16, quick=128, full=512, name="n_eval")
width = cfg.steps(width, smoke=16, quick=16, full=64, name="width")
if d_layers is None:  # patches of about a quarter to a half of the image, as 70x70 is of 256x256
    d_layers = 1 if image_size <= 32 else 2 if image_size <= 128 else 3
d_layers = gu.config.check_positive_int("d_layers", d_layers)
batch_size = gu.config.check_positive_int("batch_size", batch_size)
dropout_draws = max(2, gu.config.check_positive_int("dropout_draws", dropout_draws))
shoe_steps = cfg.steps(shoe_steps, **tx.EDGES2SHOES_STEPS, name="shoe_steps")
n_shoes = cfg.steps(n_shoes, smoke=64, quick=6000, full=18000, name="n_shoes")
n_shoe_eval = cfg.steps(n_shoe_eval, smoke=16, quick=500, full=1500, name="n_shoe_eval")
net_options = dict(width=width, max_mult=4 if width < 64 else 8, d_width=width, d_layers=d_layers, lam=lam, lr=lr,
                   device=cfg.device)
print(f"{image_size}x{image_size} images, {steps} steps per model at batch {batch_size}, U-Net width {width}, "
      f"PatchGAN with {d_layers} stride-2 layers")

# %%
from ganutils.course import exercises

exercise = exercises.session("08_pix2pix", solutions)  # this notebook's exercises; the checkpoint shows your progress

# %% [markdown]
# ## A paired set where one input has many right answers
#
# Pix2pix's argument is about *multimodal* targets, so the data must have them. `StripedShapes`
# draws pairs on the fly: the input is a label map (background black, a red rectangle, a green
# ellipse, a blue diamond; up to three shapes); in the target every region is filled with stripes
# whose colour (one of two per class), orientation and phase are random. The label map fixes
# *where* the regions are, not *how* they look: one input has $2 \times 2 \times 4 = 16$ valid
# textures per region.
#
# What does regression predict for such data? For a single pixel with target distribution $p(t)$,
# $\frac{d}{dv}\mathbb E|v - t| = P(t < v) - P(t > v)$, so L1 is minimised by a **median** of $p$ and
# L2 by its **mean**. Neither is a valid output here: the mean of the stripes is a flat
# blend, and because each pixel is one of four values, every value between the two middle ones
# is a median (L1 does not care where in that range it lands). The row "average of 100 valid
# targets" below is what L2 regression aims at; we score it with the measures the rest of the
# notebook uses:
#
# - **L1 / PSNR** to the one ground truth drawn for that input;
# - **mode distance**: per region, the mean absolute distance to the *nearest* valid texture
#   (0 for every real target);
# - **sharpness**: mean absolute Laplacian (high-frequency energy) relative to the real targets'
#   (1 = as much as real stripes, 0 = flat).

# %%
pairs = pdata.StripedShapes(image_size)
scene = pairs.sample_scene(n_eval, torch.Generator().manual_seed(seed + 1000))  # held out: never used for training
truth_draws = torch.stack([pairs.texture(scene.regions, scene.classes, torch.Generator().manual_seed(seed + 2000 + r))
                           for r in range(100)])
average = truth_draws.mean(0)
plotting.plot_rows({"input": scene.inputs, "ground truth": scene.targets, "another valid": truth_draws[0],
                   "average of 100": average})
plt.show()
scores = {"ground truth": translation.score(scene.targets, scene, pairs), "another valid target": translation.score(truth_draws[0], scene, pairs),
          "average of 100 targets": translation.score(average, scene, pairs)}
for name, s in scores.items():
    print(f"{name:>24}: " + "  ".join(f"{k} {v:.3f}" for k, v in s.items()))
gu.record("data/average_mode_distance", scores["average of 100 targets"]["mode_distance"])
gu.record("data/average_sharpness", scores["average of 100 targets"]["sharpness"])
gu.record("data/average_l1", scores["average of 100 targets"]["l1"])
gu.record("data/other_valid_l1", scores["another valid target"]["l1"])

# %%
assert scene.inputs.shape == scene.targets.shape == (n_eval, 3, image_size, image_size)
assert scores["ground truth"]["mode_distance"] < 1e-6 and scores["another valid target"]["mode_distance"] < 1e-6
# the blend is far from every valid texture and flat, yet it has the LOWER pixel error: pixel losses reward it
assert scores["average of 100 targets"]["mode_distance"] > 0.3 and scores["average of 100 targets"]["sharpness"] < 0.3
assert scores["average of 100 targets"]["l1"] < scores["another valid target"]["l1"]

# %% [markdown]
# **Exercise 08-l1-median** (derive). A pixel's target is 0 with probability 0.7 and 1 with probability 0.3. Which
# constant prediction $v$ minimises $\mathbb E|v - t|$, and which minimises $\mathbb E(v - t)^2$? Answer
# `(v_L1, v_L2)`; the check minimises both expectations on a grid of $v$.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("08-l1-median")
def l1_median_solution():
    ### BEGIN SOLUTION
    # E|v - t| = 0.7 v + 0.3 (1 - v) = 0.3 + 0.4 v: smallest at v = 0 (the median); E(v - t)^2: the mean, 0.3
    return (0.0, 0.3)
    ### END SOLUTION


# %%
my_l1_median = None  # (v_L1, v_L2)
exercise.check("08-l1-median", my_l1_median)

# %% [markdown]
# A perfect model that outputs *another valid* texture has a higher pixel L1 (and a much lower
# PSNR) than the blend. Any loss that compares the output with the one drawn target, pixel by
# pixel, prefers the blend. That is the blur of L1/L2 regression, before a network is even trained.
#
# ## U-Net generator
#
# G is an encoder-decoder: 4x4 stride-2 convolutions halve the image down to 1x1 (LeakyReLU 0.2,
# BatchNorm), and 4x4 stride-2 up-convolutions mirror them back (ReLU, BatchNorm, dropout 0.5 in
# the three innermost decoder layers, tanh at the end). The **skip connections** concatenate each
# encoder layer's output to its mirrored decoder layer's input, so the location of every edge in
# the input can go straight to the output instead of squeezing through the 1x1 bottleneck. In
# image translation input and output share their structure, which is why this matters.
#
# The shapes of a U-Net at this notebook's size:

# %%
G_demo = nets.UNetGenerator(image_size, width=width, max_mult=net_options["max_mult"])
with torch.no_grad(), training.pix2pix.with_test_dropout(G_demo, dropout=False):
    x = scene.inputs[:2]
    print(f"input {tuple(x.shape[1:])}")
    features = []
    for layer in G_demo.down:
        x = layer(x)
        features.append(x)
        print(f"  down -> {tuple(x.shape[1:])}")
    x = G_demo.up[0](features[-1])
    print(f"  up   -> {tuple(x.shape[1:])}")
    for j, layer in enumerate(G_demo.up[1:], start=1):
        skip = features[G_demo.depth - 1 - j]
        print(f"  up   <- concat {tuple(x.shape[1:])} + skip {tuple(skip.shape[1:])}", end="")
        x = layer(torch.cat([x, skip], 1))
        print(f" -> {tuple(x.shape[1:])}")
    assert torch.allclose(x, G_demo(scene.inputs[:2]), atol=1e-6), "the hand-traced forward pass is the module's"
assert x.shape == (2, 3, image_size, image_size) and len(features) == int(np.log2(image_size))
print(f"{nets.count_parameters(G_demo):,} parameters (the paper's 256x256 U-Net: 54 million)")

# %% [markdown]
# The skip ablation: pix2pix as published (L1 + cGAN, λ = 100) with and without skips, trained on
# the same batches for the same number of steps. (The model with skips is also the "L1 + cGAN"
# arm of the loss ablation below.) Every model is scored with dropout on (the paper's test-time
# noise) and BatchNorm on its running statistics (eval mode), with a fixed seed; the paper runs G at
# test time with the statistics of the test batch instead, and the section "BatchNorm at test time"
# below measures what that changes here. The scores are those of the first section.

# %%
sample_inputs = scene.inputs[:8].to(cfg.device)


def fit(name: str, loss: str, **options):
    """Train one pix2pix variant on fresh procedural pairs (same seed, batches and budget for all)."""
    torch.manual_seed(seed)
    model = training.make_pix2pix(image_size, loss, snapshot_inputs=sample_inputs, seed=seed, **{**net_options, **options})
    sampler = pdata.PairSampler(pairs, batch_size, seed=seed, device=cfg.device)
    config = dict(loss=loss, steps=steps, size=image_size, batch=batch_size, seed=seed, **net_options, **options)
    history = training.train(model, sampler, steps=steps, checkpoint=gu.checkpoint_path(f"pix2pix-{name}", **config),
                          snapshot_every=max(steps // 4, 1), desc=name)
    return model, history


def outputs_of(model, dropout: bool = True, draw: int = 0) -> torch.Tensor:
    torch.manual_seed(seed + draw)  # dropout masks are drawn from torch's global RNG: fixed for reproducible scores
    return model.translate(scene.inputs, dropout=dropout)


models, histories, outputs, results = {}, {}, {}, {}
for name, options in [("L1 + cGAN", {}), ("L1 + cGAN, no skips", {"skips": False})]:
    models[name], histories[name] = fit(name, "l1+cgan", **options)
    outputs[name] = outputs_of(models[name])
    results[name] = translation.score(outputs[name], scene, pairs)
    print(f"{name:>20}: " + "  ".join(f"{k} {v:.3f}" for k, v in results[name].items()) + f"  ({histories[name].seconds:.0f} s)")
plotting.plot_rows({"input": scene.inputs, "ground truth": scene.targets, "with skips": outputs["L1 + cGAN"],
                   "no skips": outputs["L1 + cGAN, no skips"]})
plt.show()
with_skips, without_skips = results["L1 + cGAN"], results["L1 + cGAN, no skips"]
for key in ("l1", "mode_distance", "sharpness"):
    gu.record(f"skips/{key}_with", with_skips[key])
    gu.record(f"skips/{key}_without", without_skips[key])

# %%
assert all(np.isfinite(v) for r in results.values() for v in r.values())
assert all(len(h.steps) == steps for h in histories.values()) and len(histories["L1 + cGAN"].snapshots) == steps // max(steps // 4, 1)
if cfg.asserts_quality:
    # calibration (quick, seeds 0-2): with skips 0.381-0.392, without 0.415-0.433
    assert with_skips["mode_distance"] < without_skips["mode_distance"] - 0.01, "skips: regions closer to valid textures"

# %% [markdown]
# Without skips, every shape must be squeezed through the 1x1 bottleneck (and through the three
# dropout layers next to it) and decoded again: on the same budget the shapes are lost and the
# regions are far from their valid textures. The pixel L1 barely separates the two models (both
# pay for guessing the random textures); the mode distance, which compares each region with
# its own valid textures, does.
#
# ## PatchGAN and its receptive field
#
# D is fully convolutional: $n$ 4x4 stride-2 convolutions (C64-C128-C256 in the paper), one 4x4
# stride-1 convolution (C512) and a 4x4 stride-1 convolution to one channel. Its output is a
# grid of logits, one per overlapping input patch, and the loss averages them. How big is a
# patch? Walking back from one output unit, a layer with kernel $k$ and stride $s$ turns a
# receptive field $r$ into $r_\text{in} = (r - 1)\,s + k$:
#
# $$1 \xrightarrow{k4,s1} 4 \xrightarrow{k4,s1} 7 \xrightarrow{k4,s2} 16 \xrightarrow{k4,s2} 34 \xrightarrow{k4,s2} 70.$$
#
# `ganutils.receptive_field` does this walk forwards over a module's layers (size, jump between
# output units, and where the first unit is centred), and a gradient check confirms it: the
# gradient of one output logit w.r.t. the input is non-zero on exactly that square.

# %% [markdown]
# **Exercise 08-receptive-field** (implement), before the cell that prints the answer: write
# `receptive_field(layers)`, where `layers` lists (kernel, stride) pairs from the input to the output, returning how many
# input pixels (per side) one output unit sees. The paper's PatchGAN is `[(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]`.

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("08-receptive-field")
def receptive_field_solution(layers):
    ### BEGIN SOLUTION
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump  # the kernel spans (k - 1) steps of its input's jump
        jump *= stride
    return size
    ### END SOLUTION


# %%
def my_receptive_field(layers):
    raise NotImplementedError  # your code here


receptive_field_fn = exercise.check("08-receptive-field", my_receptive_field)
paper_field = receptive_field_fn([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)])
print(f"the paper's PatchGAN by your function: {paper_field}x{paper_field}")

# %%
paper_D = nets.PatchDiscriminator(in_channels=3, cond_channels=3, width=64, n_layers=3)
rows = []
for n in (1, 2, 3, 4):
    field = rf.receptive_field(rf.patchgan_layers(n))
    rows.append((n, field.size, field.jump))
    print(f"n_layers={n}: receptive field {field}, output units every {field.jump} input pixels"
          + ("   <- the paper's 70x70 PatchGAN" if n == 3 else "") + ("   <- used at 64x64" if n == 2 else "")
          + (f"   <- used here at {image_size}x{image_size}" if n == d_layers else ""))
paper_rf = rf.receptive_field(paper_D)
used_rf = rf.receptive_field(nets.PatchDiscriminator(width=8, n_layers=d_layers))
rf_64 = rf.receptive_field(nets.PatchDiscriminator(width=8, n_layers=2))
measured = rf.empirical_receptive_field(nets.PatchDiscriminator(width=4, n_layers=3), 3, 112, torch.randn(1, 3, 112, 112))
print(f"the paper's PatchGAN (walked over its modules): {paper_rf}; gradient check: {measured}x{measured}")
print(f"at 64x64 (2 stride-2 layers): {rf_64}; this notebook at {image_size}x{image_size}: {used_rf}; "
      f"the paper's D scores a {rf.output_size(paper_D, 256)}x{rf.output_size(paper_D, 256)} grid of patches on a 256x256 image")
gu.record("receptive_field/paper", paper_rf.size)
gu.record("receptive_field/at_64", rf_64.size)
gu.record("receptive_field/used", used_rf.size)
gu.record("receptive_field/gradient_check", measured)

# %%
assert paper_rf.size == 70 and measured == 70 and rf_64.size == 34
assert [r[1] for r in rows] == [16, 34, 70, 142]

# %% [markdown]
# A PatchGAN models the image as a Markov random field: it only checks that every patch looks
# real, which is what makes outputs sharp, and leaves the large-scale structure to L1. It has few
# parameters and runs on any image size. At 32x32 a 16x16 patch covers two stripe periods and a
# shape's edge; at 64x64 the 34x34 layout plays the role of the paper's 70x70 at 256x256.
#
# ## L1 vs cGAN vs L1 + cGAN
#
# Three generators with the same U-Net, the same batches and the same number of steps: L1 alone,
# the adversarial term alone, and the paper's L1 + cGAN with $\lambda = 100$ (trained above). D is
# the conditional PatchGAN above; its objective is halved, as in the paper, to slow it down
# relative to G.

# %% [markdown]
# **Exercise 08-generator-loss** (implement). Write G's loss, `pix2pix_generator_loss(fake_logits, fake, target,
# lam=100.0)`: the non-saturating adversarial term on the PatchGAN's logits plus `lam` times the L1 distance between the
# output and the ground truth (a mean over pixels).

# %% tags=["solution"] jupyter={"source_hidden": true}
@exercise.solution("08-generator-loss")
def pix2pix_generator_loss_solution(fake_logits, fake, target, lam=100.0):
    ### BEGIN SOLUTION
    adversarial = torch.nn.functional.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    return adversarial + lam * (fake - target).abs().mean()
    ### END SOLUTION


# %%
def my_pix2pix_generator_loss(fake_logits, fake, target, lam=100.0):
    raise NotImplementedError  # your code here


pix2pix_generator_loss = exercise.check("08-generator-loss", my_pix2pix_generator_loss)

# %% [markdown]
# **Predict 08-predict-lowest-l1.** Before training the other two models: which of `"L1"`, `"cGAN"` and `"L1 + cGAN"`
# will have the lowest pixel L1 to the ground truth on the held-out inputs?

# %%
exercise.predict("08-predict-lowest-l1", None)  # replace None with your answer, then run the next cells

# %%
for name, loss in [("L1", "l1"), ("cGAN", "cgan")]:
    models[name], histories[name] = fit(name, loss)
    outputs[name] = outputs_of(models[name])
    results[name] = translation.score(outputs[name], scene, pairs)
ablation = ["L1", "cGAN", "L1 + cGAN"]
print(f"{'':>10}  {'L1':>6} {'PSNR':>6} {'mode dist':>9} {'sharpness':>9}")
for name in ablation:
    r = results[name]
    print(f"{name:>10}  {r['l1']:6.3f} {r['psnr']:6.2f} {r['mode_distance']:9.3f} {r['sharpness']:9.3f}")
    for key, value in r.items():
        gu.record(f"ablation/{name.replace(' ', '')}/{key}", value)
plotting.plot_rows({"input": scene.inputs, "ground truth": scene.targets, **{name: outputs[name] for name in ablation}})
plt.show()

fig, axes = plt.subplots(1, 4, figsize=(11, 2.4))
for ax, key, label in zip(axes, ["l1", "psnr", "mode_distance", "sharpness"],
                          ["L1 to ground truth ↓", "PSNR (dB) ↑", "mode distance ↓", "sharpness (real = 1)"]):
    ax.bar(ablation, [results[n][key] for n in ablation], color=["tab:gray", "tab:orange", "tab:blue"])
    ax.set_title(label, fontsize=9)
    ax.tick_params(labelsize=8)
fig.tight_layout()
plt.show()
plotting.plot_losses(histories["L1 + cGAN"], names=["d_loss", "g_gan"], title="L1 + cGAN: adversarial terms")
plt.show()

# %%
l1_only, both = results["L1"], results["L1 + cGAN"]
assert all(np.isfinite(v) for r in results.values() for v in r.values())
assert set(histories["L1 + cGAN"].losses) >= {"d_loss", "g_gan", "l1"} and "d_loss" not in histories["L1"].losses
if cfg.asserts_quality:
    # calibration (quick, seeds 0-2): sharpness ratio 2.1-4.3x, mode distance 0.025-0.054 lower, pixel L1 0.017-0.041 higher
    assert both["sharpness"] > 1.5 * l1_only["sharpness"], "L1 + cGAN should be much sharper than L1 alone"
    assert both["mode_distance"] < l1_only["mode_distance"] - 0.01, "L1 + cGAN should be closer to a valid texture"
    assert l1_only["l1"] < both["l1"], "L1 alone should have the lower pixel L1: it minimises exactly that"


# %%
exercise.reveal("08-predict-lowest-l1", min(ablation, key=lambda name: results[name]["l1"]), supported=cfg.asserts_quality,
                detail="pixel L1: " + ", ".join(f"{name} {results[name]['l1']:.3f}" for name in ablation))

# %% [markdown]
# What the numbers say:
#
# - **L1 alone has the lowest pixel L1** and the worst pictures: flat, greyish regions with no
#   stripes, far from every valid texture, with a sharpness close to the averaged targets'. It
#   found the blend that pixel losses reward. (PSNR, an L2 measure, barely separates L1 from
#   L1 + cGAN here: L1 aims at a median, not at the mean that L2 rewards.) Seed 004 says L1
#   "tends to produce sharp edges and keeps image details"; measured here, L1 on its own blurs
#   whatever the input does not determine. Isola et al. find the same (sec. 3.2.2 and 4.2, and
#   their loss-comparison figure): L1 is chosen over L2 only because it "encourages less blurring".
# - **cGAN alone** is sharp (the stripes and vivid colours are back) but, with nothing tying it
#   to the ground truth, it invents structure and colours that do not follow the label map.
# - **L1 + cGAN** keeps L1's layout and gets its high frequencies from the adversarial term:
#   much sharper than L1 alone and closer to a valid texture, paid for by a higher pixel L1.
#   The sharpness comes from the GAN term, not from L1. Pixel distances rank these models
#   backwards from how they look, which is why pix2pix was evaluated with perceptual studies and
#   a segmentation network (FCN score) rather than pixel distances.
#
# ## BatchNorm at test time
#
# The usual protocol evaluates a network in eval mode: BatchNorm normalises with the running
# averages it collected during training. Pix2pix does not (Isola et al. 2017, sec. 3.3): "At
# inference time, we run the generator net in exactly the same manner as during the training phase.
# This differs from the usual protocol in that we apply dropout at test time, and we apply batch
# normalization using the statistics of the test batch, rather than aggregated statistics of the
# training batch." With a batch of one image that is instance normalisation; the authors train and
# test with batch size 1, and their `test.lua` leaves `netG:evaluate()` commented out. The principle
# is consistency: at test time, normalise the way the network was trained.
#
# Our models trained on batches of 8. Three ways to run the same L1 + cGAN generator on the 128
# held-out inputs, dropout on in all three: the **running** statistics (eval mode, as in the sections
# above), the statistics of the **test batch** (the paper's rule) and **one image at a time** (instance
# normalisation). Translating with batch statistics would update the running averages, a side effect;
# `translate` restores them, so measuring leaves the model unchanged (checked below).

# %%
reference_G = models["L1 + cGAN"]
before = {k: v.clone() for k, v in reference_G.G.state_dict().items()}
norm_choice = {}
for name, norm in (("running", "running"), ("test_batch", "batch"), ("batch_of_one", "instance")):
    torch.manual_seed(seed)  # the same dropout masks for all three
    norm_choice[name] = translation.score(reference_G.translate(scene.inputs, norm=norm), scene, pairs)
    print(f"{name:>12}: " + "  ".join(f"{k} {v:.3f}" for k, v in norm_choice[name].items()))
gu.record("norm_choice", norm_choice)
spread = max(r["mode_distance"] for r in norm_choice.values()) - min(r["mode_distance"] for r in norm_choice.values())
print(f"largest difference in mode distance between the three: {spread:.3f}")
assert all(torch.equal(v, reference_G.G.state_dict()[k]) for k, v in before.items()), "measuring must not change G"
if cfg.asserts_quality:
    # calibration (quick, seeds 0 and 1): mode distance running 0.398 / 0.382, test batch 0.405 / 0.382,
    # one image at a time 0.409 / 0.384; sharpness within 0.013
    assert spread < 0.03, f"trained at batch 8, the three choices agree here (spread {spread:.3f})"

# %% [markdown]
# After the `quick` budget the three agree to about a hundredth of a mode distance (the calibration
# runs above): with batches of 8 the running averages are a good estimate of the statistics of a
# 128-image test batch, and even one image's statistics are close to them, so for *this* model the
# paper's rule and eval mode give the same pictures. (After the few steps of `smoke` they do not: the
# running averages, updated with momentum 0.1, have not caught up with the weights yet, and eval mode
# is far off. Running statistics are only as good as the training that collected them.) The rule
# matters when they differ: a generator trained with batch size 1, as pix2pix's, has only ever been
# normalised by one image's own statistics, and eval mode replaces those with averages over many
# images that no single image has; tiny or non-i.i.d. training batches give running averages that do
# not match any real batch. In an interview: "pix2pix runs G in training mode at test time: dropout on
# and BatchNorm on the test batch, which at batch size 1 is instance normalisation; whatever you
# choose, normalise at test time as you did in training, and check it on held-out data."
#
# ## Dropout as noise
#
# Without $z$, the only randomness in G is dropout, kept on at test time. Does it make the outputs
# diverse? Below: several outputs for the same input (different dropout masks), the same with
# dropout off (deterministic), and several *valid* targets for that input. Diversity is the mean
# absolute difference between two draws for the same input.

# %%
def draws_of(model, dropout=True):
    return torch.stack([outputs_of(model, dropout, draw=r) for r in range(dropout_draws)])


diversity = {
    "valid targets": translation.diversity(truth_draws[:dropout_draws]),
    "L1 + cGAN, dropout on": translation.diversity(draws_of(models["L1 + cGAN"])),
    "L1 + cGAN, dropout off": translation.diversity(draws_of(models["L1 + cGAN"], dropout=False)),
    "cGAN, dropout on": translation.diversity(draws_of(models["cGAN"])),
    "L1, dropout on": translation.diversity(draws_of(models["L1"])),
}
for name, value in diversity.items():
    print(f"{name:>24}: {value:.4f}  ({value / diversity['valid targets']:.1%} of the targets' diversity)")
ratio = diversity["L1 + cGAN, dropout on"] / diversity["valid targets"]
gu.record("dropout/diversity_targets", diversity["valid targets"])
gu.record("dropout/diversity_l1_cgan", diversity["L1 + cGAN, dropout on"])
gu.record("dropout/diversity_ratio_l1_cgan", ratio)
gu.record("dropout/diversity_ratio_cgan", diversity["cGAN, dropout on"] / diversity["valid targets"])
draws = draws_of(models["L1 + cGAN"])
plotting.plot_rows({"input": scene.inputs[:1].expand(4, -1, -1, -1), "valid targets": truth_draws[:4, 0],
                   "dropout draws": draws[:4, 0]}, n=4, cell=1.2)
plt.show()

# %%
assert diversity["L1 + cGAN, dropout off"] < 1e-5, "with dropout off G is deterministic (up to float rounding on a GPU)"
assert diversity["L1 + cGAN, dropout on"] > 0.0, "dropout on at test time changes the output"
if cfg.asserts_quality:
    # calibration (quick, seeds 0-2): 9-14 % of the targets' diversity
    assert ratio < 0.3, f"test-time dropout gives only minor diversity, measured {ratio:.1%} of the targets'"

# %% [markdown]
# Dropout does change the output, but by a small fraction of how much valid targets differ: G
# commits to (nearly) one texture per input. Isola et al. report the same ("only minor
# stochasticity"), against seed 004's claim that test-time dropout "increases the diversity of the
# outputs". Pix2pix is close to deterministic; diverse translations need a model built for them
# (BicycleGAN, or a latent code that D or an encoder forces G to use).
#
# ## Checkerboard artefacts
#
# A stride-2 up-convolution (ConvTranspose) computes even and odd output pixels with different
# taps of its kernel. With a 4x4 kernel each output pixel gets exactly 2x2 taps, but those taps
# differ by parity, so the layer has a built-in pattern that repeats every 2 pixels; with a 3x3
# kernel (not divisible by the stride) the overlap is uneven as well, and the pattern is there
# even with equal weights (Odena et al. 2016). Training must learn to cancel it. Resize-then-conv
# (nearest-neighbour upsampling, then a 3x3 convolution) treats every pixel alike.
#
# The experiment: untrained U-Nets of both kinds on a constant grey input, in test mode (no
# dropout). Any structure in the output comes from the network. `checkerboard_energy` is the
# share of an image's spectral energy (mean removed) at the period-2 frequencies; it is 1 for a
# perfect checkerboard and 0 for our period-4 stripes.

# %%
flat = torch.full((1, 3, image_size, image_size), 0.5)
init_outputs, energy = {}, {}
for up in UPSAMPLE:
    init_outputs[up], energy[up] = [], []
    for s in range(3):
        torch.manual_seed(seed + s)
        G_init = nets.UNetGenerator(image_size, width=width, max_mult=net_options["max_mult"], upsample=up)
        with torch.no_grad(), training.pix2pix.with_test_dropout(G_init, dropout=False):
            out = G_init(flat)
        init_outputs[up].append(out)
        energy[up].append(translation.checkerboard_energy(out[..., 4:-4, 4:-4]).item())  # interior: padding effects excluded
fig, axes = plt.subplots(2, 3, figsize=(6, 4))
for row, up in enumerate(UPSAMPLE):
    for col, out in enumerate(init_outputs[up]):
        img = out[0].mean(0)
        axes[row, col].imshow((img - img.min()) / (img.max() - img.min() + 1e-12), cmap="gray", interpolation="nearest")
        axes[row, col].set_title(f"{up}, init {col}: {energy[up][col]:.2f}", fontsize=8)
        axes[row, col].set_axis_off()
fig.suptitle("untrained U-Net on a constant input (contrast stretched)", fontsize=9)
fig.tight_layout()
plt.show()
trained_energy = {name: translation.checkerboard_energy(outputs[name]).mean().item() for name in ablation}
trained_energy["ground truth"] = translation.checkerboard_energy(scene.targets).mean().item()
print("period-2 energy at initialisation:", {up: [round(e, 3) for e in es] for up, es in energy.items()})
print("period-2 energy of the trained outputs:", {k: round(v, 4) for k, v in trained_energy.items()})
gu.record("checkerboard/init_convtranspose", float(np.mean(energy["convtranspose"])))
gu.record("checkerboard/init_resize", float(np.mean(energy["resize"])))
for name, value in trained_energy.items():
    gu.record(f"checkerboard/trained/{name.replace(' ', '')}", value)

# %%
assert all(c > 0.5 for c in energy["convtranspose"]) and all(r < 0.1 for r in energy["resize"])

# %% [markdown]
# At initialisation the ConvTranspose U-Net's output on a flat input is almost pure checkerboard;
# resize-then-conv gives a smooth image with a frame from the zero padding. Training must learn
# to cancel the pattern. In the trained models its share of the energy is small; it is largest
# for the L1 model, whose flat outputs have little else (look closely at the L1 row above: a
# faint grid), and the ground truth's share is not zero only because of shape edges. The paper
# keeps ConvTranspose; later image generators (e.g. StyleGAN) moved to resize-then-conv or
# filtered upsampling.
#
# ## A real task: edges → shoes
#
# The striped shapes were built to make the point cleanly. The paper's edges2shoes set was made by
# running an edge detector (HED) over 50,000 shoe photographs from UT Zappos50K (Isola et al., Sec.
# 4); the same recipe on real data available offline: Canny edges (scikit-image, σ = 1) of
# Fashion-MNIST's sandals, sneakers and ankle boots, 18,000 training and 3,000 held-out pairs,
# padded from 28x28 to 32x32 with background for the U-Net. An edge map leaves shading, material
# and fill open: the same multimodality as above, on real photographs.
#
# L1 alone and L1 + cGAN (λ = 100) train on the same batches for the same number of steps, and are
# scored on held-out pairs: pixel L1 and PSNR to the ground truth, sharpness relative to it, the
# Fréchet distance (FD) to *other* real held-out shoes on the features of a Fashion-MNIST classifier
# (`python -m ganutils.metrics.evalnet --dataset fashion`, the course's stand-in for Inception), and
# *class match*: the share of outputs that classifier files under the ground truth's class (sandal,
# sneaker or boot), a small cousin of the paper's FCN score. The ground truth's own row is the
# yardstick.

# %%
train_shoes = edges.shoe_pairs("train", limit=n_shoes)
test_shoes = edges.shoe_pairs("test", limit=n_shoe_eval)
reference_shoes = fashion.load_fashion("test", classes=fashion.SHOES, verbose=False).images[-n_shoe_eval:]  # not in test_shoes
fashion_net = evalnet.load_evalnet(cfg.device, dataset="fashion")
shoe_outputs, shoe_results = {}, {}
for name, loss in [("L1", "l1"), ("L1 + cGAN", "l1+cgan")]:
    model, history = tx.fit_edges2shoes(train_shoes, loss, shoe_steps, seed, batch_size=batch_size, width=width, lam=lam, lr=lr,
                                        device=cfg.device, checkpoints=gu.checkpoint_path, desc=f"edges->shoes {name}")
    shoe_outputs[name] = tx.translate_edges(model, test_shoes.edges, seed)
    shoe_results[name] = tx.score_shoes(shoe_outputs[name], test_shoes, fashion_net, reference_shoes)
    print(f"{name:>10}: " + "  ".join(f"{k} {v:.3f}" for k, v in shoe_results[name].items()) + f"  ({history.seconds:.0f} s)")
shoe_results["ground truth"] = tx.score_shoes(test_shoes.shoes, test_shoes, fashion_net, reference_shoes)
print("ground truth: " + "  ".join(f"{k} {v:.3f}" for k, v in shoe_results["ground truth"].items()))
for name, result in shoe_results.items():
    for key, value in result.items():
        gu.record(f"edges2shoes/{name.replace(' ', '')}/{key}", value)
plotting.plot_rows({"edges": test_shoes.edges, "L1": shoe_outputs["L1"], "L1 + cGAN": shoe_outputs["L1 + cGAN"],
                    "ground truth": test_shoes.shoes}, n=12)
plt.show()

# %%
assert all(np.isfinite(v) for r in shoe_results.values() for v in r.values())
assert train_shoes.edges.shape[1:] == (1, 28, 28) and set(train_shoes.labels.unique().tolist()) <= set(fashion.SHOES)
if cfg.asserts_quality:
    # calibration (quick, 800 steps, seeds 0-1): sharpness L1 0.551 / 0.518, L1 + cGAN 0.634 / 0.577
    assert shoe_results["L1 + cGAN"]["sharpness"] > shoe_results["L1"]["sharpness"], "the adversarial term adds detail"

# %% [markdown]
# On real shoes the story is the same, if less stark at this budget: both models get the outline
# right from the edges (it is in the input), L1 alone paints a smooth grey average inside it, and
# the adversarial term adds shading and texture (higher sharpness). In our `quick` calibration
# (800 steps, seeds 0 and 1) L1 + cGAN was the sharper on both seeds and had the higher class match
# (0.82 vs 0.72, 0.81 vs 0.79) and the lower FD (175 vs 249 on seed 0; 157 vs 159 on seed 1, a tie):
# the FD gap is within seed noise after 800 steps, which is why only sharpness is asserted. Pixel L1
# does not reward the blur here as clearly as on the stripes (it was lower for L1 + cGAN on both
# seeds): a shoe's shading is less random given its edges than a stripe's phase, so a sharper
# guess is often also closer. Compare either model with the ground truth's row: an FD around 6 and
# a class match near 1 is what real photographs score; `full` trains 25 times longer. Notebook
# 09 trains the same task *without* the pairs (CycleGAN) and compares it with the L1 + cGAN model
# trained here.
#
# ## Your own pairs: the A|B folder format
#
# The standard pix2pix datasets (facades, cityscapes, maps, edges2shoes, edges2handbags) store one
# pair per image file, input A on the left half and target B on the right. `save_pairs` writes
# that format and `load_paired_folder` reads it (`direction="BtoA"` swaps the halves, `size=`
# resizes both). Here we round-trip a few procedural pairs; for facades, download it into
# `data/facades/` and call `pdata.load_paired_folder("data/facades/train", size=256)`, then train
# with `data.TensorSampler(inputs, targets, batch_size=1)` and `training.make_pix2pix(256)`.

# %%
folder = gu.run_dir() / "ab_pairs"
paths = pdata.save_pairs(folder, scene.inputs[:4], scene.targets[:4])
a, b = pdata.load_paired_folder(folder)
print(f"wrote {len(paths)} files like {paths[0].name} ({image_size * 2}x{image_size} pixels); read back {tuple(a.shape)} + {tuple(b.shape)}")
assert (a - scene.inputs[:4]).abs().max() < 0.01 and (b - scene.targets[:4]).abs().max() < 0.01  # 8-bit rounding only

# %% [markdown]
# **Sources** for the numbers quoted from the literature (Isola et al. 2017 unless noted): λ = 100 and
# the L1 + cGAN objective: sec. 3.1; the U-Net and the 70x70 PatchGAN (C64-C128-C256-C512): sec. 3.2 and
# the appendix (sec. 6.1), receptive fields compared in sec. 4.4 (Table 2); Adam(2e-4, β1 = 0.5), D's
# objective halved, dropout and BatchNorm at test time, batch sizes 1-10: sec. 3.3; "only minor
# stochasticity" from dropout: sec. 3.1; the 54-million-parameter 256x256 U-Net: the authors' PyTorch
# code's parameter count; checkerboard artefacts of transposed convolutions: Odena et al. (2016).
#
# ## Interview checkpoint

# %%
gu.interview.checkpoint("08_pix2pix")
