"""2-D toy GAN runs on the VEEGAN protocol: train on a mixture, score with ``metrics.toy``."""

from __future__ import annotations

from ..data.samplers import DistributionSampler
from ..data.toy import GaussianMixture2D
from ..metrics.toy import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics
from ..training.loop import History, train


def train_toy(model, dist: GaussianMixture2D, *, steps: int, seed: int = 0, batch_size: int = 256,
              snapshot_every: int | None = None, desc: str = "toy") -> tuple[History, ToyMetrics]:
    """Train ``model`` (a ``training.GAN`` or subclass) on ``dist``; score 2,500 samples on the protocol."""
    sample = DistributionSampler(dist, batch_size, seed=seed, device=getattr(model, "device", None))
    history = train(model, sample, steps=steps, snapshot_every=snapshot_every, desc=desc)
    return history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)
