"""Pix2pix (Isola et al. 2017): one training iteration of U-Net + PatchGAN with L1 + cGAN.

``Pix2Pix`` covers the loss modes "l1", "cgan" and "l1+cgan" (L_cGAN + λ·L1, λ = 100),
Adam(2e-4, β1 = 0.5), D's objective halved; ``ganutils.training.train`` trains it (progress bar,
checkpoints with exact resume, NaN guard). The networks are ``nets.unet.UNetGenerator`` and
``nets.patchgan.PatchDiscriminator``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, resolve_device, seeded
from ..losses.adversarial import get_loss
from ..nets.patchgan import PatchDiscriminator
from ..nets.unet import UNetGenerator
from .gan import make_optimizer

LOSS_MODES = ("l1", "cgan", "l1+cgan")
NORM_STATS = ("running", "batch", "instance")  # BatchNorm statistics at test time (see with_test_dropout)


def with_test_dropout(G: nn.Module, dropout: bool = True, norm: str = "running"):
    """Context manager: G in test mode, with its Dropout layers on or off and BatchNorm normalising with
    ``norm``: "running" (eval mode: the averages collected in training), "batch" (the statistics of the
    batch being translated, as pix2pix does at test time; Isola et al. 2017, sec. 3.3). The BatchNorm
    buffers are restored on exit, so translating never changes the model. ("instance", a batch of one,
    is "batch" applied image by image: see ``Pix2Pix.translate``.)"""
    return _TestMode(G, dropout, norm)


class _TestMode:
    def __init__(self, G: nn.Module, dropout: bool, norm: str = "running"):
        if norm not in NORM_STATS:
            raise GanutilsError(f"norm={norm!r}: use one of {', '.join(NORM_STATS)}")
        self.G, self.dropout, self.norm = G, dropout, norm

    def __enter__(self):
        self.was_training = self.G.training
        self.G.eval()
        self.saved = []
        for m in self.G.modules():
            if isinstance(m, nn.Dropout):
                m.train(self.dropout)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and self.norm != "running":
                self.saved.append((m, {k: v.clone() for k, v in m.named_buffers(recurse=False)}))
                m.train(True)  # normalise with the statistics of the batch at hand
        return self.G

    def __exit__(self, *exc):
        for m, buffers in self.saved:  # train mode updated the running averages: put them back
            for name, value in buffers.items():
                getattr(m, name).copy_(value)
        self.G.train(self.was_training)
        return False


class Pix2Pix:
    """G, D, their optimizers and the loss mode; ``step(sample)`` is one training iteration.

    ``sample()`` returns an (input, target) batch. loss: the mode, "l1" (G alone, no D), "cgan" (the
    adversarial term alone) or "l1+cgan" (L_cGAN + ``lam``·L1, the paper's λ = 100), kept as ``mode``.
    ``adversarial``: the GAN loss on D's patch logits, a name or a ``losses.GANLoss`` (``self.loss``, as
    in ``training.GAN``): the paper's non-saturating BCE by default; D's loss is halved as in the paper.
    Dropout draws from torch's global RNG, which ``train``'s checkpoints save, so resumes are exact.
    """

    def __init__(self, G: nn.Module, D: nn.Module | None = None, *, loss: str = "l1+cgan", lam: float = 100.0,
                 adversarial="non_saturating", lr_g: float = 2e-4, lr_d: float = 2e-4, betas=(0.5, 0.999),
                 snapshot_inputs: torch.Tensor | None = None, device=None):
        if loss not in LOSS_MODES:
            raise GanutilsError(f"unknown pix2pix loss {loss!r}: use one of {', '.join(LOSS_MODES)}")
        self.mode = loss
        self.loss = get_loss(adversarial)
        self.uses_gan, self.uses_l1 = "cgan" in loss, "l1" in loss
        if self.uses_gan and D is None:
            raise GanutilsError(f"loss {loss!r} needs a discriminator: pass D=PatchDiscriminator(...)")
        if not lam > 0:
            raise GanutilsError(f"lam (the L1 weight) must be > 0, got {lam!r}")
        self.lam = float(lam)
        self.device = resolve_device(device)
        self.G = G.to(self.device)
        self.D = D.to(self.device) if D is not None and self.uses_gan else None
        self.opt_g = make_optimizer(self.G.parameters(), "adam", lr_g, betas, what="lr_g")
        self.opt_d = make_optimizer(self.D.parameters(), "adam", lr_d, betas, what="lr_d") if self.D is not None else None
        self.snapshot_inputs = snapshot_inputs

    # ------------------------------------------------------------------ one iteration
    def step(self, sample) -> dict[str, torch.Tensor]:
        x, y = (t.to(self.device) for t in sample())
        fake = self.G(x)
        out: dict[str, torch.Tensor] = {}
        if self.uses_gan:
            real_logits, fake_logits = self.D(y, x), self.D(fake.detach(), x)
            d_loss = 0.5 * self.loss.d(real_logits, fake_logits)  # halved: D learns slower than G (sec. 3.3)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            out.update(d_loss=d_loss.detach(), d_real=torch.sigmoid(real_logits.detach()).mean(),
                       d_fake=torch.sigmoid(fake_logits.detach()).mean())
        g_loss = torch.zeros((), device=self.device)
        if self.uses_gan:
            self.D.requires_grad_(False)  # G's update needs gradients w.r.t. D's input, not its weights
            try:
                logits = self.D(fake, x)
            finally:
                self.D.requires_grad_(True)
            g_gan = self.loss.g(logits)
            g_loss = g_loss + g_gan
            out["g_gan"] = g_gan.detach()
        l1 = F.l1_loss(fake, y)
        if self.uses_l1:
            g_loss = g_loss + self.lam * l1
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        out.update(g_loss=g_loss.detach(), l1=l1.detach())
        return out

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def translate(self, x: torch.Tensor, dropout: bool = True, norm: str = "running") -> torch.Tensor:
        """G(x) on the CPU, dropout on (the paper's test-time noise) or off.

        ``norm``: BatchNorm's statistics, "running" (eval mode), "batch" (those of ``x``, as the paper
        runs G at test time, sec. 3.3) or "instance" (each image on its own: a batch of one). The
        model is left unchanged either way.
        """
        if norm not in NORM_STATS:
            raise GanutilsError(f"norm={norm!r}: use one of {', '.join(NORM_STATS)}")
        with with_test_dropout(self.G, dropout, "running" if norm == "running" else "batch"):
            x = x.to(self.device)
            if norm == "instance":
                return torch.cat([self.G(xi[None]) for xi in x]).cpu()
            return self.G(x).cpu()

    def snapshot(self) -> torch.Tensor:
        """G(snapshot_inputs) with dropout off: the same inputs every time, so snapshots show G changing."""
        if self.snapshot_inputs is None:
            raise GanutilsError("this Pix2Pix has no snapshot_inputs: pass snapshot_inputs=<a batch of inputs> to take snapshots")
        return self.translate(self.snapshot_inputs, dropout=False)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        state = {"mode": self.mode, "G": self.G.state_dict(), "opt_g": self.opt_g.state_dict()}
        if self.D is not None:
            state.update(D=self.D.state_dict(), opt_d=self.opt_d.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("mode") != self.mode:
            raise GanutilsError(
                f"this checkpoint was trained with loss {state.get('mode')!r} but the model uses {self.mode!r}: "
                "load it into a Pix2Pix with the same loss, or train from scratch with another checkpoint path"
            )
        self.G.load_state_dict(state["G"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.D is not None:
            self.D.load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_d"])


def make_pix2pix(size: int, loss: str = "l1+cgan", *, width: int = 64, max_mult: int = 8, d_width: int = 64, d_layers: int = 3,
                 skips: bool = True, upsample: str = "convtranspose", lam: float = 100.0, lr: float = 2e-4,
                 in_channels: int = 3, out_channels: int = 3, snapshot_inputs: torch.Tensor | None = None, device=None,
                 seed: int = 0) -> Pix2Pix:
    """A U-Net + PatchGAN pix2pix for ``size`` x ``size`` images (the defaults are the paper's 256x256 settings, scaled
    by size), initialised from ``seed`` (the caller's global RNG is left alone)."""
    with seeded(seed):
        G = UNetGenerator(size, in_channels, out_channels, width, max_mult=max_mult, skips=skips, upsample=upsample)
        D = PatchDiscriminator(out_channels, in_channels, d_width, d_layers) if "cgan" in loss else None
    return Pix2Pix(G, D, loss=loss, lam=lam, lr_g=lr, lr_d=lr, snapshot_inputs=snapshot_inputs, device=device)
