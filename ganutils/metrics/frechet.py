"""The Fréchet distance of two image sets on the MNIST evaluation network's features (the FID formula,
Heusel et al. 2017, without Inception): ||μ1 - μ2||² + Tr(S1 + S2 - 2 (S1 S2)^½), the *squared*
2-Wasserstein distance between the two Gaussians fitted to the features.

``frechet_distance`` feeds the evaluation network's features to torchmetrics' ``FrechetInceptionDistance``
(the reference set's features computed once per process: ``reference_features``);
``frechet_distance_from_features`` is the closed form in float64 that it is checked against. Like FID it
is biased upwards for small samples: compare numbers computed with the same number of images (the course
uses 1,000 vs 1,000).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from torch import nn

from ..config import GanutilsError
from .evalnet import FEATURE_DIM, features, load_evalnet, prepare_images
from .precision_recall import _check_feature_pair
from .reference_features import reference_features


def frechet_distance_from_features(feats1, feats2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2)) of two (N, d) feature sets, in float64."""
    f1, f2 = (np.asarray(torch.as_tensor(f).detach().cpu(), dtype=np.float64) for f in (feats1, feats2))
    _check_feature_pair(f1, f2, need=2)
    mu1, mu2, s1, s2 = f1.mean(0), f2.mean(0), np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # singular product: nudge both covariances, as pytorch-fid does
        eye = np.eye(len(mu1)) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + eye) @ (s2 + eye))
    if np.iscomplexobj(covmean):  # sqrtm of a product of two PSD matrices is real up to rounding (pytorch-fid's check)
        largest = float(np.abs(covmean.imag).max())
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise GanutilsError(
                f"the Fréchet distance is ill-conditioned: sqrtm(S1 S2) has an imaginary part of {largest:.3g}; "
                "use more samples than feature dimensions, or check the features for duplicates"
            )
        covmean = covmean.real
    fd = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    return clamp_rounding(fd)


def clamp_rounding(fd: float) -> float:
    """A Fréchet distance is >= 0; rounding can make identical sets come out at -1e-12: report those as 0."""
    return float(max(float(fd), 0.0))


class GivenFeatures(nn.Module):
    """An identity "feature extractor" for torchmetrics: the features are computed (and, for the
    reference set, remembered) before the metric sees them."""

    num_features = FEATURE_DIM  # read by torchmetrics instead of probing with a dummy image

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return feats


def frechet_distance(fake, real, scale: str = "tanh", model=None, batch_size: int = 500) -> float:
    """Fréchet distance between two image sets on the evaluation network's features (torchmetrics).

    ``real`` is the reference set: its features are computed once per process (``reference_features``).
    """
    x_fake, x_real = prepare_images(fake, scale), prepare_images(real, scale)
    if len(x_fake) < 2 or len(x_real) < 2:
        raise GanutilsError(f"the Fréchet distance needs at least 2 images per set, got {len(x_fake)} fake and {len(x_real)} real")
    model = model if model is not None else load_evalnet()
    return frechet_distance_torchmetrics(features(x_fake, batch_size=batch_size, model=model),
                                         reference_features(x_real, model=model, batch_size=batch_size), batch_size)


def frechet_distance_torchmetrics(fake_feats: torch.Tensor, real_feats: torch.Tensor, batch_size: int = 500) -> float:
    """torchmetrics' Fréchet distance of two feature sets, fed in the batches the network saw (the same sums, bit for bit)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=GivenFeatures(), normalize=True)
    for feats, is_real in ((real_feats, True), (fake_feats, False)):
        for i in range(0, len(feats), batch_size):
            metric.update(feats[i : i + batch_size], real=is_real)
    return clamp_rounding(metric.compute())
