"""Notebook 02's independent runs, one function per run so that the worker pool can train them side by side.

- ``train_ablation``: the DCGAN of notebook 02 with one trick changed (data range and output
  activation, D's activation, label smoothing, D's optimiser), trained and scored alone;
- ``train_seed001``: seed 001's port with some of its bugs fixed (``seed001.Seed001GAN``).

Each run builds its networks from its own seed and draws its own batches and noise, so what it
measures does not depend on the process it runs in (up to float rounding between thread counts).
"""

from __future__ import annotations


from ..config import seeded
from ..data.samplers import TensorSampler
from ..metrics.images import evaluate_images
from ..nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ..training.gan import GAN
from ..training.loop import train
from .seed001 import Seed001GAN

ARCHITECTURE_KEYS = ("out_act", "d_act")  # what a change does to the networks; the rest goes to GAN(...)


def train_ablation(job: dict) -> dict:
    """Train the DCGAN with ``job["change"]`` applied and score ``n_eval`` samples against ``held_out``.

    ``job``: name, change, images (N, 1, 28, 28) in [-1, 1], held_out (in [-1, 1]), z_dim, width, lr,
    batch_size, seed, steps, n_eval, checkpoint (a path: the run resumes from it, or stops at once when it
    holds ``steps`` already), device. With ``out_act="sigmoid"`` the data are rescaled to [0, 1] for
    training and the samples back to [-1, 1] for scoring.
    """
    change = job["change"]
    out_act, d_act = change.get("out_act", "tanh"), change.get("d_act", "leaky_relu")
    gan_options = {k: v for k, v in change.items() if k not in ARCHITECTURE_KEYS}
    with seeded(job["seed"]):
        G, D = DCGANGenerator(job["z_dim"], job["width"], out_act=out_act), DCGANDiscriminator(job["width"], act=d_act)
    model = GAN(G, D, z_dim=job["z_dim"], lr_g=job["lr"], lr_d=job["lr"], seed=job["seed"], device=job.get("device"),
                **gan_options)
    images = job["images"] if out_act == "tanh" else (job["images"] + 1) / 2
    history = train(model, TensorSampler(images, batch_size=job["batch_size"], seed=job["seed"]), steps=job["steps"],
                    desc=job["name"], checkpoint=job.get("checkpoint"))
    fake = model.generate(job["n_eval"])
    fake = fake if out_act == "tanh" else fake * 2 - 1
    return {**evaluate_images(fake, job["held_out"]), "seconds": history.seconds}


def train_seed001(job: dict) -> dict:
    """Train seed 001's port with ``job["fixes"]`` (bugs switched off) and score it; also returns 16 samples.

    ``job``: name, fixes, images (N, 1, 28, 28) in [0, 1] (the seed's x / 255), held_out (in [-1, 1]), seed,
    steps, batch_size (the batch once the batching bug is fixed; with it, one image per step), n_eval, device.
    """
    model = Seed001GAN(seed=job["seed"], device=job.get("device"), **job["fixes"])
    per_step = 1 if model.bugs["fixed_noise"] else job["batch_size"]
    history = train(model, TensorSampler(job["images"], batch_size=per_step, seed=job["seed"]), steps=job["steps"],
                    desc=job["name"])
    samples = model.generate(job["n_eval"])
    return {**evaluate_images(samples * 2 - 1, job["held_out"]), "d_of_fake": model.d_probability(samples).mean().item(),
            "samples": samples[:16].clone(), "seconds": history.seconds}

