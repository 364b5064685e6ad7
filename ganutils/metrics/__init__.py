"""Measurements: the VEEGAN toy metrics, image metrics on the course's evaluation network (Fréchet distance,
precision/recall, coverage), divergences, Lipschitz probes, likelihood bounds, translation scores, cost."""

from .coverage import digit_coverage
from .evalnet import classify, features, load_evalnet
from .frechet import frechet_distance, frechet_distance_from_features
from .images import evaluate_images
from .precision_recall import precision_recall, precision_recall_from_features
from .toy import ToyMetrics, toy_metrics

__all__ = ["ToyMetrics", "classify", "digit_coverage", "evaluate_images", "features", "frechet_distance",
           "frechet_distance_from_features", "load_evalnet", "precision_recall",
           "precision_recall_from_features",
           "toy_metrics"]
