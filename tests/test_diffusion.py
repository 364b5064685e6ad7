"""DDPM / DDIM: the closed-form forward process, the loss, the samplers (with an exact denoiser), bad input."""

import math
import warnings

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.nets.denoisers import TimeMLP, TinyUNet, timestep_embedding
from ganutils.training.diffusion import DDPM, Diffusion, EvaluationCounter, NoiseSchedule, cosine_schedule, linear_schedule


def gaussian_oracle(schedule, mu=0.7, s=0.3):
    """The exact eps-prediction E[eps | x_t] for data ~ N(mu, s^2): a perfect denoiser for testing samplers."""
    ab_all = schedule.alpha_bar.float()

    def eps(x, t):
        ab = ab_all[t].view(-1, *([1] * (x.dim() - 1)))
        return (1 - ab).sqrt() * (x - ab.sqrt() * mu) / (ab * s**2 + 1 - ab)

    return eps


# ----------------------------------------------------------------------------- schedules


def test_linear_schedule_is_ho_et_al_for_t_1000():
    s = linear_schedule(1000)
    assert s.steps == 1000
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert s.alpha_bar[-1].item() == pytest.approx(4.04e-5, rel=0.05)  # sqrt: 0.0064 of the signal left


def test_rescaled_linear_and_cosine_schedules_end_near_zero():
    for s in (linear_schedule(200), linear_schedule(50), cosine_schedule(200), cosine_schedule(10)):
        assert s.alpha_bar[-1].item() < 1e-3
        assert (s.betas[1:] >= s.betas[:-1]).all() and (s.alpha_bar[1:] < s.alpha_bar[:-1]).all()


def test_cosine_schedule_follows_its_formula():
    s = cosine_schedule(100)
    def f(t):
        return math.cos((t / 100 + 0.008) / 1.008 * math.pi / 2) ** 2

    assert s.alpha_bar[49].item() == pytest.approx(f(50) / f(0), rel=1e-9)


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_steps_must_be_positive(steps):
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        linear_schedule(steps)
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        cosine_schedule(steps)


def test_too_few_steps_for_the_rescaled_linear_schedule():
    with pytest.raises(GanutilsError, match="T >= 21|cosine_schedule"):
        linear_schedule(10)


def test_schedule_must_increase():
    with pytest.raises(GanutilsError, match="not increasing.*beta\\[2\\]"):
        NoiseSchedule([0.1, 0.2, 0.15, 0.3])


@pytest.mark.parametrize("betas", [[0.0, 0.1], [0.1, 1.0], [0.1, float("nan")], []])
def test_betas_must_lie_in_the_open_unit_interval(betas):
    with pytest.raises(GanutilsError):
        NoiseSchedule(betas)


def test_schedule_that_keeps_signal_warns_with_the_value():
    betas = torch.linspace(1e-4, 0.02, 100)  # Ho et al.'s line over 100 steps only
    expected = torch.cumprod(1 - betas.double(), 0)[-1].item()
    with pytest.warns(UserWarning, match=f"alpha_bar_T = {expected:.3g}"):
        NoiseSchedule(betas)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linear_schedule(1000)  # ends at 4e-5: no warning


# ----------------------------------------------------------------------------- forward process


def test_q_moments_match_iterating_the_markov_chain():
    """q(x_t | x_0) in closed form equals t steps of x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps."""
    s = linear_schedule(50)
    d = Diffusion(s)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((100_000, 1), 0.8, dtype=torch.float64)
    x = x0.clone()
    for t in range(30):
        x = (1 - s.betas[t]).sqrt() * x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g, dtype=torch.float64)
    mean, var = d.q_moments(x0[:1], torch.tensor([29]))
    assert x.mean().item() == pytest.approx(mean.item(), abs=0.01)
    assert x.var().item() == pytest.approx(var.item(), rel=0.02)
    assert mean.item() == pytest.approx(0.8 * s.alpha_bar[29].sqrt().item())


def test_q_sample_is_the_reparameterised_closed_form():
    d = Diffusion(linear_schedule(100))
    x0, eps, t = torch.randn(8, 2), torch.randn(8, 2), torch.arange(0, 80, 10)
    ab = d.schedule.alpha_bar[t].float().view(-1, 1)
    assert torch.allclose(d.q_sample(x0, t, eps), ab.sqrt() * x0 + (1 - ab).sqrt() * eps)


def test_loss_is_the_noise_prediction_error():
    d = Diffusion(linear_schedule(100))
    x0, eps, t = torch.randn(64, 2), torch.randn(64, 2), torch.randint(0, 100, (64,))
    assert d.loss(lambda x, tt: eps, x0, t=t, noise=eps).item() == 0.0  # knows the noise: zero loss
    zero = d.loss(lambda x, tt: torch.zeros_like(x), x0, t=t, noise=eps)
    assert zero.item() == pytest.approx((eps ** 2).mean().item())
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    net = TimeMLP(2, 16, 1)
    assert d.loss(net, x0, g1).item() == d.loss(net, x0, g2).item()  # t and noise come from the generator


# ----------------------------------------------------------------------------- samplers


def test_ddpm_with_an_exact_denoiser_recovers_the_data_distribution():
    s = linear_schedule(200)
    x = Diffusion(s).sample(gaussian_oracle(s), (20_000, 1), torch.Generator().manual_seed(0))
    assert x.mean().item() == pytest.approx(0.7, abs=0.01) and x.std().item() == pytest.approx(0.3, abs=0.01)


def test_ddim_with_an_exact_denoiser_keeps_the_mean_and_shrinks_the_spread_in_few_steps():
    """Each deterministic DDIM step maps N(m, v_t) to a Gaussian no wider than N(m, v_t') (Cauchy-Schwarz on
    the two coefficients), with equality only in the limit of small steps: few steps under-disperse."""
    s = linear_schedule(200)
    stds = []
    for steps in (5, 20, 200):
        x = Diffusion(s).sample_ddim(gaussian_oracle(s), (20_000, 1), steps=steps, generator=torch.Generator().manual_seed(0))
        assert x.mean().item() == pytest.approx(0.7, abs=0.01)
        stds.append(x.std().item())
    assert stds[0] < stds[1] < stds[2] and stds[2] == pytest.approx(0.3, abs=0.01)


def test_ddim_eta_1_on_every_step_is_ddpm_with_the_posterior_variance():
    """Song et al. 2021, sec. 4.1: eta = 1 gives DDPM's posterior (sigma_t^2 = beta-tilde_t)."""
    s = linear_schedule(30)
    d, net = Diffusion(s), TimeMLP(2, 16, 1)
    a = d.sample(net, (5, 2), torch.Generator().manual_seed(1), variance="posterior")
    b = d.sample_ddim(net, (5, 2), steps=30, eta=1.0, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(a, b, atol=1e-5)


def test_ddpm_step_matches_algorithm_2():
    """One ancestral step written through x_0 equals Ho et al.'s Algorithm 2 line 4 (no clipping)."""
    s = linear_schedule(30)
    d, net = Diffusion(s), TimeMLP(2, 16, 1)
    x_t, i = torch.randn(4, 2), 12
    t = torch.full((4,), i)
    eps = net(x_t, t)
    x0 = d.predict_x0(x_t, t, eps)
    ab, abp, beta = (float(v[i]) for v in (s.alpha_bar, s.alpha_bar_prev, s.betas))
    ours = (abp ** 0.5 * beta / (1 - ab)) * x0 + ((1 - beta) ** 0.5 * (1 - abp) / (1 - ab)) * x_t
    algorithm2 = (x_t - beta / (1 - ab) ** 0.5 * eps) / (1 - beta) ** 0.5
    assert torch.allclose(ours, algorithm2, atol=1e-5)


def test_samplers_shapes_and_determinism():
    d, net = Diffusion(linear_schedule(25)), TimeMLP(2, 16, 1)
    a = d.sample(net, (7, 2), torch.Generator().manual_seed(0))
    b = d.sample(net, (7, 2), torch.Generator().manual_seed(0))
    c = d.sample(net, (7, 2), torch.Generator().manual_seed(1))
    assert a.shape == (7, 2) and torch.equal(a, b) and not torch.equal(a, c)
    img = Diffusion(linear_schedule(25), clip_x0=1.0).sample_ddim(TinyUNet(1, 8, (1, 2), patch=2), (3, 1, 28, 28), steps=3,
                                                                 generator=torch.Generator().manual_seed(0))
    assert img.shape == (3, 1, 28, 28) and torch.isfinite(img).all()


def test_ddim_eta_0_is_deterministic_given_x_T():
    d, net = Diffusion(linear_schedule(50)), TimeMLP(2, 16, 1)
    x_T = torch.randn(6, 2)
    a = d.sample_ddim(net, (6, 2), steps=10, eta=0.0, generator=torch.Generator().manual_seed(0), x_T=x_T)
    b = d.sample_ddim(net, (6, 2), steps=10, eta=0.0, generator=torch.Generator().manual_seed(99), x_T=x_T)
    assert torch.equal(a, b)
    c = d.sample_ddim(net, (6, 2), steps=10, eta=1.0, generator=torch.Generator().manual_seed(99), x_T=x_T)
    assert not torch.equal(a, c)


def test_network_evaluations_per_sample_are_counted():
    d = Diffusion(linear_schedule(40))
    net, count = TimeMLP(2, 16, 1), EvaluationCounter()
    d.sample(count.wrap(net), (9, 2), torch.Generator().manual_seed(0))
    assert count.per_sample(9) == 40 and count.calls == 40
    for steps in (1, 2, 7, 40):
        count = EvaluationCounter()
        d.sample_ddim(count.wrap(net), (9, 2), steps=steps, generator=torch.Generator().manual_seed(0))
        assert count.per_sample(9) == steps


def test_ddim_timesteps():
    d = Diffusion(linear_schedule(100))
    assert d.ddim_timesteps(1) == [99]
    assert d.ddim_timesteps(2) == [99, 0]
    ts = d.ddim_timesteps(10)
    assert len(ts) == 10 and ts[0] == 99 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    with pytest.raises(GanutilsError, match="exceeds the T = 100"):
        d.ddim_timesteps(101)
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        d.ddim_timesteps(0)
    with pytest.raises(GanutilsError, match="eta must be in"):
        d.sample_ddim(lambda x, t: x, (2, 2), steps=2, eta=1.5)


# ----------------------------------------------------------------------------- networks and the trainer


def test_timestep_embedding_and_nets():
    e = timestep_embedding(torch.tensor([0, 5, 99]), 16)
    assert e.shape == (3, 16) and torch.allclose(e[0, :8], torch.ones(8))
    assert TimeMLP(2, 32, 2, octaves=4)(torch.randn(5, 2), torch.zeros(5, dtype=torch.long)).shape == (5, 2)
    for patch in (1, 2):
        assert TinyUNet(1, 8, (1, 2), patch=patch)(torch.randn(2, 1, 28, 28), torch.tensor([0, 9])).shape == (2, 1, 28, 28)


def test_ddpm_trains_samples_and_resumes(tmp_path):
    from ganutils import data
    from ganutils.config import seeded
    from ganutils.training import train

    def build():
        with seeded(0):
            net = TimeMLP(2, 32, 2)
        return DDPM(net, Diffusion(linear_schedule(30)), lr=1e-3, ema_decay=0.9, seed=0, sample_shape=(2,))

    ring = data.ring()
    a = build()
    h = train(a, data.DistributionSampler(ring, 32, seed=0), steps=6, progress=False, checkpoint=tmp_path / "ddpm.pt")
    assert len(h["loss"]) == 6 and all(math.isfinite(v) for v in h["loss"])
    x = a.generate(10, "ddim", steps=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == (10, 2) and torch.isfinite(x).all()
    b = build()
    b.load_state_dict(a.state_dict())
    y = b.generate(10, "ddim", steps=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, y)
    with pytest.raises(GanutilsError, match="unknown sampler"):
        a.generate(2, "euler")
    c = build()  # a finished checkpoint resumes at its last step: no training, the same model
    train(c, data.DistributionSampler(ring, 32, seed=0), steps=6, progress=False, checkpoint=tmp_path / "ddpm.pt")
    assert torch.equal(c.generate(10, "ddim", steps=5, generator=torch.Generator().manual_seed(0)), x)


def test_ddpm_generate_does_not_change_the_model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = TimeMLP(2, 16, 1)
    m = DDPM(net, Diffusion(linear_schedule(30)), lr=1e-3, seed=0, sample_shape=(2,))
    before = {k: v.clone() for k, v in m.state_dict()["net"].items()}
    noise_state = m.noise.get_state()
    m.generate(4, "ddim", steps=3, generator=torch.Generator().manual_seed(1))
    m.snapshot()
    assert all(torch.equal(before[k], v) for k, v in m.net.state_dict().items()) and torch.equal(noise_state, m.noise.get_state())


def test_ddpm_bad_input():
    net = TimeMLP(2, 16, 1)
    with pytest.raises(GanutilsError, match="ema_decay"):
        DDPM(net, Diffusion(linear_schedule(30)), ema_decay=1.0, sample_shape=(2,))
    with pytest.raises(GanutilsError, match="needs a Diffusion"):
        DDPM(net, linear_schedule(30), sample_shape=(2,))
    with pytest.raises(GanutilsError, match="NoiseSchedule"):
        Diffusion([0.1, 0.2])
