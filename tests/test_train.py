import json
import math

import pytest
import torch

from ganutils import data, nets
from ganutils.config import GanutilsError, seeded
from ganutils.training import checkpoint, gan
from ganutils.training import loop as train


def ring_gan(seed=0, **kw):
    torch.manual_seed(seed)
    G, D = nets.MLPGenerator(2, (2,), 32, 2), nets.MLPDiscriminator((2,), 32, 2)
    return gan.GAN(G, D, z_dim=2, lr_g=1e-3, lr_d=1e-3, seed=seed, snapshot_size=50, **kw), data.DistributionSampler(data.ring(), 64, seed=seed)


def params(model):
    return torch.cat([p.detach().flatten() for p in list(model.G.parameters()) + list(model.D.parameters())])


def test_training_is_deterministic():
    a, sa = ring_gan()
    ha = train.train(a, sa, steps=30, progress=False)
    b, sb = ring_gan()
    hb = train.train(b, sb, steps=30, progress=False)
    assert torch.equal(params(a), params(b))
    assert ha.losses == hb.losses and len(ha.steps) == 30


def test_history_snapshots_and_losses():
    m, s = ring_gan()
    h = train.train(m, s, steps=20, snapshot_every=10, progress=False)
    assert [step for step, _ in h.snapshots] == [10, 20]
    assert h.snapshots[0][1].shape == (50, 2)
    assert set(h.losses) == {"d_loss", "d_real", "d_fake", "g_loss"}
    assert all(math.isfinite(v) for v in h["d_loss"])


def test_interrupted_training_resumes_to_the_same_result(tmp_path):
    straight, s1 = ring_gan()
    h1 = train.train(straight, s1, steps=40, progress=False)

    path = tmp_path / "ring.pt"
    first, s2 = ring_gan()
    train.train(first, s2, steps=20, checkpoint=path, progress=False)  # "interrupted" after 20 steps
    torch.manual_seed(12345)  # the global RNG moves on in between; the checkpoint restores it
    resumed, s3 = ring_gan(seed=7)  # fresh objects, even differently initialised
    h3 = train.train(resumed, s3, steps=40, checkpoint=path, progress=False)
    assert torch.equal(params(straight), params(resumed))
    assert h3.steps == list(range(1, 41)) and h3.losses == h1.losses


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    checkpoint.save_atomic({"x": torch.ones(3)}, path)

    def broken_save(obj, fh):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        checkpoint.save_atomic({"x": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(checkpoint.load(path)["x"], torch.ones(3))  # the old checkpoint survived
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left


def test_corrupt_or_mismatched_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(GanutilsError, match="unreadable .* delete it"):
        checkpoint.load(bad)
    m, s = ring_gan()
    path = tmp_path / "ring.pt"
    train.train(m, s, steps=2, checkpoint=path, progress=False)
    G, D = nets.MLPGenerator(2, (2,), 16, 2), nets.MLPDiscriminator((2,), 16, 2)
    other = gan.GAN(G, D, z_dim=2)
    with pytest.raises(GanutilsError, match="does not fit this model"):
        train.train(other, s, steps=4, checkpoint=path, progress=False)


class Exploding:
    """A model whose loss turns NaN at step ``bad_step``."""

    def __init__(self, bad_step):
        self.w, self.calls, self.bad_step = torch.zeros(1), 0, bad_step

    def step(self, sample):
        self.calls += 1
        self.w += 1
        return {"loss": torch.tensor(float("nan") if self.calls >= self.bad_step else 1.0)}

    def state_dict(self):
        return {"w": self.w.clone(), "calls": self.calls}

    def load_state_dict(self, state):
        self.w, self.calls = state["w"].clone(), state["calls"]


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "m.pt"
    with pytest.raises(train.TrainingDiverged, match=r"loss became nan at step 5.*last good checkpoint .*step 4.*lower the learning rate"):
        train.train(Exploding(bad_step=5), lambda: None, steps=10, checkpoint=path, checkpoint_every=2, progress=False)
    assert checkpoint.load(path)["step"] == 4
    with pytest.raises(train.TrainingDiverged, match=r"step 2; training stopped and no checkpoint was kept"):
        train.train(Exploding(bad_step=2), lambda: None, steps=10, progress=False)


def test_steps_must_be_positive():
    m, s = ring_gan()
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        train.train(m, s, steps=0)
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        train.train(m, s, steps=-3)


def test_gradient_penalty_with_batchnorm_critic_warns():
    G, D = nets.DCGANGenerator(8, 8), nets.DCGANDiscriminator(8, norm="batch")
    with pytest.warns(UserWarning, match="BatchNorm"):
        gan.GAN(G, D, z_dim=8, loss="wasserstein", gp_weight=10)


def test_wgan_gp_step_and_clipping_run():
    import copy

    from ganutils.losses.gradient_penalty import gradient_penalty

    m, s = ring_gan(loss="wasserstein", gp_weight=10, n_critic=1, betas=(0.0, 0.9))
    real = s()[0]
    twin = copy.deepcopy(m)  # the same critic, generator and noise stream, before the step
    fake = twin.G(twin.sample_z(len(real))).detach()
    expected = gradient_penalty(twin.D, real, fake, weight=10.0, generator=twin.noise)
    out = m.step(lambda: (real,))
    assert out["gp"].item() == pytest.approx(expected.item(), rel=1e-5), "the reported penalty is the one on this batch"
    assert out["gp"].item() > 0.1, "a fresh critic's input gradients are far from unit norm"
    m2, s2 = ring_gan(loss="wasserstein", clip_value=0.01, optimizer="rmsprop")
    m2.step(s2)
    assert max(p.abs().max().item() for p in m2.D.parameters()) <= 0.01


class CondG(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.net = torch.nn.Embedding(3, 4), nets.mlp(6, 2, 16, 1)

    def forward(self, z, y):
        return self.net(torch.cat([z, self.emb(y)], 1))


class CondD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.net = torch.nn.Embedding(3, 4), nets.mlp(6, 1, 16, 1)

    def forward(self, x, y):
        return self.net(torch.cat([x, self.emb(y)], 1)).squeeze(1)


def test_conditional_gan_passes_labels_to_both_networks():
    x, y = torch.randn(60, 2), torch.arange(60) % 3
    m = gan.GAN(CondG(), CondD(), z_dim=2)
    m.fixed_z, m.fixed_cond = m.fixed_z[:6], (torch.arange(6) % 3,)
    h = train.train(m, data.TensorSampler(x, y, batch_size=12), steps=3, snapshot_every=3, progress=False)
    assert h.snapshots[0][1].shape == (6, 2)
    assert m.generate(5, torch.tensor([0, 1, 2, 0, 1])).shape == (5, 2)


def test_history_round_trip_through_a_weights_only_checkpoint(tmp_path):
    m, s = ring_gan()
    h = train.train(m, s, steps=6, snapshot_every=3, progress=False)
    checkpoint.save_atomic({"h": h.state_dict()}, tmp_path / "h.pt")
    back = train.History.from_state_dict(checkpoint.load(tmp_path / "h.pt")["h"])
    assert back.losses == h.losses and torch.equal(back.snapshots[1][1], h.snapshots[1][1])
    json.dumps(back.losses)


def test_probes_and_schedules_resume_exactly(tmp_path):
    """A run with a probe every 5 steps and a linear learning-rate decay, stopped at step 20 and resumed,
    ends with the same weights, the same probes and the same learning rates as one uninterrupted run."""

    def run(steps, path=None, seed=0):
        model, sampler = ring_gan(seed=seed)
        probe = train.Every(5, lambda step, m: {"g_norm": float(sum(p.detach().norm() for p in m.G.parameters()))}, at_start=True)
        decay = [torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / 40) for opt in (model.opt_g, model.opt_d)]
        history = train.train(model, sampler, steps=steps, checkpoint=path, progress=False, callbacks=[probe],
                              schedulers=decay)
        return model, history

    straight, h1 = run(40)
    path = tmp_path / "probed.pt"
    run(20, path)
    resumed, h2 = run(40, path, seed=3)
    assert torch.equal(params(straight), params(resumed))
    assert h1.probes == h2.probes and [p["step"] for p in h1.probes["probe"]] == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    assert resumed.opt_g.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    assert straight.opt_g.param_groups[0]["lr"] == resumed.opt_g.param_groups[0]["lr"]


def test_numpy_gaussian_cache_survives_a_resume():
    """NumPy's Box-Muller keeps a cached second Gaussian: a checkpoint must restore it, or resume is not exact."""
    import numpy as np

    np.random.seed(0)
    np.random.normal()  # leaves one Gaussian cached
    state = checkpoint.rng_state()
    expected = np.random.normal(size=3)
    np.random.seed(99)
    checkpoint.set_rng_state(state)
    assert np.array_equal(np.random.normal(size=3), expected)


def test_a_probe_must_return_a_dict_or_none():
    model, sampler = ring_gan()
    with pytest.raises(GanutilsError, match="returned list"):
        train.train(model, sampler, steps=2, progress=False, callbacks=[train.Every(1, lambda s, m: [1])])
    with pytest.raises(GanutilsError, match="training.Every"):
        train.train(model, sampler, steps=2, progress=False, callbacks=[lambda s, m: None])


# ----------------------------------------------------------------------------- milestones: one run, several lengths


def tiny_for_milestones(seed=0):
    with seeded(seed):
        G, D = nets.MLPGenerator(2, (2,), 8, 1), nets.MLPDiscriminator((2,), 8, 1)
    return gan.GAN(G, D, z_dim=2, lr_g=1e-3, lr_d=1e-3, seed=seed)


def all_weights(model):
    return torch.cat([p.detach().flatten() for p in list(model.G.parameters()) + list(model.D.parameters())])


def ring_sampler():
    return data.DistributionSampler(data.ring(), 16, seed=0)


def test_a_milestone_is_the_checkpoint_of_the_shorter_run(tmp_path):
    long, short = tmp_path / "long.pt", tmp_path / "short.pt"
    a = tiny_for_milestones()
    train.train(a, ring_sampler(), steps=10, checkpoint=long, milestones={4: short}, snapshot_every=2, progress=False)
    assert short.exists() and torch.load(short, weights_only=False)["step"] == 4
    alone = tiny_for_milestones()
    train.train(alone, ring_sampler(), steps=4, progress=False)
    loaded = tiny_for_milestones(seed=1)  # other initial weights: everything must come from the file
    history = train.train(loaded, ring_sampler(), steps=4, checkpoint=short, progress=False)
    assert torch.equal(all_weights(loaded), all_weights(alone)) and history.steps == [1, 2, 3, 4]


def test_a_longer_run_starts_from_the_milestone_and_ends_where_it_would_alone(tmp_path):
    short, long = tmp_path / "short.pt", tmp_path / "long.pt"
    train.train(tiny_for_milestones(), ring_sampler(), steps=4, checkpoint=short, snapshot_every=2, progress=False)  # trained first
    resumed = tiny_for_milestones()
    history = train.train(resumed, ring_sampler(), steps=10, checkpoint=long, milestones={4: short}, snapshot_every=2,
                          progress=False)
    straight = tiny_for_milestones()
    reference = train.train(straight, ring_sampler(), steps=10, snapshot_every=2, progress=False)
    assert torch.equal(all_weights(resumed), all_weights(straight))
    assert history.steps == reference.steps and history.losses == reference.losses
    assert [s for s, _ in history.snapshots] == [2, 4, 6, 8, 10]


def test_a_milestone_without_the_snapshots_this_run_records_is_not_used(tmp_path, capsys):
    short, long = tmp_path / "short.pt", tmp_path / "long.pt"
    train.train(tiny_for_milestones(), ring_sampler(), steps=4, checkpoint=short, progress=False)  # no snapshots
    history = train.train(tiny_for_milestones(), ring_sampler(), steps=6, checkpoint=long, milestones={4: short},
                          snapshot_every=2, progress=False)
    assert "resuming" not in capsys.readouterr().out
    assert [s for s, _ in history.snapshots] == [2, 4, 6]
    assert len(torch.load(short, weights_only=False)["history"]["snapshots"]) == 2  # rewritten with them


def test_probes_must_match_too(tmp_path, capsys):
    short = tmp_path / "short.pt"
    probe = train.Every(2, lambda step, m: {"x": 1.0}, at_start=True)
    train.train(tiny_for_milestones(), ring_sampler(), steps=4, checkpoint=short, progress=False)
    train.train(tiny_for_milestones(), ring_sampler(), steps=6, milestones={4: short}, callbacks=[probe], progress=False)
    assert "resuming" not in capsys.readouterr().out
    with_probes = tmp_path / "with_probes.pt"
    train.train(tiny_for_milestones(), ring_sampler(), steps=4, checkpoint=with_probes, callbacks=[probe], progress=False)
    history = train.train(tiny_for_milestones(), ring_sampler(), steps=6, milestones={5: tmp_path / "none.pt", 4: with_probes},
                          callbacks=[probe], progress=False)
    assert "resuming" in capsys.readouterr().out
    assert [r["step"] for r in history.probes["probe"]] == [0, 2, 4, 6]
