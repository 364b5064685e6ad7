"""Denoising diffusion, written plainly: DDPM (Ho et al. 2020) and DDIM sampling (Song et al. 2021).

    schedule = linear_schedule(200)                 # beta_1 < ... < beta_T (Ho et al.'s line, rescaled to T)
    diffusion = Diffusion(schedule)
    loss = diffusion.loss(net, x0, generator=g)     # L_simple: || eps - eps_theta(x_t, t) ||^2
    x = diffusion.sample(net, (2500, 2), g)         # ancestral sampling: T network evaluations
    x = diffusion.sample_ddim(net, (2500, 2), steps=20, generator=g)   # 20 evaluations
    model = DDPM(net, diffusion, lr=1e-3, sample_shape=(2,))           # Algorithm 1 for the shared loop

Indexing: the paper's t = 1..T is the tensor index t = 0..T-1 here, and that index is what the
network receives; ``alpha_bar[t]`` is the paper's \\bar\\alpha_{t+1}.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, check_positive_int, resolve_device
from ..nets.utils import eval_mode

# Warn when the last step keeps more than this much of the signal: sqrt(1e-3) = 3% of x_0 left in x_T.
# Ho et al.'s schedule ends at 4e-5 (sec. 4: "keeping the signal-to-noise ratio at x_T as small as possible").
ALPHA_BAR_T_MAX = 1e-3


class NoiseSchedule:
    """The forward-process variances beta_1 < ... < beta_T and what follows from them, in float64.

    alphas = 1 - betas; alpha_bar[t] = prod_{s <= t} alphas[s], so that q(x_t | x_0) =
    N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) (Ho et al. 2020, eq. 4).
    """

    def __init__(self, betas, name: str = "custom"):
        b = torch.as_tensor(betas, dtype=torch.float64).flatten()
        if len(b) == 0:
            raise GanutilsError("the noise schedule is empty: it needs at least one step, e.g. linear_schedule(200)")
        if not torch.isfinite(b).all() or (b <= 0).any() or (b >= 1).any():
            raise GanutilsError(f"every beta must lie in (0, 1), got min {b.min().item():.3g} and max {b.max().item():.3g}: "
                                "a variance of 0 adds no noise and 1 erases the signal in one step")
        drops = torch.nonzero(b[1:] < b[:-1]).flatten()
        if len(drops):
            i = int(drops[0]) + 1
            raise GanutilsError(f"the noise schedule is not increasing: beta[{i}] = {b[i].item():.3g} < beta[{i - 1}] = "
                                f"{b[i - 1].item():.3g}; the forward-process variances grow with t (sort them ascending)")
        self.name = name
        self.betas = b
        self.alphas = 1.0 - b
        self.alpha_bar = torch.cumprod(self.alphas, 0)
        self.alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])
        last = self.alpha_bar[-1].item()
        if last > ALPHA_BAR_T_MAX:
            warnings.warn(f"the noise schedule leaves alpha_bar_T = {last:.3g} (signal std {math.sqrt(last):.3g} at t = T), "
                          f"far from 0: sampling starts from N(0, I), which is not q(x_T); use more steps or larger betas "
                          f"(Ho et al.'s T = 1000, beta 1e-4 -> 0.02 ends at 4e-05)", stacklevel=2)

    @property
    def steps(self) -> int:
        return len(self.betas)

    def __repr__(self) -> str:
        return f"NoiseSchedule({self.name!r}, beta {self.betas[0]:.3g} -> {self.betas[-1]:.3g}, alpha_bar_T = {self.alpha_bar[-1]:.2g})"


def linear_schedule(steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
    """Ho et al. (2020, sec. 4): T = 1000, betas linear from 1e-4 to 0.02. For another T the line is multiplied by
    1000 / T, as in Nichol & Dhariwal's improved-diffusion code, so that alpha_bar_T stays near 0."""
    steps = check_positive_int("steps", steps)
    scale = 1000 / steps
    if beta_end * scale >= 1:
        raise GanutilsError(f"linear_schedule rescales Ho et al.'s betas by 1000 / T; with T = {steps} the last beta would be "
                            f"{beta_end * scale:.3g} >= 1: use T >= {math.floor(1000 * beta_end) + 1} or cosine_schedule({steps})")
    return NoiseSchedule(torch.linspace(beta_start * scale, beta_end * scale, steps, dtype=torch.float64), f"linear, T = {steps}")


def cosine_schedule(steps: int, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    """Nichol & Dhariwal (2021, sec. 3.2, eq. 17): alpha_bar(t) = f(t) / f(0) with f(t) = cos^2((t/T + s) / (1 + s) * pi/2),
    betas clipped at 0.999."""
    steps = check_positive_int("steps", steps)
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return NoiseSchedule((1 - f[1:] / f[:-1]).clamp(max=max_beta), f"cosine, T = {steps}")


def _at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped to broadcast against ``like`` (N, ...), in like's dtype and device."""
    return values.to(like.device)[t.to(like.device)].to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


class EvaluationCounter:
    """Counts network evaluations: ``counter.wrap(net)`` behaves as ``net`` and tallies every row it is given."""

    def __init__(self):
        self.rows, self.calls = 0, 0

    def wrap(self, model):
        def counted(x, t):
            self.rows += len(x)
            self.calls += 1
            return model(x, t)

        return counted

    def per_sample(self, n: int):
        """Network evaluations per sample after drawing ``n`` samples (an int for whole sampler runs)."""
        per = self.rows / check_positive_int("n", n)
        return int(per) if per == int(per) else per


class Diffusion:
    """The forward process q, the training loss and two samplers for one ``NoiseSchedule``.

    ``model(x_t, t)`` predicts the noise eps that made x_t (Ho et al. 2020, eq. 11-12). ``clip_x0`` clamps
    the predicted x_0 while sampling (1.0 for images in [-1, 1], as the authors' code does; None for
    unbounded data).
    """

    def __init__(self, schedule: NoiseSchedule, clip_x0: float | None = None):
        if not isinstance(schedule, NoiseSchedule):
            raise GanutilsError(f"Diffusion needs a NoiseSchedule (e.g. linear_schedule(200)), got {type(schedule).__name__}")
        self.schedule, self.T, self.clip_x0 = schedule, schedule.steps, clip_x0

    # ------------------------------------------------------------------ the forward process
    def q_moments(self, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)."""
        ab = _at(self.schedule.alpha_bar, t, x0)
        return ab.sqrt() * x0, (1 - ab).expand_as(x0)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps: any noise level in one step, no loop over t."""
        ab = _at(self.schedule.alpha_bar, t, x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def loss(self, model, x0: torch.Tensor, generator: torch.Generator | None = None, t=None, noise=None) -> torch.Tensor:
        """L_simple (Ho et al. 2020, eq. 14; Algorithm 1): || eps - eps_theta(x_t, t) ||^2 averaged, t uniform, one per example."""
        if t is None:
            t = torch.randint(0, self.T, (len(x0),), generator=generator, device=x0.device)
        if noise is None:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        return F.mse_loss(model(self.q_sample(x0, t, noise), t), noise)

    # ------------------------------------------------------------------ sampling
    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t), clamped to +-clip_x0 when set."""
        ab = _at(self.schedule.alpha_bar, t, x_t)
        x0 = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()
        return x0.clamp(-self.clip_x0, self.clip_x0) if self.clip_x0 is not None else x0

    @torch.no_grad()
    def sample(self, model, shape, generator: torch.Generator | None = None, device=None, variance: str = "beta") -> torch.Tensor:
        """Ancestral sampling (Ho et al. 2020, Algorithm 2): T network evaluations per sample.

        variance: "beta" (sigma_t^2 = beta_t) or "posterior" (sigma_t^2 = beta-tilde_t); sec. 3.2 reports similar
        results for both. The mean is written through the predicted x_0 as the mean of q(x_{t-1} | x_t, x_0)
        (eq. 7), which equals Algorithm 2's line 4 when x_0 is not clipped (a test checks it).
        """
        if variance not in ("beta", "posterior"):
            raise GanutilsError(f"unknown variance {variance!r}: use 'beta' or 'posterior' (Ho et al. 2020, sec. 3.2)")
        s = self.schedule
        x = torch.randn(shape, generator=generator, device=device)
        for i in reversed(range(self.T)):
            t = torch.full((shape[0],), i, dtype=torch.long, device=x.device)
            x0 = self.predict_x0(x, t, model(x, t))
            ab, ab_prev, beta = (_at(v, t, x) for v in (s.alpha_bar, s.alpha_bar_prev, s.betas))
            mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)) * x
            if i > 0:
                var = beta if variance == "beta" else beta * (1 - ab_prev) / (1 - ab)
                x = mean + var.sqrt() * torch.randn(shape, generator=generator, device=x.device)
            else:
                x = mean
        return x

    def ddim_timesteps(self, steps: int) -> list[int]:
        """``steps`` timesteps from T-1 down to 0, evenly spaced: the first sees pure noise, the last returns x_0."""
        steps = check_positive_int("steps", steps)
        if steps > self.T:
            raise GanutilsError(f"DDIM steps = {steps} exceeds the T = {self.T} steps the model was trained with: use at most {self.T}")
        return sorted({round(v) for v in torch.linspace(self.T - 1, 0, steps).tolist()}, reverse=True)

    @torch.no_grad()
    def sample_ddim(self, model, shape, steps: int, eta: float = 0.0, generator: torch.Generator | None = None,
                    device=None, x_T: torch.Tensor | None = None) -> torch.Tensor:
        """DDIM (Song et al. 2021, eq. 12) on a subsequence of ``steps`` timesteps (sec. 4.2); one evaluation per step.

        eta = 0: deterministic given x_T; eta = 1 puts DDPM's posterior variance back (eq. 16).
        """
        if not 0.0 <= float(eta) <= 1.0:
            raise GanutilsError(f"eta must be in [0, 1], got {eta!r}: 0 is DDIM, 1 gives DDPM's variance")
        ts = self.ddim_timesteps(steps)
        alpha_bar = self.schedule.alpha_bar
        x = torch.randn(shape, generator=generator, device=device) if x_T is None else x_T.clone()
        for k, i in enumerate(ts):
            t = torch.full((shape[0],), i, dtype=torch.long, device=x.device)
            eps = model(x, t)
            x0 = self.predict_x0(x, t, eps)
            ab = float(alpha_bar[i])
            ab_prev = float(alpha_bar[ts[k + 1]]) if k + 1 < len(ts) else 1.0
            if self.clip_x0 is not None:  # keep eps consistent with the clipped x_0
                eps = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
            sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
            x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma ** 2, 0.0)) * eps
            if sigma > 0:
                x = x + sigma * torch.randn(shape, generator=generator, device=x.device)
        return x


class DDPM:
    """A denoiser, its Adam optimiser, an exponential moving average of its weights and a ``Diffusion``.

    ``step(sample)`` is one iteration of Ho et al.'s Algorithm 1 on the batch ``sample()`` returns (data are
    divided by ``data_scale`` first); ``generate`` samples with the EMA weights, as the authors do
    (appendix B). It fits the shared loop: ``train(model, sample, steps=..., schedulers=[...])``.
    """

    def __init__(self, net: nn.Module, diffusion: Diffusion, *, sample_shape, lr: float = 2e-4, ema_decay: float = 0.999,
                 data_scale: float = 1.0, seed: int = 0, device=None, snapshot_size: int = 64):
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        if not isinstance(diffusion, Diffusion):
            raise GanutilsError(f"DDPM needs a Diffusion, got {type(diffusion).__name__}")
        if not 0.0 <= float(ema_decay) < 1.0:
            raise GanutilsError(f"ema_decay must be in [0, 1), got {ema_decay!r}: e.g. 0.999")
        if not lr > 0:
            raise GanutilsError(f"learning rate must be > 0, got {lr!r}")
        self.device = resolve_device(device)
        self.net, self.diffusion = net.to(self.device), diffusion
        self.sample_shape, self.data_scale = tuple(sample_shape), float(data_scale)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.ema = AveragedModel(self.net, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
        self.noise = torch.Generator(device=self.device).manual_seed(seed)
        self.snapshot_seed, self.snapshot_size = seed + 10_000, snapshot_size

    def step(self, sample) -> dict[str, torch.Tensor]:
        x = sample()[0].to(self.device) / self.data_scale
        loss = self.diffusion.loss(self.net, x, self.noise)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.ema.update_parameters(self.net)
        return {"loss": loss.detach()}

    @torch.no_grad()
    def generate(self, n: int, sampler: str = "ddpm", steps: int | None = None, eta: float = 0.0,
                 generator: torch.Generator | None = None, ema: bool = True, counter: EvaluationCounter | None = None) -> torch.Tensor:
        """``n`` samples in data units, on the CPU: ``sampler="ddpm"`` (T evaluations) or ``"ddim"`` (``steps``)."""
        net = self.ema.module if ema else self.net
        model = counter.wrap(net) if counter is not None else net
        shape = (check_positive_int("n", n), *self.sample_shape)
        g = generator if generator is not None else self.noise
        with eval_mode(net):
            if sampler == "ddpm":
                x = self.diffusion.sample(model, shape, generator=g, device=self.device)
            elif sampler == "ddim":
                x = self.diffusion.sample_ddim(model, shape, steps=steps or self.diffusion.T, eta=eta, generator=g, device=self.device)
            else:
                raise GanutilsError(f"unknown sampler {sampler!r}: use 'ddpm' (ancestral, T steps) or 'ddim'")
        return (x * self.data_scale).cpu()

    def snapshot(self) -> torch.Tensor:
        """The same noise every time, 20 DDIM steps (or T if fewer): snapshots show the model changing."""
        g = torch.Generator(device=self.device).manual_seed(self.snapshot_seed)
        return self.generate(self.snapshot_size, "ddim", steps=min(20, self.diffusion.T), generator=g)

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                "noise": self.noise.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["opt"])
        self.noise.set_state(state["noise"])
