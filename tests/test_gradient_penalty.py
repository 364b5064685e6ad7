import pytest
import torch
from torch import nn

from ganutils import nets
from ganutils.losses import gradient_penalty as gp
from ganutils.losses.weight_clipping import clip_weights


def test_zero_gradients_give_lambda():
    grads = torch.zeros(8, 3, 5, 5)
    assert gp.penalty_from_gradients(grads, weight=10.0).item() == pytest.approx(10.0)


def test_unit_norm_gradients_give_zero():
    grads = torch.randn(8, 3, 5, 5)
    grads = grads / grads.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    assert gp.penalty_from_gradients(grads, weight=10.0).item() == pytest.approx(0.0, abs=1e-10)


def test_norm_is_over_all_non_batch_dimensions():
    """The classic bug, grads.norm(2, dim=1) on (N, C, H, W), gives per-pixel norms: a (N, H, W) tensor."""
    grads = torch.ones(4, 3, 2, 2) / (12**0.5)  # unit norm per sample over C*H*W
    assert gp.gradient_norms(grads).shape == (4,)
    assert torch.allclose(gp.gradient_norms(grads), torch.ones(4))
    buggy = grads.norm(2, dim=1)
    assert buggy.shape == (4, 2, 2) and not torch.allclose(buggy, torch.ones_like(buggy))


class Linear4d(nn.Module):
    """f(x) = <w, x> with ||w|| = 1: its input gradient has norm exactly 1 everywhere."""

    def __init__(self, shape):
        super().__init__()
        w = torch.randn(shape)
        self.w = nn.Parameter(w / w.norm())

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


def test_penalty_of_a_1_lipschitz_linear_critic_is_zero():
    critic = Linear4d((1, 6, 6))
    real, fake = torch.randn(16, 1, 6, 6), torch.randn(16, 1, 6, 6)
    assert gp.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-9)


def test_penalty_of_a_constant_critic_is_lambda_and_reaches_the_weights():
    critic = Linear4d((1, 6, 6))
    with torch.no_grad():
        critic.w.zero_()
    real, fake = torch.randn(16, 1, 6, 6), torch.randn(16, 1, 6, 6)
    penalty = gp.gradient_penalty(critic, real, fake, weight=10.0)
    assert penalty.item() == pytest.approx(10.0)
    penalty.backward()
    assert critic.w.grad is not None and critic.w.grad.abs().sum() == 0  # d/dw of (||w||-1)^2 at w=0: subgradient 0


def test_interpolates_lie_between_real_and_fake():
    real, fake = torch.zeros(100, 2), torch.ones(100, 2)
    x = gp.interpolates(real, fake)
    assert (x >= 0).all() and (x <= 1).all()
    assert torch.allclose(x[:, 0], x[:, 1])  # one eps per sample, shared across dimensions


def test_clip_weights():
    d = nets.MLPDiscriminator((2,), 16, 2)
    clip_weights(d, 0.01)
    assert max(p.abs().max().item() for p in d.parameters()) <= 0.01
