"""Class-conditional generators and discriminators (their scores are in ``ganutils.metrics.conditional``).

A conditional GAN (Mirza & Osindero 2014) gives the label y to both players:
G(z, y) draws a digit of class y, D(x, y) judges "is x a real digit *of class y*".

- Generators concatenate a learned label embedding with z (``ConditionalMLPGenerator``,
  ``ConditionalDCGANGenerator``).
- Discriminators come in two flavours, picked with ``mode``:
  ``"concat"`` appends the label to D's input (for images: an embedded 28x28 label plane as
  an extra channel); ``"projection"`` (Miyato & Koyama 2018) adds the inner product of a
  class embedding with D's features to an unconditional score:
  logit = ψ(φ(x)) + embed(y)ᵀ φ(x).

All follow ``ganutils.training.GAN``'s conventions (``G(z, labels)``, ``D(x, labels)`` returning
logits), so ``GAN(G, D, z_dim=...)`` trains them with batches from
``data.TensorSampler(images, labels, batch_size=...)``. G and D each own their embedding:
notebook 08 shows why.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int, seeded
from .dcgan import DCGANDiscriminator, DCGANGenerator, init_dcgan_weights
from .mlp import mlp

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
                     embed_dim: int = 16, width: int = 32, hidden: int = 256, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(G, D) for class-conditional MNIST, initialised from ``seed``: arch "dcgan" (``width`` channels) or "mlp" (``hidden`` units)."""
    _check_mode(mode)
    if arch not in ("dcgan", "mlp"):
        raise GanutilsError(f"unknown conditional architecture {arch!r}: use 'dcgan' or 'mlp'")
    with seeded(seed):
        if arch == "dcgan":
            return (ConditionalDCGANGenerator(z_dim, n_classes, embed_dim, width),
                    ConditionalDCGANDiscriminator(n_classes, mode, width))
        return (ConditionalMLPGenerator(z_dim, n_classes, embed_dim, hidden),
                ConditionalMLPDiscriminator(n_classes, mode, embed_dim, hidden))
