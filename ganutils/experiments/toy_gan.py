"""2-D toy GAN runs on the VEEGAN protocol: train on a mixture, score with ``metrics.toy``."""

from __future__ import annotations

from ..data.samplers import DistributionSampler
from ..data.toy import GaussianMixture2D
from ..metrics.toy import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics
from ..training.loop import History, train
from ..training.vectorised import train_vectorised


def train_toy(model, dist: GaussianMixture2D, *, steps: int, seed: int = 0, batch_size: int = 256,
              snapshot_every: int | None = None, desc: str = "toy") -> tuple[History, ToyMetrics]:
    """Train ``model`` (a ``training.GAN`` or subclass) on ``dist``; score 2,500 samples on the protocol."""
    sample = DistributionSampler(dist, batch_size, seed=seed, device=getattr(model, "device", None))
    history = train(model, sample, steps=steps, snapshot_every=snapshot_every, desc=desc)
    return history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)


def train_toys_vectorised(models, dists, *, steps: int, seeds, batch_size: int = 256, snapshot_every: int | None = None,
                          desc: str = "toys") -> list[tuple[History, ToyMetrics]]:
    """``train_toy`` for several compatible models at once (one vectorised batch, ``training.vectorised``).

    Model i trains on ``dists[i]`` with the sampler of ``seeds[i]``, exactly as ``train_toy`` would
    train it alone (up to float rounding), and is scored the same way.
    """
    samplers = [DistributionSampler(dist, batch_size, seed=seed, device=getattr(model, "device", None))
                for model, dist, seed in zip(models, dists, seeds)]
    histories = train_vectorised(models, samplers, steps=steps, snapshot_every=snapshot_every, desc=desc)
    return [(history, toy_metrics(model.generate(PROTOCOL_SAMPLES), dist)) for model, dist, history in zip(models, dists, histories)]
