"""Seed 001's TensorFlow GAN, ported faithfully to PyTorch with each of its bugs switchable.

The seed's code (an interview "code example") has three bugs:

1. ``generator_loss(fake) = cross_entropy(zeros_like(fake), fake)``: the generator is trained
   towards the *fake* label, i.e. to be detected. It should target ones.
2. The discriminator ends in ``sigmoid`` while the loss says ``from_logits=True``: the loss
   applies a second sigmoid, so D's "logits" live in (0, 1) and its probabilities in
   (0.5, 0.73); it can never be confident.
3. ``for image in x_train: train_step(image, noise)`` with ``noise`` drawn once: one real image
   per step and the *same* noise batch every step, so G only ever learns 128 points.

Notebook 02 trains the port as written, then fixes one bug at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import seeded
from ..losses.adversarial import GANLoss, d_loss_bce, g_loss_non_saturating
from ..nets.mlp import MLPDiscriminator, MLPGenerator
from ..training.gan import GAN

NOISE_DIM = 100
FIXED_NOISE_BATCH = 128  # the seed's batch_size, used only for its one fixed noise tensor


def g_loss_wrong_target(fake_logits: torch.Tensor) -> torch.Tensor:
    """Bug 1: BCE towards label 0, i.e. -log(1 - D(G(z))): minimising it makes D(G(z)) -> 0."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


class Seed001GAN(GAN):
    """The seed's networks (Dense 128 + ReLU; G ends in sigmoid for [0, 1] pixels) and optimizers
    (Adam 1e-4, beta1 0.5), with ``wrong_target``, ``double_sigmoid`` and ``fixed_noise`` bugs."""

    def __init__(self, *, wrong_target: bool = True, double_sigmoid: bool = True, fixed_noise: bool = True,
                 seed: int = 0, device=None):
        with seeded(seed):
            G = MLPGenerator(NOISE_DIM, (1, 28, 28), hidden=128, depth=1, act="relu", out_act="sigmoid")
            D = MLPDiscriminator((1, 28, 28), hidden=128, depth=1, act="relu")
        if double_sigmoid:
            D = nn.Sequential(D, nn.Sigmoid())  # probabilities, which the loss then treats as logits
        loss = GANLoss("seed001", d_loss_bce, g_loss_wrong_target if wrong_target else g_loss_non_saturating)
        super().__init__(G, D, z_dim=NOISE_DIM, loss=loss, lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999), seed=seed, device=device)
        self.bugs = {"wrong_target": wrong_target, "double_sigmoid": double_sigmoid, "fixed_noise": fixed_noise}
        self.train_noise = torch.randn(FIXED_NOISE_BATCH, NOISE_DIM, generator=self.noise, device=self.device)
        self._training_step = False

    def step(self, sample):
        self._training_step = True
        try:
            return super().step(sample)
        finally:
            self._training_step = False

    def sample_z(self, n: int) -> torch.Tensor:
        """With ``fixed_noise``, training steps reuse the one noise tensor drawn at the start."""
        if self.bugs["fixed_noise"] and self._training_step:
            return self.train_noise
        return super().sample_z(n)

    def d_probability(self, x: torch.Tensor) -> torch.Tensor:
        """What D believes: P(real) as the loss sees it (a sigmoid of D's output, doubled if bug 2 is on)."""
        with torch.no_grad():
            return torch.sigmoid(self.D(x.to(self.device))).cpu()
