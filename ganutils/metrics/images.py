"""Every image metric at once: Fréchet distance, precision / recall and digit coverage of generated
images against real ones, on the course's MNIST evaluation network (``metrics.evalnet``) instead of Inception.

Images are in the course's GAN scale [-1, 1] (``scale="unit"`` for [0, 1]) and shaped
(N, 1, 28, 28), (N, 28, 28) or (N, 784).
"""

from __future__ import annotations

from .coverage import COVERAGE_MIN_CONFIDENCE, COVERAGE_MIN_FRACTION, coverage_from_probs
from .evalnet import features_and_logits, load_evalnet, prepare_images
from .frechet import frechet_distance_torchmetrics
from .precision_recall import PR_NEIGHBOURS, precision_recall_from_features
from .reference_features import reference_features_and_radii


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
        from ..data.mnist import load_mnist

        real = load_mnist("test", scale=scale, verbose=False).images
    model = model if model is not None else load_evalnet(device)
    fake_x, real_x = prepare_images(fake, scale), prepare_images(real, scale)
    fake_feats, fake_logits = features_and_logits(fake_x, model=model)  # one pass: the metrics share it
    real_feats, real_radii = reference_features_and_radii(real_x, k, model=model)  # computed once per process
    precision, recall = precision_recall_from_features(fake_feats, real_feats, k, real_radii=real_radii)
    return {
        "fd": frechet_distance_torchmetrics(fake_feats, real_feats),
        "precision": precision,
        "recall": recall,
        **coverage_from_probs(fake_logits.softmax(dim=1), min_confidence, min_fraction),
        "n_fake": len(fake_x),
        "n_real": len(real_x),
    }
