"""The shared translation experiments of notebooks 08 and 09: tiny runs, plumbing only."""

import pytest
import torch

from ganutils.course.profiles import checkpoint_path
from ganutils.data.edges import EdgePairs
from ganutils.experiments import translation as tx

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_pairs(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    shoes = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return EdgePairs(edges=(shoes > 0.5).float() * 2 - 1, shoes=shoes, labels=torch.tensor([5, 7, 9] * (n // 3)), source="test")


def test_fit_edges2shoes_reuses_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("GANUTILS_RUN_DIR", str(tmp_path))
    pairs = tiny_pairs()
    model, history = tx.fit_edges2shoes(pairs, "l1+cgan", 3, seed=0, batch_size=4, width=4, checkpoints=checkpoint_path)
    again, history2 = tx.fit_edges2shoes(pairs, "l1+cgan", 3, seed=0, batch_size=4, width=4, checkpoints=checkpoint_path)
    assert len(history.steps) == 3 and len(list((tmp_path / "checkpoints").glob("edges2shoes-l1+cgan-*.pt"))) == 1
    assert all(torch.equal(a, b) for a, b in zip(model.G.state_dict().values(), again.G.state_dict().values()))
    out = tx.translate_edges(model, pairs.edges[:5], seed=0)
    assert out.shape == (5, 1, 28, 28) and torch.equal(out, tx.translate_edges(model, pairs.edges[:5], seed=0))


def test_run_cyclegans_returns_generators_that_rebuild_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("GANUTILS_RUN_DIR", str(tmp_path))
    xs, ys = tiny_pairs().edges, tiny_pairs(seed=1).shoes
    options = dict(width=4, n_blocks=1, d_width=4, d_layers=1)
    jobs = [dict(name="t-full", seed=0, variant="full", **options), dict(name="t-adv", seed=0, variant="adv", lam_cycle=0.0, **options)]
    runs = tx.run_cyclegans(xs, ys, jobs, steps=2, batch_size=4, checkpoints=checkpoint_path)
    assert len(list((tmp_path / "checkpoints").glob("t-*.pt"))) == 2
    assert [r["variant"] for r in runs] == ["full", "adv"] and runs[0]["scores"] == {}
    model = tx.cyclegan_from_run(runs[0], channels=1, **options)
    assert model.translate(xs[:3]).shape == (3, 1, 28, 28)
    assert not torch.equal(runs[0]["G"]["net.1.weight"], runs[1]["G"]["net.1.weight"])  # different losses, different G


def test_output_diversity_and_mean_and_range():
    same = torch.zeros(4, 1, 2, 2)
    assert tx.output_diversity(same) == 0 and tx.output_diversity(torch.arange(4.0).view(4, 1, 1, 1)) > 0
    assert tx.mean_and_range([1.0, 3.0]) == "2 (1-3)"
