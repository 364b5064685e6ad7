import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.experiments import dirac_gan as dg


@pytest.mark.parametrize("method", ["gan", "ns_gan", "wgan", "r1", "instance_noise"])
def test_autodiff_jacobian_eigenvalues_match_the_papers_closed_forms(method):
    got = sorted(dg.eigenvalues(method), key=lambda z: z.imag)
    want = sorted(dg.predicted_eigenvalues(method), key=lambda z: z.imag)
    assert np.allclose(got, want, atol=1e-6)


def test_unregularised_eigenvalues_are_purely_imaginary_and_regularised_ones_are_in_the_left_half_plane():
    assert np.allclose(dg.eigenvalues("ns_gan").real, 0) and np.allclose(np.abs(dg.eigenvalues("ns_gan").imag), 0.5)
    assert np.allclose(np.abs(dg.eigenvalues("wgan").imag), 1)
    assert (dg.eigenvalues("r1", gamma=0.3).real < 0).all()
    assert (dg.eigenvalues("instance_noise", noise_std=0.7).real < 0).all()
    assert np.allclose(dg.eigenvalues("r1", gamma=1.0), [-0.5, -0.5])  # γ = 2 f'(0): critically damped


def test_the_vector_field_is_the_gradient_of_the_game():
    # L(θ, ψ) = f(ψθ) with f(t) = -log(1 + e^-t); v = (-∂L/∂θ, ∂L/∂ψ)
    state = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    L = -torch.nn.functional.softplus(-state[1] * state[0])
    (g,) = torch.autograd.grad(L, state)
    assert np.allclose(dg.vector_field("gan", state.detach().numpy()), [-g[0].item(), g[1].item()])


def test_numpy_and_torch_fields_agree():
    for method in dg.METHODS:
        s = np.array([0.3, -0.8])
        assert np.allclose(dg.vector_field(method, s), dg.vector_field(method, torch.from_numpy(s)).numpy())


def test_instance_noise_quadrature_matches_monte_carlo():
    s = np.array([0.4, 0.9])
    gen = np.random.default_rng(0)
    eps, x = gen.normal(0, 0.7, 400_000), gen.normal(0, 0.7, 400_000)
    fp = lambda t: 1 / (1 + np.exp(t))
    mc = [np.mean(-s[1] * fp(s[1] * (s[0] + eps))), np.mean((s[0] + eps) * fp(s[1] * (s[0] + eps))) - np.mean(x * fp(-s[1] * x))]
    assert np.allclose(dg.vector_field("instance_noise", s), mc, atol=3e-3)


def test_who_converges():
    d = {(m, mode): dg.distance_to_equilibrium(dg.simulate(m, mode=mode, steps=500))
         for m in ("gan", "ns_gan", "wgan", "wgan_gp", "r1", "instance_noise") for mode in dg.MODES}
    start = d[("gan", "simultaneous")][0]
    assert d[("gan", "simultaneous")][-1] > 1.5 * start  # spirals out
    for mode in dg.MODES:
        assert d[("ns_gan", mode)][-100:].min() > 0.2  # keeps circling
        assert d[("wgan", mode)][-100:].min() > 0.5
        assert d[("wgan_gp", mode)][-100:].min() > 0.5  # the penalty's target slope 1 keeps D away from ψ = 0
        assert d[("r1", mode)][-1] < 1e-3 and d[("instance_noise", mode)][-1] < 1e-3


def test_near_the_equilibrium_simultaneous_steps_move_away():
    d = dg.distance_to_equilibrium(dg.simulate("ns_gan", mode="simultaneous", steps=300, start=(0.05, 0.05)))
    assert d[-1] > 3 * d[0]


def test_clipping_keeps_psi_in_the_box():
    traj = dg.simulate("wgan", steps=200, clip=0.3)
    assert np.abs(traj[1:, 1]).max() <= 0.3 + 1e-12


@pytest.mark.parametrize("kw, match", [
    (dict(method="lsgan"), "unknown Dirac-GAN method"),
    (dict(method="r1", gamma=-1.0), "gamma must be >= 0"),
    (dict(method="instance_noise", noise_std=0.0), "noise_std must be > 0"),
    (dict(method="gan", mode="sideways"), "unknown update mode"),
    (dict(method="gan", h=0.0), "step size"),
])
def test_bad_input_is_one_clear_line(kw, match):
    method = kw.pop("method")
    with pytest.raises(GanutilsError, match=match):
        dg.simulate(method, steps=3, **kw)


def test_wgan_gp_has_no_jacobian_at_the_kink():
    with pytest.raises(GanutilsError, match="no Jacobian"):
        dg.jacobian("wgan_gp")
