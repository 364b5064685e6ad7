import pytest
import torch

from ganutils import data, nets
from ganutils.config import GanutilsError
from ganutils.training import loop as train
from ganutils.training.replay import ReplayGAN


def small(seed=0, **kw):
    torch.manual_seed(seed)
    G, D = nets.MLPGenerator(2, (2,), 16, 2), nets.MLPDiscriminator((2,), 16, 2)
    return ReplayGAN(G, D, z_dim=2, lr_g=1e-3, lr_d=1e-3, seed=seed, **kw)


def test_buffer_fills_then_keeps_its_size_and_takes_new_samples():
    model = small(buffer_size=10)
    model.push(torch.zeros(6, 2))
    assert model.buffer.shape == (6, 2)
    model.push(torch.ones(6, 2))
    ones = int((model.buffer == 1).all(dim=1).sum())
    assert model.buffer.shape == (10, 2) and 4 <= ones <= 6  # 4 appended, 2 overwrite random rows (maybe new ones)
    model.push(torch.full((3, 2), 5.0))
    assert model.buffer.shape == (10, 2) and (model.buffer == 5).all(dim=1).sum() == 3


def test_mixing_replaces_the_given_fraction_with_old_fakes():
    model = small(buffer_size=100, replay_fraction=0.25)
    new = torch.zeros(8, 2)
    assert model.mix_with_buffer(new) is new  # empty buffer: nothing to replay
    model.push(torch.ones(100, 2))
    mixed = model.mix_with_buffer(new)
    assert mixed.shape == (8, 2) and mixed[:6].eq(0).all() and mixed[6:].eq(1).all()


def test_d_step_uses_the_buffer_and_stores_the_new_fakes():
    model = small(buffer_size=64)
    sample = data.DistributionSampler(data.ring(), 32, seed=0)
    train.train(model, sample, steps=3, progress=False)
    assert model.buffer.shape == (64, 2)  # 3 steps x 32 fakes = 96 > 64: full
    assert torch.isfinite(model.buffer).all()


def test_resume_restores_the_buffer_exactly(tmp_path):
    straight = small()
    train.train(straight, data.DistributionSampler(data.ring(), 32, seed=0), steps=10, progress=False)
    path = tmp_path / "replay.pt"
    first = small()
    train.train(first, data.DistributionSampler(data.ring(), 32, seed=0), steps=5, checkpoint=path, progress=False)
    resumed = small(seed=3)
    train.train(resumed, data.DistributionSampler(data.ring(), 32, seed=0), steps=10, checkpoint=path, progress=False)
    assert torch.equal(straight.buffer, resumed.buffer)
    for a, b in zip(straight.G.parameters(), resumed.G.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kw, words", [(dict(replay_fraction=1.0), "replay_fraction"), (dict(buffer_size=0), "buffer_size")])
def test_bad_settings_are_clear_errors(kw, words):
    with pytest.raises(GanutilsError, match=words):
        small(**kw)


def test_conditional_batches_are_refused():
    model = small()
    with pytest.raises(GanutilsError, match="unconditional"):
        model.d_step(torch.randn(4, 2), torch.zeros(4, dtype=torch.long))
