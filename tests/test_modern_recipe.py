import copy

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import TensorSampler
from ganutils.experiments import modern_recipe as mr
from ganutils.losses.spectral_norm import has_spectral_norm
from ganutils.metrics.overfitting import discriminator_scores, membership_auc, overfitting_signals
from ganutils.training.recipe import RecipeGAN

pytestmark = pytest.mark.usefixtures("one_thread")


def sampler(n=64, batch=16, seed=0):
    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return TensorSampler(x, batch_size=batch, seed=seed)


def test_every_switch_trains_and_reports_finite_numbers():
    model = mr.make_gan("hinge_sn_r1", r1_gamma=1.0, augment="color,translation,cutout", ema_decay=0.9, width=4, z_dim=8)
    assert has_spectral_norm(model.D)
    sample = sampler()
    before = [p.clone() for p in model.ema.module.parameters()]
    for _ in range(3):
        out = model.step(sample)
    assert {"d_loss", "g_loss", "r1", "r_t", "d_real", "d_fake"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    assert -1 <= out["r_t"] <= 1 and out["r1"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.ema.module.parameters()))
    assert model.generate(5, ema=True).shape == (5, 1, 28, 28)


def test_augmenting_the_reals_only_leaves_the_fakes_untouched():
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(28 * 28, 1)

        def forward(self, x):
            seen.append(x.detach().clone())
            return self.lin(x.flatten(1)).squeeze(1)

    G = torch.nn.Sequential(torch.nn.Linear(8, 28 * 28), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 28, 28)))
    model = RecipeGAN(G, Spy(), z_dim=8, loss="hinge", augment="cutout", augment_fakes=False)
    model.step(sampler())
    real_seen, fake_seen, g_seen = seen
    assert (real_seen == 0).flatten(1).sum(1).min() >= 49  # every real has a cut-out square of zeros
    assert (fake_seen == 0).sum() == 0 and (g_seen == 0).sum() == 0  # tanh outputs are never exactly 0 here


def test_resume_is_exact():
    torch.manual_seed(0)
    a = mr.make_gan("hinge_sn", augment="translation", ema_decay=0.9, width=4, z_dim=8, seed=3)
    s = sampler()
    for _ in range(2):
        a.step(s)
    state, sampler_state = copy.deepcopy(a.state_dict()), copy.deepcopy(s.state_dict())  # state_dict() shares storage
    a.step(s)
    b = mr.make_gan("hinge_sn", augment="translation", ema_decay=0.9, width=4, z_dim=8, seed=99)
    b.load_state_dict(state)
    s.load_state_dict(sampler_state)
    b.step(s)
    for p, q in zip(list(a.ema.module.parameters()) + list(a.D.state_dict().values()),
                    list(b.ema.module.parameters()) + list(b.D.state_dict().values())):
        assert torch.equal(p, q)


def test_bad_input():
    with pytest.raises(GanutilsError, match="gamma"):
        mr.make_gan("hinge_sn_r1", r1_gamma=-1.0, width=4)
    with pytest.raises(GanutilsError, match="decay"):
        mr.make_gan("hinge_sn", ema_decay=1.0, width=4)
    with pytest.raises(GanutilsError, match="unknown augmentation"):
        mr.make_gan("hinge_sn", augment="rotate", width=4)
    with pytest.raises(GanutilsError, match="unknown recipe variant"):
        mr.make_gan("lsgan", width=4)
    with pytest.raises(GanutilsError, match="no EMA"):
        mr.make_gan("hinge_sn", width=4).generate(2, ema=True)
    with pytest.raises(GanutilsError, match="WGAN-GP"):
        RecipeGAN(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1), z_dim=2, gp_weight=10.0)


def test_a_training_set_smaller_than_the_batch_is_one_clear_line():
    with pytest.raises(GanutilsError, match=r"training set \(40 images\) is smaller than one batch \(64\)"):
        mr.run_jobs([{"n_train": 40, "batch_size": 64, "steps": 1, "width": 4}])
    with pytest.raises(GanutilsError, match="unknown job keys"):
        mr.run_jobs([{"stpes": 3}])
    with pytest.raises(GanutilsError, match="gamma"):
        mr.run_jobs([{"variant": "hinge_sn_r1", "r1_gamma": -1}])


def test_a_tiny_run_measures_everything_it_promises():
    job = dict(name="tiny", variant="hinge_sn_r1", r1_gamma=1.0, augment="translation", ema_decay=0.9, n_train=64,
               steps=6, width=4, batch_size=16, eval_at=[3, 6], probe_every=2, n_eval=40, n_probe=30, n_snapshot=8)
    mr.score(mr.mnist_split()[1][:40], 40)  # loads the evaluation network (its first construction draws weights)
    before = torch.get_rng_state()
    (r,) = mr.run_jobs([job], verbose=False)
    assert torch.equal(before, torch.get_rng_state()), "a run draws from its own generators only"
    assert sorted(r["scores"]) == sorted(r["ema_scores"]) == [3, 6] and "coverage" in r["scores"][6]
    assert [p["step"] for p in r["probes"]] == [2, 4, 6] and 0 <= r["probes"][-1]["auc"] <= 1
    assert r["snapshots"][6].shape == (8, 1, 28, 28) and len(mr.sample_drift(r["snapshots"])) == 1
    assert set(r["final_scores"]) == {"train", "held_out", "fake"} and len(r["final_scores"]["train"]) == 30
    assert max(r["d_spectral_norms"].values()) < 1.5 and r["d_grad_norm"] > 0
    (again,) = mr.run_jobs([job], verbose=False)
    assert again["scores"][6]["fd"] == r["scores"][6]["fd"], "the same job gives the same numbers"


def test_an_unknown_data_set_is_one_clear_line():
    with pytest.raises(GanutilsError, match="unknown data set 'cifar10': use one of mnist, fashion"):
        mr.run_jobs([{"dataset": "cifar10"}])


def test_fashion_runs_are_scored_by_the_fashion_network():
    try:
        held_out = mr.data_split("fashion")[1][:40]
    except GanutilsError as err:
        pytest.skip(f"Fashion-MNIST is not on this machine: {err}")
    same = mr.score(held_out, 40, dataset="fashion")  # the held-out images against themselves
    assert same["fd"] == pytest.approx(0, abs=1e-3) and same["precision"] == same["recall"] == 1
    assert mr.score(held_out, 40, coverage=False)["fd"] > 10 * max(same["fd"], 1e-3), "MNIST's network and references differ"
    job = dict(dataset="fashion", variant="ns", n_train=64, steps=2, width=4, batch_size=16, n_eval=40, n_probe=20, n_snapshot=4)
    (r,) = mr.run_jobs([job], verbose=False)
    assert r["snapshots"][2].shape == (4, 1, 28, 28) and "coverage" in r["scores"][2]


def test_probing_d_changes_nothing():
    model = mr.make_gan("hinge_sn", width=4, z_dim=8)
    model.step(sampler())
    D = model.D
    state = {k: v.clone() for k, v in D.state_dict().items()}
    x = torch.rand(20, 1, 28, 28) * 2 - 1
    signals = overfitting_signals(D, x[:10], x[10:], x[:5])
    assert D.training
    assert all(torch.equal(state[k], v) for k, v in D.state_dict().items())  # no power iteration, no buffer update
    assert set(signals) == {"train", "held_out", "fake", "gap", "r_t", "r_t_held_out", "r_v", "auc"}


def test_overfitting_signals_by_hand():
    class Lookup(torch.nn.Module):  # scores each image by its first pixel
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(()))

        def forward(self, x):
            return self.w * x.flatten(1)[:, 0]

    def imgs(values):
        x = torch.zeros(len(values), 1, 2, 2)
        x[:, 0, 0, 0] = torch.tensor(values)
        return x

    s = overfitting_signals(Lookup(), imgs([3.0, 1.0]), imgs([1.0, -1.0]), imgs([-2.0, -2.0]))
    assert s["train"] == 2 and s["held_out"] == 0 and s["fake"] == -2
    assert s["gap"] == 2 and s["r_t"] == 1 and s["r_t_held_out"] == 0 and s["r_v"] == pytest.approx(0.5)
    assert s["auc"] == pytest.approx(0.875)  # pairs (3,1) (3,-1) (1,-1) won, (1,1) tied: (3 + 0.5) / 4
    assert torch.equal(discriminator_scores(Lookup(), imgs([5.0])), torch.tensor([5.0]))


def test_membership_auc():
    assert membership_auc(torch.tensor([2.0, 3.0]), torch.tensor([0.0, 1.0])) == 1
    assert membership_auc(torch.tensor([0.0]), torch.tensor([1.0])) == 0
    assert membership_auc(torch.ones(5), torch.ones(3)) == 0.5
    with pytest.raises(GanutilsError, match="at least one"):
        membership_auc(torch.tensor([]), torch.ones(3))
