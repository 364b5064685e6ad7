"""Exercises of notebook 12: the Fréchet distance, k-NN precision, FD of two Gaussians, what FD and MSE miss."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import torch

from ganutils.metrics.frechet import frechet_distance_from_features
from ganutils.metrics.precision_recall import precision_recall_from_features

from ..core import Bug, Case, Derive, Implement, Predict, register

NB = "12_evaluation"


# ----------------------------------------------------------------------------- Fréchet distance


def _gaussian_features(n, d, shift=0.0, mix=None, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) if mix is None else mix
    return rng.normal(size=(n, d)) @ a + shift


def _fd_cases():
    def pair(n1, n2, d, shift):
        def build():
            return _gaussian_features(n1, d, seed=1), _gaussian_features(n2, d, shift=shift, seed=2)
        return build

    def identical():
        f = _gaussian_features(12, 3, seed=3)
        return f, f.copy()

    def shifted_copy():
        f = _gaussian_features(20, 3, seed=4)
        return f, f + np.array([1.0, -2.0, 0.5])

    return [Case("two correlated Gaussian feature sets (300 and 250 samples of 4 features)", pair(300, 250, 4, 0.7)),
            Case("two identical sets", identical),
            Case("a set and a shifted copy", shifted_copy),
            Case("sets of 180 and 120 samples of 5 features", pair(180, 120, 5, -0.3))]


def _fd(f1, f2, *, cross=True, sqrt="matrix", squared_mean=True, rowvar=False):
    f1, f2 = np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = (np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)) if not rowvar else (np.cov(f1), np.cov(f2))
    mean_term = ((mu1 - mu2) ** 2).sum() if squared_mean else np.sqrt(((mu1 - mu2) ** 2).sum())
    if not cross:
        return float(mean_term + np.trace(s1) + np.trace(s2))
    covmean = scipy.linalg.sqrtm(s1 @ s2).real if sqrt == "matrix" else np.sqrt(s1 @ s2)
    return float(mean_term + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


register(Implement(
    id="12-frechet-distance", notebook=NB, title="The Fréchet distance from features",
    task="frechet_distance(f1, f2): two NumPy arrays of features, (N1, d) and (N2, d). Fit a Gaussian to each (mean, "
         "covariance) and return ||μ1 - μ2||² + Tr(Σ1 + Σ2 - 2 (Σ1 Σ2)^½) as a float.",
    explanation="mu = f.mean(0); sigma = np.cov(f, rowvar=False); covmean = scipy.linalg.sqrtm(s1 @ s2).real; return "
                "((mu1 - mu2)**2).sum() + np.trace(s1 + s2 - 2 * covmean) (Heusel et al. 2017; the 2-Wasserstein "
                "distance between the two Gaussians). The cross term is what makes two equal distributions score 0.",
    reference=frechet_distance_from_features, cases=_fd_cases, rtol=1e-4, atol=1e-6,
    bugs=(
        Bug("fd-without-cross-term", "the cross term -2 Tr((Σ1 Σ2)^½) is missing: your FD of two identical "
            "distributions is 2 Tr Σ, not 0.", lambda f1, f2: _fd(f1, f2, cross=False)),
        Bug("fd-elementwise-sqrt", "np.sqrt is element-wise: the FD needs the *matrix* square root of Σ1 Σ2, "
            "scipy.linalg.sqrtm (its trace is not the sum of the square roots of the diagonal).",
            lambda f1, f2: _fd(f1, f2, sqrt="elementwise")),
        Bug("fd-mean-not-squared", "the mean term is the *squared* distance ||μ1 - μ2||².",
            lambda f1, f2: _fd(f1, f2, squared_mean=False)),
        Bug("fd-cov-rowvar", "np.cov treats *rows* as variables: with features in columns pass rowvar=False, or your "
            "'covariances' are N x N matrices over samples.", lambda f1, f2: _fd(f1, f2, rowvar=True)),
    ),
))


# ----------------------------------------------------------------------------- k-NN precision


def _precision_reference(fake, real, k=3):
    return precision_recall_from_features(fake, real, k=k)[0]


def _pr_cases():
    def make(n_fake, n_real, d, shift, k):
        def build():
            fake, real = torch.randn(n_fake, d, dtype=torch.float64) + shift, torch.randn(n_real, d, dtype=torch.float64)
            return (fake, real), {"k": k}
        return build

    def identical():
        x = torch.randn(40, 3, dtype=torch.float64)
        return (x.clone(), x), {"k": 3}

    def far():
        return (torch.randn(30, 2, dtype=torch.float64) + 50, torch.randn(30, 2, dtype=torch.float64)), {"k": 3}

    def narrow():
        return (0.3 * torch.randn(70, 2, dtype=torch.float64), torch.randn(80, 2, dtype=torch.float64)), {"k": 3}

    return [Case("60 fakes shifted by 0.8 against 50 reals, k = 3", make(60, 50, 3, 0.8, 3), seed=1),
            Case("a narrow fake set (std 0.3) against 80 reals, k = 3", narrow, seed=2),
            Case("the same with k = 1", make(60, 50, 3, 0.8, 1), seed=1),
            Case("fakes identical to the reals", identical, seed=3),
            Case("fakes far from every real", far, seed=4)]


def _knn_precision(fake, real, k=3, *, include_self=False, swap=False):
    fake, real = torch.as_tensor(fake, dtype=torch.float64), torch.as_tensor(real, dtype=torch.float64)
    if swap:
        fake, real = real, fake
    d_real = torch.cdist(real, real)
    radii = d_real.topk(k if include_self else k + 1, dim=1, largest=False).values[:, -1]
    inside = (torch.cdist(fake, real) <= radii[None, :]).any(dim=1)
    return inside.double().mean().item()


register(Implement(
    id="12-knn-precision", notebook=NB, title="Improved precision with k-nearest neighbours",
    task="knn_precision(fake, real, k=3): feature tensors (N_fake, d) and (N_real, d). Around every real point put a ball "
         "reaching its k-th nearest *other* real point; return the fraction of fakes inside at least one ball.",
    explanation="radii = torch.cdist(real, real).topk(k + 1, largest=False).values[:, k] (column 0 is the point itself); "
                "inside = (torch.cdist(fake, real) <= radii).any(1); precision = inside.float().mean() (Kynkäänniemi "
                "et al. 2019). Recall is the same with the roles of the two sets swapped.",
    reference=_precision_reference, cases=_pr_cases,
    bugs=(
        Bug("knn-radius-includes-self", "the k-th nearest neighbour of a real point must exclude the point itself "
            "(distance 0): take topk(k + 1) and its last column. Yours uses the (k - 1)-th neighbour and shrinks every "
            "ball.", lambda fake, real, k=3: _knn_precision(fake, real, k, include_self=True)),
        Bug("precision-recall-swapped", "that is recall: real points inside the manifold of the fakes. Precision asks "
            "how many *fakes* fall inside the *real* manifold (balls around the real points).",
            lambda fake, real, k=3: _knn_precision(fake, real, k, swap=True)),
    ),
))


# ----------------------------------------------------------------------------- derive: FD of two Gaussians


def _square_set(scale=1.0, shift=(0.0, 0.0)):
    """Four points whose sample mean is ``shift`` and sample covariance (ddof = 1) exactly scale² · I."""
    a = math.sqrt(1.5) * scale
    return np.array([[a, 0.0], [-a, 0.0], [0.0, a], [0.0, -a]]) + np.array(shift)


def _fd_of_gaussians(cov_scale_of_fake=2.0):
    return frechet_distance_from_features(_square_set(cov_scale_of_fake, (0.6, 0.8)), _square_set())


register(Derive(
    id="12-fd-of-gaussians", notebook=NB, title="The Fréchet distance of two Gaussians by hand",
    task="Real features ~ N(0, I₂), generated features ~ N(μ, 4·I₂) with ||μ||² = 1. What is their Fréchet distance?",
    explanation="||μ||² + Tr(I + 4I - 2 (4I)^½) = 1 + Tr(I + 4I - 4I) = 1 + 2 = 3. Without the cross term it would be "
                "1 + 2 + 8 = 11.",
    truth=_fd_of_gaussians, hint="(Σ1 Σ2)^½ = (4 I)^½ = 2 I, and the trace of I₂ is 2.",
    bugs=(
        Bug("fd-without-cross-term", "11 forgets the cross term -2 Tr((Σ1 Σ2)^½) = -8.", lambda: 1 + 2 + 8),
        Bug("fd-std-for-covariance", "the generated covariance is 4·I (std 2), not 2·I.", lambda: _fd_of_gaussians(math.sqrt(2))),
    ),
))


register(Predict(
    id="12-predict-memoriser", notebook=NB, title="Can the FD catch a memoriser?",
    task="A 'generator' that replays stored training digits at random. Its FD to the held-out digits, compared with that "
         "of genuinely new real digits, will be...",
    choices=("much higher", "about the same", "much lower"), expected="about the same",
    explanation="Copies of training digits are as realistic and as varied as new real digits, so FD (and precision / "
                "recall) cannot tell them apart; memorisation needs a nearest-neighbour check against the training set.",
    bugs=(Bug("fd-detects-memorisation", "FD compares distributions of features; exact copies of real data have the right "
              "distribution.", "much higher"),),
))


register(Predict(
    id="12-predict-blur-mse", notebook=NB, title="Pixel MSE and blur",
    task="Measured in pixel MSE to the nearest real digit, which set is closer to the real data: real digits, or the same "
         "digits blurred 3x3?",
    choices=("the real digits", "the blurred digits"), expected="the blurred digits",
    explanation="Blur pulls every pixel towards its neighbourhood's average, which is closer in squared error to many "
                "real digits than any one crisp digit is. Pixel MSE rewards blur; that is why it is not a GAN metric "
                "(seed 002 suggests it) and why FD on a classifier's features ranks the blurred set worse.",
    bugs=(Bug("mse-measures-quality", "pixel MSE rewards the average; a sharp digit is far from most other sharp digits.",
              "the real digits"),),
))
