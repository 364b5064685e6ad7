import pytest
import torch
from torch import nn

from ganutils.config import GanutilsError
from ganutils.losses.r1 import r1_from_scores, r1_penalty

pytestmark = pytest.mark.usefixtures("one_thread")


def test_r1_of_a_linear_critic_is_half_gamma_times_the_squared_weight_norm():
    # D(x) = <w, x> + b has gradient w at every x, so R1 = γ/2 ||w||², whatever the images
    D = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
    with torch.no_grad():
        D[1].weight.copy_(torch.arange(12.0).view(1, 12) / 10)
    real = torch.randn(5, 3, 2, 2)
    gamma = 3.0
    hand = gamma / 2 * (torch.arange(12.0) / 10).pow(2).sum()
    assert torch.allclose(r1_penalty(D, real, gamma=gamma), hand)


def test_r1_of_a_quadratic_critic_matches_the_hand_computation():
    # D(x) = sum(x²) has gradient 2x: R1 = γ/2 · mean_i ||2 x_i||² = 2γ · mean_i ||x_i||²
    real = torch.tensor([[1.0, 2.0], [0.0, -3.0], [0.5, 0.5]])
    gamma = 0.5
    hand = 2 * gamma * torch.tensor([5.0, 9.0, 0.5]).mean()
    assert torch.allclose(r1_penalty(lambda x: x.pow(2).sum(1), real, gamma=gamma), hand)


def test_the_penalty_gradient_reaches_the_critic_weights():
    D = nn.Linear(4, 1)
    penalty = r1_penalty(D, torch.randn(8, 4), gamma=2.0)
    penalty.backward()
    # d/dw of γ/2 ||w||² is γ w
    assert torch.allclose(D.weight.grad, 2.0 * D.weight.detach())
    assert D.bias.grad is None or torch.all(D.bias.grad == 0)


def test_r1_from_scores_reuses_a_forward_pass_and_agrees():
    D = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    real = torch.randn(6, 1, 4, 4)
    x = real.clone().requires_grad_(True)
    from_scores = r1_from_scores(D(x), x, gamma=1.5)
    assert torch.allclose(from_scores, r1_penalty(D, real, gamma=1.5))


def test_zero_gamma_costs_nothing_and_gives_zero():
    calls = []
    out = r1_penalty(lambda x: calls.append(1) or x.sum(1), torch.randn(3, 2), gamma=0)
    assert out.item() == 0 and not calls


@pytest.mark.parametrize("gamma", [-0.1, -10, float("nan"), "1", None, True])
def test_a_bad_gamma_is_one_clear_line(gamma):
    with pytest.raises(GanutilsError, match="gamma must be a number >= 0"):
        r1_penalty(nn.Linear(2, 1), torch.randn(3, 2), gamma=gamma)


def test_a_bad_batch_is_one_clear_line():
    with pytest.raises(GanutilsError, match="non-empty"):
        r1_penalty(nn.Linear(2, 1), torch.randn(0, 2), gamma=1.0)
