"""Image metrics on the MNIST evaluation network (``ganutils.evalnet``) instead of Inception.

- Fréchet distance (the FID formula on the 64-d penultimate features): torchmetrics'
  ``FrechetInceptionDistance`` with the evaluation network as a custom feature extractor,
  and the closed form in float64 (``frechet_distance_from_features``) that it is checked
  against. Like FID it is biased upwards for small samples: compare numbers computed
  with the same number of images (the course uses 1,000 vs 1,000).
- Precision / recall with k-NN manifolds (Kynkäänniemi et al. 2019, k = 3).
- Digit coverage: how many of the 10 classes the classifier finds among the samples,
  the KL of that class histogram to uniform, and the mean classifier confidence.

Images are in the course's GAN scale [-1, 1] (``scale="unit"`` for [0, 1]) and shaped
(N, 1, 28, 28), (N, 28, 28) or (N, 784).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from torch import nn

from .config import GanutilsError, check_positive_int
from .evalnet import FEATURE_DIM, NUM_CLASSES, classify, features, load_evalnet, prepare_images
from .toy_metrics import kl_to_uniform

PR_NEIGHBOURS = 3


# ----------------------------------------------------------------------------- Fréchet distance


def frechet_distance_from_features(feats1, feats2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2)) of two (N, d) feature sets, in float64."""
    f1, f2 = (np.asarray(torch.as_tensor(f).detach().cpu(), dtype=np.float64) for f in (feats1, feats2))
    _check_feature_pair(f1, f2, need=2)
    mu1, mu2, s1, s2 = f1.mean(0), f2.mean(0), np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # singular product: nudge both covariances, as pytorch-fid does
        eye = np.eye(len(mu1)) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + eye) @ (s2 + eye))
    fd = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real
    return float(max(fd, 0.0))


class EvalNetFeatures(nn.Module):
    """The evaluation network's ``features`` as a torchmetrics feature extractor.

    The network is held outside the module tree so that moving or re-moding the metric
    never touches the shared cached network; features come back on the CPU, where the
    metric keeps its float64 sums.
    """

    num_features = FEATURE_DIM  # read by torchmetrics instead of probing with a dummy image

    def __init__(self, model=None):
        super().__init__()
        self._net = (model if model is not None else load_evalnet(),)

    def train(self, mode: bool = True) -> "EvalNetFeatures":
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self._net[0]
        with torch.no_grad():
            return net.features(x.to(next(net.parameters()).device)).float().cpu()


def frechet_distance(fake, real, scale: str = "tanh", model=None, batch_size: int = 500) -> float:
    """Fréchet distance between two image sets on the evaluation network's features (torchmetrics)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    x_fake, x_real = prepare_images(fake, scale), prepare_images(real, scale)
    if len(x_fake) < 2 or len(x_real) < 2:
        raise GanutilsError(f"the Fréchet distance needs at least 2 images per set, got {len(x_fake)} fake and {len(x_real)} real")
    metric = FrechetInceptionDistance(feature=EvalNetFeatures(model), normalize=True)  # normalize=True: float inputs
    for x, is_real in ((x_real, True), (x_fake, False)):
        for i in range(0, len(x), batch_size):
            metric.update(x[i : i + batch_size], real=is_real)
    return float(metric.compute())


# ----------------------------------------------------------------------------- precision / recall


def _check_feature_pair(a: np.ndarray | torch.Tensor, b, need: int) -> None:
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise GanutilsError(f"feature sets must be (N, d) with the same d, got {tuple(a.shape)} and {tuple(b.shape)}")
    if len(a) < need or len(b) < need:
        raise GanutilsError(f"need at least {need} samples per set, got {len(a)} and {len(b)}: pass more images")
    if not (np.isfinite(np.asarray(a)).all() and np.isfinite(np.asarray(b)).all()):
        raise GanutilsError("features contain NaN or inf: check the images")


def _pairwise(a: torch.Tensor, b: torch.Tensor, chunk: int = 2048):
    """Yield (row offset, distances of a[rows] to all of b) in chunks to bound memory."""
    for i in range(0, len(a), chunk):
        yield i, torch.cdist(a[i : i + chunk], b)


def knn_radii(feats: torch.Tensor, k: int = PR_NEIGHBOURS) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour within the same set (itself excluded)."""
    radii = torch.empty(len(feats), dtype=feats.dtype)
    for i, d in _pairwise(feats, feats):
        radii[i : i + len(d)] = d.topk(k + 1, dim=1, largest=False).values[:, k]  # column 0 is the point itself
    return radii


def fraction_inside(queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor) -> float:
    """Fraction of ``queries`` within radius ``radii[j]`` of at least one ``support[j]`` (the k-NN manifold)."""
    inside = torch.zeros(len(queries), dtype=torch.bool)
    for i, d in _pairwise(queries, support):
        inside[i : i + len(d)] = (d <= radii[None, :]).any(dim=1)
    return inside.float().mean().item()


def precision_recall_from_features(fake_feats, real_feats, k: int = PR_NEIGHBOURS) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    precision: fraction of fakes inside the real manifold (union of balls around each real
    feature, radius = distance to its k-th nearest real neighbour);
    recall: fraction of reals inside the fake manifold, built the same way from the fakes.
    """
    k = check_positive_int("k", k)
    fake = torch.as_tensor(fake_feats).detach().cpu().double()
    real = torch.as_tensor(real_feats).detach().cpu().double()
    _check_feature_pair(fake, real, need=k + 1)
    precision = fraction_inside(fake, real, knn_radii(real, k))
    recall = fraction_inside(real, fake, knn_radii(fake, k))
    return precision, recall


def precision_recall(fake, real, k: int = PR_NEIGHBOURS, scale: str = "tanh", model=None) -> tuple[float, float]:
    """Improved precision and recall of two image sets on the evaluation network's features."""
    return precision_recall_from_features(features(fake, scale, model=model), features(real, scale, model=model), k)


# ----------------------------------------------------------------------------- digit coverage


COVERAGE_MIN_CONFIDENCE = 0.9
COVERAGE_MIN_FRACTION = 0.02


def digit_coverage(
    images,
    scale: str = "tanh",
    min_confidence: float = COVERAGE_MIN_CONFIDENCE,
    min_fraction: float = COVERAGE_MIN_FRACTION,
    model=None,
) -> dict:
    """Which digits the classifier finds among ``images``, robust to the classifier's own ~1% errors.

    1. A sample *counts* for its argmax digit if its top probability is at least
       ``min_confidence`` (default 0.9): ambiguous scribbles do not vote.
    2. A digit is *covered* if it holds at least ``min_fraction`` (default 2%, a fifth of
       its fair 10% share) of the counted samples, and at least one. Without this, a
       generator of perfect 1s scores 2/10 on the held-out 1s, one of which the
       classifier reads as a 7.
    ``min_confidence=0, min_fraction=0`` gives the literal count "digits predicted at least once".

    Returns coverage (0..10); class_kl = KL(histogram of counted samples || uniform) in
    nats, 0..log 10 (log 10 if no sample counts; see ``toy_metrics.kl_to_uniform``);
    confidence = mean top probability over all samples; confident_fraction = share of
    samples that count; class_counts.
    """
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise GanutilsError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    if not 0.0 <= float(min_fraction) <= 1.0:
        raise GanutilsError(f"min_fraction must be in [0, 1], got {min_fraction!r}")
    probs = classify(images, scale, model=model)
    top, pred = probs.max(dim=1)
    counts = torch.bincount(pred[top >= min_confidence], minlength=NUM_CLASSES)
    n_counted = int(counts.sum())
    covered = (counts >= 1) & (counts >= min_fraction * n_counted)
    return {
        "coverage": int(covered.sum()),
        "class_kl": kl_to_uniform(counts),
        "confidence": top.mean().item(),
        "confident_fraction": n_counted / len(top),
        "class_counts": [int(c) for c in counts],
    }


# ----------------------------------------------------------------------------- everything at once


def evaluate_images(
    fake,
    real=None,
    k: int = PR_NEIGHBOURS,
    scale: str = "tanh",
    min_confidence: float = COVERAGE_MIN_CONFIDENCE,
    min_fraction: float = COVERAGE_MIN_FRACTION,
    model=None,
    device=None,
) -> dict:
    """All image metrics of generated ``fake`` against ``real`` (default: the held-out MNIST digits).

    Returns {fd, precision, recall, coverage, class_kl, confidence, confident_fraction,
    class_counts, n_fake, n_real}; see the functions above for each definition.
    ``fake`` and the default ``real`` are both in ``scale``; pass ``real`` explicitly to compare
    against the same number of images each time (the Fréchet distance depends on N).
    """
    if real is None:
        from .data import load_mnist

        real = load_mnist("test", scale=scale, verbose=False).images
    model = model if model is not None else load_evalnet(device)
    fake_x, real_x = prepare_images(fake, scale), prepare_images(real, scale)
    precision, recall = precision_recall(fake_x, real_x, k, model=model)
    return {
        "fd": frechet_distance(fake_x, real_x, model=model),
        "precision": precision,
        "recall": recall,
        **digit_coverage(fake_x, min_confidence=min_confidence, min_fraction=min_fraction, model=model),
        "n_fake": len(fake_x),
        "n_real": len(real_x),
    }
