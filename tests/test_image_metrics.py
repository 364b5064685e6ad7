import copy
import math

import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import load_mnist
from ganutils.metrics import (
    digit_coverage,
    evaluate_images,
    frechet_distance,
    frechet_distance_from_features,
    precision_recall,
    precision_recall_from_features,
)
from ganutils.metrics.evalnet import classify, features
from ganutils.metrics.precision_recall import knn_radii


@pytest.fixture(scope="module")
def digits():
    """1,000 random training digits (all classes) and the 1,000 held-out digits."""
    train, test = load_mnist("train", verbose=False), load_mnist("test", verbose=False)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:1000]
    return train.images[idx], test.images, train, test


@pytest.fixture(scope="module")
def noise():
    return torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


# ----------------------------------------------------------------------------- Fréchet distance


def test_frechet_formula_matches_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    shift = np.arange(8.0)
    assert frechet_distance_from_features(x, x) == pytest.approx(0.0, abs=1e-6)
    # same covariance, shifted mean: FD = ||shift||^2
    assert frechet_distance_from_features(x, x + shift) == pytest.approx((shift**2).sum(), rel=1e-6)
    # scaled by 2: Tr(S + 4S - 2 * 2S) + ||mu||^2 = Tr(S) + ||mu||^2
    s = np.cov(x, rowvar=False)
    assert frechet_distance_from_features(x, 2 * x) == pytest.approx(np.trace(s) + (x.mean(0) ** 2).sum(), rel=1e-6)


def test_real_vs_real_is_small_and_real_vs_noise_is_large(digits, noise):
    fake, real, _, _ = digits
    fd_real = frechet_distance(fake, real)
    fd_noise = frechet_distance(noise, real)
    assert fd_real < 50, fd_real
    assert fd_noise > 100 * fd_real, (fd_real, fd_noise)


def test_a_generator_of_ones_is_far_from_real_digits(digits):
    _, real, train, _ = digits
    ones = train.images[train.labels == 1]
    assert frechet_distance(ones, real) > 20 * frechet_distance(digits[0], real)


def test_torchmetrics_agrees_with_the_scipy_formula(digits, noise):
    fake, real, _, _ = digits
    for a in (fake, noise[:300]):
        via_torchmetrics = frechet_distance(a, real)
        via_formula = frechet_distance_from_features(features(a), features(real))
        assert via_torchmetrics == pytest.approx(via_formula, rel=1e-4, abs=1e-3)


def test_frechet_distance_rejects_too_few_or_mismatched_inputs():
    with pytest.raises(GanutilsError, match="at least 2"):
        frechet_distance(-torch.ones(1, 1, 28, 28), -torch.ones(5, 1, 28, 28))
    with pytest.raises(GanutilsError, match="same d"):
        frechet_distance_from_features(np.zeros((5, 3)), np.zeros((5, 4)))


# ----------------------------------------------------------------------------- precision / recall


def test_knn_radius_excludes_the_point_itself():
    pts = torch.tensor([[0.0], [1.0], [3.0], [6.0]], dtype=torch.float64)
    assert knn_radii(pts, k=1).tolist() == [1.0, 1.0, 2.0, 3.0]
    assert knn_radii(pts, k=3).tolist() == [6.0, 5.0, 3.0, 6.0]


def test_precision_recall_on_synthetic_clusters():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 4, generator=g)
    b = torch.randn(400, 4, generator=g) + 100.0
    real = torch.cat([a, b])
    assert precision_recall_from_features(real, real) == (1.0, 1.0)
    # a generator that drops one cluster: everything it makes is real-looking, half of the reals are missed
    precision, recall = precision_recall_from_features(a + 0.01, real)
    assert precision > 0.95 and recall == pytest.approx(0.5, abs=0.03)
    assert precision_recall_from_features(a + 1000.0, real) == (0.0, 0.0)


def test_precision_recall_of_real_digits_is_high_and_of_noise_is_zero(digits, noise):
    fake, real, _, _ = digits
    precision, recall = precision_recall(fake, real)
    assert precision > 0.75 and recall > 0.75, (precision, recall)
    assert precision_recall(noise, real) == pytest.approx((0.0, 0.0), abs=0.01)


def test_a_generator_of_ones_has_precision_but_little_recall(digits):
    _, real, train, _ = digits
    precision, recall = precision_recall(train.images[train.labels == 1][:300], real)
    assert precision > 0.6 and recall < 0.3, (precision, recall)


def test_precision_recall_checks_k():
    with pytest.raises(GanutilsError, match="at least 4"):
        precision_recall_from_features(torch.zeros(3, 2), torch.zeros(10, 2), k=3)
    with pytest.raises(GanutilsError, match="k"):
        precision_recall_from_features(torch.zeros(5, 2), torch.zeros(5, 2), k=0)


# ----------------------------------------------------------------------------- digit coverage


def test_held_out_digits_cover_all_ten_classes_evenly(digits):
    _, real, _, _ = digits
    cov = digit_coverage(real)
    assert cov["coverage"] == 10
    assert cov["class_kl"] < 0.01
    assert cov["confidence"] > 0.9 and cov["confident_fraction"] > 0.9


@pytest.mark.parametrize("digit", range(10))
def test_a_generator_of_one_digit_covers_one_class(digits, digit):
    _, _, _, test = digits
    cov = digit_coverage(test.images[test.labels == digit])
    assert cov["coverage"] == 1
    assert int(np.argmax(cov["class_counts"])) == digit
    assert cov["class_kl"] > 0.9 * math.log(10)


def test_literal_coverage_counts_every_predicted_class(digits):
    _, _, _, test = digits
    ones = test.images[test.labels == 1]
    literal = digit_coverage(ones, min_confidence=0.0, min_fraction=0.0)
    assert literal["coverage"] == len(classify(ones).argmax(1).unique())
    assert literal["confident_fraction"] == 1.0
    assert sum(literal["class_counts"]) == len(ones)
    with pytest.raises(GanutilsError, match="min_confidence"):
        digit_coverage(ones, min_confidence=1.5)


# ----------------------------------------------------------------------------- all at once


def test_evaluate_images_returns_every_metric(digits):
    fake, real, _, _ = digits
    out = evaluate_images(fake, real)
    assert {"fd", "precision", "recall", "coverage", "class_kl", "confidence"} <= set(out)
    assert out["n_fake"] == out["n_real"] == 1000
    assert out["fd"] == pytest.approx(frechet_distance(fake, real), rel=1e-5)
    assert out["coverage"] == 10


def test_evaluate_images_accepts_unit_scale_and_defaults_to_held_out_digits(digits):
    fake, real, _, _ = digits
    tanh = evaluate_images(fake[:200])
    unit = evaluate_images((fake[:200] + 1) / 2, (real + 1) / 2, scale="unit")
    assert tanh["n_real"] == len(real)
    for key in ("fd", "precision", "recall", "coverage", "class_kl", "confidence"):
        assert unit[key] == pytest.approx(tanh[key], rel=1e-4, abs=1e-4), key


# ----------------------------------------------------------------------------- the reference set, measured once


def test_a_reference_set_is_measured_once_and_never_served_stale(digits, noise, monkeypatch):
    from ganutils.metrics import reference_features as ref
    from ganutils.metrics.evalnet import load_evalnet

    fake, real, _, _ = digits
    ref.clear()
    computed = []
    monkeypatch.setattr(ref, "features", lambda x, **kw: computed.append(len(x)) or features(x, **kw))
    first = evaluate_images(noise, real)
    again = evaluate_images(noise, real.clone())  # the same digits in another tensor (a worker's copy)
    assert computed == [len(real)], "the held-out digits go through the network once"
    assert all(first[key] == again[key] for key in ("fd", "precision", "recall", "coverage", "class_kl"))
    # what a computation from scratch gives, bit for bit
    assert (first["precision"], first["recall"]) == precision_recall_from_features(features(noise), features(real))

    changed = real.clone()
    changed[0, 0, 0, 0] = 1.0  # one pixel
    frechet_distance(fake, changed)
    assert computed == [len(real)] * 2, "a changed set is measured again"

    retrained = copy.deepcopy(load_evalnet())
    with torch.no_grad():
        next(retrained.parameters()).mul_(1.5)
    assert frechet_distance(fake, real, model=retrained) != frechet_distance(fake, real)
    assert frechet_distance(fake, real, model=retrained) == pytest.approx(
        frechet_distance_from_features(features(fake, model=retrained), features(real, model=retrained)), rel=1e-4)
    ref.clear()
