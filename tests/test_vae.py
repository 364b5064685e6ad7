"""The VAE pieces: KL (closed form vs Monte Carlo), reparameterisation, ELBO terms, β weighting,
gradient estimators, sharpness, and compatibility with the shared training loop."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganutils import data, latent, plotting
from ganutils.config import GanutilsError
from ganutils.losses import elbo
from ganutils.metrics import likelihood
from ganutils.metrics import sharpness as sharpness_metrics
from ganutils.nets import vae as vae_nets
from ganutils.training import loop as train
from ganutils.training import vae


def mean_sharpness(images, scale="tanh"):
    return sharpness_metrics.laplacian_variance(images, scale).mean().item()


def small_vae(seed=0, z_dim=3, **kw):
    torch.manual_seed(seed)
    enc, dec = vae_nets.MLPEncoder(z_dim, hidden=16), vae_nets.MLPDecoder(z_dim, hidden=16)
    return vae.VAE(enc, dec, seed=seed, snapshot_size=5, **kw)


def toy_images(n=64, seed=0):
    """Random [0, 1] 'digits': enough for plumbing, cheaper than loading MNIST."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g) ** 3


def params(model):
    return torch.cat([p.detach().flatten() for p in list(model.encoder.parameters()) + list(model.decoder.parameters())])


# ----------------------------------------------------------------------------- KL


def test_closed_form_kl_matches_monte_carlo_within_its_standard_error():
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.0, 0.0], [1.5, -0.5], [0.3, 2.0], [-1.0, 0.1]])
    logvar = torch.tensor([[0.0, 0.0], [-1.0, 0.5], [-3.0, -2.0], [1.0, -0.2]])
    exact = elbo.kl_standard_normal(mu, logvar)
    mc, se = elbo.kl_monte_carlo(mu, logvar, n_samples=200_000, generator=g)
    assert exact[0].item() == pytest.approx(0.0, abs=1e-7)  # q = p
    assert torch.all(exact[1:] > 0)
    assert torch.all((mc - exact).abs() < 4 * se + 1e-6), f"MC {mc} vs closed form {exact} (se {se})"


def test_kl_hand_computed_values():
    # KL(N(1, 1) || N(0, 1)) = 1/2; KL(N(0, e^2) || N(0, 1)) = (e^2 - 1 - 2) / 2 per dimension
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    per_dim = elbo.kl_per_dimension(mu, logvar)
    assert per_dim[0, 0].item() == pytest.approx(0.5)
    assert per_dim[0, 1].item() == pytest.approx((math.exp(2) - 1 - 2) / 2)
    assert elbo.kl_standard_normal(mu, logvar).item() == pytest.approx(per_dim.sum().item())


def test_gaussian_log_densities_match_torch_distributions():
    z, mu, logvar = torch.randn(7, 4), torch.randn(7, 4), torch.randn(7, 4)
    ref = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    assert torch.allclose(elbo.gaussian_log_density(z, mu, logvar), ref, atol=1e-5)
    ref0 = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose(elbo.standard_normal_log_density(z), ref0, atol=1e-5)


def test_mismatched_shapes_are_clear_errors():
    with pytest.raises(GanutilsError, match="same shape"):
        elbo.kl_standard_normal(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(GanutilsError, match="n_samples >= 2"):
        elbo.kl_monte_carlo(torch.zeros(1, 2), torch.zeros(1, 2), n_samples=1)


# ----------------------------------------------------------------------------- reparameterisation


def test_reparameterised_samples_have_the_right_shape_and_statistics():
    g = torch.Generator().manual_seed(1)
    mu = torch.tensor([2.0, -1.0, 0.0]).expand(100_000, 3)
    logvar = torch.tensor([0.0, math.log(0.25), math.log(4.0)]).expand(100_000, 3)
    z = elbo.reparameterize(mu, logvar, g)
    assert z.shape == (100_000, 3)
    assert torch.allclose(z.mean(0), torch.tensor([2.0, -1.0, 0.0]), atol=0.02)
    assert torch.allclose(z.std(0), torch.tensor([1.0, 0.5, 2.0]), rtol=0.02)


def test_reparameterisation_lets_gradients_reach_mu_and_logvar():
    mu = torch.zeros(5, 2, requires_grad=True)
    logvar = torch.zeros(5, 2, requires_grad=True)
    elbo.reparameterize(mu, logvar, torch.Generator().manual_seed(0)).pow(2).sum().backward()
    assert mu.grad is not None and logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_same_generator_seed_gives_the_same_sample():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    a = elbo.reparameterize(mu, logvar, torch.Generator().manual_seed(5))
    b = elbo.reparameterize(mu, logvar, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


# ----------------------------------------------------------------------------- ELBO pieces


def test_bernoulli_nll_is_bce_with_its_minus_sign_summed_over_pixels():
    x = torch.tensor([[[[1.0, 0.0], [1.0, 0.5]]]])
    p = torch.tensor([[[[0.9, 0.2], [0.5, 0.5]]]])
    hand = -(math.log(0.9) + math.log(0.8) + math.log(0.5) + 0.5 * math.log(0.5) + 0.5 * math.log(0.5))
    nll = elbo.bernoulli_nll(torch.logit(p), x)
    assert nll.shape == (1,)
    assert nll.item() == pytest.approx(hand, rel=1e-5)
    assert nll.item() > 0  # the seed's version without the minus sign would be negative


def test_bernoulli_nll_is_minimised_by_reconstructing_the_input():
    x = (torch.rand(4, 1, 28, 28) > 0.5).float()
    good = elbo.bernoulli_nll(torch.logit(x.clamp(0.01, 0.99)), x)
    bad = elbo.bernoulli_nll(torch.logit((1 - x).clamp(0.01, 0.99)), x)
    assert torch.all(good < bad)
    with pytest.raises(GanutilsError, match="same shape"):
        elbo.bernoulli_nll(torch.zeros(4, 784), x)


def test_beta_weights_only_the_kl():
    recon, kl = torch.tensor([100.0, 120.0]), torch.tensor([10.0, 30.0])
    assert elbo.beta_vae_loss(recon, kl, 1.0).item() == pytest.approx(130.0)  # the negative ELBO
    assert elbo.beta_vae_loss(recon, kl, 0.0).item() == pytest.approx(110.0)  # the autoencoder limit
    assert elbo.beta_vae_loss(recon, kl, 4.0).item() == pytest.approx(110.0 + 4 * 20.0)
    for bad in (-1.0, float("nan"), "1", True):
        with pytest.raises(GanutilsError, match="beta"):
            elbo.beta_vae_loss(recon, kl, bad)


def test_binarize_draws_pixels_with_their_intensity():
    x = torch.full((200, 1, 28, 28), 0.3)
    b = elbo.binarize(x, torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert b.mean().item() == pytest.approx(0.3, abs=0.01)
    with pytest.raises(GanutilsError, match=r"\[0, 1\].*scale='unit'"):
        elbo.binarize(x * 2 - 1)


def test_loss_terms_are_computed_on_the_encoders_own_sample():
    m = small_vae()
    x = (toy_images(8) > 0.5).float()
    recon, kl, mu = m.loss_terms(x)
    assert recon.shape == kl.shape == (8,) and mu.shape == (8, 3)
    loss = elbo.beta_vae_loss(recon, kl)
    loss.backward()
    assert all(p.grad is not None for p in m.encoder.parameters()), "the reconstruction term must reach the encoder"
    # by hand: same noise, same graph
    g_state = m.noise.get_state()
    m.noise.set_state(g_state)
    mu2, logvar2 = m.encoder(x)
    z = elbo.reparameterize(mu2, logvar2, m.noise)
    m.noise.set_state(g_state)
    recon2, kl2, _ = m.loss_terms(x)
    assert torch.allclose(recon2, elbo.bernoulli_nll(m.decoder(z), x))
    assert torch.allclose(kl2, elbo.kl_standard_normal(mu2, logvar2))


def test_iwae_bound_is_tighter_than_the_elbo_and_evaluation_is_reproducible():
    m = small_vae()
    train.train(m, data.TensorSampler(toy_images(64), batch_size=16), steps=30, progress=False)
    images = toy_images(40, seed=1)
    a = likelihood.evaluate(m, images, iw_samples=200, seed=3, batch_size=16)
    b = likelihood.evaluate(m, images, iw_samples=200, seed=3, batch_size=16)
    assert a == b
    assert a["nelbo"] == pytest.approx(a["recon"] + a["kl"])
    assert a["iwae"] < a["nelbo"]
    assert len(a["kl_per_dim"]) == 3 and sum(a["kl_per_dim"]) == pytest.approx(a["kl"], rel=1e-5)
    assert 0 <= a["active_units"] <= 3


def test_iwae_with_one_sample_is_the_elbo():
    m = small_vae()
    images = toy_images(20, seed=2)
    # k = 1: -log w for one z ~ q is recon + log q - log p, whose expectation is the negative ELBO
    runs = [likelihood.evaluate(m, images, iw_samples=1, seed=s)["iwae"] for s in range(30)]
    nelbo = sum(likelihood.evaluate(m, images, seed=s)["nelbo"] for s in range(30)) / 30
    assert sum(runs) / 30 == pytest.approx(nelbo, rel=0.01)


def test_active_units_count_units_whose_mean_varies():
    g = torch.Generator().manual_seed(0)
    mu = torch.cat([torch.randn(500, 2, generator=g), 0.01 * torch.randn(500, 3, generator=g)], dim=1)
    n, var = likelihood.active_units(mu)
    assert n == 2 and var.shape == (5,)
    with pytest.raises(GanutilsError, match="N >= 2"):
        likelihood.active_units(torch.zeros(1, 3))


# ----------------------------------------------------------------------------- gradient estimators


def test_both_estimators_are_unbiased_and_reparam_has_lower_variance():
    # f(z) = ||z||^2, z ~ N(mu, sigma^2): E f = mu^2 + sigma^2, so d/dmu = 2 mu and d/dlogvar = sigma^2
    mu, logvar = torch.tensor([1.0, -0.5]), torch.tensor([0.0, math.log(0.5)])
    def f(z):
        return z.pow(2).sum(1)
    n = 100_000
    g = torch.Generator().manual_seed(0)
    exact_mu, exact_lv = 2 * mu, logvar.exp()
    stats = {}
    for est, kw in (("reparam", {}), ("score", {}), ("score", {"baseline": True})):
        gm, gl = elbo.gradient_samples(f, mu, logvar, n, est, generator=g, **kw)
        assert gm.shape == gl.shape == (n, 2)
        se_m, se_l = gm.std(0) / math.sqrt(n), gl.std(0) / math.sqrt(n)
        assert torch.all((gm.mean(0) - exact_mu).abs() < 4 * se_m + 1e-6), (est, kw)
        assert torch.all((gl.mean(0) - exact_lv).abs() < 4 * se_l + 1e-6), (est, kw)
        stats[est + str(kw)] = gm.var(0).sum().item()
    assert stats["reparam{}"] * 5 < stats["score{'baseline': True}"] < stats["score{}"]


def test_gradient_estimators_reject_bad_input():
    mu, logvar = torch.zeros(2), torch.zeros(2)
    with pytest.raises(GanutilsError, match="unknown gradient estimator"):
        elbo.gradient_samples(lambda z: z.sum(1), mu, logvar, 10, "pathwise")
    with pytest.raises(GanutilsError, match="one value per point"):
        elbo.gradient_samples(lambda z: z, mu, logvar, 10)
    with pytest.raises(GanutilsError, match="one latent point"):
        elbo.gradient_samples(lambda z: z.sum(1), torch.zeros(3, 2), torch.zeros(3, 2), 10)


# ----------------------------------------------------------------------------- networks and the model


@pytest.mark.parametrize("arch", vae_nets.ARCHS)
def test_networks_shapes(arch):
    enc, dec = vae_nets.make_nets(arch, z_dim=5, hidden=8)
    mu, logvar = enc(torch.rand(3, 1, 28, 28))
    assert mu.shape == logvar.shape == (3, 5)
    assert dec(torch.randn(3, 5)).shape == (3, 1, 28, 28)


def test_bad_construction_is_a_clear_error():
    with pytest.raises(GanutilsError, match="unknown VAE architecture"):
        vae_nets.make_nets("transformer")
    with pytest.raises(GanutilsError, match="agree on z_dim"):
        vae.VAE(vae_nets.MLPEncoder(2, 8), vae_nets.MLPDecoder(3, 8))
    with pytest.raises(GanutilsError, match="beta"):
        vae.VAE(vae_nets.MLPEncoder(2, 8), vae_nets.MLPDecoder(2, 8), beta=-1)


def test_training_on_tanh_scaled_images_is_refused():
    m = small_vae()
    with pytest.raises(GanutilsError, match="scale='unit'"):
        train.train(m, data.TensorSampler(toy_images(32) * 2 - 1, batch_size=8), steps=1, progress=False)


def test_train_loop_compatibility_and_determinism():
    sample_a = data.TensorSampler(toy_images(), batch_size=16, seed=0)
    a = small_vae()
    ha = train.train(a, sample_a, steps=40, snapshot_every=20, progress=False)
    assert set(ha.losses) == {"loss", "recon", "kl"} and len(ha.steps) == 40
    assert all(math.isfinite(v) for v in ha["loss"])
    assert ha["loss"][-1] < ha["loss"][0]
    assert [s for s, _ in ha.snapshots] == [20, 40] and ha.snapshots[0][1].shape == (5, 1, 28, 28)
    b = small_vae()
    hb = train.train(b, data.TensorSampler(toy_images(), batch_size=16, seed=0), steps=40, progress=False)
    assert torch.equal(params(a), params(b)) and ha.losses == hb.losses


def test_checkpoint_round_trip_resumes_to_the_same_result(tmp_path):
    straight = small_vae()
    h1 = train.train(straight, data.TensorSampler(toy_images(), batch_size=16), steps=30, progress=False)
    path = tmp_path / "vae.pt"
    first = small_vae()
    train.train(first, data.TensorSampler(toy_images(), batch_size=16), steps=15, checkpoint=path, progress=False)
    torch.manual_seed(999)
    resumed = small_vae(seed=7)  # different init and noise: the checkpoint must restore both
    h3 = train.train(resumed, data.TensorSampler(toy_images(), batch_size=16), steps=30, checkpoint=path, progress=False)
    assert torch.equal(params(straight), params(resumed))
    assert h3.losses == h1.losses
    assert torch.equal(straight.generate(4), resumed.generate(4))


def test_beta_changes_the_objective_in_training():
    """β=0 ignores the KL: after training, its KL is far larger than the β=1 model's."""
    out = {}
    for beta in (0.0, 1.0):
        m = small_vae(beta=beta)
        train.train(m, data.TensorSampler(toy_images(), batch_size=16), steps=60, progress=False)
        out[beta] = likelihood.evaluate(m, toy_images(32, seed=1))["kl"]
    assert out[0.0] > 2 * out[1.0]


def test_generate_decode_and_reconstruct_give_unit_images():
    m = small_vae()
    imgs = m.generate(6)
    assert imgs.shape == (6, 1, 28, 28) and imgs.min() >= 0 and imgs.max() <= 1
    assert m.reconstruct(toy_images(4)).shape == (4, 1, 28, 28)
    assert torch.equal(m.snapshot(), m.snapshot())  # fixed z
    with pytest.raises(GanutilsError, match="positive whole number"):
        m.generate(0)


# ----------------------------------------------------------------------------- sharpness, grids, plots


def test_sharpness_ranks_blurred_images_below_the_originals():
    x = (toy_images(16) > 0.5).float()
    blurred = F.avg_pool2d(x, 3, stride=1, padding=1)
    assert mean_sharpness(x, "unit") > 2 * mean_sharpness(blurred, "unit")
    assert mean_sharpness(torch.full((4, 1, 28, 28), 0.5), "unit") == pytest.approx(0.0, abs=1e-10)
    # the same images in either scale give the same number
    assert mean_sharpness(x * 2 - 1, "tanh") == pytest.approx(mean_sharpness(x, "unit"), rel=1e-6)
    assert sharpness_metrics.laplacian_variance(x, "unit").shape == (16,)
    with pytest.raises(GanutilsError, match="range"):
        mean_sharpness(x * 255, "unit")


def test_normal_quantile_grid():
    z = latent.normal_quantile_grid(5)
    assert z.shape == (25, 2)
    assert z[0, 0].item() == pytest.approx(-1.6449, abs=1e-3) and z[0, 1].item() == pytest.approx(1.6449, abs=1e-3)
    assert z[12].abs().max().item() < 1e-6  # the centre is the median
    with pytest.raises(GanutilsError, match="quantiles"):
        latent.normal_quantile_grid(5, low=0.0)


def test_latent_plots_run_and_check_their_input():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = small_vae(z_dim=2)
    plotting.plot_latent_map(m, n=4)
    mu, _ = m.encode(toy_images(10))
    plotting.plot_latent_scatter(mu, torch.arange(10))
    plt.close("all")
    with pytest.raises(GanutilsError, match="2-D latent"):
        plotting.plot_latent_map(small_vae(z_dim=3))
    with pytest.raises(GanutilsError, match="plot_latent_scatter"):
        plotting.plot_latent_scatter(torch.zeros(10, 3), torch.arange(10))


def test_train_vae_is_seeded_and_resumes_from_its_checkpoint(tmp_path):
    images = toy_images(64)
    kw = dict(steps=12, z_dim=2, hidden=8, batch_size=16, seed=3)
    a, ha = vae.train_vae(images, **kw)
    b, hb = vae.train_vae(images, **kw, checkpoint=tmp_path / "v.pt")
    assert torch.equal(params(a), params(b)) and ha.losses == hb.losses
    c, hc = vae.train_vae(images, **kw, checkpoint=tmp_path / "v.pt")  # finished: loads, trains nothing
    assert torch.equal(params(a), params(c)) and hc.losses == ha.losses
    with pytest.raises(GanutilsError, match=r"\(N, 1, 28, 28\)"):
        vae.train_vae(images.view(64, -1), steps=1)
    with pytest.raises(GanutilsError, match="scale='unit'"):
        vae.train_vae(images * 2 - 1, steps=1)


def test_latent_knn_accuracy():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 4
    centres = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    codes = centres[labels] + 0.3 * torch.randn(200, 2, generator=g)
    assert likelihood.latent_knn_accuracy(codes[:100], labels[:100], codes[100:], labels[100:]) == 1.0
    shuffled = labels[torch.randperm(200, generator=g)]
    assert likelihood.latent_knn_accuracy(codes[:100], shuffled[:100], codes[100:], labels[100:]) < 0.5
    with pytest.raises(GanutilsError, match="same d"):
        likelihood.latent_knn_accuracy(codes, labels, torch.zeros(3, 5), labels[:3])
