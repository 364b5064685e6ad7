import math

import pytest
import torch

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.experiments import toy_benchmark as tb
from ganutils.experiments import workers
from ganutils.metrics.toy import ToyMetrics
from ganutils.nets.minibatch_stddev import MinibatchStdDevDiscriminator
from ganutils.nets.pacgan import PackedDiscriminator
from ganutils.training import loop as train
from ganutils.training.gan import GAN
from ganutils.training.replay import ReplayGAN
from ganutils.training.unrolled import UnrolledGAN

TINY = dict(hidden=8, depth=1, batch_size=16)


@pytest.mark.parametrize("method, cls", [("vanilla", GAN), ("label_smoothing", GAN), ("replay", ReplayGAN),
                                         ("minibatch_stddev", GAN), ("pacgan", GAN), ("unrolled", UnrolledGAN),
                                         ("wgan_gp", GAN)])
def test_every_method_builds_and_changes_only_what_its_name_says(method, cls):
    model = tb.build(method, seed=0, hidden=8, depth=1)
    assert type(model) is cls
    assert (model.real_label == 0.9) == (method == "label_smoothing")
    assert isinstance(model.D, MinibatchStdDevDiscriminator) == (method == "minibatch_stddev")
    assert isinstance(model.D, PackedDiscriminator) == (method == "pacgan")
    assert (model.n_critic, model.gp_weight > 0) == ((5, True) if method == "wgan_gp" else (1, False))
    assert model.opt_g.param_groups[0]["lr"] == tb.SETUP["lr_g"] and model.opt_d.param_groups[0]["lr"] == tb.SETUP["lr_d"]


def test_same_seed_gives_every_method_the_same_initial_generator():
    gens = [torch.cat([p.flatten() for p in tb.build(m, seed=3, hidden=8, depth=1).G.parameters()]) for m in tb.METHODS]
    assert all(torch.equal(gens[0], g) for g in gens[1:])


def test_bad_names_are_clear_errors():
    with pytest.raises(GanutilsError, match="unknown mode-collapse method"):
        tb.build("dropout")
    with pytest.raises(GanutilsError, match="unknown setting"):
        tb.build("vanilla", learning_rate=1e-3)
    with pytest.raises(GanutilsError, match="at least one method"):
        tb.run_methods([], data.ring(), seeds=[0], steps=1)


def test_runs_are_reproducible_and_summarised_per_method():
    a = tb.run_methods(["vanilla", "pacgan"], data.ring(), seeds=[0, 1], steps=3, verbose=False, **TINY)
    b = tb.run_methods(["vanilla", "pacgan"], data.ring(), seeds=[0, 1], steps=3, verbose=False, **TINY)
    assert [r.metrics for r in a] == [r.metrics for r in b]
    table = tb.summarize(a)
    assert list(table) == ["vanilla", "pacgan"] and table["vanilla"]["n_seeds"] == 2
    assert a[0].steps_per_s > 0 and a[0].samples.shape == (500, 2)


def fake_result(method, seed, modes, hq, kl):
    m = ToyMetrics(modes, 8, hq, kl, 2500, int(hq * 25), (0,) * 8)
    return tb.ToyRun(method, "ring", seed, 10, m, 2.0, torch.zeros(1, 2))


def test_summary_is_mean_and_sample_std_over_seeds():
    rows = [fake_result("a", 0, 8, 30.0, 0.1), fake_result("a", 1, 6, 10.0, 0.3), fake_result("b", 0, 1, 90.0, 2.0)]
    table = tb.summarize(rows)
    assert table["a"]["modes_mean"] == 7 and table["a"]["modes_std"] == pytest.approx(math.sqrt(2))
    assert table["a"]["modes_min"] == 6 and table["a"]["modes_per_seed"] == [8, 6]
    assert table["a"]["hq_mean"] == 20 and table["a"]["kl_mean"] == pytest.approx(0.2)
    assert table["b"]["modes_std"] == 0 and table["a"]["steps_per_s"] == 5
    text = tb.format_table(table, "ring")
    assert "7.00 ± 1.41" in text and "Unrolled GAN 7.6" in text and "VEEGAN 8" in text
    assert "PacGAN4 24.8" in tb.format_table(table, "grid")


def test_mode_trajectory_follows_the_dominant_mode():
    ring = data.ring()
    hist = train.History(snapshots=[(10, ring.centers[[2, 2, 2, 5]]), (20, ring.centers[[7, 7, 1, 1]])])
    traj = tb.mode_trajectory(hist, ring)
    assert [r["mode"] for r in traj] == [2, 1]  # a tie goes to the first mode (torch.argmax)
    assert traj[0]["share"] == 0.75 and traj[1]["modes_with_10pct"] == 2 and traj[0]["step"] == 10
    with pytest.raises(GanutilsError, match="snapshot_every"):
        tb.mode_trajectory(train.History(), ring)


def test_a_run_does_not_depend_on_what_ran_before_it():
    # what makes worker processes safe: every run seeds its own networks, data and noise
    job = dict(method="replay", dist=data.ring(), seed=1, steps=3, **TINY)
    alone = tb.run_jobs([job], verbose=False)[0]
    torch.manual_seed(999)
    after = tb.run_jobs([dict(job, method="wgan_gp"), job], verbose=False)[1]
    assert alone.metrics == after.metrics and torch.equal(alone.samples, after.samples)


def test_compatible_runs_share_a_batch_and_the_costliest_batch_is_split_for_workers():
    ring, grid = data.ring(), data.grid()
    jobs = ([dict(method=m, dist=d, seed=s, steps=5, **TINY) for m in ("vanilla", "label_smoothing") for d in (ring, grid)
             for s in (0, 1)]  # 0-7: one architecture, one step rule: one batch
            + [dict(method="unrolled", dist=ring, seed=s, steps=5, **TINY) for s in range(6)]  # 8-13
            + [dict(method="vanilla", dist=ring, seed=0, steps=7, **TINY)]  # 14: another length
            + [dict(method="vanilla", dist=ring, seed=0, steps=5, **dict(TINY, hidden=9))])  # 15: another width
    assert tb.plan_batches(jobs) == [list(range(8, 14)), list(range(8)), [14], [15]]  # most expensive first
    assert tb.plan_batches(jobs, workers=2) == [[8, 9, 10], [11, 12, 13], list(range(8)), [14], [15]]


def test_a_vectorised_run_gets_what_the_run_gets_alone():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # rounding differences stay far below anything the metrics can see
    try:
        jobs = [dict(method=m, dist=d, seed=s, steps=4, **TINY) for m in ("replay", "wgan_gp") for d in (data.ring(), data.grid())
                for s in (0, 1)]
        alone = tb.run_jobs(jobs, vectorise=False, verbose=False)
        together = tb.run_jobs(jobs, verbose=False)
    finally:
        torch.set_default_dtype(previous)
    assert [(r.method, r.dist, r.seed) for r in together] == [(j["method"], j["dist"].name, j["seed"]) for j in jobs]
    assert [r.metrics for r in alone] == [r.metrics for r in together]
    assert all(torch.allclose(a.samples, b.samples, rtol=1e-9, atol=1e-12) for a, b in zip(alone, together))
    assert all(len(r.history.steps) == 4 and r.seconds > 0 for r in together)


@pytest.mark.slow
def test_two_worker_processes_give_the_same_results_as_one():
    jobs = [dict(method="vanilla", dist=data.ring(), seed=s, steps=2, **TINY) for s in (0, 1)]
    jobs += [dict(method="unrolled", dist=data.ring(), seed=s, steps=2, **TINY) for s in range(4)]  # split in two batches of 2
    serial = tb.run_jobs(jobs, workers=1, verbose=False)
    parallel = tb.run_jobs(jobs, workers=2, verbose=False)
    assert [(r.seed, r.metrics) for r in serial] == [(r.seed, r.metrics) for r in parallel]
    assert all(torch.equal(a.samples, b.samples) for a, b in zip(serial, parallel))
    tb.shutdown_pools()  # the worker processes stop with their pool (also registered to run at exit)
    assert not workers._POOLS
