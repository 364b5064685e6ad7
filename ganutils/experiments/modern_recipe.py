"""Notebook 05's image experiments: the modern recipe as an ablation at equal budget, and a
discriminator that overfits a small training set.

One run is one *job*, a dict of plain values (so runs can go to worker processes): a small DCGAN
on MNIST trained with a named variant of the recipe for ``steps`` generator iterations. Every
``probe_every`` steps D is probed for memorisation (``metrics.overfitting``); at the steps of
``eval_at`` the raw G and its EMA are scored with the course's evaluation network. ``run_jobs``
runs a list of jobs, in ``workers`` single-threaded processes when asked: every run seeds its own
weights, batches, noise and augmentations, so the results do not depend on the number of workers.
``dataset`` is "mnist" (the default) or "fashion" (Fashion-MNIST, scored with its own evaluation network).

    jobs = [dict(name="hinge + SN", variant="hinge_sn", steps=1000, seed=s) for s in (0, 1)]
    results = run_jobs(jobs, workers=2)      # one dict of measurements per job, in order
"""

from __future__ import annotations

import functools
import time

import torch

from ..config import GanutilsError, check_positive_int, seeded
from ..data.augment import parse_policy
from ..data.fashion import load_fashion
from ..data.mnist import load_mnist
from ..data.samplers import TensorSampler
from ..losses.r1 import check_gamma
from ..losses.spectral_norm import apply_spectral_norm, spectral_norms
from ..metrics.coverage import coverage_from_probs
from ..metrics.evalnet import features, features_and_logits, load_evalnet
from ..metrics.frechet import frechet_distance_from_features
from ..metrics.lipschitz import input_gradient_norms
from ..metrics.overfitting import discriminator_scores, overfitting_signals
from ..metrics.precision_recall import PR_NEIGHBOURS, precision_recall_from_features
from ..metrics.reference_features import reference_features_and_radii
from ..nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ..training.ema import check_decay
from ..training.loop import Every, train
from ..training.recipe import RecipeGAN
from .workers import imap_jobs
from .workers import shutdown as shutdown_pools  # noqa: F401  (public: stops the session's worker processes)

VARIANTS = {
    # name: (loss, spectral norm in D, R1 weight; None = the job's r1_gamma)
    "ns": ("non_saturating", False, 0.0),
    "hinge": ("hinge", False, 0.0),
    "hinge_sn": ("hinge", True, 0.0),
    "hinge_sn_r1": ("hinge", True, None),
    "ns_r1": ("non_saturating", False, None),
}
DATASETS = ("mnist", "fashion")
DEFAULTS = dict(dataset="mnist", variant="hinge_sn", r1_gamma=0.0, augment=None, augment_fakes=True, ema_decay=None, n_train=None,
                steps=1000, width=16, d_width=None, z_dim=64, batch_size=32, lr=5e-4, betas=(0.5, 0.999), seed=0,
                eval_at=None, probe_every=None, n_eval=1000, n_probe=500, n_snapshot=256, device="cpu")


def make_gan(variant: str = "hinge_sn", *, r1_gamma: float = 0.0, augment=None, augment_fakes: bool = True,
             ema_decay=None, width: int = 16, d_width: int | None = None, z_dim: int = 64, lr: float = 5e-4,
             betas=(0.5, 0.999), seed: int = 0, device=None) -> RecipeGAN:
    """A DCGAN (G with BatchNorm and tanh; D strided convolutions without normalisation) with one recipe variant.

    The weights come from ``seed`` (built inside ``config.seeded``: the caller's RNG is untouched).
    """
    if variant not in VARIANTS:
        raise GanutilsError(f"unknown recipe variant {variant!r}: use one of {', '.join(VARIANTS)}")
    loss, sn, gamma = VARIANTS[variant]
    with seeded(seed):  # weights and spectral norm's random start vectors
        G, D = DCGANGenerator(z_dim, width), DCGANDiscriminator(d_width or width, norm=None)
        if sn:
            apply_spectral_norm(D)
    return RecipeGAN(G, D, z_dim=z_dim, loss=loss, r1_gamma=r1_gamma if gamma is None else gamma, augment=augment,
                     augment_fakes=augment_fakes, ema_decay=ema_decay, lr_g=lr, lr_d=lr, betas=betas, seed=seed,
                     device=device)


# ----------------------------------------------------------------------------- data and scores (cached per process)


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise GanutilsError(f"unknown data set {dataset!r}: use one of {', '.join(DATASETS)}")
    return dataset


@functools.lru_cache(maxsize=1)
def mnist_split() -> tuple[torch.Tensor, torch.Tensor]:
    """(the training digits, the held-out digits) in [-1, 1]: 4,000 and 1,000 with the bundled MNIST."""
    return load_mnist("train", verbose=False).images, load_mnist("test", verbose=False).images


@functools.lru_cache(maxsize=1)
def fashion_split() -> tuple[torch.Tensor, torch.Tensor]:
    """(the training images, the held-out images) of Fashion-MNIST in [-1, 1]: 60,000 and 10,000."""
    return load_fashion("train", verbose=False).images, load_fashion("test", verbose=False).images


def data_split(dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """(training, held-out) images of ``dataset`` ("mnist" or "fashion")."""
    return mnist_split() if check_dataset(dataset) == "mnist" else fashion_split()


def training_subset(n: int | None, dataset: str = "mnist") -> torch.Tensor:
    """The first ``n`` images of one fixed permutation of the training set (all of them for ``None``)."""
    images = data_split(dataset)[0]
    if n is None:
        return images
    n = check_positive_int("n_train", n)
    if n > len(images):
        raise GanutilsError(f"n_train={n} is more than the {len(images)} training digits available")
    return images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]]


def score(images: torch.Tensor, n_eval: int = 1000, coverage: bool = True, dataset: str = "mnist") -> dict:
    """FD, precision and recall (k = 3), and class coverage of ``images`` against the first ``n_eval`` held-out images.

    Features and classes come from the evaluation network of ``dataset``, in one pass over ``images``
    (``coverage=False`` skips the classes, for the intermediate evaluations of a run); the held-out
    images' features and k-NN radii are computed once per process (``metrics.reference_features``).
    """
    model = load_evalnet(dataset=check_dataset(dataset))
    ref, ref_radii = reference_features_and_radii(data_split(dataset)[1][:n_eval], PR_NEIGHBOURS, model=model)
    feats, logits = features_and_logits(images, model=model) if coverage else (features(images, model=model), None)
    precision, recall = precision_recall_from_features(feats, ref, real_radii=ref_radii)
    out = {"fd": frechet_distance_from_features(feats, ref), "precision": precision, "recall": recall}
    if coverage:
        out["coverage"] = coverage_from_probs(logits.softmax(dim=1))["coverage"]
    return out


# ----------------------------------------------------------------------------- one run


def validate_job(job: dict) -> dict:
    """``job`` completed with ``DEFAULTS`` and checked, or one clear error (before any worker starts)."""
    job = {**DEFAULTS, **job}
    unknown = set(job) - set(DEFAULTS) - {"name"}
    if unknown:
        raise GanutilsError(f"unknown job keys {sorted(unknown)}: use {', '.join(DEFAULTS)}")
    if job["variant"] not in VARIANTS:
        raise GanutilsError(f"unknown recipe variant {job['variant']!r}: use one of {', '.join(VARIANTS)}")
    for key in ("steps", "batch_size", "width", "n_eval", "n_probe"):
        job[key] = check_positive_int(key, job[key])
    check_gamma(job["r1_gamma"])
    if job["ema_decay"] is not None:
        check_decay(job["ema_decay"])
    parse_policy(job["augment"])
    check_dataset(job["dataset"])
    n_images = len(data_split(job["dataset"])[0]) if job["n_train"] is None else check_positive_int("n_train", job["n_train"])
    if job["batch_size"] > n_images:
        raise GanutilsError(f"the training set ({n_images} images) is smaller than one batch ({job['batch_size']}): "
                            "use more images or a smaller batch_size")
    return job


def run_job(job: dict) -> dict:
    """Train the run described by ``job`` (keys of ``DEFAULTS``) and return what was measured.

    - ``probes``: every ``probe_every`` steps, D's overfitting signals (training vs held-out digits);
    - ``scores`` / ``ema_scores``: {step: FD, precision, recall (+ coverage at the end)} at ``eval_at``;
    - ``snapshots`` / ``ema_snapshots``: {step: ``n_snapshot`` samples from fixed noise} at ``eval_at``;
    - at the end: D's scores on training / held-out / generated images, its mean input-gradient norm
      on held-out digits (what R1 penalises) and its layers' spectral norms (what SN bounds);
      ``losses``, wall ``seconds`` of training and ``cpu_seconds`` of the whole job.
    """
    job = validate_job(job)
    steps = job["steps"]
    eval_at = sorted({m for m in (job["eval_at"] or []) if 0 < m <= steps} | {steps})
    train_images, held_out = training_subset(job["n_train"], job["dataset"]), data_split(job["dataset"])[1]
    model = make_gan(job["variant"], r1_gamma=job["r1_gamma"], augment=job["augment"], augment_fakes=job["augment_fakes"],
                     ema_decay=job["ema_decay"], width=job["width"], d_width=job["d_width"], z_dim=job["z_dim"],
                     lr=job["lr"], betas=job["betas"], seed=job["seed"], device=job["device"])
    sampler = TensorSampler(train_images, batch_size=job["batch_size"], seed=job["seed"], device=model.device)
    probe_rng = torch.Generator().manual_seed(10_000 + job["seed"])  # the probes' own noise: training never sees it
    probe_train = train_images[torch.randperm(len(train_images), generator=probe_rng)[: job["n_probe"]]]
    probe_held = held_out[: job["n_probe"]]
    probe_z = torch.randn(job["n_probe"], job["z_dim"], generator=probe_rng)
    eval_z = torch.randn(job["n_eval"], job["z_dim"], generator=probe_rng)
    result = {"job": dict(job), "scores": {}, "ema_scores": {}, "snapshots": {}, "ema_snapshots": {}}

    def overfitting(step, model):
        return overfitting_signals(model.D, probe_train, probe_held, model.generate(z=probe_z))

    def evaluate(step, model):
        if step not in eval_at:
            return None
        for ema, key in ((False, "scores"), (True, "ema_scores")):
            if ema and model.ema is None:
                continue
            images = model.generate(z=eval_z, ema=ema)
            result[key][step] = score(images, job["n_eval"], coverage=step == steps, dataset=job["dataset"])
            result[key.replace("scores", "snapshots")][step] = images[: job["n_snapshot"]]
        return None

    callbacks = [Every(1, evaluate, "evaluate")]
    if job["probe_every"]:
        callbacks.append(Every(job["probe_every"], overfitting, "overfitting"))
    cpu_tic = time.process_time()
    history = train(model, sampler, steps=steps, progress=False, desc=job.get("name", job["variant"]), callbacks=callbacks)
    result["probes"] = history.probes.get("overfitting", [])
    result["losses"] = history.losses
    result["final_scores"] = {name: discriminator_scores(model.D, x) for name, x in
                              (("train", probe_train), ("held_out", probe_held), ("fake", model.generate(z=probe_z)))}
    result["d_grad_norm"] = input_gradient_norms(model.D, probe_held).mean().item()  # eval mode: D unchanged
    result["d_spectral_norms"] = spectral_norms(model.D)
    result["seconds"] = history.seconds
    result["cpu_seconds"] = time.process_time() - cpu_tic  # training, probes and scores, in this process
    result["images_per_second"] = steps * job["batch_size"] / max(history.seconds, 1e-9)
    return result


def sample_drift(snapshots: dict) -> list[float]:
    """Mean absolute pixel change of the same samples between consecutive evaluations ({step: images})."""
    marks = sorted(snapshots)
    return [(snapshots[b] - snapshots[a]).abs().mean().item() for a, b in zip(marks, marks[1:])]


# ----------------------------------------------------------------------------- many runs


def run_jobs(jobs: list[dict], *, workers: int = 1, verbose: bool = True) -> list[dict]:
    """``run_job`` for every job, results in job order; ``workers`` > 1 runs them in single-threaded processes."""
    workers = check_positive_int("workers", workers)
    jobs = [validate_job(job) for job in jobs]  # bad input: one clear line here, not a traceback from a worker
    if not jobs:
        raise GanutilsError("run_jobs got no jobs")
    results, tic = [], time.perf_counter()
    for r in imap_jobs(run_job, jobs, workers=workers):
        results.append(r)
        if verbose:
            final = r["scores"][max(r["scores"])]
            ema = f" (EMA {r['ema_scores'][max(r['ema_scores'])]['fd']:.0f})" if r["ema_scores"] else ""
            print(f"{r['job'].get('name', r['job']['variant'])}, seed {r['job']['seed']}: FD {final['fd']:.0f}{ema}, "
                  f"precision {final['precision']:.2f}, recall {final['recall']:.2f} "
                  f"[{r['seconds']:.0f} s training, {r['images_per_second']:.0f} img/s; "
                  f"{time.perf_counter() - tic:.0f} s so far]")
    return results
