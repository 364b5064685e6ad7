"""Notebook 10's experiments: a DDPM beside the GANs of notebook 03 on the same toy protocol, and on digits.

Toy protocol: the VEEGAN ring/grid and ``metrics.toy`` (2,500 samples, 3 sigma) on notebook 03's seeds.
The DDPMs of several (distribution, seed) pairs train in lock-step as one vectorised model
(``torch.func.vmap`` over stacked parameters): a 2-D MLP is too small to keep a CPU busy, so K models in
one call cost much less than K calls. Each pair keeps its own initialisation, data stream and noise, so
its result does not depend on which other pairs share the batch (a test checks it). The GANs are
``toy_benchmark.run_method``, the function notebook 03 runs, started in worker processes meanwhile.
"""

from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap

from ..config import GanutilsError, check_positive_int, seeded
from ..data import DistributionSampler, GaussianMixture2D, TensorSampler
from ..metrics.toy import PROTOCOL_SAMPLES, ToyMetrics, toy_metrics
from ..nets.denoisers import TimeMLP
from ..nets.utils import eval_mode
from ..training import train
from ..training.diffusion import DDPM, Diffusion, EvaluationCounter, linear_schedule
from ..training.vae import train_vae
from .workers import shutdown, submit_jobs

# The toy DDPM, calibrated on a 2-core CPU (notebook 10): eps_theta is a 3x128 SiLU MLP whose input is x,
# Fourier features of x (6 octaves) and a sinusoidal embedding of t; T = 200 with Ho et al.'s linear
# betas rescaled to 200 steps; Adam 3e-3 with a cosine decay to 0, batch 256, EMA of the weights 0.995.
TOY_DDPM = {"hidden": 128, "depth": 3, "octaves": 6, "T": 200, "lr": 3e-3, "batch_size": 256, "ema_decay": 0.995}


def toy_scale(dist: GaussianMixture2D) -> float:
    """Data are divided by this before diffusion: the largest |centre coordinate| (ring 2, grid 4), so they lie in ~[-1, 1]."""
    return float(torch.as_tensor(dist.centers).abs().max())


def toy_denoiser(seed: int, hidden: int = 128, depth: int = 3, octaves: int = 6) -> TimeMLP:
    """The toy eps_theta, initialised from ``seed`` without touching the global RNG."""
    with seeded(seed):
        return TimeMLP(2, hidden, depth, octaves=octaves)


class ToyDDPMs:
    """One DDPM per (distribution, seed) job, trained in lock-step; ``step(sample)`` fits ``training.train``.

    ``sample()`` returns one (K, B, 2) batch, row k from job k's distribution (``sampler()`` builds it).
    Adam's update is element-wise, so one Adam over the stacked parameters is K independent Adams; pass
    ``schedulers=[self.cosine_decay()]`` to ``train`` for the calibrated learning-rate decay.
    """

    def __init__(self, jobs: list[tuple[GaussianMixture2D, int]], *, device="cpu", **setup):
        unknown = set(setup) - set(TOY_DDPM)
        if unknown:
            raise GanutilsError(f"unknown toy DDPM setting(s) {sorted(unknown)}: use {', '.join(TOY_DDPM)}")
        if not jobs:
            raise GanutilsError("ToyDDPMs needs at least one (distribution, seed) job, e.g. [(data.ring(), 0)]")
        self.setup, self.jobs, self.device = {**TOY_DDPM, **setup}, list(jobs), torch.device(device)
        s = self.setup
        self.diffusion = Diffusion(linear_schedule(check_positive_int("T", s["T"])))
        nets = [toy_denoiser(seed, s["hidden"], s["depth"], s["octaves"]) for _, seed in self.jobs]
        self.template = copy.deepcopy(nets[0]).to("meta")
        params, _ = stack_module_state(nets)
        self.params = {k: v.detach().to(self.device).requires_grad_() for k, v in params.items()}
        self.ema = {k: v.detach().clone() for k, v in self.params.items()}
        self.opt = torch.optim.Adam(self.params.values(), lr=s["lr"])
        self.noise = [torch.Generator().manual_seed(seed + 7919) for _, seed in self.jobs]  # t and eps of job k
        self.scales = torch.tensor([toy_scale(d) for d, _ in self.jobs], device=self.device).view(-1, 1, 1)
        self._loss = vmap(self._one_loss)

    def sampler(self) -> "StackedSampler":
        """One DistributionSampler per job, seeded with the job's seed, stacked."""
        return StackedSampler([DistributionSampler(d, self.setup["batch_size"], seed=seed) for d, seed in self.jobs])

    def cosine_decay(self, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
        return torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, check_positive_int("steps", steps))

    def _one_loss(self, params, x0, t, noise):
        x_t = self.diffusion.q_sample(x0, t, noise)
        return ((functional_call(self.template, params, (x_t, t)) - noise) ** 2).mean()

    def step(self, sample) -> dict[str, torch.Tensor]:
        x0 = sample()[0].to(self.device) / self.scales
        b = x0.shape[1]
        t = torch.stack([torch.randint(0, self.diffusion.T, (b,), generator=g) for g in self.noise]).to(self.device)
        eps = torch.stack([torch.randn(b, 2, generator=g) for g in self.noise]).to(self.device)
        losses = self._loss(self.params, x0, t, eps)  # (K,): job k's L_simple
        self.opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        self.opt.step()
        with torch.no_grad():
            for k, v in self.params.items():
                self.ema[k].lerp_(v, 1 - self.setup["ema_decay"])
        return {"loss": losses.detach().mean()}

    def net(self, k: int, ema: bool = True) -> TimeMLP:
        """Job k's denoiser as an ordinary module in eval mode (EMA weights by default)."""
        s, src = self.setup, (self.ema if ema else self.params)
        net = toy_denoiser(0, s["hidden"], s["depth"], s["octaves"]).to(self.device)
        net.load_state_dict({name: v[k].detach() for name, v in src.items()})
        return net.eval().requires_grad_(False)

    def generate(self, k: int, n: int = PROTOCOL_SAMPLES, sampler: str = "ddpm", steps: int | None = None,
                 seed: int | None = None, counter: EvaluationCounter | None = None) -> torch.Tensor:
        """``n`` samples of job k in data units; the noise comes from ``seed`` (default: the job's seed), so every
        call with the same arguments returns the same samples."""
        net = self.net(k)
        model = counter.wrap(net) if counter is not None else net
        g = torch.Generator(device=self.device).manual_seed(self.jobs[k][1] if seed is None else seed)
        if sampler == "ddpm":
            x = self.diffusion.sample(model, (n, 2), generator=g, device=self.device)
        elif sampler == "ddim":
            x = self.diffusion.sample_ddim(model, (n, 2), steps=steps or self.diffusion.T, generator=g, device=self.device)
        else:
            raise GanutilsError(f"unknown sampler {sampler!r}: use 'ddpm' or 'ddim'")
        return (x * self.scales[k].view(1, 1)).cpu()

    def metrics(self, k: int, **kwargs) -> ToyMetrics:
        """The protocol's metrics of job k on ``PROTOCOL_SAMPLES`` samples (``kwargs`` as for ``generate``)."""
        return toy_metrics(self.generate(k, **kwargs), self.jobs[k][0])

    def state_dict(self) -> dict:
        return {"params": {k: v.detach().clone() for k, v in self.params.items()}, "ema": dict(self.ema),
                "opt": self.opt.state_dict(), "noise": [g.get_state() for g in self.noise]}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            for k, v in state["params"].items():
                self.params[k].copy_(v)
        self.ema = {k: v.clone() for k, v in state["ema"].items()}
        self.opt.load_state_dict(state["opt"])
        for g, s in zip(self.noise, state["noise"]):
            g.set_state(s)


class StackedSampler:
    """K samplers as one: each call returns ((K, B, ...),), row k from sampler k's own random stream."""

    def __init__(self, samplers):
        self.samplers = list(samplers)

    def __call__(self):
        return (torch.stack([s()[0] for s in self.samplers]),)

    def state_dict(self) -> dict:
        return {"samplers": [s.state_dict() for s in self.samplers]}

    def load_state_dict(self, state: dict) -> None:
        for s, st in zip(self.samplers, state["samplers"]):
            s.load_state_dict(st)


# ----------------------------------------------------------------------------- notebook 03's GANs, in the background

def start_gan_runs(jobs: list[dict], workers: int = 2) -> list:
    """Start toy GAN runs (keyword dicts for ``toy_benchmark.run_method``, as notebook 03 builds them) in ``workers``
    processes of the session's pool; returns one future per job, in order. The caller trains the DDPMs meanwhile and
    then collects ``[f.result() for f in futures]``. Each run seeds itself, so results do not depend on the worker count."""
    return submit_jobs(_run_gan_job, [dict(job) for job in jobs], workers=workers)


def shutdown_gan_pool() -> None:
    """Stop the worker processes (the session's pool: also registered to run at exit, so none outlives its parent)."""
    shutdown()


def _run_gan_job(job: dict):
    from .toy_benchmark import run_method

    return run_method(job.pop("method"), job.pop("dist"), **job)


# ----------------------------------------------------------------------------- latent diffusion on digits

# Calibrated on a 2-core CPU (notebook 10): the first stage is notebook 06's convolutional VAE with 16
# channels and a 32-d latent, trained on grey pixels with a small KL weight (0.01), nearly an autoencoder as
# Stable Diffusion's KL-regularised first stage is; the DDPM is a 3x256 TimeMLP on the standardised latent
# means, T = 200, Adam 1e-3 with a cosine decay, batch 256, EMA 0.995.
LATENT = {"z_dim": 32, "vae_width": 16, "beta": 0.01, "vae_lr": 2e-3, "vae_batch": 100, "hidden": 256, "depth": 3,
          "T": 200, "lr": 1e-3, "batch_size": 256, "ema_decay": 0.995}


class LatentDiffusion:
    """Stable Diffusion's recipe at the scale of 28x28 digits (Rombach et al. 2022): an autoencoder maps images to
    a small latent, a DDPM models the standardised latents, and a sample is the DDPM's sample decoded once."""

    def __init__(self, vae, ddpm: DDPM, mean: torch.Tensor, std: torch.Tensor):
        self.vae, self.ddpm, self.mean, self.std = vae, ddpm, mean, std

    @torch.no_grad()
    def generate(self, n: int, sampler: str = "ddim", steps: int | None = None, generator: torch.Generator | None = None,
                 counter: EvaluationCounter | None = None) -> torch.Tensor:
        """``n`` digits in [-1, 1]; ``counter`` counts the denoiser's evaluations (the decoder runs once per sample)."""
        z = self.ddpm.generate(n, sampler, steps=steps, generator=generator, counter=counter)
        return self.vae.decode(z * self.std + self.mean) * 2 - 1

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """decode(encode(x)) of [-1, 1] images: the best a perfect latent model could do with this autoencoder."""
        return self.vae.reconstruct((images + 1) / 2) * 2 - 1


def train_latent_diffusion(images: torch.Tensor, *, vae_steps: int, ddpm_steps: int, seed: int = 0, device="cpu",
                           vae_checkpoint=None, ddpm_checkpoint=None, **setup) -> tuple[LatentDiffusion, dict]:
    """Train the first stage (a VAE on ``images`` in [-1, 1]), then a DDPM on its latent means; returns (model, info).

    ``info``: the two histories and the DDPM's sampler (for FLOP counts).
    """
    unknown = set(setup) - set(LATENT)
    if unknown:
        raise GanutilsError(f"unknown latent-diffusion setting(s) {sorted(unknown)}: use {', '.join(LATENT)}")
    s = {**LATENT, **setup}
    vae, vae_history = train_vae((images + 1) / 2, steps=vae_steps, arch="conv", z_dim=s["z_dim"], hidden=s["vae_width"],
                                 beta=s["beta"], lr=s["vae_lr"], batch_size=s["vae_batch"], binarize=False, seed=seed,
                                 device=device, checkpoint=vae_checkpoint, desc="VAE (first stage)")
    with eval_mode(vae.encoder, vae.decoder):
        mu, _ = vae.encode((images + 1) / 2)
    mean, std = mu.mean(0), mu.std(0)
    with seeded(seed):
        net = TimeMLP(s["z_dim"], s["hidden"], s["depth"])
    ddpm = DDPM(net, Diffusion(linear_schedule(s["T"])), sample_shape=(s["z_dim"],), lr=s["lr"], ema_decay=s["ema_decay"],
                seed=seed, device=device)
    sample = TensorSampler((mu - mean) / std, batch_size=s["batch_size"], seed=seed, device=ddpm.device)
    ddpm_history = train(ddpm, sample, steps=ddpm_steps, checkpoint=ddpm_checkpoint, desc="DDPM on the latents",
                         schedulers=[torch.optim.lr_scheduler.CosineAnnealingLR(ddpm.opt, ddpm_steps)])
    return LatentDiffusion(vae, ddpm, mean, std), {"vae_history": vae_history, "ddpm_history": ddpm_history, "ddpm_sampler": sample}
