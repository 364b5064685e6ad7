"""CycleGAN (Zhu et al. 2017): unpaired translation X <-> Y with two generators, two discriminators and cycles.

G: X -> Y and F: Y -> X; D_Y judges G's outputs against real y, D_X judges F's against real x.
The generators minimise (Sec. 3, Eq. 3, with the least-squares adversarial loss of Sec. 4)

    L = E[(D_Y(G(x)) - 1)^2] + E[(D_X(F(y)) - 1)^2]                      adversarial (LSGAN, Mao et al. 2017)
      + lam_cycle    * (E|F(G(x)) - x| + E|G(F(y)) - y|)                   cycle consistency, Eq. 2 (lambda = 10)
      + lam_identity * (E|G(y) - y| + E|F(x) - x|)                         identity, Sec. 5.2 / Appendix 7.1 (0.5 lambda)

and each discriminator minimises 1/2 (E[(D(real) - 1)^2] + E[D(fake)^2]) on fakes drawn through an
``ImagePool`` of 50 (Sec. 4). One ``step`` updates G and F together, then D_X and D_Y, as the
official implementation does (Adam 2e-4, beta1 = 0.5). The ablations are parameters:
``lam_cycle=0`` (no cycle), ``lam_identity=0`` (no identity), ``pool_size=0`` (no pool).
The batches of X and Y are drawn independently: nothing tells the model which y belongs to which x.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, resolve_device, seeded
from ..nets.patchgan import PatchDiscriminator
from ..nets.resnet import ResnetGenerator
from .gan import make_optimizer
from .image_pool import PAPER_POOL_SIZE, ImagePool

PAPER_LAMBDA = 10.0  # Sec. 4 "Training details": lambda = 10 in Eq. 3
PAPER_IDENTITY = 0.5 * PAPER_LAMBDA  # Appendix 7.1: "the weight for the identity mapping loss was 0.5 lambda"


def lsgan_d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """1/2 (E[(D(real) - 1)^2] + E[D(fake)^2]): the least-squares D loss, halved as in the paper to slow D."""
    return 0.5 * (((real_out - 1) ** 2).mean() + (fake_out**2).mean())


def lsgan_g_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """E[(D(G(x)) - 1)^2]: G pushes D's score of its outputs towards the "real" target 1."""
    return ((fake_out - 1) ** 2).mean()


class CycleGAN:
    """G (X -> Y), F (Y -> X), D_X, D_Y, two optimizers, two image pools; ``step(sample)`` is one iteration.

    ``sample()`` returns (x, y): a batch of X and a batch of Y, unpaired.
    """

    def __init__(self, G: nn.Module, F_: nn.Module, D_x: nn.Module, D_y: nn.Module, *, lam_cycle: float = PAPER_LAMBDA,
                 lam_identity: float = PAPER_IDENTITY, pool_size: int = PAPER_POOL_SIZE, lr: float = 2e-4,
                 betas=(0.5, 0.999), seed: int = 0, snapshot_inputs: torch.Tensor | None = None, device=None):
        for name, value in (("lam_cycle", lam_cycle), ("lam_identity", lam_identity)):
            if not value >= 0:
                raise GanutilsError(f"{name} must be >= 0 (0 switches the term off), got {value!r}")
        self.lam_cycle, self.lam_identity = float(lam_cycle), float(lam_identity)
        self.device = resolve_device(device)
        self.G, self.F, self.D_x, self.D_y = (m.to(self.device) for m in (G, F_, D_x, D_y))
        self.opt_g = make_optimizer(itertools.chain(self.G.parameters(), self.F.parameters()), "adam", lr, betas)
        self.opt_d = make_optimizer(itertools.chain(self.D_x.parameters(), self.D_y.parameters()), "adam", lr, betas)
        self.pool_x, self.pool_y = ImagePool(pool_size, seed), ImagePool(pool_size, seed + 1)
        self.snapshot_inputs = snapshot_inputs

    # ------------------------------------------------------------------ one iteration
    def step(self, sample) -> dict[str, torch.Tensor]:
        x, y = (t.to(self.device) for t in sample())
        n, use_identity = len(x), self.lam_identity > 0
        # G on [x, y] gives G(x) and the identity term's G(y) in one pass (instance norm is per image: same result)
        out_g = self.G(torch.cat([x, y]) if use_identity else x)
        out_f = self.F(torch.cat([y, x]) if use_identity else y)
        fake_y, fake_x = out_g[:n], out_f[:len(y)]
        rec_x, rec_y = self.F(fake_y), self.G(fake_x)
        # generators: D's weights frozen, gradients flow through D into G and F
        for D in (self.D_x, self.D_y):
            D.requires_grad_(False)
        try:
            adv = lsgan_g_loss(self.D_y(fake_y)) + lsgan_g_loss(self.D_x(fake_x))
        finally:
            for D in (self.D_x, self.D_y):
                D.requires_grad_(True)
        cycle = F.l1_loss(rec_x, x) + F.l1_loss(rec_y, y)
        g_loss = adv + self.lam_cycle * cycle
        identity = torch.zeros((), device=self.device)
        if use_identity:
            identity = F.l1_loss(out_g[n:], y) + F.l1_loss(out_f[len(y):], x)
            g_loss = g_loss + self.lam_identity * identity
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        # discriminators, on fakes that went through the history pools
        old_y, old_x = self.pool_y.query(fake_y), self.pool_x.query(fake_x)
        real_y_out, fake_y_out = self.D_y(y), self.D_y(old_y)
        real_x_out, fake_x_out = self.D_x(x), self.D_x(old_x)
        d_y, d_x = lsgan_d_loss(real_y_out, fake_y_out), lsgan_d_loss(real_x_out, fake_x_out)
        self.opt_d.zero_grad(set_to_none=True)
        (d_y + d_x).backward()
        self.opt_d.step()
        return {"g_loss": g_loss.detach(), "g_adv": adv.detach(), "cycle": cycle.detach(), "identity": identity.detach(),
                "d_x": d_x.detach(), "d_y": d_y.detach(), "d_real": real_y_out.detach().mean(), "d_fake": fake_y_out.detach().mean()}

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "x2y", batch_size: int = 500) -> torch.Tensor:
        """G(images) ("x2y") or F(images) ("y2x") on the CPU, in eval mode (instance norm has no running stats)."""
        if direction not in ("x2y", "y2x"):
            raise GanutilsError(f"unknown direction {direction!r}: use 'x2y' (G) or 'y2x' (F)")
        net = self.G if direction == "x2y" else self.F
        was = net.training
        net.eval()
        try:
            out = [net(images[i:i + batch_size].to(self.device)).cpu() for i in range(0, len(images), batch_size)]
        finally:
            net.train(was)
        return torch.cat(out)

    def cycle(self, images: torch.Tensor, direction: str = "x2y") -> tuple[torch.Tensor, torch.Tensor]:
        """(translated, reconstructed): G(x), F(G(x)) for "x2y"; F(y), G(F(y)) for "y2x"."""
        there = self.translate(images, direction)
        back = self.translate(there, "y2x" if direction == "x2y" else "x2y")
        return there, back

    def snapshot(self) -> torch.Tensor:
        if self.snapshot_inputs is None:
            raise GanutilsError("this CycleGAN has no snapshot_inputs: pass snapshot_inputs=<a batch of X> to take snapshots")
        return self.translate(self.snapshot_inputs)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        return {"G": self.G.state_dict(), "F": self.F.state_dict(), "D_x": self.D_x.state_dict(), "D_y": self.D_y.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "pool_x": self.pool_x.state_dict(), "pool_y": self.pool_y.state_dict(),
                "weights": [self.lam_cycle, self.lam_identity]}

    def load_state_dict(self, state: dict) -> None:
        if list(state.get("weights", [])) != [self.lam_cycle, self.lam_identity]:
            raise GanutilsError(f"this checkpoint was trained with (lam_cycle, lam_identity) = {state.get('weights')}, "
                                f"the model has {[self.lam_cycle, self.lam_identity]}: use another checkpoint path")
        for name in ("G", "F", "D_x", "D_y", "opt_g", "opt_d", "pool_x", "pool_y"):
            getattr(self, name).load_state_dict(state[name])


def make_cyclegan(channels: int = 1, *, width: int = 64, n_blocks: int = 6, d_width: int = 64, d_layers: int = 3,
                  lam_cycle: float = PAPER_LAMBDA, lam_identity: float = PAPER_IDENTITY, pool_size: int = PAPER_POOL_SIZE,
                  lr: float = 2e-4, seed: int = 0, snapshot_inputs=None, device=None) -> CycleGAN:
    """A CycleGAN with ResNet generators and instance-norm PatchGANs, initialised from ``seed`` (the global RNG is untouched).

    The defaults are the paper's at 128x128 (width 64, 6 blocks, 70x70 PatchGAN); scale them down for 28x28.
    """
    with seeded(seed):
        G = ResnetGenerator(channels, channels, width, n_blocks)
        F_ = ResnetGenerator(channels, channels, width, n_blocks)
        D_x = PatchDiscriminator(channels, 0, d_width, d_layers, norm="instance")
        D_y = PatchDiscriminator(channels, 0, d_width, d_layers, norm="instance")
    return CycleGAN(G, F_, D_x, D_y, lam_cycle=lam_cycle, lam_identity=lam_identity, pool_size=pool_size, lr=lr,
                    seed=seed, snapshot_inputs=snapshot_inputs, device=device)


class UnpairedSampler:
    """Endless (x, y) batches drawn independently from two image sets: what makes the training unpaired."""

    def __init__(self, xs: torch.Tensor, ys: torch.Tensor, batch_size: int, seed: int = 0, device=None):
        if batch_size > min(len(xs), len(ys)):
            raise GanutilsError(f"batch_size {batch_size} is larger than a domain ({len(xs)} and {len(ys)} images)")
        self.xs, self.ys, self.batch_size, self.device = xs, ys, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        i = torch.randint(len(self.xs), (self.batch_size,), generator=self.generator)
        j = torch.randint(len(self.ys), (self.batch_size,), generator=self.generator)
        x, y = self.xs[i], self.ys[j]
        return (x, y) if self.device is None else (x.to(self.device), y.to(self.device))

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
