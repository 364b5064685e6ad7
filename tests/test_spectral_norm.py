import pytest
import torch
from torch import nn

from ganutils import nets
from ganutils.config import GanutilsError
from ganutils.losses import gradient_penalty as gp
from ganutils.losses import spectral_norm as sn
from ganutils.metrics import lipschitz

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks: one thread is fastest (conftest.py)


def mlp_critic(seed=0):
    torch.manual_seed(seed)
    return nets.MLPDiscriminator((2,), hidden=32, depth=2, act="leaky_relu")


def test_every_linear_layer_is_normalised_to_sigma_one():
    critic = mlp_critic()
    assert not sn.has_spectral_norm(critic)
    assert max(sn.spectral_norms(critic).values()) > 1.5  # PyTorch's default init is not 1-Lipschitz
    sn.apply_spectral_norm(critic)
    assert sn.has_spectral_norm(critic)
    norms = sn.spectral_norms(critic)
    assert len(norms) == 3
    assert all(abs(s - 1) < 1e-2 for s in norms.values()), norms  # 15 power iterations at construction


def test_it_is_a_weight_normalisation_w_over_sigma_not_an_optimiser():
    """Seed 002 calls spectral normalisation "SGD": it is W / sigma_max(W), whatever the optimiser."""
    layer = nn.Linear(6, 4)
    sn.apply_spectral_norm(layer, n_power_iterations=50)
    layer.eval()
    original = layer.parametrizations.weight.original
    expected = original / torch.linalg.matrix_norm(original.detach(), ord=2)
    assert torch.allclose(layer.weight, expected, atol=1e-5)
    assert not any(isinstance(p, torch.optim.Optimizer) for p in vars(layer).values())


def test_power_iteration_converges_during_training():
    critic = sn.apply_spectral_norm(mlp_critic(1))
    critic.train()
    for _ in range(30):
        critic(torch.randn(8, 2))  # one power-iteration step per forward pass in training mode
    assert sn.lipschitz_upper_bound(critic) == pytest.approx(1.0, abs=2e-3)


def test_gradient_norms_never_exceed_the_product_bound():
    critic = mlp_critic(2)
    x = 3 * torch.randn(2000, 2)
    assert lipschitz.empirical_lipschitz(critic, x) <= sn.lipschitz_upper_bound(critic) + 1e-6
    sn.apply_spectral_norm(critic)
    critic.eval()
    assert lipschitz.empirical_lipschitz(critic, x) <= sn.lipschitz_upper_bound(critic) + 1e-6 <= 1.0 + 2e-2


def test_empirical_lipschitz_of_a_linear_critic_is_its_sigma():
    layer = nn.Linear(5, 1)
    norms = lipschitz.input_gradient_norms(lambda x: layer(x).squeeze(1), torch.randn(7, 5))
    assert norms.shape == (7,)
    assert torch.allclose(norms, layer.weight.norm().expand(7).detach(), atol=1e-6)
    assert sn.largest_singular_value(layer.weight) == pytest.approx(layer.weight.norm().item(), rel=1e-6)


def test_largest_singular_value_of_a_diagonal_matrix():
    assert sn.largest_singular_value(torch.diag(torch.tensor([0.5, -3.0, 2.0]))) == pytest.approx(3.0)
    with pytest.raises(GanutilsError, match="at least 2 dimensions"):
        sn.largest_singular_value(torch.ones(3))


def test_conv_critic_with_spectral_norm_runs_the_gradient_penalty_and_round_trips():
    torch.manual_seed(0)
    critic = sn.apply_spectral_norm(nets.DCGANDiscriminator(8, norm=None))
    assert len(sn.spectral_norms(critic)) == 3
    real, fake = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    penalty = gp.gradient_penalty(critic, real, fake)  # double backward through the parametrisation
    penalty.backward()
    assert torch.isfinite(penalty) and critic.head.parametrizations.weight.original.grad is not None
    copy = sn.apply_spectral_norm(nets.DCGANDiscriminator(8, norm=None))
    copy.load_state_dict(critic.state_dict())
    critic.eval(), copy.eval()
    assert torch.allclose(critic(real), copy(real))


def test_transposed_convolutions_are_normalised_too():
    layer = sn.apply_spectral_norm(nn.ConvTranspose2d(4, 3, 4, 2, 1))
    for _ in range(30):
        layer(torch.randn(1, 4, 5, 5))
    assert sn.spectral_norms(layer)["ConvTranspose2d"] == pytest.approx(1.0, abs=1e-2)


def test_bad_input_is_a_clear_error():
    critic = sn.apply_spectral_norm(mlp_critic())
    with pytest.raises(GanutilsError, match="already spectrally normalised"):
        sn.apply_spectral_norm(critic)
    with pytest.raises(GanutilsError, match="no Linear or Conv layer"):
        sn.apply_spectral_norm(nn.Sequential(nn.ReLU()))
    with pytest.raises(GanutilsError, match="nn.Module"):
        sn.apply_spectral_norm(torch.ones(3, 3))
    with pytest.raises(GanutilsError, match="n_power_iterations"):
        sn.apply_spectral_norm(mlp_critic(), n_power_iterations=0)
    with pytest.raises(GanutilsError, match="non-empty"):
        lipschitz.input_gradient_norms(critic, torch.ones(3))
