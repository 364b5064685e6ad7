"""One GAN training iteration: n_critic discriminator updates, then one generator update.

``GAN`` covers every adversarial model in the course: the loss is picked by name
(minimax, non_saturating, lsgan, hinge, wasserstein) or given as a ``losses.GANLoss``, with
options for one-sided label smoothing, a gradient penalty, weight clipping and class
conditioning. Variants (unrolled GAN, experience replay) subclass it and override
``d_step``/``g_step``. Like every model of the course it has ``step(sample)``,
``state_dict()`` and ``load_state_dict()``, and ``training.train`` trains it.

Batches come from a ``sample()`` callable returning ``(x,)`` or ``(x, labels)``;
with labels, G and D are called as ``G(z, labels)`` and ``D(x, labels)``.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..config import GanutilsError, check_positive_float, check_positive_int, resolve_device
from ..losses.adversarial import GANLoss, get_loss
from ..losses.gradient_penalty import gradient_penalty
from ..losses.weight_clipping import clip_weights
from ..nets.utils import eval_mode, fast_layout, has_batchnorm

OPTIMIZERS = ("adam", "rmsprop", "sgd")


def make_optimizer(params, name: str, lr: float, betas=(0.5, 0.999), what: str = "learning rate") -> torch.optim.Optimizer:
    """Adam (with ``betas``), RMSprop (the WGAN paper's choice) or plain SGD."""
    lr = check_positive_float(what, lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise GanutilsError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


class GAN:
    """G, D, their optimizers and the loss; ``step(sample)`` is one training iteration.

    ``loss``: a name of ``losses.LOSSES`` or a ``losses.GANLoss`` (for a loss of your own).
    ``optimizer`` names both optimizers; ``optimizer_d`` overrides D's (to test folklore such
    as "SGD for D, Adam for G"). ``real_label``/``fake_label`` implement label smoothing (BCE and
    LSGAN losses only). ``seed`` seeds the model's own noise generator (z draws, interpolation ε).
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        *,
        z_dim: int,
        loss: str | GANLoss = "non_saturating",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas=(0.5, 0.999),
        optimizer: str = "adam",
        optimizer_d: str | None = None,
        n_critic: int = 1,
        gp_weight: float = 0.0,
        clip_value: float | None = None,
        real_label: float = 1.0,
        fake_label: float = 0.0,
        snapshot_size: int = 64,
        device=None,
        seed: int = 0,
    ):
        self.device = resolve_device(device)
        self.G, self.D = (fast_layout(net.to(self.device), self.device) for net in (G, D))
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.loss = get_loss(loss)
        self.n_critic = check_positive_int("n_critic", n_critic)
        self.gp_weight = check_positive_float("gp_weight", gp_weight, allow_zero=True)
        self.clip_value = None if clip_value is None else check_positive_float("clip_value", clip_value)
        self.real_label, self.fake_label = float(real_label), float(fake_label)
        if not self.loss.uses_labels and (self.real_label, self.fake_label) != (1.0, 0.0):
            raise GanutilsError(
                f"the {self.loss.name} loss has no labels, so real_label={real_label!r}, fake_label={fake_label!r} "
                "would be ignored: label smoothing applies to the BCE and LSGAN losses"
            )
        if self.gp_weight and has_batchnorm(D):
            warnings.warn(
                "the critic has BatchNorm while a gradient penalty is used: the penalty is per sample and BatchNorm "
                "mixes the samples of a batch; use norm=None or 'layer' in the critic (Gulrajani et al. 2017, sec. 4)",
                stacklevel=2,
            )
        self.opt_g = make_optimizer(self.G.parameters(), optimizer, lr_g, betas, what="lr_g")
        self.opt_d = make_optimizer(self.D.parameters(), optimizer_d or optimizer, lr_d, betas, what="lr_d")
        self.noise = torch.Generator(device=self.device).manual_seed(seed)
        self.fixed_z = torch.randn(snapshot_size, z_dim, generator=self.noise, device=self.device)
        self.fixed_cond: tuple = ()
        self._reusable_fake: torch.Tensor | None = None

    # ------------------------------------------------------------------ sampling
    def sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, generator=self.noise, device=self.device)

    @torch.no_grad()
    def generate(self, n: int | None = None, *cond, z: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from G in eval mode (BatchNorm uses its running statistics), on the CPU."""
        z = self.sample_z(n) if z is None else z.to(self.device)
        cond = tuple(c.to(self.device) for c in cond)
        with eval_mode(self.G):
            return self.G(z, *cond).cpu()

    def snapshot(self) -> torch.Tensor:
        """G(fixed_z): the same noise every time, so snapshots show the generator changing."""
        return self.generate(None, *self.fixed_cond, z=self.fixed_z)

    # ------------------------------------------------------------------ one iteration
    def step(self, sample) -> dict[str, torch.Tensor]:
        for _ in range(self.n_critic):
            real, *cond = (t.to(self.device) for t in sample())
            out = self.d_step(real, *cond)
        out.update(self.g_step(len(real), *cond))
        self._reusable_fake = None
        return out

    def d_step(self, real: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        if self.n_critic == 1:
            fake_graph = self.G(self.sample_z(len(real)), *cond)
            self._reusable_fake = fake_graph  # g_step reuses this forward pass: G has not changed since
            fake = fake_graph.detach()
        else:  # WGAN's Algorithm 1 draws fresh noise for the generator update
            with torch.no_grad():
                fake = self.G(self.sample_z(len(real)), *cond)
        return self.update_d(real, fake, *cond)

    def update_d(self, real: torch.Tensor, fake: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        """One optimiser step of D on a real and a (detached) fake batch: loss, penalty, clipping."""
        real_out, fake_out = self.D(real, *cond), self.D(fake, *cond)
        loss = self.loss.d(real_out, fake_out, self.real_label, self.fake_label)
        out = {"d_loss": loss.detach(), "d_real": real_out.detach().mean(), "d_fake": fake_out.detach().mean()}
        if self.gp_weight:
            gp = gradient_penalty(self.D, real, fake, *cond, weight=self.gp_weight, generator=self.noise)
            loss = loss + gp
            out["gp"] = gp.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.clip_value is not None:
            clip_weights(self.D, self.clip_value)
        return out

    def _fake_for_g(self, n: int, *cond) -> torch.Tensor:
        """G(z) for the generator update: the D step's own forward pass when it can be reused."""
        fake, self._reusable_fake = self._reusable_fake, None
        if fake is not None and len(fake) == n:
            return fake
        return self.G(self.sample_z(n), *cond)

    def g_step(self, n: int, *cond) -> dict[str, torch.Tensor]:
        self.D.requires_grad_(False)  # G's update needs gradients w.r.t. D's input, not its weights
        try:
            loss = self.loss.g(self.D(self._fake_for_g(n, *cond), *cond))
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        return {"g_loss": loss.detach()}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "noise": self.noise.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.noise.set_state(state["noise"])
