"""Mode collapse on MNIST, made on purpose: the DCGAN with and without BatchNorm in the generator.

Radford et al. (2016, section 3) report that batch normalisation in G "proved critical to
get deep generators to begin learning, preventing the generator from collapsing all
samples to a single point". Removing it is therefore a documented, one-switch way to get
a collapsing MNIST GAN; everything else (networks, optimiser, data, steps, seed) stays
the same as the healthy run. Notebook 03 scores both with the evaluation network's digit
coverage (``metrics.coverage.digit_coverage``).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int, seeded
from ..data.samplers import TensorSampler
from ..nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ..training.gan import GAN
from ..training.loop import History, train


def remove_batchnorm(module: nn.Module) -> int:
    """Replace every BatchNorm layer inside ``module`` by Identity, in place; returns how many were removed."""
    removed = 0
    for parent in module.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())
                removed += 1
    return removed


def dcgan(*, batchnorm_in_g: bool = True, z_dim: int = 64, width: int = 32, lr_g: float = 2e-4, lr_d: float = 2e-4,
          seed: int = 0, device="cpu") -> GAN:
    """The course's DCGAN pair (``nets.DCGANGenerator``/``DCGANDiscriminator``, initialised from ``seed``),
    optionally without BatchNorm in G."""
    with seeded(seed):
        G = DCGANGenerator(check_positive_int("z_dim", z_dim), check_positive_int("width", width))
        D = DCGANDiscriminator(width)
    if not batchnorm_in_g and remove_batchnorm(G) == 0:
        raise GanutilsError("the generator has no BatchNorm layer to remove: nets.DCGANGenerator changed, update experiments.mnist_collapse.dcgan")
    return GAN(G, D, z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, seed=seed, device=device)


def train_mnist(model: GAN, images: torch.Tensor, *, steps: int, batch_size: int = 64, seed: int = 0,
                snapshot_every: int | None = None, checkpoint=None, desc: str = "mnist") -> History:
    """Train ``model`` on ``images`` (N, 1, 28, 28) in [-1, 1] with the shared loop (resuming from ``checkpoint``)."""
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise GanutilsError(f"train_mnist wants MNIST images shaped (N, 1, 28, 28), got {tuple(images.shape)}: use data.load_mnist().images")
    sample = TensorSampler(images, batch_size=batch_size, seed=seed, device=model.device)
    return train(model, sample, steps=steps, snapshot_every=snapshot_every, checkpoint=checkpoint, desc=desc)


def train_and_sample(job: dict) -> dict:
    """One run of notebook 03's MNIST experiment, as a function a worker process can run.

    ``job``: batchnorm_in_g, seed, steps, images (N, 1, 28, 28) in [-1, 1], n_samples, checkpoint (a path
    or None), device. Returns ``n_samples`` images of the trained generator and the training history.
    """
    model = dcgan(batchnorm_in_g=job["batchnorm_in_g"], seed=job["seed"], device=job.get("device", "cpu"))
    history = train_mnist(model, job["images"], steps=job["steps"], seed=job["seed"], checkpoint=job.get("checkpoint"),
                          desc=f"MNIST, BatchNorm in G: {job['batchnorm_in_g']}, seed {job['seed']}")
    return {"fake": model.generate(job["n_samples"]), "history": history}


def pixel_diversity(images: torch.Tensor) -> float:
    """Mean over pixels of the standard deviation across images: 0 when every image is the same."""
    x = torch.as_tensor(images).float().flatten(1)
    if len(x) < 2:
        raise GanutilsError(f"pixel_diversity needs at least 2 images, got {len(x)}")
    return x.std(dim=0).mean().item()
