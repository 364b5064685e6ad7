"""Image translation on real data, shared by notebooks 08 (pix2pix, edges -> shoes) and 09 (CycleGAN).

- ``fit_edges2shoes``: a pix2pix (U-Net + PatchGAN, L1 and/or cGAN) on Canny edge -> shoe pairs,
  padded to 32x32; its checkpoint name carries its settings, so notebook 09 reuses the model that
  notebook 08 trained in the same run folder instead of training it again.
  ``checkpoints`` is the notebook's ``gu.checkpoint_path`` (name, **config) -> file, or None.
- ``score_shoes``: pixel L1 / PSNR to the held-out ground truth, the Fréchet distance to real
  shoes and the share of outputs the Fashion-MNIST network files under the right shoe class.
- ``fit_cyclegan`` and ``score_horse_zebra``: one CycleGAN run and its numbers.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.animals import HORSE, ZEBRA
from ..data.edges import crop_to, pad_to
from ..data.samplers import TensorSampler
from ..metrics.evalnet import classify, load_evalnet
from ..metrics.frechet import frechet_distance
from ..metrics.sharpness import mean_abs_laplacian
from ..metrics.translation import cycle_error, domain_success, l1_error, psnr, silhouette_iou
from ..training.cyclegan import UnpairedSampler, make_cyclegan
from ..training.loop import train
from ..training.pix2pix import make_pix2pix
from .workers import map_jobs

UNET_SIZE = 32  # the 28x28 images are padded with background to a power of two for the U-Net
EDGES2SHOES_STEPS = dict(smoke=4, quick=800, full=20000)  # notebook 08's pix2pix runs; 09 reuses them as its paired reference


def fit_edges2shoes(train_pairs, loss: str, steps: int, seed: int, *, batch_size: int = 8, width: int = 16,
                    d_layers: int = 1, lam: float = 100.0, lr: float = 2e-4, device=None, desc: str | None = None,
                    checkpoints=None):
    """Train a pix2pix on (edges, shoes) pairs; returns (model, history). The networks are built from ``seed``;
    torch's global RNG is seeded with it too, because pix2pix's dropout masks draw from it (as in notebook 08's runs)."""
    torch.manual_seed(seed)
    model = make_pix2pix(UNET_SIZE, loss, seed=seed, width=width, max_mult=4 if width < 64 else 8, d_width=width,
                                 d_layers=d_layers, lam=lam, lr=lr, in_channels=1, out_channels=1, device=device)
    sampler = TensorSampler(pad_to(train_pairs.edges, UNET_SIZE), pad_to(train_pairs.shoes, UNET_SIZE),
                            batch_size=batch_size, seed=seed, device=device)
    config = dict(loss=loss, steps=steps, seed=seed, batch=batch_size, width=width, d_layers=d_layers, lam=lam, lr=lr,
                  n_train=len(train_pairs))
    checkpoint = checkpoints(f"edges2shoes-{loss}", **config) if checkpoints is not None else None
    history = train(model, sampler, steps=steps, checkpoint=checkpoint, desc=desc or f"edges->shoes {loss}")
    return model, history


def translate_edges(model, edges: torch.Tensor, seed: int) -> torch.Tensor:
    """The model's shoes (28x28) for 28x28 edge maps, dropout on as at test time in pix2pix, masks drawn from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return crop_to(model.translate(pad_to(edges, UNET_SIZE)), 28)


def score_shoes(outputs: torch.Tensor, pairs, fashion_net, reference: torch.Tensor) -> dict[str, float]:
    """Numbers of generated shoes against the held-out ``pairs``: pixel L1 and PSNR to the paired ground truth,
    sharpness relative to it, Fréchet distance to the real shoes ``reference`` (Fashion-MNIST network),
    and class match: the share the network files under the ground truth's class (sandal, sneaker, boot)."""
    probs = classify(outputs, model=fashion_net)
    return {
        "l1": float(l1_error(outputs, pairs.shoes).mean()),
        "psnr": float(psnr(outputs, pairs.shoes).mean()),
        "sharpness": float(mean_abs_laplacian(outputs).mean() / mean_abs_laplacian(pairs.shoes).mean()),
        "fd": frechet_distance(outputs, reference, model=fashion_net),
        "class_match": float((probs.argmax(1) == pairs.labels).float().mean()),
    }


def fit_cyclegan(xs: torch.Tensor, ys: torch.Tensor, steps: int, seed: int, *, batch_size: int = 8, name: str = "cyclegan",
                 device=None, checkpoints=None, **options):
    """Train a CycleGAN between the unpaired image sets ``xs`` and ``ys``; returns (model, history).

    ``options`` go to ``make_cyclegan`` (width, n_blocks, d_width, d_layers, lam_cycle, lam_identity,
    pool_size, lr); the checkpoint name carries all of them.
    """
    model = make_cyclegan(xs.shape[1], seed=seed, snapshot_inputs=xs[:8], device=device, **options)
    sampler = UnpairedSampler(xs, ys, batch_size, seed=seed, device=device)
    config = dict(steps=steps, seed=seed, batch=batch_size, n_x=len(xs), n_y=len(ys), **options)
    checkpoint = checkpoints(name, **config) if checkpoints is not None else None
    history = train(model, sampler, steps=steps, checkpoint=checkpoint, snapshot_every=max(steps // 4, 1), desc=name)
    return model, history


def output_diversity(images: torch.Tensor) -> float:
    """Mean absolute pixel difference between the images of a set and the same set shifted by one (0: all identical)."""
    return float((images - images.roll(1, dims=0)).abs().mean())


def _cyclegan_job(job: dict) -> dict:
    """One CycleGAN run (in a worker or not): train, score on the held-out animals if given, return weights and numbers."""
    job = dict(job)
    xs, ys, test_x, test_y = job.pop("xs"), job.pop("ys"), job.pop("test_x"), job.pop("test_y")
    variant = job.pop("variant", job["name"])
    model, history = fit_cyclegan(xs, ys, **job)
    numbers = {}
    if test_x is not None:
        numbers = score_horse_zebra(model, test_x, test_y, load_evalnet(job.get("device"), dataset="animals"))
    return {"variant": variant, "seed": job["seed"], "scores": numbers, "seconds": history.seconds,
            "G": {k: v.cpu() for k, v in model.G.state_dict().items()}, "F": {k: v.cpu() for k, v in model.F.state_dict().items()}}


def run_cyclegans(xs: torch.Tensor, ys: torch.Tensor, jobs: list[dict], *, steps: int, batch_size: int = 8, test_x=None,
                  test_y=None, device=None, checkpoints=None, workers: int = 1) -> list[dict]:
    """Independent CycleGAN runs between ``xs`` and ``ys``, in order; one dict of results per job.

    Each job holds ``name``, ``seed``, an optional ``variant`` label and ``make_cyclegan`` options. With
    ``test_x``/``test_y`` (held-out horses and zebras) each run is scored by ``score_horse_zebra``.
    ``workers`` > 1 trains that many runs at once in single-threaded processes (on a 2-core laptop: half
    the wall time); each run seeds its own networks and batches, so the numbers do not depend on it.
    """
    full = [dict(job, xs=xs, ys=ys, test_x=test_x, test_y=test_y, steps=steps, batch_size=batch_size, device=device,
                 checkpoints=checkpoints) for job in jobs]
    return map_jobs(_cyclegan_job, full, workers=workers)


def cyclegan_from_run(run: dict, channels: int = 1, device=None, **options):
    """A CycleGAN with the generators of a finished ``run_cyclegans`` run (for translating and plotting)."""
    model = make_cyclegan(channels, device=device, **options)
    model.G.load_state_dict(run["G"])
    model.F.load_state_dict(run["F"])
    return model


def score_horse_zebra(model, horses: torch.Tensor, zebras: torch.Tensor, animal_net) -> dict[str, float]:
    """A horse <-> zebra CycleGAN on held-out horses (X) and zebras (Y).

    zebra_rate / horse_rate: translations the animal network calls zebra / horse (domain success);
    cycle_h / cycle_z: round-trip L1; iou_h2z / iou_z2h: silhouette kept; fd_zebra / fd_horse:
    Fréchet distance of the translations to the real held-out images of the target domain;
    diversity_h2z: how much the translated horses differ from each other, relative to real zebras (0: collapse).
    """
    fake_z, rec_h = model.cycle(horses, "x2y")
    fake_h, rec_z = model.cycle(zebras, "y2x")
    return {
        "zebra_rate": domain_success(classify(fake_z, model=animal_net), ZEBRA),
        "horse_rate": domain_success(classify(fake_h, model=animal_net), HORSE),
        "cycle_h": float(cycle_error(horses, rec_h).mean()),
        "cycle_z": float(cycle_error(zebras, rec_z).mean()),
        "iou_h2z": float(silhouette_iou(horses, fake_z).mean()),
        "iou_z2h": float(silhouette_iou(zebras, fake_h).mean()),
        "fd_zebra": frechet_distance(fake_z, zebras, model=animal_net),
        "fd_horse": frechet_distance(fake_h, horses, model=animal_net),
        "diversity_h2z": output_diversity(fake_z) / output_diversity(zebras),
    }


def mean_and_range(values) -> str:
    """'0.81 (0.79-0.83)': the mean and range over seeds, for the notebook tables."""
    v = np.asarray(list(values), dtype=float)
    return f"{v.mean():.3g} ({v.min():.3g}-{v.max():.3g})" if len(v) > 1 else f"{v[0]:.3g}"
