import math

import pytest
import torch

from ganutils import losses
from ganutils.config import GanutilsError


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_discriminator_bce_matches_hand_computation():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = -(math.log(sig(2)) + math.log(sig(-1))) / 2 - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2
    assert losses.d_loss_bce(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_one_sided_label_smoothing_changes_only_the_real_term():
    real, fake = torch.tensor([3.0]), torch.tensor([-2.0])
    smoothed = losses.d_loss_bce(real, fake, real_label=0.9).item()
    expected = -(0.9 * math.log(sig(3)) + 0.1 * math.log(1 - sig(3))) - math.log(1 - sig(-2))
    assert smoothed == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_hand_computation():
    fake = torch.tensor([-4.0, 0.0, 1.5])
    sat = sum(math.log(1 - sig(v)) for v in fake.tolist()) / 3
    ns = -sum(math.log(sig(v)) for v in fake.tolist()) / 3
    assert losses.g_loss_saturating(fake).item() == pytest.approx(sat, rel=1e-6)
    assert losses.g_loss_non_saturating(fake).item() == pytest.approx(ns, rel=1e-6)


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    """Seed 004 has these backwards: when D rejects the fakes (D(G(z)) ~ 0.01) only the NS loss still pushes."""
    logit = torch.tensor([math.log(0.01 / 0.99)], requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.g_loss_saturating(logit), logit)
    (g_ns,) = torch.autograd.grad(losses.g_loss_non_saturating(logit), logit)
    assert g_sat.item() == pytest.approx(-0.01, rel=1e-4)  # d/dl log(1 - sigmoid(l)) = -D
    assert g_ns.item() == pytest.approx(-0.99, rel=1e-4)  # d/dl -log sigmoid(l) = -(1 - D)


def test_lsgan_hinge_wasserstein_values():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.5, -2.0])
    assert losses.d_loss_lsgan(real, fake).item() == pytest.approx(0.5 * 0.5 + 0.5 * (0.25 + 4) / 2)
    assert losses.g_loss_lsgan(fake).item() == pytest.approx(0.5 * (0.25 + 9) / 2)
    assert losses.d_loss_hinge(real, fake).item() == pytest.approx(0.5 + 0.75)
    assert losses.g_loss_hinge(fake).item() == pytest.approx(0.75)
    assert losses.d_loss_wasserstein(real, fake).item() == pytest.approx(-0.75 - 0.5)
    assert losses.g_loss_wasserstein(fake).item() == pytest.approx(0.75)


def test_loss_registry():
    assert losses.get_loss("saturating") is losses.get_loss("minimax")
    with pytest.raises(GanutilsError, match="unknown GAN loss"):
        losses.get_loss("wgan")
