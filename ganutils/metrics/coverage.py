"""Digit coverage: how many of the 10 classes the evaluation network finds among generated samples,
the KL of that class histogram to uniform, and the mean classifier confidence."""

from __future__ import annotations

import torch

from ..config import GanutilsError
from .evalnet import NUM_CLASSES, classify
from .toy import kl_to_uniform

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
    _check_thresholds(min_confidence, min_fraction)  # before the network runs
    return coverage_from_probs(classify(images, scale, model=model), min_confidence, min_fraction)


def _check_thresholds(min_confidence, min_fraction) -> None:
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise GanutilsError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    if not 0.0 <= float(min_fraction) <= 1.0:
        raise GanutilsError(f"min_fraction must be in [0, 1], got {min_fraction!r}")


def coverage_from_probs(probs: torch.Tensor, min_confidence: float = COVERAGE_MIN_CONFIDENCE,
                        min_fraction: float = COVERAGE_MIN_FRACTION) -> dict:
    """``digit_coverage`` of samples whose class probabilities (N, 10) are already computed."""
    _check_thresholds(min_confidence, min_fraction)
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
