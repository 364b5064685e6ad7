import pytest
import torch

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.experiments import toy_benchmark as tb
from ganutils.nets import MLPDiscriminator, MLPGenerator
from ganutils.training import GAN, Every, train
from ganutils.training.vectorised import StackedModule, VectorisedGAN, batch_key, mlp_layers, train_vectorised

SMALL = dict(hidden=16, depth=2)
SEEDS = (0, 1, 2)


def parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in list(model.G.parameters()) + list(model.D.parameters())])


def single_and_vectorised(method, steps, dists=None, **setup):
    """3 runs of ``method`` one at a time with ``train``, and the same 3 runs as one vectorised batch."""
    dists = dists or [data.ring()] * len(SEEDS)
    singles, histories = [], []
    for seed, dist in zip(SEEDS, dists):
        model = tb.build(method, seed=seed, **SMALL, **setup)
        histories.append(train(model, data.DistributionSampler(dist, 32, seed=seed), steps=steps, progress=False))
        singles.append(model)
    batch = [tb.build(method, seed=seed, **SMALL, **setup) for seed in SEEDS]
    vec_histories = train_vectorised(batch, [data.DistributionSampler(d, 32, seed=s) for s, d in zip(SEEDS, dists)],
                                     steps=steps, log_every=4, progress=False)
    return singles, histories, batch, vec_histories


@pytest.fixture
def float64():
    """Double precision: rounding differences between a batched and a plain matmul stay at 1e-15, so
    "equal to float tolerance" can be tested tightly (in float32 Adam's first step, lr*g/(|g|+eps),
    amplifies the rounding of near-zero gradients to ~1e-5 of the weights)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("method", list(tb.METHODS))
def test_a_vectorised_run_of_three_seeds_equals_three_single_runs(float64, method):
    singles, histories, batch, vec_histories = single_and_vectorised(method, steps=6)
    for single, h, member, vh in zip(singles, histories, batch, vec_histories):
        assert torch.allclose(parameters(single), parameters(member), rtol=1e-9, atol=1e-11)
        assert single.opt_d.state_dict()["state"][0]["step"] == member.opt_d.state_dict()["state"][0]["step"]
        for name in h.losses:
            assert vh.steps == h.steps and vh.losses[name] == pytest.approx(h.losses[name], rel=1e-9, abs=1e-11), name
        # every member drew exactly the random numbers of its own run, so what comes next is the same too
        assert torch.equal(single.noise.get_state(), member.noise.get_state())
        assert torch.allclose(single.generate(50), member.generate(50), rtol=1e-9, atol=1e-11)
        if method == "replay":
            assert torch.allclose(single.buffer, member.buffer, rtol=1e-9, atol=1e-11)


def test_first_order_unrolling_vectorises_too(float64):
    singles, batch = [], []
    for seed in SEEDS:
        for models in (singles, batch):
            models.append(tb.build("unrolled", seed=seed, **SMALL))
            models[-1].second_order = False
    for model, seed in zip(singles, SEEDS):
        train(model, data.DistributionSampler(data.ring(), 32, seed=seed), steps=5, progress=False)
    train_vectorised(batch, [data.DistributionSampler(data.ring(), 32, seed=s) for s in SEEDS], steps=5, progress=False)
    for single, member in zip(singles, batch):
        assert torch.allclose(parameters(single), parameters(member), rtol=1e-9, atol=1e-11)


def test_float32_runs_agree_to_float32_tolerance():
    singles, _, batch, _ = single_and_vectorised("unrolled", steps=4)
    for single, member in zip(singles, batch):
        assert torch.allclose(parameters(single), parameters(member), rtol=1e-3, atol=1e-4)


def test_members_may_differ_in_data_learning_rate_and_label_smoothing(float64):
    dists = [data.ring(), data.grid(), data.ring()]
    models, ref = [], []
    for k, seed in enumerate(SEEDS):
        for out in (models, ref):
            method = "label_smoothing" if k == 1 else "vanilla"
            out.append(tb.build(method, seed=seed, lr_g=[1e-3, 2.5e-4, 5e-4][k], **SMALL))
    for model, seed, dist in zip(ref, SEEDS, dists):
        train(model, data.DistributionSampler(dist, 32, seed=seed), steps=5, progress=False)
    train_vectorised(models, [data.DistributionSampler(d, 32, seed=s) for s, d in zip(SEEDS, dists)], steps=5, progress=False)
    for a, b in zip(ref, models):
        assert torch.allclose(parameters(a), parameters(b), rtol=1e-9, atol=1e-11)


def test_probes_and_schedules_see_each_member_as_it_would_be_alone(float64):
    def probe(step, model):
        return {"mean": float(model.generate(z=torch.ones(4, 2)).mean())}

    def run(vectorised):
        models = [tb.build("wgan_gp", seed=s, **SMALL) for s in SEEDS[:2]]
        samplers = [data.DistributionSampler(data.ring(), 32, seed=s) for s in SEEDS[:2]]
        decay = [[torch.optim.lr_scheduler.LambdaLR(o, lambda s: 1 - s / 6) for o in (m.opt_g, m.opt_d)] for m in models]
        probes = [[Every(2, probe, at_start=True)] for _ in models]
        if vectorised:
            return train_vectorised(models, samplers, steps=6, callbacks=probes, schedulers=decay, progress=False), models
        return [train(m, s, steps=6, callbacks=p, schedulers=d, progress=False)
                for m, s, p, d in zip(models, samplers, probes, decay)], models

    (h1, m1), (h2, m2) = run(False), run(True)
    for a, b in zip(h1, h2):
        assert [r["step"] for r in b.probes["probe"]] == [0, 2, 4, 6]
        assert [r["mean"] for r in a.probes["probe"]] == pytest.approx([r["mean"] for r in b.probes["probe"]], rel=1e-9)
    for a, b in zip(m1, m2):
        assert torch.allclose(parameters(a), parameters(b), rtol=1e-9, atol=1e-11)
        assert a.opt_g.param_groups[0]["lr"] == b.opt_g.param_groups[0]["lr"] == 0


def test_snapshots_and_history_per_member():
    models = [tb.build("vanilla", seed=s, **SMALL) for s in SEEDS]
    hs = train_vectorised(models, [data.DistributionSampler(data.ring(), 32, seed=s) for s in SEEDS], steps=6,
                          snapshot_every=3, progress=False)
    for model, h in zip(models, hs):
        assert h.steps == list(range(1, 7)) and set(h.losses) == {"d_loss", "d_real", "d_fake", "g_loss"}
        assert [s for s, _ in h.snapshots] == [3, 6] and torch.equal(h.snapshots[-1][1], model.snapshot())
        assert h.seconds > 0


def test_incompatible_members_are_a_clear_error():
    with pytest.raises(GanutilsError, match="discriminator"):
        VectorisedGAN([tb.build("vanilla", seed=0, **SMALL), tb.build("pacgan", seed=0, **SMALL)])
    with pytest.raises(GanutilsError, match="model type"):
        VectorisedGAN([tb.build("vanilla", seed=0, **SMALL), tb.build("unrolled", seed=0, **SMALL)])
    with pytest.raises(GanutilsError, match="group_size|discriminator"):
        VectorisedGAN([tb.build("minibatch_stddev", seed=0, **SMALL), tb.build("minibatch_stddev", seed=1, group_size=8, **SMALL)])
    bn = GAN(MLPGenerator(2, (2,), 8, 1), torch.nn.Sequential(torch.nn.BatchNorm1d(2), MLPDiscriminator((2,), 8, 1)), z_dim=2)
    with pytest.raises(GanutilsError, match="buffers"):
        VectorisedGAN([bn, bn])
    sgd = [tb.build("vanilla", seed=s, **SMALL) for s in (0, 1)]
    for model in sgd:
        model.opt_d = torch.optim.SGD(model.D.parameters(), lr=0.1)
    with pytest.raises(GanutilsError, match="optimisers"):
        VectorisedGAN([sgd[0], tb.build("vanilla", seed=1, **SMALL)])
    with pytest.raises(GanutilsError, match="Adam"):
        VectorisedGAN(sgd)
    with pytest.raises(GanutilsError, match="one sampler"):
        train_vectorised([tb.build("vanilla", seed=0, **SMALL)], [], steps=1)


def test_batch_key_ignores_what_members_may_differ_in():
    assert batch_key(tb.build("vanilla", seed=0, **SMALL)) == batch_key(tb.build("vanilla", seed=5, lr_d=1e-4, **SMALL))
    assert batch_key(tb.build("vanilla", seed=0, **SMALL)) != batch_key(tb.build("vanilla", seed=0, z_dim=3, **SMALL))


def test_a_diverging_member_stops_the_batch_with_its_index():
    models = [tb.build("vanilla", seed=s, **SMALL) for s in SEEDS]
    with torch.no_grad():
        next(models[1].G.parameters()).fill_(float("nan"))
    with pytest.raises(GanutilsError, match="member 1"):
        train_vectorised(models, [data.DistributionSampler(data.ring(), 32, seed=s) for s in SEEDS], steps=2, progress=False)


def test_plain_mlps_run_as_one_batched_multiply_per_layer_with_vmap_s_results():
    for make in (lambda: MLPGenerator(2, (2,), 16, 2), lambda: MLPDiscriminator((2,), 16, 2, "leaky_relu")):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            stacked = StackedModule([make() for _ in SEEDS])
        assert stacked._mlp_layers is not None  # the fast path
        x = torch.randn(len(SEEDS), 32, 2)
        assert torch.allclose(stacked(x), stacked._call(stacked.params, x), rtol=1e-6, atol=1e-6)
    # anything else (a minibatch-stddev D, a packing D) runs under vmap
    assert mlp_layers(tb.build("minibatch_stddev", seed=0, **SMALL).D) is None
    assert mlp_layers(tb.build("pacgan", seed=0, **SMALL).D) is None
