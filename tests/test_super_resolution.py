"""Super-resolution: degradations (bicubic, JPEG, Real-ESRGAN's second-order model), the SR net, its losses, bad input."""

import copy
import math

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import degradations as dg
from ganutils.losses.perceptual import PerceptualLoss
from ganutils.metrics.two_sample import two_sample_accuracy
from ganutils.nets.sr import SRNet
from ganutils.training.super_resolution import SuperResolution


def digits(n=6, size=28):
    """Bright strokes on black, in [0, 1]: a stand-in for digits that needs no data set."""
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, size, size)
    for i in range(n):
        r, c = torch.randint(4, size - 8, (2,), generator=g).tolist()
        x[i, 0, r:r + 8, c:c + 2] = 1.0
        x[i, 0, r:r + 2, c:c + 8] = 1.0
    return x


# ----------------------------------------------------------------------------- degradations


def test_bicubic_down_and_upsample_shapes():
    hr = digits()
    lr = dg.bicubic_down(hr, 4)
    assert lr.shape == (6, 1, 7, 7) and lr.min() >= 0 and lr.max() <= 1
    assert dg.upsample(lr, 4).shape == hr.shape


@pytest.mark.parametrize("scale", [3, 5])
def test_scale_that_does_not_divide_the_size_is_one_clear_line(scale):
    with pytest.raises(GanutilsError, match=f"scale factor {scale} does not divide the image size 28") as err:
        dg.bicubic_down(digits(), scale)
    assert "\n" not in str(err.value) and "2, 4, 7, 14, 28" in str(err.value)
    with pytest.raises(GanutilsError, match="does not divide"):
        dg.degrade(digits(2), scale, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("scale", [0, -4, 2.5])
def test_scale_must_be_a_positive_whole_number(scale):
    with pytest.raises(GanutilsError, match="scale must be a positive whole number"):
        dg.bicubic_down(digits(), scale)


def test_jpeg_round_trip_loses_detail_with_lower_quality():
    hr = digits()
    hi, lo = dg.jpeg(hr, 95), dg.jpeg(hr, 10)
    assert hi.shape == hr.shape and hi.dtype == hr.dtype
    err_hi, err_lo = (hi - hr).abs().mean().item(), (lo - hr).abs().mean().item()
    assert 0 < err_hi < err_lo


@pytest.mark.parametrize("quality", [0, 101, -5, 50.5, "high", True])
def test_jpeg_quality_outside_1_to_100_is_one_clear_line(quality):
    with pytest.raises(GanutilsError, match="JPEG quality must be a whole number from 1 to 100") as err:
        dg.jpeg(digits(2), quality)
    assert "\n" not in str(err.value)


def test_images_must_be_float_batches():
    with pytest.raises(GanutilsError, match=r"\(N, C, H, W\)"):
        dg.bicubic_down(torch.zeros(28, 28), 4)
    with pytest.raises(GanutilsError, match="float tensor"):
        dg.jpeg(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), 50)


def test_kernels_are_normalised_and_bad_kinds_rejected():
    for kind in dg.KERNEL_TYPES:
        k = dg.mixed_kernel(kind, 7, 1.5, 0.8, 0.3, beta=1.5)
        assert k.shape == (7, 7) and math.isclose(k.sum().item(), 1.0, rel_tol=1e-5) and (k >= 0).all()
    s = dg.sinc_kernel(9, math.pi / 2)
    assert math.isclose(s.sum().item(), 1.0, rel_tol=1e-5) and (s < 0).any()  # a sinc rings: negative lobes
    with pytest.raises(GanutilsError, match="unknown blur kernel"):
        dg.mixed_kernel("box", 7, 1, 1, 0)
    with pytest.raises(GanutilsError, match="odd"):
        dg.sinc_kernel(8, 1.0)


def test_second_order_degradation_is_repeatable_and_per_image():
    hr = digits(4)
    a = dg.degrade(hr, 4, torch.Generator().manual_seed(0), dg.REAL_ESRGAN_SMALL)
    b = dg.degrade(hr, 4, torch.Generator().manual_seed(0), dg.REAL_ESRGAN_SMALL)
    c = dg.degrade(hr, 4, torch.Generator().manual_seed(1), dg.REAL_ESRGAN_SMALL)
    assert a.shape == (4, 1, 7, 7) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1 and torch.equal(a, (a * 255).round() / 255)  # 8-bit, as the authors' output
    assert not torch.allclose(a, dg.bicubic_down(hr, 4), atol=1e-3)
    with pytest.raises(GanutilsError, match="explicit torch.Generator"):
        dg.degrade(hr, 4, 0)


# ----------------------------------------------------------------------------- the network, its losses, training


def test_srnet_shapes_and_bad_scale():
    assert SRNet(4, width=8, blocks=1)(torch.zeros(2, 1, 7, 7)).shape == (2, 1, 28, 28)
    assert SRNet(2, width=8, blocks=1)(torch.zeros(2, 1, 14, 14)).shape == (2, 1, 28, 28)
    with pytest.raises(GanutilsError, match="powers of 2"):
        SRNet(3)


def test_perceptual_loss_uses_the_frozen_net_without_changing_it():
    from ganutils.metrics import load_evalnet

    net = load_evalnet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    loss = PerceptualLoss(net)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    assert loss(x, x).item() == 0.0
    y = (x + 0.3 * torch.randn_like(x)).requires_grad_()
    value = loss(y, x)
    value.backward()
    assert value.item() > 0 and y.grad is not None and not net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    with pytest.raises(GanutilsError, match="training mode"):
        PerceptualLoss(copy.deepcopy(net).train())
    with pytest.raises(GanutilsError, match="conv blocks"):
        PerceptualLoss(net, weights=(1.0,))


def test_super_resolution_trains_each_loss_and_rejects_bad_weights():
    from ganutils.config import seeded
    from ganutils.data import TensorSampler
    from ganutils.metrics import load_evalnet
    from ganutils.nets import DCGANDiscriminator
    from ganutils.training import train

    hr = digits(8) * 2 - 1
    lr = dg.bicubic_down((hr + 1) / 2, 4) * 2 - 1
    for weights in ({"l1": 1.0}, {"l1": 1.0, "perceptual": 1.0}, {"l1": 1.0, "perceptual": 1.0, "adversarial": 0.1}):
        with seeded(0):
            model = SuperResolution(SRNet(4, width=8, blocks=1), DCGANDiscriminator(8), feature_net=load_evalnet(), **weights)
        h = train(model, TensorSampler(lr, hr, batch_size=4, seed=0), steps=2, progress=False)
        assert set(weights) <= set(h.losses) and all(math.isfinite(v) for k in weights for v in h[k])
        out = model.upscale(lr)
        assert out.shape == hr.shape and out.min() >= -1 and out.max() <= 1
    with pytest.raises(GanutilsError, match="needs a discriminator"):
        SuperResolution(SRNet(4, width=8, blocks=1), adversarial=0.1)
    with pytest.raises(GanutilsError, match="needs feature_net"):
        SuperResolution(SRNet(4, width=8, blocks=1), perceptual=1.0)
    with pytest.raises(GanutilsError, match="not all 0"):
        SuperResolution(SRNet(4, width=8, blocks=1), l1=0.0)


def test_two_sample_accuracy_separates_different_sets_and_not_equal_ones():
    real = digits(120) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(real, 3, 1, 1)
    same = two_sample_accuracy(real, real.clone(), steps=60, seed=0)
    apart = two_sample_accuracy(real, blurred, steps=60, seed=0)
    assert same <= 0.6 and apart >= 0.9
    with pytest.raises(GanutilsError, match="image batches"):
        two_sample_accuracy(real, blurred[:, :, :14])


def test_experiment_helpers_build_and_score():
    from ganutils.experiments import super_resolution as sr

    hr = digits(4) * 2 - 1
    lr = sr.bicubic_inputs(hr, 4)
    assert lr.shape == (4, 1, 7, 7) and sr.interpolate(lr, 4).shape == hr.shape
    model = sr.build("L1", seed=0, width=8, blocks=1)
    again = sr.build("L1", seed=0, width=8, blocks=1)
    assert all(torch.equal(a, b) for a, b in zip(model.G.state_dict().values(), again.G.state_dict().values()))
    scores = sr.evaluate(model.upscale(lr), hr, torch.tensor([0, 1, 2, 3]))
    assert set(scores) == {"psnr", "fd", "sharpness", "digit_accuracy"} and 0 <= scores["digit_accuracy"] <= 1
    with pytest.raises(GanutilsError, match="unknown SR loss"):
        sr.build("L2")
    with pytest.raises(GanutilsError, match="unknown SR setting"):
        sr.build("L1", depth=3)
    with pytest.raises(GanutilsError, match="must match"):
        sr.evaluate(hr, hr[:2], torch.tensor([0, 1]))
