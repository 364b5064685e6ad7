"""Unrolled GAN (Metz et al. 2017): G is trained against D as it will be after k more updates.

The surrogate generator loss is f(theta_G, theta_D^k), where theta_D^0 is D's current weights
and theta_D^{i+1} is one step of D's own optimizer (Adam with its current moment estimates,
or SGD) on D's loss. Its gradient has two terms:

    d f / d theta_G  +  d f / d theta_D^k  ·  d theta_D^k / d theta_G

The first is a plain GAN step against a look-ahead D. The second says how D would *react*
to a change in G: if G piles onto one mode, the unrolled D rejects that mode, so the move
is penalised before it is made. That second term is what the paper credits for preventing
mode collapse, so by default (``second_order=True``) the unrolled updates are built with
``create_graph=True`` and differentiated through, using ``torch.func.functional_call`` on
a copy of D's weights. ``second_order=False`` keeps only the first term (cheaper, and
a useful ablation). D itself is updated exactly as in a plain GAN; the unrolled copies are
thrown away after each generator step.

As in the reference implementation, the k unrolled D steps reuse the real batch of the
last D update and one fake batch G(z), whose z is also used for the generator loss.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from ..config import GanutilsError
from .gan import GAN


class UnrolledGAN(GAN):
    """A ``gan.GAN`` whose generator step looks ``unroll_steps`` D updates ahead.

    ``unroll_steps=0`` is the plain GAN. Each generator step costs about ``unroll_steps`` + 1
    discriminator forward/backward passes (twice that with ``second_order``).
    """

    def __init__(self, G, D, *, unroll_steps: int = 5, second_order: bool = True, **kwargs):
        super().__init__(G, D, **kwargs)
        if isinstance(unroll_steps, bool) or not isinstance(unroll_steps, int) or unroll_steps < 0:
            raise GanutilsError(f"unroll_steps must be a whole number >= 0, got {unroll_steps!r}: the paper uses 5 to 10")
        if not isinstance(self.opt_d, (torch.optim.Adam, torch.optim.SGD)):
            raise GanutilsError(
                f"UnrolledGAN unrolls D's optimizer and supports Adam or SGD, got {type(self.opt_d).__name__}: "
                "pass optimizer_d='adam' or 'sgd'"
            )
        if self.gp_weight or self.clip_value is not None:
            raise GanutilsError("UnrolledGAN does not unroll a gradient penalty or weight clipping: use gp_weight=0, clip_value=None")
        self.unroll_steps = unroll_steps
        self.second_order = bool(second_order)
        self._last_real: torch.Tensor | None = None

    def d_step(self, real: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        self._last_real = real
        return super().d_step(real, *cond)

    def g_step(self, n: int, *cond) -> dict[str, torch.Tensor]:
        if self.unroll_steps == 0 or self._last_real is None:
            return super().g_step(n, *cond)
        fake = self.G(self.sample_z(n), *cond)
        params = self.unrolled_params(self._last_real, fake, *cond)
        buffers = dict(self.D.named_buffers())
        loss = self.loss.g(functional_call(self.D, (params, buffers), (fake, *cond)))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {"g_loss": loss.detach()}

    def unrolled_params(self, real: torch.Tensor, fake: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        """D's weights after ``unroll_steps`` optimizer steps on (real, fake), differentiable w.r.t. ``fake``."""
        if not self.second_order:
            fake = fake.detach()
        names = [name for name, _ in self.D.named_parameters()]
        originals = [p for _, p in self.D.named_parameters()]
        params = {name: p.detach().requires_grad_(True) for name, p in zip(names, originals)}
        buffers = dict(self.D.named_buffers())
        group = self.opt_d.param_groups[0]
        states = [self._optimizer_state(p) for p in originals]
        for _ in range(self.unroll_steps):
            real_out = functional_call(self.D, (params, buffers), (real, *cond))
            fake_out = functional_call(self.D, (params, buffers), (fake, *cond))
            d_loss = self.loss.d(real_out, fake_out, self.real_label, self.fake_label)
            grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=self.second_order)
            new = {}
            for (name, p), g, state in zip(params.items(), grads, states):
                new[name] = self._update(p, g, state, group)
            params = new if self.second_order else {k: v.detach().requires_grad_(True) for k, v in new.items()}
        return params

    def _optimizer_state(self, p: torch.Tensor) -> dict:
        """A private copy of D's optimizer state for ``p`` (zeros before D's first update)."""
        state = self.opt_d.state.get(p, {})
        if isinstance(self.opt_d, torch.optim.SGD):
            return {}
        step = float(state["step"]) if "step" in state else 0.0
        zeros = torch.zeros_like(p)
        return {"step": step, "m": state.get("exp_avg", zeros).detach(), "v": state.get("exp_avg_sq", zeros).detach()}

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> torch.Tensor:
        """One differentiable step of D's optimizer (Adam as in torch.optim.Adam, or plain SGD)."""
        if isinstance(self.opt_d, torch.optim.SGD):
            return p - group["lr"] * g
        return lookahead_adam(p, g, state, group["lr"], group["betas"], group["eps"])


def lookahead_adam(p: torch.Tensor, g: torch.Tensor, state: dict, lr, betas, eps: float) -> torch.Tensor:
    """One differentiable Adam step (torch.optim.Adam's update, without in-place ops), updating ``state``.

    ``state`` holds "step" (a number) and the moments "m", "v"; ``lr`` is a number, or a tensor
    that broadcasts against ``p`` (one rate per member of a vectorised batch).
    """
    beta1, beta2 = betas
    state["step"] += 1
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = state["m"] / (1 - beta1 ** state["step"])
    v_hat = state["v"] / (1 - beta2 ** state["step"])
    # clamp: sqrt'(0) is infinite, and a unit with zero gradient and zero state would give 0 * inf = NaN
    return p - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps)
