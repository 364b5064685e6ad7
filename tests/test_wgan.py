import numpy as np
import pytest
import torch

from ganutils import data, losses, nets, training
from ganutils.config import GanutilsError
from ganutils.experiments import seed003, toy_gan
from ganutils.experiments import wgan_probes as wgan
from ganutils.losses import spectral_norm as spectral
from ganutils.metrics import divergences, lipschitz
from ganutils.training import gan

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks: one thread is fastest (conftest.py)


def narrow(mean, std=0.1):
    return data.GaussianMixture1D((1.0,), (mean,), (std,))


# ----------------------------------------------------------------------------- the critic loss and its signs


def test_critic_loss_is_the_negative_gap_and_a_step_on_it_widens_the_gap():
    torch.manual_seed(0)
    critic = nets.MLPCritic((2,), hidden=16, depth=2)
    real, fake = torch.randn(64, 2) + 2, torch.randn(64, 2) - 2
    loss = losses.d_loss_wasserstein(critic(real), critic(fake))
    assert loss.item() == pytest.approx(-lipschitz.critic_gap(critic, real, fake), abs=1e-6)
    opt = torch.optim.SGD(critic.parameters(), lr=1e-2)
    before = lipschitz.critic_gap(critic, real, fake)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert lipschitz.critic_gap(critic, real, fake) > before


def test_critic_loss_gradient_pushes_real_scores_up_and_fake_scores_down():
    real_out, fake_out = torch.zeros(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    losses.d_loss_wasserstein(real_out, fake_out).backward()
    assert torch.allclose(real_out.grad, torch.full((4,), -0.25))  # minimising lowers the loss by raising f(real)
    assert torch.allclose(fake_out.grad, torch.full((4,), 0.25))
    g_out = torch.zeros(4, requires_grad=True)
    losses.g_loss_wasserstein(g_out).backward()
    assert torch.allclose(g_out.grad, torch.full((4,), -0.25))  # G raises its samples' scores


def test_seed003_label_product_loss_gives_the_generator_no_gradient_and_the_critic_the_wrong_sign():
    real_out, fake_out = torch.randn(8, requires_grad=True), torch.randn(8, requires_grad=True)
    seed003.d_loss_label_product(real_out, fake_out).backward()
    assert (real_out.grad > 0).all()  # minimising pushes f(real) DOWN
    assert (fake_out.grad == 0).all()  # label 0: the fake term is identically zero
    torch.manual_seed(0)
    G, _ = nets.toy_nets(hidden=16, depth=2)
    model = seed003.seed003_wgan(G, nets.MLPCritic((2,), 16, 2, norm="batch"), z_dim=2)
    before = [p.detach().clone() for p in model.G.parameters()]
    sample = data.DistributionSampler(data.ring(), 32, seed=0)
    for _ in range(20):
        out = model.step(sample)
    assert out["g_loss"].item() == 0.0
    assert all(torch.equal(b, p) for b, p in zip(before, model.G.parameters())), "G must never move"


# ----------------------------------------------------------------------------- W1 and the duality


def test_empirical_w1_of_a_shift_is_the_shift_length():
    a = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    assert lipschitz.empirical_w1(a, a) == pytest.approx(0.0, abs=1e-12)
    assert lipschitz.empirical_w1(a, a + torch.tensor([3.0, 4.0])) == pytest.approx(5.0, rel=1e-6)
    x, y = np.random.default_rng(0).normal(size=(2, 200))
    assert lipschitz.empirical_w1(x[:, None], y[:, None]) == pytest.approx(divergences.wasserstein1_samples(x, y), rel=1e-9)
    assert lipschitz.empirical_w1(a, a.clone().fill_(float("nan"))) == float("inf")
    with pytest.raises(GanutilsError, match="same shape"):
        lipschitz.empirical_w1(a, a[:10])


def test_a_penalised_critic_estimates_w1_and_an_unconstrained_one_diverges():
    """Kantorovich-Rubinstein: the best 1-Lipschitz critic's gap is W1 (= 1 for a shift by 1).

    Without a constraint the same critic and optimiser drive the gap far past W1 and it keeps growing.
    """
    real, fake = narrow(1.0), narrow(0.0)
    torch.manual_seed(0)
    with_gp = wgan.fit_critic(nets.MLPCritic((1,), 32, 2), real, fake, steps=300, constraint="gp", lr=1e-3, seed=0)
    torch.manual_seed(0)
    free = wgan.fit_critic(nets.MLPCritic((1,), 32, 2), real, fake, steps=300, constraint="none", lr=1e-3, seed=0)
    assert 0.85 < with_gp["final_gap"] < 1.1
    assert free["final_gap"] > 10 * with_gp["final_gap"]
    assert np.mean(free["gap"][-20:]) > 1.5 * np.mean(free["gap"][-120:-100]), "still growing: no maximum"


def test_clipping_bounds_the_gap_far_below_w1():
    torch.manual_seed(0)
    clipped = nets.MLPCritic((1,), 32, 2)
    out = wgan.fit_critic(clipped, narrow(1.0), narrow(0.0), steps=100, constraint="clip", clip_value=0.01,
                          optimizer="rmsprop", lr=5e-5)
    assert max(p.abs().max().item() for p in clipped.parameters()) <= 0.01
    assert 0 < out["final_gap"] < 0.05  # a critic with |w| <= 0.01 cannot be anywhere near 1-Lipschitz here
    assert wgan.fraction_at_clip(clipped, 0.01) > 0.5


def test_fit_critic_rejects_bad_arguments():
    critic = nets.MLPCritic((1,), 8, 1)
    with pytest.raises(GanutilsError, match="unknown constraint"):
        wgan.fit_critic(critic, narrow(1.0), narrow(0.0), steps=1, constraint="lipschitz")
    with pytest.raises(GanutilsError, match="sample"):
        wgan.fit_critic(critic, [1.0], narrow(0.0), steps=1)
    with pytest.raises(GanutilsError, match="steps"):
        wgan.fit_critic(critic, narrow(1.0), narrow(0.0), steps=0)


# ----------------------------------------------------------------------------- critics, clipping, BatchNorm


def test_mlp_critic_has_no_sigmoid_and_optional_norms():
    x = torch.randn(16, 2)
    for norm in (None, "layer", "batch"):
        critic = nets.MLPCritic((2,), 8, 2, norm=norm)
        assert critic(x).shape == (16,)
        assert nets.has_batchnorm(critic) == (norm == "batch")
    big = nets.MLPCritic((2,), 8, 1)
    torch.nn.init.constant_(big.net[-1].bias, 50.0)
    assert big(x).min() > 1  # raw, unbounded scores
    with pytest.raises(GanutilsError, match="unknown critic norm"):
        nets.MLPCritic((2,), 8, 2, norm="instance")


def test_batchnorm_couples_the_samples_of_a_batch():
    x = torch.randn(32, 2)
    torch.manual_seed(0)
    assert lipschitz.cross_sample_gradient(nets.MLPCritic((2,), 16, 2), x) == 0.0
    assert lipschitz.cross_sample_gradient(nets.MLPCritic((2,), 16, 2, norm="batch"), x) > 1e-3


def test_clipping_keeps_every_weight_in_the_box_during_training():
    torch.manual_seed(0)
    G, D = nets.toy_nets(hidden=16, depth=2)
    model = gan.GAN(G, D, z_dim=2, loss="wasserstein", optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, n_critic=5, clip_value=0.01)
    sample = data.DistributionSampler(data.ring(), 64, seed=0)
    for _ in range(5):
        model.step(sample)
    values = wgan.weight_values(model.D)
    assert np.abs(values).max() <= 0.01 and len(values) == 2 * 16 + 16 * 16 + 16  # weights only, no biases
    assert 0 <= wgan.fraction_at_clip(model.D, 0.01) <= 1
    norms = wgan.layer_gradient_norms(model.D, torch.randn(64, 2), torch.randn(64, 2))
    assert len(norms) == 3 and all(np.isfinite(norms))
    with pytest.raises(GanutilsError, match="positive"):
        wgan.fraction_at_clip(model.D, 0)


def test_critic_landscape_grid_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    critic = nets.MLPCritic((2,), 8, 1)
    xs, ys, f = wgan.critic_landscape(critic, lim=2.0, n=11)
    assert xs.shape == ys.shape == (11,) and f.shape == (11, 11)
    assert f[0, -1] == pytest.approx(critic(torch.tensor([[2.0, -2.0]])).item(), abs=1e-5)  # row = y, column = x
    ax = wgan.plot_critic_landscape(critic, data.ring(), samples=torch.randn(10, 2), title="t")
    assert ax.get_title() == "t"
    with pytest.raises(GanutilsError, match="lim"):
        wgan.critic_landscape(critic, lim=0)


# ----------------------------------------------------------------------------- probed toy runs


def probed_run(seed):
    G, D = nets.toy_nets(hidden=16, depth=2, seed=seed)
    model = gan.GAN(G, D, z_dim=2, loss="wasserstein", gp_weight=10, n_critic=2, lr_g=1e-3, lr_d=1e-3, betas=(0.0, 0.9), seed=seed)
    history, final = wgan.train_toy_probed(model, data.ring(), steps=6, probe_every=4, seed=seed, batch_size=32, n_w1=200)
    return history, history.probes["probe"], final


def test_train_toy_probed_records_probes_and_is_reproducible():
    history, probes, final = probed_run(0)
    assert [p["step"] for p in probes] == [0, 4]  # at the start, then every 4 steps
    assert history.steps == list(range(1, 7)) and len(history["d_loss"]) == 6 and "gp" in history.losses
    assert set(probes[0]) == {"step", "critic_gap", "w1", "modes_covered", "pct_high_quality", "reverse_kl"}
    assert all(np.isfinite(p["w1"]) and p["w1"] > 0 for p in probes)
    again = probed_run(0)
    assert again[1] == probes and again[2] == final


def test_probed_seeds_trained_as_one_batch_match_their_single_runs():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # batched and plain matmuls then agree to ~1e-15
    try:
        singles = []
        for seed in (0, 1):
            model = wgan.make_toy_wgan("gp", seed=seed, lr_g=1e-3, lr_d=1e-3, n_critic=2, hidden=16, depth=2)
            singles.append(wgan.train_toy_probed(model, data.ring(), steps=6, probe_every=3, seed=seed, batch_size=32,
                                                 n_w1=100, lr_decay=True))
        models = [wgan.make_toy_wgan("gp", seed=seed, lr_g=1e-3, lr_d=1e-3, n_critic=2, hidden=16, depth=2) for seed in (0, 1)]
        batch = wgan.train_toys_probed(models, data.ring(), seeds=[0, 1], steps=6, probe_every=3, batch_size=32, n_w1=100,
                                       lr_decay=True)
    finally:
        torch.set_default_dtype(previous)
    for (h1, final1), (h2, final2), model in zip(singles, batch, models):
        assert final1 == final2 and h1.losses["gp"] == pytest.approx(h2.losses["gp"], rel=1e-9)
        p1, p2 = h1.probes["probe"], h2.probes["probe"]
        assert [p["step"] for p in p2] == [0, 3, 6]
        assert [p["w1"] for p in p1] == pytest.approx([p["w1"] for p in p2], rel=1e-9)
        assert [p["critic_gap"] for p in p1] == pytest.approx([p["critic_gap"] for p in p2], rel=1e-9, abs=1e-12)
        assert model.opt_g.param_groups[0]["lr"] == 0  # the linear decay reached 0 at the last step


def test_probing_does_not_change_the_training_run():
    _, _, probed = probed_run(3)
    G, D = nets.toy_nets(hidden=16, depth=2, seed=3)
    model = gan.GAN(G, D, z_dim=2, loss="wasserstein", gp_weight=10, n_critic=2, lr_g=1e-3, lr_d=1e-3, betas=(0.0, 0.9), seed=3)
    _, plain = toy_gan.train_toy(model, data.ring(), steps=6, seed=3, batch_size=32)
    assert plain == probed


# ----------------------------------------------------------------------------- factories and the decaying learning rate


@pytest.mark.parametrize("constraint", wgan.CRITICS)
def test_make_toy_wgan_builds_each_critic(constraint):
    model = wgan.make_toy_wgan(constraint, seed=0, lr_g=1e-3, lr_d=2e-3, n_critic=2)
    assert model.loss.name == "wasserstein" and model.n_critic == 2
    assert (model.gp_weight > 0) == (constraint == "gp")
    assert (model.clip_value is not None) == (constraint == "clip")
    assert spectral.has_spectral_norm(model.D) == (constraint == "sn")
    assert isinstance(model.opt_d, torch.optim.RMSprop if constraint == "clip" else torch.optim.Adam)
    assert model.opt_g.param_groups[0]["lr"] == 1e-3 and model.opt_d.param_groups[0]["lr"] == 2e-3
    out = model.step(data.DistributionSampler(data.ring(), 16, seed=0))
    assert all(torch.isfinite(v) for v in out.values())


def test_make_wgan_rejects_bad_arguments_and_integer_betas_work():
    with pytest.raises(GanutilsError, match="unknown critic constraint"):
        wgan.make_toy_wgan("lipschitz")
    with pytest.raises(GanutilsError, match="gp_weight > 0"):
        wgan.make_toy_wgan("gp", gp_weight=0)
    model = wgan.make_toy_wgan("gp", betas=(0, 0.9))  # Algorithm 1 as people write it
    assert model.opt_d.param_groups[0]["betas"] == (0.0, 0.9)


def test_make_mnist_wgan_critic_has_no_batchnorm():
    model = wgan.make_mnist_wgan("sn", width=4, n_critic=1)
    assert not nets.has_batchnorm(model.D) and spectral.has_spectral_norm(model.D)
    assert model.generate(3).shape == (3, 1, 28, 28)


def test_linear_decay_reaches_zero_and_keeps_every_step():
    model = wgan.make_toy_wgan("none", lr_g=1e-3, lr_d=2e-3, n_critic=1, hidden=8, depth=1)
    sample = data.DistributionSampler(data.ring(), 16, seed=0)
    schedulers = wgan.linear_decay(model, 8)
    history = training.train(model, sample, steps=4, schedulers=schedulers, progress=False)
    assert history.steps == list(range(1, 5)) and len(history["g_loss"]) == 4
    assert model.opt_g.param_groups[0]["lr"] == pytest.approx(0.5e-3) and model.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3)
    training.train(model, sample, steps=4, schedulers=schedulers, progress=False)
    assert model.opt_g.param_groups[0]["lr"] == 0.0 and model.opt_d.param_groups[0]["lr"] == 0.0
