"""Scoring a class-conditional generator: samples per class, label accuracy by the evaluation network, intra-class FD."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from ..nets.conditional import check_labels
from ..nets.utils import eval_mode
from .evalnet import classify, features
from .frechet import frechet_distance_from_features
from .images import evaluate_images


def class_grid_labels(n_classes: int = 10, per_class: int = 8) -> torch.Tensor:
    """0,0,..,0,1,1,..: labels for a grid with one row per class (``gan.fixed_cond`` for snapshots)."""
    return torch.arange(check_positive_int("n_classes", n_classes)).repeat_interleave(check_positive_int("per_class", per_class))


@torch.no_grad()
def generate_per_class(G: nn.Module, n_per_class: int, *, z_dim: int, n_classes: int = 10, seed: int = 0,
                       device=None, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_per_class`` samples of every class from G in eval mode, on the CPU: (images, requested labels).

    The noise comes from its own generator seeded with ``seed``, so two calls give the same images.
    """
    n_per_class = check_positive_int("n_per_class", n_per_class)
    labels = class_grid_labels(n_classes, n_per_class)
    z = torch.randn(len(labels), check_positive_int("z_dim", z_dim), generator=torch.Generator().manual_seed(seed))
    device = device if device is not None else next(G.parameters()).device
    with eval_mode(G):
        out = [G(z[i : i + batch_size].to(device), labels[i : i + batch_size].to(device)).cpu()
               for i in range(0, len(z), batch_size)]
    return torch.cat(out), labels


def label_accuracy(images: torch.Tensor, labels: torch.Tensor, n_classes: int = 10, scale: str = "tanh",
                   model=None) -> dict:
    """How often the evaluation network reads the requested class: overall, per class, and the confusion matrix.

    ``confusion[i][j]`` counts samples requested as class i and read as class j.
    """
    labels = check_labels(torch.as_tensor(labels), len(images), n_classes)
    pred = classify(images, scale, model=model).argmax(1)
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long)
    confusion.index_put_((labels, pred), torch.ones_like(labels), accumulate=True)
    per_class = (confusion.diag().float() / confusion.sum(1).clamp(min=1).float()).tolist()
    return {"accuracy": (pred == labels).float().mean().item(), "per_class": per_class,
            "confusion": confusion.tolist(), "predicted": pred}


def intra_class_fd(images: torch.Tensor, labels: torch.Tensor, real_images: torch.Tensor, real_labels: torch.Tensor,
                   n_classes: int = 10, scale: str = "tanh", model=None) -> list[float]:
    """Per-class Fréchet distance (intra-FID): class-k samples against class-k real digits, on the evaluation features.

    Small per-class samples bias it upwards: compare models at equal sample sizes only.
    """
    f_fake, f_real = features(images, scale, model=model), features(real_images, scale, model=model)
    labels, real_labels = torch.as_tensor(labels), torch.as_tensor(real_labels)
    out = []
    for k in range(n_classes):
        a, b = f_fake[labels == k], f_real[real_labels == k]
        if len(a) < 2 or len(b) < 2:
            raise GanutilsError(f"class {k} has {len(a)} generated and {len(b)} real images: intra-class FD needs 2 of each")
        out.append(frechet_distance_from_features(a, b))
    return out


def evaluate_conditional(G: nn.Module, *, z_dim: int, real_images: torch.Tensor, real_labels: torch.Tensor,
                         n_per_class: int = 100, n_classes: int = 10, seed: int = 0) -> dict:
    """Everything the conditional-GAN notebook reports for a class-conditional generator, on ``n_per_class`` samples per class.

    Returns {fd, precision, recall, coverage} of all samples against ``real_images`` (compare at equal
    sizes), label_accuracy and per_class_accuracy (the evaluation network agrees with the requested
    class), intra_fd (per class) and its mean, and the samples themselves.
    """
    images, labels = generate_per_class(G, n_per_class, z_dim=z_dim, n_classes=n_classes, seed=seed)
    quality = evaluate_images(images, real_images)
    acc = label_accuracy(images, labels, n_classes)
    intra = intra_class_fd(images, labels, real_images, real_labels, n_classes)
    return {"fd": quality["fd"], "precision": quality["precision"], "recall": quality["recall"],
            "coverage": quality["coverage"], "label_accuracy": acc["accuracy"], "per_class_accuracy": acc["per_class"],
            "confusion": acc["confusion"], "intra_fd": intra, "intra_fd_mean": float(np.mean(intra)),
            "images": images, "labels": labels}
