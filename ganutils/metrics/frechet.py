"""The Fréchet distance of two image sets on the MNIST evaluation network's features (the FID formula,
Heusel et al. 2017, without Inception): ||μ1 - μ2||² + Tr(S1 + S2 - 2 (S1 S2)^½), the *squared*
2-Wasserstein distance between the two Gaussians fitted to the features.

``frechet_distance`` uses torchmetrics' ``FrechetInceptionDistance`` with the evaluation network as a
custom feature extractor; ``frechet_distance_from_features`` is the closed form in float64 that it is
checked against. Like FID it is biased upwards for small samples: compare numbers computed with the
same number of images (the course uses 1,000 vs 1,000).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from torch import nn

from ..config import GanutilsError
from .evalnet import FEATURE_DIM, load_evalnet, prepare_images
from .precision_recall import _check_feature_pair


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
    return clamp_rounding(metric.compute())
