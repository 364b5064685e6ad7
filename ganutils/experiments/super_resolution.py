"""Notebook 11's experiments: x4 super-resolution of 28x28 digits with three losses, and Real-ESRGAN's
point about training degradations.

The recipe follows Real-ESRGAN's two stages (xinntao/Real-ESRGAN, docs/Training.md: "We first train
Real-ESRNet with L1 loss ... We then use the trained Real-ESRNet model as an initialization of the
generator, and train the Real-ESRGAN with a combination of L1 loss, perceptual loss and GAN loss"):
one L1 network trains first; every variant continues from its weights for the same number of steps,
changing only the loss or the training inputs.
"""

from __future__ import annotations

import torch

from ..config import GanutilsError, seeded
from ..data import TensorSampler
from ..data.degradations import REAL_ESRGAN_SMALL, bicubic_down, degrade, upsample
from ..metrics.evalnet import classify
from ..metrics.frechet import frechet_distance
from ..metrics.sharpness import laplacian_variance
from ..metrics.translation import psnr
from ..nets.dcgan import DCGANDiscriminator
from ..nets.sr import SRNet
from ..training.super_resolution import SuperResolution

# Calibrated on a 2-core CPU (notebook 11): a 4-block, 32-channel ESRGAN-style net (about 19 MFLOP per 28x28
# output), Adam 2e-4 with Real-ESRGAN's betas (0.9, 0.99), batch 64, the course's DCGAN discriminator (width 32).
SR_SETUP = {"scale": 4, "width": 32, "blocks": 4, "lr": 2e-4, "batch_size": 64, "d_width": 32}

# Loss weights of each variant; Real-ESRGAN's x4plus configuration weighs pixel 1, perceptual 1, GAN 0.1.
LOSSES = {
    "L1": {"l1": 1.0},
    "L1 + perceptual": {"l1": 1.0, "perceptual": 1.0},
    "L1 + perceptual + adversarial": {"l1": 1.0, "perceptual": 1.0, "adversarial": 0.1},
}


def to_unit(x: torch.Tensor) -> torch.Tensor:
    return (x + 1) / 2


def to_tanh(x: torch.Tensor) -> torch.Tensor:
    return x * 2 - 1


def bicubic_inputs(hr: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """Low-resolution inputs of [-1, 1] images by bicubic downsampling (the classic SR benchmark)."""
    return to_tanh(bicubic_down(to_unit(hr), scale))


def degraded_inputs(hr: torch.Tensor, scale: int = 4, seed: int = 0, cfg=REAL_ESRGAN_SMALL) -> torch.Tensor:
    """Low-resolution inputs of [-1, 1] images through Real-ESRGAN's second-order degradation, one draw per image."""
    return to_tanh(degrade(to_unit(hr), scale, torch.Generator().manual_seed(seed), cfg))


def interpolate(lr: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """The no-learning baseline: bicubic interpolation of [-1, 1] inputs."""
    return to_tanh(upsample(to_unit(lr), scale))


def build(loss: str, *, weights: dict | None = None, feature_net=None, init: dict | None = None, seed: int = 0,
          device="cpu", **setup) -> SuperResolution:
    """The SR model for ``loss`` (a key of LOSSES, or any name with explicit ``weights``), G initialised from
    ``init`` (a G state dict) when given, networks initialised from ``seed``."""
    if weights is None:
        if loss not in LOSSES:
            raise GanutilsError(f"unknown SR loss {loss!r}: use one of {', '.join(LOSSES)} or pass weights=")
        weights = LOSSES[loss]
    unknown = set(setup) - set(SR_SETUP)
    if unknown:
        raise GanutilsError(f"unknown SR setting(s) {sorted(unknown)}: use {', '.join(SR_SETUP)}")
    s = {**SR_SETUP, **setup}
    with seeded(seed):
        G = SRNet(s["scale"], 1, s["width"], s["blocks"])
        D = DCGANDiscriminator(s["d_width"]) if weights.get("adversarial") else None
    if init is not None:
        G.load_state_dict(init)
    return SuperResolution(G, D, feature_net=feature_net, lr=s["lr"], device=device, **weights)


def sampler(lr: torch.Tensor, hr: torch.Tensor, seed: int = 0, batch_size: int | None = None, device=None) -> TensorSampler:
    """Shuffled (low-resolution, high-resolution) minibatches."""
    return TensorSampler(lr, hr, batch_size=batch_size or SR_SETUP["batch_size"], seed=seed, device=device)


def evaluate(sr: torch.Tensor, hr: torch.Tensor, labels: torch.Tensor) -> dict:
    """Distortion and perception of super-resolved ``sr`` against the true ``hr`` (both [-1, 1]).

    psnr (dB, higher = less distortion); fd (evaluation-network Fréchet distance to the true images,
    lower = closer in distribution); sharpness (mean Laplacian variance: real digits set the reference);
    digit_accuracy (the evaluation network reads the right digit).
    """
    if sr.shape != hr.shape or len(labels) != len(hr):
        raise GanutilsError(f"sr {tuple(sr.shape)}, hr {tuple(hr.shape)} and {len(labels)} labels must match")
    return {
        "psnr": psnr(sr, hr).mean().item(),
        "fd": frechet_distance(sr, hr),
        "sharpness": laplacian_variance(sr).mean().item(),
        "digit_accuracy": (classify(sr).argmax(1) == labels.to(torch.long)).float().mean().item(),
    }
