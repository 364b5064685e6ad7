"""Training: one iteration of each model (GAN and its variants, VAE, Pix2Pix) and the loop they all share.

Every model has ``step(sample) -> dict of scalar tensors``, ``state_dict()`` and ``load_state_dict()``;
``train(model, sample, steps=...)`` trains any of them with checkpoints, probes and schedules.
"""

from .gan import GAN, make_optimizer
from .loop import Every, History, TrainingDiverged, train
from .pix2pix import Pix2Pix, make_pix2pix
from .replay import ReplayGAN
from .unrolled import UnrolledGAN
from .vae import VAE, train_vae
from .vectorised import VectorisedGAN, train_vectorised

__all__ = ["GAN", "Every", "History", "Pix2Pix", "ReplayGAN", "TrainingDiverged", "UnrolledGAN", "VAE", "VectorisedGAN",
           "make_optimizer", "make_pix2pix", "train", "train_vae", "train_vectorised"]
