"""The GAN training step of the modern recipe: hinge loss + spectral norm, R1, DiffAugment, EMA of G.

``RecipeGAN`` is ``GAN`` (one D step, one G step) with three switches added, each in the file named
after it: ``r1_gamma`` (``losses/r1.py``), ``augment`` (``data/augment.py``, applied to the real
*and* the fake images in D's and in G's update; with ``augment_fakes=False`` to the reals only, the
mistake of DiffAugment's sec. 3.1) and ``ema_decay`` (``training/ema.py``). The loss is picked by
name as in ``GAN`` ("hinge", "non_saturating", ...); spectral normalisation is applied to D before
it is passed in (``losses.spectral_norm.apply_spectral_norm``).

Each D step also reports ADA's overfitting signal r_t = E[sign D(x)] on the (augmented) real batch
it trains on (Karras et al. 2020, sec. 3; their code logs it as 'Loss/signs/real').
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..config import GanutilsError
from ..data.augment import DiffAugment
from ..losses.r1 import check_gamma, r1_from_scores
from ..nets.utils import eval_mode, has_batchnorm
from .ema import ema_model
from .gan import GAN


class RecipeGAN(GAN):
    """``GAN`` plus R1 (``r1_gamma``), DiffAugment (``augment``: a policy such as "color,translation,cutout")
    and an EMA copy of G (``ema_decay``; None keeps none). Other keyword arguments go to ``GAN``."""

    def __init__(self, G: nn.Module, D: nn.Module, *, z_dim: int, loss: str = "hinge", r1_gamma: float = 0.0,
                 augment: str | None = None, augment_fakes: bool = True, ema_decay: float | None = None,
                 seed: int = 0, **gan_kwargs):
        for unsupported in ("gp_weight", "clip_value", "n_critic"):
            if gan_kwargs.get(unsupported) not in (None, 0, 0.0, 1):
                raise GanutilsError(f"RecipeGAN takes no {unsupported}: use training.GAN for WGAN-GP, clipping or n_critic > 1")
            gan_kwargs.pop(unsupported, None)
        super().__init__(G, D, z_dim=z_dim, loss=loss, seed=seed, **gan_kwargs)
        self.r1_gamma = check_gamma(r1_gamma)
        if self.r1_gamma and has_batchnorm(D):
            warnings.warn("R1 penalises each real image's own gradient and BatchNorm in D mixes the images of a batch: "
                          "use a D without BatchNorm (e.g. DCGANDiscriminator(norm=None))", stacklevel=2)
        self.augment = DiffAugment(augment, seed=seed + 1) if augment else None
        self.augment_fakes = bool(augment_fakes)
        self.ema = ema_model(self.G, ema_decay) if ema_decay is not None else None

    def _augment(self, x: torch.Tensor, fake: bool) -> torch.Tensor:
        if self.augment is None or (fake and not self.augment_fakes):
            return x
        return self.augment(x)

    def update_d(self, real: torch.Tensor, fake: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        real = real.detach().requires_grad_(self.r1_gamma > 0)  # R1: D's gradient w.r.t. the clean real image
        real_out = self.D(self._augment(real, fake=False), *cond)
        fake_out = self.D(self._augment(fake, fake=True), *cond)
        loss = self.loss.d(real_out, fake_out, self.real_label, self.fake_label)
        out = {"d_loss": loss.detach(), "d_real": real_out.detach().mean(), "d_fake": fake_out.detach().mean(),
               "r_t": real_out.detach().sign().mean()}
        if self.r1_gamma:
            r1 = r1_from_scores(real_out, real, self.r1_gamma)  # reuses the forward pass above
            loss = loss + r1
            out["r1"] = r1.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return out

    def g_step(self, n: int, *cond) -> dict[str, torch.Tensor]:
        self.D.requires_grad_(False)  # G's update needs gradients w.r.t. D's input, not its weights
        try:
            fake = self._augment(self._fake_for_g(n, *cond), fake=True)
            loss = self.loss.g(self.D(fake, *cond))
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(self.G)
        return {"g_loss": loss.detach()}

    @torch.no_grad()
    def generate(self, n: int | None = None, *cond, z: torch.Tensor | None = None, ema: bool = False) -> torch.Tensor:
        """Samples from G (``ema=True``: from its moving average) in eval mode, on the CPU."""
        if not ema:
            return super().generate(n, *cond, z=z)
        if self.ema is None:
            raise GanutilsError("this RecipeGAN keeps no EMA of G: create it with ema_decay=0.999 (for example)")
        z = self.sample_z(n) if z is None else z.to(self.device)
        with eval_mode(self.ema.module):
            return self.ema.module(z, *(c.to(self.device) for c in cond)).cpu()

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        if self.augment is not None:
            state["augment"] = self.augment.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        if self.augment is not None:
            self.augment.load_state_dict(state["augment"])
