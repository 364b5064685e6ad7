"""Notebook 10's experiment code: toy DDPMs trained in lock-step, each as if alone; bad settings."""

import pytest
import torch

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.experiments import gan_vs_diffusion as gvd
from ganutils.training import train
from ganutils.training.diffusion import EvaluationCounter


def _trained(jobs, steps=3):
    model = gvd.ToyDDPMs(jobs, T=30, hidden=16, depth=1, octaves=2, batch_size=32)
    train(model, model.sampler(), steps=steps, progress=False, schedulers=[model.cosine_decay(steps)])
    return model


def test_a_job_trains_the_same_alone_or_beside_others():
    alone = _trained([(data.ring(), 0)])
    together = _trained([(data.grid(), 5), (data.ring(), 0)])
    a, b = alone.net(0).state_dict(), together.net(1).state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert torch.allclose(alone.generate(0, n=50, sampler="ddim", steps=4),
                          together.generate(1, n=50, sampler="ddim", steps=4), atol=1e-5)


def test_toy_ddpms_sample_count_and_score():
    model = _trained([(data.ring(), 0), (data.grid(), 1)], steps=2)
    counter = EvaluationCounter()
    m = model.metrics(1, n=100, counter=counter)
    assert counter.per_sample(100) == 30 and m.n_modes == 25
    x = model.generate(0, n=20, sampler="ddim", steps=5)
    assert x.shape == (20, 2) and torch.isfinite(x).all()
    assert torch.equal(x, model.generate(0, n=20, sampler="ddim", steps=5))  # the job's seed fixes the noise


def test_toy_ddpms_bad_input():
    with pytest.raises(GanutilsError, match="unknown toy DDPM setting"):
        gvd.ToyDDPMs([(data.ring(), 0)], steps=10)
    with pytest.raises(GanutilsError, match="at least one"):
        gvd.ToyDDPMs([])
    with pytest.raises(GanutilsError, match="unknown sampler"):
        _trained([(data.ring(), 0)], steps=1).generate(0, n=4, sampler="euler")
