"""Pix2pix at test time: BatchNorm on running statistics, on the test batch's, or one image at a time
(Isola et al. 2017, sec. 3.3), without changing the model."""

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.training import pix2pix


def _model():
    torch.manual_seed(0)
    model = pix2pix.make_pix2pix(16, "l1", width=4, max_mult=2)
    with torch.no_grad():  # running statistics unlike any test batch's, so the three choices differ
        for m in model.G.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2.0)
    return model


def test_the_three_normalisations_differ_and_leave_the_model_unchanged():
    model, x = _model(), torch.randn(6, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    state = {k: v.clone() for k, v in model.G.state_dict().items()}
    out = {norm: model.translate(x, dropout=False, norm=norm) for norm in pix2pix.NORM_STATS}
    assert all(torch.equal(v, model.G.state_dict()[k]) for k, v in state.items()), "translating changed G"
    assert model.G.training  # back in the mode it was in
    assert not torch.allclose(out["running"], out["batch"]) and not torch.allclose(out["batch"], out["instance"])
    assert torch.allclose(out["instance"][:1], model.translate(x[:1], dropout=False, norm="batch"), atol=1e-6)
    assert torch.allclose(out["running"], model.translate(x, dropout=False), atol=0)  # the default: eval mode


def test_an_unknown_normalisation_is_refused():
    with pytest.raises(GanutilsError, match="norm='layer': use one of running, batch, instance"):
        _model().translate(torch.zeros(2, 3, 16, 16), norm="layer")
