import pytest
import torch
from torch import nn

from ganutils.config import GanutilsError
from ganutils.training.ema import ema_model, horizon

pytestmark = pytest.mark.usefixtures("one_thread")


def test_ema_follows_its_formula_step_by_step():
    model = nn.Linear(3, 2)
    decay = 0.9
    ema = ema_model(model, decay)
    expected = [p.detach().clone() for p in model.parameters()]  # θ_ema starts at θ
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn(p.shape, generator=gen))
        ema.update_parameters(model)
        if ema.n_averaged.item() == 1:  # the first update copies the current weights (AveragedModel's convention)
            expected = [p.detach().clone() for p in model.parameters()]
        else:
            expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, model.parameters())]
        for e, p in zip(expected, ema.module.parameters()):
            assert torch.allclose(p, e, atol=1e-6)


def test_ema_closed_form_after_k_updates():
    # weights θ_1..θ_k after each step; θ_ema = β^(k-1) θ_1 + Σ_{j=2..k} (1 - β) β^(k-j) θ_j
    model = nn.Linear(1, 1, bias=False)
    decay, values = 0.8, [2.0, -1.0, 4.0, 0.5]
    ema = ema_model(model, decay)
    for v in values:
        with torch.no_grad():
            model.weight.fill_(v)
        ema.update_parameters(model)
    k = len(values)
    hand = decay ** (k - 1) * values[0] + sum((1 - decay) * decay ** (k - j) * values[j - 1] for j in range(2, k + 1))
    assert ema.module.weight.item() == pytest.approx(hand)


def test_ema_averages_batchnorm_statistics_and_never_trains():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    ema = ema_model(model, 0.5)
    ema.update_parameters(model)
    model(torch.randn(16, 4) + 3)  # moves the running mean
    ema.update_parameters(model)
    bn_ema, bn = ema.module[1], model[1]
    assert torch.allclose(bn_ema.running_mean, 0.5 * bn.running_mean)  # it started at 0
    assert all(not p.requires_grad for p in ema.parameters())
    assert model[0].weight.requires_grad


def test_horizon():
    assert horizon(0.999) == pytest.approx(1000)


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1, float("nan"), "0.9", None, True])
def test_a_decay_outside_0_1_is_one_clear_line(decay):
    with pytest.raises(GanutilsError, match="strictly between 0 and 1"):
        ema_model(nn.Linear(2, 2), decay)


def test_not_a_module():
    with pytest.raises(GanutilsError, match="nn.Module"):
        ema_model(lambda x: x, 0.9)
