"""The latent explorer's Python API (what its widget calls), interpolation, directions and vector arithmetic."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from ganutils import data, latent
from ganutils.config import GanutilsError
from ganutils.course import explorer as E
from ganutils.nets import conditional
from ganutils.training import gan, vae

Z = 8


class LinearStub(nn.Module):
    """z -> 0.05 · W z as a 28x28 image: linear (so arithmetic commutes with it) and inside [-1, 1]."""

    def __init__(self, z_dim=Z, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.z_dim = z_dim
        self.first_layer = nn.Linear(z_dim, 784, bias=False)
        nn.init.normal_(self.first_layer.weight, 0, 0.05)

    def forward(self, z):
        return self.first_layer(z).clamp(-1, 1).view(len(z), 1, 28, 28)


class DigitStub(nn.Module):
    """A conditional "generator" that draws a real held-out digit of the requested class, slightly shifted by z."""

    def __init__(self, images, labels, z_dim=Z):
        super().__init__()
        self.z_dim, self.n_classes = z_dim, 10
        self.register_buffer("digits", torch.stack([images[labels == k][0] for k in range(10)]))
        self.mix = nn.Linear(z_dim, 784, bias=False)
        nn.init.normal_(self.mix.weight, 0, 0.01)

    def forward(self, z, labels):
        return (self.digits[labels] + self.mix(z).view(len(z), 1, 28, 28)).clamp(-1, 1)


@pytest.fixture
def ex():
    return E.LatentExplorer(LinearStub(), n_directions=4, n_fit=300)


# ----------------------------------------------------------------------------- interpolation


def test_slerp_endpoints_and_norm_on_the_sphere():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    b = b * a.norm() / b.norm()  # equal norms: slerp stays on that sphere
    assert torch.allclose(latent.slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(latent.slerp(a, b, 1.0), b, atol=1e-5)
    for t in np.linspace(0, 1, 11):
        assert latent.slerp(a, b, t).norm().item() == pytest.approx(a.norm().item(), rel=1e-5)
    omega = math.acos(float(a @ b / (a.norm() * b.norm())))
    mid = latent.slerp(a, b, 0.3)
    assert math.acos(float(mid @ a / (mid.norm() * a.norm()))) == pytest.approx(0.3 * omega, rel=1e-4)


def test_lerp_midpoint_leaves_the_shell_and_slerp_does_not():
    a, b = torch.zeros(100), torch.zeros(100)
    a[0], b[1] = 10.0, 10.0  # orthogonal, equal norms
    assert latent.lerp(a, b, 0.5).norm().item() == pytest.approx(10 / math.sqrt(2), rel=1e-6)
    assert latent.slerp(a, b, 0.5).norm().item() == pytest.approx(10.0, rel=1e-6)


def test_slerp_batched_rows_and_parallel_fallback():
    a = torch.randn(5, 16)
    b = torch.randn(5, 16)
    out = latent.slerp(a, b, 0.25)
    assert out.shape == (5, 16)
    assert torch.allclose(out[2], latent.slerp(a[2], b[2], 0.25), atol=1e-6)
    assert torch.allclose(latent.slerp(a[0], 2 * a[0], 0.5), latent.lerp(a[0], 2 * a[0], 0.5), atol=1e-5)  # parallel: lerp


@pytest.mark.parametrize("t", [-0.1, 1.5, "x", None])
def test_interpolation_position_is_checked(t):
    with pytest.raises(GanutilsError, match=r"\[0, 1\]"):
        latent.slerp(torch.ones(3), torch.ones(3), t)


def test_slerp_shape_mismatch():
    with pytest.raises(GanutilsError, match="same shape"):
        latent.slerp(torch.ones(3), torch.ones(4), 0.5)


# ----------------------------------------------------------------------------- the API


@pytest.mark.parametrize("basis", ["raw", "pca_z", "features"])
def test_moving_a_slider_changes_the_image_and_reset_restores_it(ex, basis):
    ex.set_basis(basis)
    before = ex.image()
    assert before.shape == (28, 28) and before.dtype == np.float32 and 0 <= before.min() and before.max() <= 1
    ex.set(direction=0, value=2.0)
    moved = ex.image()
    assert np.abs(moved - before).mean() > 1e-3
    assert torch.allclose(ex.z(), ex.z_a + 2.0 * ex.directions[0])
    ex.reset()
    assert np.array_equal(ex.image(), before)


def test_the_same_seed_gives_the_same_image():
    a, b = E.LatentExplorer(LinearStub(), seed=3, n_fit=200), E.LatentExplorer(LinearStub(), seed=3, n_fit=200)
    assert np.array_equal(a.image(), b.image())
    a.new_seed(7)
    assert not np.array_equal(a.image(), b.image())
    b.new_seed(7)
    assert np.array_equal(a.image(), b.image())


def test_interpolation_walks_from_seed_a_to_seed_b(ex):
    ex.new_seed(11).new_seed(12, which="b")
    img_a, img_b = ex.render(ex.seed_z(11))[0], ex.render(ex.seed_z(12))[0]
    for mode in ("linear", "slerp"):
        assert np.allclose(ex.interpolate(0.0, mode).image(), img_a, atol=1e-6)
        assert np.allclose(ex.interpolate(1.0, mode).image(), img_b, atol=1e-6)
    mid_lin, mid_sph = ex.interpolate(0.5, "linear").z(), ex.interpolate(0.5, "slerp").z()
    assert mid_sph.norm() > mid_lin.norm(), "slerp keeps the norm up where the straight line cuts inside"


def test_vector_arithmetic_on_seeds_lists_and_latents(ex):
    ex.arithmetic([1, 2, 3], 4, 5)
    expected = (ex.seed_z(1) + ex.seed_z(2) + ex.seed_z(3)) / 3 - ex.seed_z(4) + ex.seed_z(5)
    assert torch.allclose(ex.z(), expected, atol=1e-6)
    # the stub is linear, so the image of a - b + c is the same combination of the three images
    ia, ib, ic = (ex.render(ex.seed_z(s))[0] for s in (6, 7, 8))
    ex.arithmetic(ex.seed_z(6), ex.seed_z(7), ex.seed_z(8))
    assert np.allclose(ex.image(), ia - ib + ic, atol=1e-5)
    assert ex.state()["source"] == "a - b + c" and ex.seed_a is None


def test_class_dropdown_changes_the_predicted_class():
    held_out = data.load_mnist("test", verbose=False)
    ex = E.LatentExplorer(DigitStub(held_out.images, held_out.labels), n_classes=10, n_fit=200)
    seen = []
    for c in range(10):
        ex.set_class(c)
        pred, prob = ex.classify()
        seen.append(pred)
    assert seen == list(range(10))


def test_principal_directions_of_an_isotropic_prior_are_flat_and_ganspace_finds_the_dominant_one():
    G = LinearStub(z_dim=Z)
    u = torch.nn.functional.normalize(torch.arange(1.0, Z + 1), dim=0)  # a known direction in z
    with torch.no_grad():
        G.first_layer.weight.mul_(0.1).add_(0.2 * torch.randn(784, 1) @ u[None])  # one feature direction dominates
    ex = E.LatentExplorer(G, n_directions=3, n_fit=1000)
    ex.set_basis("pca_z")
    assert ex.explained_variance.max() < 2.0 / Z, "z ~ N(0, I): no direction stands out"
    ex.set_basis("features")
    assert ex.explained_variance[0] > 0.5
    assert abs(float(ex.directions[0] @ u)) > 0.99
    assert torch.allclose(ex.directions.norm(dim=1), torch.ones(3), atol=1e-5)


def test_explorer_works_on_a_cgan_a_gan_object_and_a_vae():
    G, D = conditional.make_conditional("dcgan", "projection", z_dim=Z, width=8)
    ex = E.explorer_for(gan.GAN(G, D, z_dim=Z), n_fit=200)
    assert ex.n_classes == 10 and ex.z_dim == Z and ex.basis == "features"
    assert ex.set_class(4).image().shape == (28, 28)
    assert G.training, "the explorer puts G in eval mode only while it draws"
    model = vae.VAE(*vae.make_nets("mlp", z_dim=3, hidden=16))
    ex = E.LatentExplorer(model, n_fit=200)
    assert ex.scale == "unit" and ex.z_dim == 3 and "features" in ex.available_bases()
    assert ex.set(0, 1.5).image().shape == (28, 28)


def test_a_plain_callable_gets_raw_and_pca_directions_only():
    W = torch.randn(Z, 784) * 0.05
    ex = E.LatentExplorer(lambda z: (z @ W).clamp(-1, 1).view(-1, 1, 28, 28), z_dim=Z)
    assert ex.available_bases() == ["raw", "pca_z"] and ex.basis == "raw"
    with pytest.raises(GanutilsError, match="feature_layer"):
        ex.set_basis("features")


def test_the_widget_calls_the_same_api(ex):
    box = ex.widget()
    assert ex.widget() is box
    w = ex._widgets
    png = w["image"].value
    w["sliders"][1].value = 2.0  # what dragging the slider does
    assert ex.values[1] == 2.0 and w["image"].value != png
    ex.set(2, -1.0)  # and the API moves the slider
    assert w["sliders"][2].value == -1.0
    w["t"].value = 0.5
    assert ex.t == 0.5
    w["mode"].value = "linear"
    assert ex.mode == "linear"
    seed = ex.seed_a
    w["new_a"].click()
    assert ex.seed_a != seed and not ex.values.any()
    w["a"].value, w["b"].value, w["c"].value = "1,2", "3", "4"
    w["apply"].click()
    assert torch.allclose(ex.z(), (ex.seed_z(1) + ex.seed_z(2)) / 2 - ex.seed_z(3) + ex.seed_z(4), atol=1e-6)
    w["a"].value = "one"
    w["apply"].click()  # a typo shows an error in the widget instead of raising in a callback
    assert "whole numbers" in w["error"].value


def test_the_class_dropdown_widget():
    G, _ = conditional.make_conditional("mlp", z_dim=Z, hidden=16)
    ex = E.LatentExplorer(G, z_dim=Z, n_classes=10, n_fit=200)
    ex.widget()
    ex._widgets["class"].value = 6
    assert ex.label == 6
    ex.set_class(2)
    assert ex._widgets["class"].value == 2


def test_show_is_static_under_ganutils_static(ex, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("GANUTILS_STATIC", "1")
    ax = ex.show()
    assert ax.images and ax.images[0].get_array().shape == (28, 28)
    plt.close("all")


# ----------------------------------------------------------------------------- attribute tools


def test_attribute_direction_recovers_a_linear_attribute():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, Z, generator=g)
    w = torch.randn(Z, generator=g)
    y = z @ w + 0.1 * torch.randn(500, generator=g)
    d = latent.attribute_direction(z, y)
    assert float(d @ torch.nn.functional.normalize(w, dim=0)) > 0.99
    assert latent.r_squared(z @ d, y) > 0.95 and latent.r_squared(z[:, 0], y) < latent.r_squared(z @ d, y)
    with pytest.raises(GanutilsError, match="N values"):
        latent.attribute_direction(z, y[:10])


def test_ink_measures_brightness():
    x = -torch.ones(2, 1, 28, 28)
    x[1, :, :14] = 1
    assert latent.ink(x).tolist() == pytest.approx([0.0, 0.5])
    assert latent.ink((x + 1) / 2, scale="unit").tolist() == pytest.approx([0.0, 0.5])


def test_record_and_ablate_channels():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    net = nn.Sequential(conv, nn.ReLU())
    x = torch.randn(2, 1, 5, 5)
    with latent.record_activations(conv) as acts:
        net(x)
    assert len(acts) == 1 and acts[0].shape == (2, 4, 5, 5)
    with latent.ablate_channels(conv, [1, 3]):
        out = net(x)
    assert (out[:, [1, 3]] == 0).all() and torch.equal(out[:, [0, 2]], net(x)[:, [0, 2]])
    assert not (net(x)[:, 1] == 0).all(), "the edit ends with the block"
    with pytest.raises(GanutilsError, match="cannot zero channels"):
        with latent.ablate_channels(conv, [9]):
            net(x)


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("call, match", [
    (lambda ex: ex.set(9, 1.0), r"slider index 0\.\.3"),
    (lambda ex: ex.set(0, float("nan")), "finite"),
    (lambda ex: ex.set(0, "big"), "number"),
    (lambda ex: ex.set_class(1), "unconditional"),
    (lambda ex: ex.interpolate(2.0), r"\[0, 1\]"),
    (lambda ex: ex.interpolate(0.5, "cubic"), "'linear' or 'slerp'"),
    (lambda ex: ex.set_basis("ica"), "raw, pca_z, features"),
    (lambda ex: ex.new_seed(-1), "seed"),
    (lambda ex: ex.new_seed(1, which="c"), "'a' or 'b'"),
    (lambda ex: ex.arithmetic(torch.zeros(3), 1, 2), "size 8"),
    (lambda ex: ex.arithmetic([], 1, 2), "empty"),
    (lambda ex: ex.render(torch.zeros(5)), "8 entries"),
])
def test_bad_calls_give_clear_errors(ex, call, match):
    with pytest.raises(GanutilsError, match=match):
        call(ex)


def test_bad_class_on_a_cgan():
    G, _ = conditional.make_conditional("mlp", z_dim=Z, hidden=16)
    ex = E.LatentExplorer(G, z_dim=Z, n_classes=10, n_fit=200)
    with pytest.raises(GanutilsError, match=r"0\.\.9"):
        ex.set_class(10)


@pytest.mark.parametrize("make, match", [
    (lambda: E.LatentExplorer(42, z_dim=4), "callable"),
    (lambda: E.LatentExplorer(lambda z: z), "z_dim"),
    (lambda: E.LatentExplorer(lambda z: z, z_dim=4), r"shape \(2, 4\)"),
    (lambda: E.LatentExplorer(lambda z: 255 * torch.ones(len(z), 1, 28, 28), z_dim=4), "outside scale='tanh'"),
    (lambda: E.LatentExplorer(lambda z: -torch.ones(len(z), 1, 28, 28), z_dim=4, scale="unit"), "scale='tanh'"),
    (lambda: E.LatentExplorer(lambda z: torch.zeros(len(z), 1, 28, 28), z_dim=4, scale="rgb"), "unknown pixel scale"),
    (lambda: E.LatentExplorer(conditional.make_conditional("mlp", z_dim=4, hidden=8)[0], z_dim=4), "n_classes"),
    (lambda: E.LatentExplorer(lambda z: torch.full((len(z), 1, 28, 28), float("nan")), z_dim=4), "NaN"),
])
def test_bad_generators_give_clear_errors(make, match):
    with pytest.raises(GanutilsError, match=match):
        make()
