"""Class-conditional generators and discriminators, and how to score them.

A conditional GAN (Mirza & Osindero 2014) gives the label y to both players:
G(z, y) draws a digit of class y, D(x, y) judges "is x a real digit *of class y*".

- Generators concatenate a learned label embedding with z (``ConditionalMLPGenerator``,
  ``ConditionalDCGANGenerator``).
- Discriminators come in two flavours, picked with ``mode``:
  ``"concat"`` appends the label to D's input (for images: an embedded 28x28 label plane as
  an extra channel); ``"projection"`` (Miyato & Koyama 2018) adds the inner product of a
  class embedding with D's features to an unconditional score:
  logit = ψ(φ(x)) + embed(y)ᵀ φ(x).

All follow ``ganutils.gan.GAN``'s conventions (``G(z, labels)``, ``D(x, labels)`` returning
logits), so ``gan.GAN(G, D, z_dim=...)`` trains them with batches from
``data.TensorSampler(images, labels, batch_size=...)``. G and D each own their embedding:
see notebook 06, "Why G and D use separate label embeddings".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .config import GanutilsError, check_positive_int
from .nets import DCGANDiscriminator, DCGANGenerator, init_dcgan_weights, mlp

DISCRIMINATOR_MODES = ("concat", "projection")
IMAGE_SHAPE = (1, 28, 28)


def check_labels(labels, n: int, n_classes: int) -> torch.Tensor:
    """``labels`` as an int64 tensor of ``n`` class indices in [0, n_classes), or a clear error."""
    if not isinstance(labels, torch.Tensor):
        raise GanutilsError(
            f"labels must be a tensor of class indices, got {type(labels).__name__}: pass e.g. torch.tensor([3, 7])"
        )
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise GanutilsError(f"labels must be integer class indices, got dtype {labels.dtype}: use labels.long()")
    if labels.dim() != 1 or len(labels) != n:
        raise GanutilsError(f"labels must have shape ({n},), one class per sample, got {tuple(labels.shape)}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise GanutilsError(
            f"labels must lie in 0..{n_classes - 1}, got values {int(labels.min())}..{int(labels.max())}"
        )
    return labels.long()


def _check_mode(mode: str) -> str:
    if mode not in DISCRIMINATOR_MODES:
        raise GanutilsError(f"unknown discriminator mode {mode!r}: use 'concat' or 'projection'")
    return mode


# ----------------------------------------------------------------------------- generators


class ConditionalMLPGenerator(nn.Module):
    """[z, embed(y)] -> MLP -> tanh image (N, 1, 28, 28)."""

    def __init__(self, z_dim: int = 64, n_classes: int = 10, embed_dim: int = 16, hidden: int = 256, depth: int = 2,
                 out_shape=IMAGE_SHAPE):
        super().__init__()
        self.z_dim, self.n_classes = check_positive_int("z_dim", z_dim), check_positive_int("n_classes", n_classes)
        self.out_shape = tuple(out_shape)
        self.embed = nn.Embedding(self.n_classes, check_positive_int("embed_dim", embed_dim))
        self.net = mlp(self.z_dim + embed_dim, math.prod(self.out_shape), hidden, depth, "leaky_relu", "tanh")

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = check_labels(labels, len(z), self.n_classes)
        return self.net(torch.cat([z, self.embed(labels)], dim=1)).view(len(z), *self.out_shape)


class ConditionalDCGANGenerator(nn.Module):
    """[z, embed(y)] -> the DCGAN generator of ``nets`` (7x7 -> 14x14 -> 28x28, tanh).

    ``first_layer`` (the fully connected layer's BatchNorm + ReLU output) is where the latent
    explorer computes GANSpace directions.
    """

    def __init__(self, z_dim: int = 64, n_classes: int = 10, embed_dim: int = 16, width: int = 32):
        super().__init__()
        self.z_dim, self.n_classes = check_positive_int("z_dim", z_dim), check_positive_int("n_classes", n_classes)
        self.embed = nn.Embedding(self.n_classes, check_positive_int("embed_dim", embed_dim))
        self.body = DCGANGenerator(self.z_dim + embed_dim, check_positive_int("width", width))
        nn.init.normal_(self.embed.weight, 0.0, 1.0)  # the label code enters on the same scale as z ~ N(0, I)

    @property
    def first_layer(self) -> nn.Module:
        return self.body.fc

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = check_labels(labels, len(z), self.n_classes)
        return self.body(torch.cat([z, self.embed(labels)], dim=1))


# ----------------------------------------------------------------------------- discriminators


class ConditionalMLPDiscriminator(nn.Module):
    """MLP discriminator D(x, y) -> logits (N,).

    concat: MLP([x, embed(y)]); projection: φ = MLP body, logit = ψ(φ) + embed(y)ᵀ φ.
    """

    def __init__(self, n_classes: int = 10, mode: str = "projection", embed_dim: int = 16, hidden: int = 256,
                 depth: int = 2, in_shape=IMAGE_SHAPE):
        super().__init__()
        self.n_classes, self.mode = check_positive_int("n_classes", n_classes), _check_mode(mode)
        in_dim = math.prod(in_shape)
        if mode == "concat":
            self.embed = nn.Embedding(self.n_classes, check_positive_int("embed_dim", embed_dim))
            self.body = mlp(in_dim + embed_dim, hidden, hidden, depth - 1, "leaky_relu", "leaky_relu")
        else:
            self.body = mlp(in_dim, hidden, hidden, depth - 1, "leaky_relu", "leaky_relu")
            self.embed = nn.Embedding(self.n_classes, hidden)  # lives in φ's space, so its size is D's feature size
            nn.init.zeros_(self.embed.weight)  # start as the unconditional D; the class term grows from zero
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = check_labels(labels, len(x), self.n_classes)
        x = x.flatten(1)
        if self.mode == "concat":
            return self.head(self.body(torch.cat([x, self.embed(labels)], dim=1))).squeeze(1)
        phi = self.body(x)
        return self.head(phi).squeeze(1) + (self.embed(labels) * phi).sum(1)


class ConditionalDCGANDiscriminator(nn.Module):
    """The DCGAN discriminator of ``nets`` (28 -> 14 -> 7 -> logit) made conditional.

    concat: the label is embedded as a learned 28x28 plane and stacked on the image as a second
    input channel, so every filter of the first layer sees it (input concatenation).
    projection: φ(x) = the flattened 7x7 features, logit = ψ(φ(x)) + embed(y)ᵀ φ(x) (Miyato & Koyama 2018).
    """

    def __init__(self, n_classes: int = 10, mode: str = "projection", width: int = 32, norm: str | None = "batch"):
        super().__init__()
        self.n_classes, self.mode = check_positive_int("n_classes", n_classes), _check_mode(mode)
        width = check_positive_int("width", width)
        self.body = DCGANDiscriminator(width, in_channels=2 if mode == "concat" else 1, norm=norm)
        feature_dim = 2 * width * 7 * 7
        self.embed = nn.Embedding(self.n_classes, math.prod(IMAGE_SHAPE[1:]) if mode == "concat" else feature_dim)
        init_dcgan_weights(self)
        if mode == "concat":
            nn.init.normal_(self.embed.weight, 0.0, 1.0)  # a label plane on the scale of the [-1, 1] pixels
        else:
            nn.init.zeros_(self.embed.weight)

    def features(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """φ(x): the flattened last feature maps (for concat, of the image stacked with its label plane)."""
        if self.mode == "concat":
            x = torch.cat([x, self.embed(labels).view(len(x), 1, *x.shape[2:])], dim=1)
        return self.body.features(x).flatten(1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = check_labels(labels, len(x), self.n_classes)
        if self.mode == "concat" and tuple(x.shape[2:]) != IMAGE_SHAPE[1:]:
            raise GanutilsError(f"the concat discriminator is built for 28x28 images, got {tuple(x.shape)}")
        phi = self.features(x, labels)
        out = self.body.head(phi).squeeze(1)
        if self.mode == "projection":
            out = out + (self.embed(labels) * phi).sum(1)
        return out


def make_conditional(arch: str = "dcgan", mode: str = "projection", *, z_dim: int = 64, n_classes: int = 10,
                     embed_dim: int = 16, width: int = 32, hidden: int = 256) -> tuple[nn.Module, nn.Module]:
    """(G, D) for class-conditional MNIST: arch "dcgan" (``width`` channels) or "mlp" (``hidden`` units)."""
    _check_mode(mode)
    if arch == "dcgan":
        return (ConditionalDCGANGenerator(z_dim, n_classes, embed_dim, width),
                ConditionalDCGANDiscriminator(n_classes, mode, width))
    if arch == "mlp":
        return (ConditionalMLPGenerator(z_dim, n_classes, embed_dim, hidden),
                ConditionalMLPDiscriminator(n_classes, mode, embed_dim, hidden))
    raise GanutilsError(f"unknown conditional architecture {arch!r}: use 'dcgan' or 'mlp'")


# ----------------------------------------------------------------------------- sampling and scoring


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
    was_training = G.training
    G.eval()
    try:
        out = [G(z[i : i + batch_size].to(device), labels[i : i + batch_size].to(device)).cpu()
               for i in range(0, len(z), batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(out), labels


def label_accuracy(images: torch.Tensor, labels: torch.Tensor, n_classes: int = 10, scale: str = "tanh",
                   model=None) -> dict:
    """How often the evaluation network reads the requested class: overall, per class, and the confusion matrix.

    ``confusion[i][j]`` counts samples requested as class i and read as class j.
    """
    from .evalnet import classify

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
    from .evalnet import features
    from .image_metrics import frechet_distance_from_features

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
    """Everything notebook 06 reports for a class-conditional generator, on ``n_per_class`` samples per class.

    Returns {fd, precision, recall, coverage} of all samples against ``real_images`` (compare at equal
    sizes), label_accuracy and per_class_accuracy (the evaluation network agrees with the requested
    class), intra_fd (per class) and its mean, and the samples themselves.
    """
    from .image_metrics import evaluate_images

    images, labels = generate_per_class(G, n_per_class, z_dim=z_dim, n_classes=n_classes, seed=seed)
    quality = evaluate_images(images, real_images)
    acc = label_accuracy(images, labels, n_classes)
    intra = intra_class_fd(images, labels, real_images, real_labels, n_classes)
    return {"fd": quality["fd"], "precision": quality["precision"], "recall": quality["recall"],
            "coverage": quality["coverage"], "label_accuracy": acc["accuracy"], "per_class_accuracy": acc["per_class"],
            "confusion": acc["confusion"], "intra_fd": intra, "intra_fd_mean": float(np.mean(intra)),
            "images": images, "labels": labels}

