"""Improved precision and recall with k-NN manifolds (Kynkäänniemi et al. 2019, k = 3) on the evaluation features.

Precision: the share of generated samples that look real (inside the real manifold); recall: the
share of real samples the generator can produce (inside the generated manifold).
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import GanutilsError, check_positive_int
from .evalnet import features
from .reference_features import reference_features_and_radii

PR_NEIGHBOURS = 3


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


def precision_recall_from_features(fake_feats, real_feats, k: int = PR_NEIGHBOURS, real_radii=None) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    precision: fraction of fakes inside the real manifold (union of balls around each real
    feature, radius = distance to its k-th nearest real neighbour);
    recall: fraction of reals inside the fake manifold, built the same way from the fakes.
    ``real_radii``: ``knn_radii(real_feats, k)`` when the caller already has them.
    """
    k = check_positive_int("k", k)
    fake = torch.as_tensor(fake_feats).detach().cpu().double()
    real = torch.as_tensor(real_feats).detach().cpu().double()
    _check_feature_pair(fake, real, need=k + 1)
    precision = fraction_inside(fake, real, knn_radii(real, k) if real_radii is None else real_radii)
    recall = fraction_inside(real, fake, knn_radii(fake, k))
    return precision, recall


def precision_recall(fake, real, k: int = PR_NEIGHBOURS, scale: str = "tanh", model=None) -> tuple[float, float]:
    """Improved precision and recall of two image sets on the evaluation network's features.

    ``real`` is the reference set: its features and radii are computed once per process (``reference_features_and_radii``).
    """
    real_feats, real_radii = reference_features_and_radii(real, check_positive_int("k", k), scale, model=model)
    return precision_recall_from_features(features(fake, scale, model=model), real_feats, k, real_radii=real_radii)
