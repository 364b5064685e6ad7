"""Super-resolution training with a pixel loss, a perceptual loss and an adversarial loss (SRGAN, ESRGAN, Real-ESRGAN).

    model = SuperResolution(SRNet(4), D, l1=1.0, perceptual=1.0, adversarial=0.1, feature_net=load_evalnet())
    train(model, TensorSampler(lr_images, hr_images, batch_size=64), steps=300)
    sr = model.upscale(lr_test)

Set a weight to 0 to drop its term: ``perceptual=0, adversarial=0`` is the PSNR-oriented network
(Real-ESRNet, the first stage of Real-ESRGAN).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GanutilsError, resolve_device
from ..losses.adversarial import get_loss
from ..losses.perceptual import PerceptualLoss
from ..nets.utils import eval_mode
from .gan import make_optimizer


class SuperResolution:
    """G (an upsampler), an optional D and the loss l1 * L1 + perceptual * L_perceptual + adversarial * L_GAN.

    Defaults follow Real-ESRGAN's x4plus configuration where it applies: Adam with betas (0.9, 0.99), the
    vanilla (non-saturating) GAN loss; D sees high-resolution images only (real ones and G's outputs), as
    in SRGAN. Images are in [-1, 1]; ``sample()`` returns (lr, hr). One iteration: one D update on the
    detached output, then one G update.
    """

    def __init__(self, G: nn.Module, D: nn.Module | None = None, *, l1: float = 1.0, perceptual: float = 0.0,
                 adversarial: float = 0.0, feature_net: nn.Module | None = None, lr: float = 2e-4, betas=(0.9, 0.99),
                 device=None):
        self.device = resolve_device(device)
        self.G = G.to(self.device)
        self.weights = {"l1": float(l1), "perceptual": float(perceptual), "adversarial": float(adversarial)}
        if any(not w >= 0 for w in self.weights.values()) or not any(self.weights.values()):
            raise GanutilsError(f"loss weights must be >= 0 and not all 0, got {self.weights}")
        if self.weights["adversarial"] and D is None:
            raise GanutilsError("an adversarial weight > 0 needs a discriminator D (e.g. nets.DCGANDiscriminator())")
        if self.weights["perceptual"] and feature_net is None:
            raise GanutilsError("a perceptual weight > 0 needs feature_net (e.g. metrics.load_evalnet())")
        self.D = D.to(self.device) if D is not None and self.weights["adversarial"] else None
        self.perceptual = PerceptualLoss(feature_net) if self.weights["perceptual"] else None
        self.gan_loss = get_loss("non_saturating")
        self.opt_g = make_optimizer(self.G.parameters(), "adam", lr, betas)
        self.opt_d = make_optimizer(self.D.parameters(), "adam", lr, betas) if self.D is not None else None

    def step(self, sample) -> dict[str, torch.Tensor]:
        lr_images, hr = (t.to(self.device) for t in sample()[:2])
        sr = self.G(lr_images)
        out = {}
        if self.D is not None:
            d_loss = self.gan_loss.d(self.D(hr), self.D(sr.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            out["d_loss"] = d_loss.detach()
        terms = {}
        if self.weights["l1"]:
            terms["l1"] = (sr - hr).abs().mean()
        if self.perceptual is not None:
            terms["perceptual"] = self.perceptual(sr, hr)
        if self.D is not None:
            self.D.requires_grad_(False)  # G's update needs gradients w.r.t. D's input, not its weights
            try:
                terms["adversarial"] = self.gan_loss.g(self.D(sr))
            finally:
                self.D.requires_grad_(True)
        loss = sum(self.weights[k] * v for k, v in terms.items())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {**out, **{k: v.detach() for k, v in terms.items()}}

    @torch.no_grad()
    def upscale(self, lr_images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """G's outputs in [-1, 1] (clamped), on the CPU."""
        with eval_mode(self.G):
            return torch.cat([self.G(lr_images[i:i + batch_size].to(self.device)).clamp(-1, 1).cpu()
                              for i in range(0, len(lr_images), batch_size)])

    def state_dict(self) -> dict:
        state = {"G": self.G.state_dict(), "opt_g": self.opt_g.state_dict()}
        if self.D is not None:
            state.update(D=self.D.state_dict(), opt_d=self.opt_d.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.D is not None:
            self.D.load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_d"])
