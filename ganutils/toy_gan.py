"""2-D toy GAN runs on the VEEGAN protocol: build the nets, train, score with ``toy_metrics``."""

from __future__ import annotations

import torch

from . import data, nets, train
from .toy_metrics import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics


def toy_nets(z_dim: int = 2, hidden: int = 128, depth: int = 3, d_act: str = "relu", seed: int = 0):
    """The calibrated toy pair: 3x128 ReLU MLPs for G (z -> 2-D) and D (2-D -> logit)."""
    torch.manual_seed(seed)
    return nets.MLPGenerator(z_dim, (2,), hidden, depth), nets.MLPDiscriminator((2,), hidden, depth, d_act)


def train_toy(model, dist: data.GaussianMixture2D, *, steps: int, seed: int = 0, batch_size: int = 256,
              snapshot_every: int | None = None, desc: str = "toy") -> tuple[train.History, ToyMetrics]:
    """Train ``model`` (a ``gan.GAN`` or subclass) on ``dist``; score 2,500 samples on the protocol."""
    sample = data.DistributionSampler(dist, batch_size, seed=seed, device=getattr(model, "device", None))
    history = train.train(model, sample, steps=steps, snapshot_every=snapshot_every, desc=desc)
    return history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)
