"""Several independent GANs of one architecture, trained in lockstep as one batched model.

A 2-D toy GAN (MLPs of 128 units, batches of 256) spends most of its time in Python and
in launching small kernels, not in arithmetic. Training S seeds one after another pays that
overhead S times; stacking their weights along a new leading dimension and running every
layer once for all of them (``torch.func.stack_module_state`` + ``torch.vmap``; for the plain MLPs one
``torch.baddbmm`` per layer, which halves the operator calls again) pays it once.

Nothing is shared between the members: each keeps its own weights, optimiser state, noise
generator, data sampler and (for experience replay) buffer, and draws its random numbers in
the same order as a run of its own. So every member ends where it would have ended alone,
up to float rounding (a batched matrix multiply may sum in a different order); the tests
check it for 3 seeds of every method. Gradients stay per member because the members'
losses are summed: d(sum_j L_j)/d theta_i = dL_i/d theta_i.

    models = [toy_benchmark.build("vanilla", seed=s) for s in (0, 1, 2)]
    samplers = [data.DistributionSampler(ring, 256, seed=s) for s in (0, 1, 2)]
    histories = train_vectorised(models, samplers, steps=1000)   # models now hold the trained weights

Supported: ``training.GAN`` (any loss, n_critic, label smoothing, gradient penalty), ``UnrolledGAN``
and ``ReplayGAN`` with Adam optimisers, unconditional networks without buffers or dropout (no
BatchNorm, no spectral norm: their running state would need a per-member update), probes
(``Every``) and learning-rate schedules. Notebook 03's toy benchmark (``experiments.toy_benchmark``)
and notebook 04's WGAN-GP seeds train this way; ``bench/bench_toy.py`` measures the speed-up.
"""

from __future__ import annotations

import time
import warnings

import torch
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from ..config import GanutilsError, check_positive_int
from ..losses.gradient_penalty import interpolates, penalty_from_gradients
from ..nets.mlp import MLPDiscriminator, MLPGenerator
from .gan import GAN
from .loop import Every, History, TrainingDiverged, progress_enabled
from .replay import ReplayGAN
from .unrolled import UnrolledGAN, lookahead_adam

# ----------------------------------------------------------------------------- the stacked networks


def architecture(module: nn.Module) -> tuple:
    """What two networks must share to run as one batch: layer types, settings (e.g. a group size) and shapes."""
    layers = []
    for name, m in module.named_modules():
        settings = tuple(sorted((k, v) for k, v in vars(m).items()
                                if not k.startswith("_") and k != "training" and isinstance(v, (bool, int, float, str, tuple))))
        layers.append((name, type(m).__qualname__, settings))
    return tuple(layers) + tuple((n, tuple(p.shape), p.dtype) for n, p in module.named_parameters())


class StackedModule:
    """S copies of one network as stacked parameters: ``self(x)`` maps (S, N, ...) to (S, N, ...), member by member.

    ``base`` (the first module) only lends its code: ``functional_call`` runs it with member i's
    slice of every parameter, and ``vmap`` runs all members in one call.
    """

    def __init__(self, modules):
        if any(True for m in modules for _ in m.buffers()) or any(isinstance(layer, nn.modules.dropout._DropoutNd)
                                                                  for m in modules for layer in m.modules()):
            raise GanutilsError("vectorised training needs networks without buffers or dropout (no BatchNorm, no spectral "
                                "norm): train such models one at a time with training.train")
        if any(architecture(m) != architecture(modules[0]) for m in modules):
            raise GanutilsError("vectorised members must share one architecture (same layers, settings and sizes): group them by setup")
        self.base = modules[0]
        params, _ = stack_module_state(list(modules))
        self.params = {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}
        self._call = torch.vmap(lambda p, x: functional_call(self.base, p, (x,)), in_dims=(0, 0))
        self._mlp_layers = mlp_layers(self.base)

    def __call__(self, x: torch.Tensor, params: dict | None = None) -> torch.Tensor:
        params = self.params if params is None else params
        if self._mlp_layers is None:
            return self._call(params, x)
        return stacked_mlp(self.base, self._mlp_layers, params, x)

    def detached(self) -> dict:
        return {name: p.detach() for name, p in self.params.items()}

    def write_back(self, modules) -> None:
        """Copy member i's parameters into ``modules[i]``."""
        with torch.no_grad():
            for i, m in enumerate(modules):
                for name, p in m.named_parameters():
                    p.copy_(self.params[name][i])


ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.Identity)


def mlp_layers(module: nn.Module) -> list | None:
    """For an ``MLPGenerator``/``MLPDiscriminator`` (Linear layers and elementwise activations): its
    layers as (parameter prefix or None, module); None for any other network (it runs under vmap)."""
    if type(module) not in (MLPGenerator, MLPDiscriminator) or not isinstance(module.net, nn.Sequential):
        return None
    layers = []
    for name, layer in module.net.named_children():
        if type(layer) is nn.Linear:
            layers.append((f"net.{name}", layer))
        elif type(layer) in ELEMENTWISE:
            layers.append((None, layer))
        else:
            return None
    return layers


def stacked_mlp(base: nn.Module, layers: list, params: dict, x: torch.Tensor) -> torch.Tensor:
    """The members' MLPs on (S, N, ...) inputs, one batched multiply-add per layer.

    The same computation as vmap over ``functional_call`` (up to float rounding), in about half the
    operator calls: on the toy MLPs per-call overhead, not arithmetic, is most of a training step's time."""
    S, N = x.shape[:2]
    h = x.reshape(S, N, -1)
    for prefix, layer in layers:
        if prefix is None:
            h = layer(h)  # an elementwise activation: the same for every member
        else:
            h = torch.baddbmm(params[prefix + ".bias"].unsqueeze(1), h, params[prefix + ".weight"].transpose(1, 2))
    if isinstance(base, MLPDiscriminator):
        return h.squeeze(2)
    return h.view(S, N, *base.out_shape)


class StackedAdam:
    """``torch.optim.Adam`` (no weight decay, no amsgrad) over stacked parameters, one learning rate per member.

    The update is elementwise, so member i's slice follows exactly the arithmetic of its own
    ``torch.optim.Adam``; ``lr`` may differ per member (a learning-rate sweep in one batch).
    """

    def __init__(self, params: dict, optimizers, module_params):
        for opt in optimizers:
            if type(opt) is not torch.optim.Adam:
                raise GanutilsError(f"vectorised training supports Adam only, got {type(opt).__name__}: "
                                    "train this model with training.train")
            group = opt.param_groups[0]
            if len(opt.param_groups) != 1 or group["weight_decay"] or group["amsgrad"] or group["maximize"]:
                raise GanutilsError("vectorised training supports plain Adam (one group, no weight decay/amsgrad/maximize)")
        groups = [opt.param_groups[0] for opt in optimizers]
        self.betas, self.eps = groups[0]["betas"], groups[0]["eps"]
        if any(g["betas"] != self.betas or g["eps"] != self.eps for g in groups):
            raise GanutilsError("vectorised members must share Adam's betas and eps (learning rates may differ)")
        self.lrs = [float(g["lr"]) for g in groups]
        self.params = params
        self.optimizers, self.module_params = optimizers, module_params  # for reading and writing back the state
        states = [[opt.state.get(p, {}) for p in mp] for opt, mp in zip(optimizers, module_params)]
        steps = {float(s[0]["step"]) if s and "step" in s[0] else 0.0 for s in states}
        if len(steps) != 1:
            raise GanutilsError("vectorised members must have taken the same number of optimiser steps")
        self.step_count = steps.pop()
        self.exp_avg, self.exp_avg_sq = {}, {}
        for k, name in enumerate(params):
            zeros = torch.zeros_like(params[name])
            self.exp_avg[name] = torch.stack([s[k]["exp_avg"] for s in states]) if self.step_count else zeros
            self.exp_avg_sq[name] = torch.stack([s[k]["exp_avg_sq"] for s in states]) if self.step_count else zeros.clone()

    def read_learning_rates(self) -> None:
        self.lrs = [float(opt.param_groups[0]["lr"]) for opt in self.optimizers]

    def lr_view(self, like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.lrs, dtype=like.dtype, device=like.device).view(-1, *([1] * (like.dim() - 1)))

    @torch.no_grad()
    def step(self, grads: dict) -> None:
        beta1, beta2 = self.betas
        self.step_count += 1
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2_sqrt = (1 - beta2**self.step_count) ** 0.5
        same_lr = len(set(self.lrs)) == 1
        for name, p in self.params.items():
            g = grads[name]
            m, v = self.exp_avg[name], self.exp_avg_sq[name]
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            if same_lr:
                p.addcdiv_(m, denom, value=-self.lrs[0] / bias_correction1)
            else:  # addcdiv computes self + (value * t1) / t2: the same arithmetic with a per-member value
                neg_step = torch.tensor([-lr / bias_correction1 for lr in self.lrs], dtype=p.dtype).view(-1, *([1] * (p.dim() - 1)))
                p.add_((neg_step * m) / denom)

    def write_back(self) -> None:
        """Give every member's ``torch.optim.Adam`` its state, as if it had taken these steps itself."""
        for i, (opt, mp) in enumerate(zip(self.optimizers, self.module_params)):
            for name, p in zip(self.params, mp):
                opt.state[p] = {"step": torch.tensor(self.step_count, dtype=torch.float32),
                                "exp_avg": self.exp_avg[name][i].clone(), "exp_avg_sq": self.exp_avg_sq[name][i].clone()}


# ----------------------------------------------------------------------------- the vectorised GAN


def batch_key(model) -> dict:
    """Everything that members of one vectorised batch must share (seeds, data and learning rates may differ)."""
    if type(model) not in (GAN, UnrolledGAN, ReplayGAN):
        raise GanutilsError(f"vectorised training supports training.GAN, UnrolledGAN and ReplayGAN, got {type(model).__name__}: "
                            "train this model with training.train")
    key = {"model type": type(model).__name__, "generator": architecture(model.G), "discriminator": architecture(model.D),
           "z_dim": model.z_dim, "n_critic": model.n_critic, "loss": model.loss, "gp_weight": model.gp_weight,
           "clip_value": model.clip_value, "device": str(model.device),
           "optimisers": tuple((type(o).__name__, o.param_groups[0].get("betas"), o.param_groups[0].get("eps"))
                               for o in (model.opt_g, model.opt_d))}
    if isinstance(model, UnrolledGAN):
        key["unrolling"] = (model.unroll_steps, model.second_order)
    if isinstance(model, ReplayGAN):
        key["replay"] = (model.buffer_size, model.replay_fraction)
    return key


class VectorisedGAN:
    """S compatible ``GAN`` objects trained as one: ``step(samplers)`` is one iteration of every member."""

    def __init__(self, models):
        models = list(models)
        if not models:
            raise GanutilsError("VectorisedGAN needs at least one model")
        first = batch_key(models[0])
        for m in models[1:]:
            key = batch_key(m)
            differ = [k for k in dict.fromkeys([*first, *key]) if first.get(k) != key.get(k)]
            if differ:
                raise GanutilsError(f"vectorised members must share {', '.join(differ)}: group runs with batch_key() first")
        first = models[0]
        kind = type(first)
        if first.clip_value is not None:
            raise GanutilsError("vectorised training does not clip weights: train WGAN-clipping models with training.train")
        self.models, self.kind, self.device = models, kind, first.device
        self.z_dim, self.n_critic, self.loss, self.gp_weight = first.z_dim, first.n_critic, first.loss, first.gp_weight
        self.G = StackedModule([m.G for m in models])
        self.D = StackedModule([m.D for m in models])
        self.opt_g = StackedAdam(self.G.params, [m.opt_g for m in models], [list(m.G.parameters()) for m in models])
        self.opt_d = StackedAdam(self.D.params, [m.opt_d for m in models], [list(m.D.parameters()) for m in models])
        labels = {(m.real_label, m.fake_label) for m in models}
        self._labels = labels.pop() if len(labels) == 1 else None  # None: label smoothing differs between members
        self.fixed_z = torch.stack([m.fixed_z for m in models])
        self._reusable_fake = None
        self._last_real = None

    def __len__(self) -> int:
        return len(self.models)

    # ------------------------------------------------------------------ per-member randomness, in each member's own order
    def sample_z(self, n: int) -> torch.Tensor:
        return torch.stack([m.sample_z(n) for m in self.models])

    def d_loss(self, real_out, fake_out) -> torch.Tensor:
        if self._labels is not None:
            return torch.vmap(self.loss.d, in_dims=(0, 0, None, None))(real_out, fake_out, *self._labels)
        return torch.stack([self.loss.d(r, f, m.real_label, m.fake_label) for r, f, m in zip(real_out, fake_out, self.models)])

    def g_loss(self, fake_out) -> torch.Tensor:
        return torch.vmap(self.loss.g)(fake_out)

    # ------------------------------------------------------------------ one iteration
    def step(self, samplers) -> dict[str, torch.Tensor]:
        """One iteration of every member; returns {name: (S,) tensor} like ``GAN.step`` per member."""
        for _ in range(self.n_critic):
            real = torch.stack([s()[0].to(self.device) for s in samplers])
            out = self.d_step(real)
        out.update(self.g_step(real.shape[1]))
        self._reusable_fake = None
        return out

    def d_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        n = real.shape[1]
        if self.kind is ReplayGAN:
            with torch.no_grad():
                new = self.G(self.sample_z(n))
            fake = torch.stack([m.mix_with_buffer(x) for m, x in zip(self.models, new)])
            for m, x in zip(self.models, new):
                m.push(x)
        elif self.n_critic == 1:
            fake_graph = self.G(self.sample_z(n))
            if self.kind is GAN:
                self._reusable_fake = fake_graph
            fake = fake_graph.detach()
        else:
            with torch.no_grad():
                fake = self.G(self.sample_z(n))
        if self.kind is UnrolledGAN:
            self._last_real = real
        return self.update_d(real, fake)

    def update_d(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        real_out, fake_out = self.D(real), self.D(fake)
        loss = self.d_loss(real_out, fake_out)
        out = {"d_loss": loss.detach(), "d_real": real_out.detach().mean(1), "d_fake": fake_out.detach().mean(1)}
        if self.gp_weight:
            x_hat = torch.stack([interpolates(r.detach(), f.detach(), m.noise) for r, f, m in zip(real, fake, self.models)])
            x_hat.requires_grad_(True)
            (grads,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
            gp = torch.vmap(penalty_from_gradients, in_dims=(0, None))(grads, self.gp_weight)
            loss = loss + gp
            out["gp"] = gp.detach()
        grads = torch.autograd.grad(loss.sum(), list(self.D.params.values()))
        self.opt_d.step(dict(zip(self.D.params, grads)))
        return out

    def g_step(self, n: int) -> dict[str, torch.Tensor]:
        if self.kind is UnrolledGAN and self.models[0].unroll_steps and self._last_real is not None:
            fake = self.G(self.sample_z(n))
            loss = self.g_loss(self.D(fake, self.unrolled_params(self._last_real, fake)))
        else:
            fake, self._reusable_fake = self._reusable_fake, None
            if fake is None or fake.shape[1] != n:
                fake = self.G(self.sample_z(n))
            loss = self.g_loss(self.D(fake, self.D.detached()))
        grads = torch.autograd.grad(loss.sum(), list(self.G.params.values()))
        self.opt_g.step(dict(zip(self.G.params, grads)))
        return {"g_loss": loss.detach()}

    def unrolled_params(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """Every member's D after ``unroll_steps`` Adam steps on (real, fake), differentiable w.r.t. ``fake``."""
        second_order = self.models[0].second_order
        if not second_order:
            fake = fake.detach()
        params = {name: p.detach().requires_grad_(True) for name, p in self.D.params.items()}
        opt = self.opt_d
        states = {name: {"step": opt.step_count, "m": opt.exp_avg[name], "v": opt.exp_avg_sq[name]} for name in params}
        lrs = {name: opt.lr_view(p) for name, p in params.items()}
        n = real.shape[1]
        both = torch.cat([real, fake], dim=1)  # one pass over real and fake: half the operator calls to differentiate twice
        for _ in range(self.models[0].unroll_steps):
            out = self.D(both, params)
            d_loss = self.d_loss(out[:, :n], out[:, n:])
            grads = torch.autograd.grad(d_loss.sum(), list(params.values()), create_graph=second_order)
            new = {name: lookahead_adam(p, g, states[name], lrs[name], opt.betas, opt.eps)
                   for (name, p), g in zip(params.items(), grads)}
            params = new if second_order else {k: v.detach().requires_grad_(True) for k, v in new.items()}
        return params

    # ------------------------------------------------------------------ results
    @torch.no_grad()
    def snapshots(self) -> torch.Tensor:
        """G(fixed_z) of every member: (S, snapshot_size, ...)."""
        return self.G(self.fixed_z, self.G.detached()).cpu()

    def read_learning_rates(self) -> None:
        """Pick up the members' current learning rates (after a scheduler changed them)."""
        self.opt_g.read_learning_rates()
        self.opt_d.read_learning_rates()

    def write_back(self) -> None:
        """Copy every member's trained weights and optimiser state into its own ``GAN`` object."""
        self.G.write_back([m.G for m in self.models])
        self.D.write_back([m.D for m in self.models])
        self.opt_g.write_back()
        self.opt_d.write_back()


def train_vectorised(models, samplers, *, steps: int, snapshot_every: int | None = None, callbacks=None, schedulers=None,
                     log_every: int = 50, progress: bool | None = None, desc: str = "vectorised") -> list[History]:
    """Train the ``models`` (compatible ``GAN`` objects, one sampler each) together for ``steps`` iterations.

    On return every model holds its trained weights and optimiser state, as after
    ``train(model, sampler, steps=steps)``; one ``History`` per model. ``callbacks[i]`` and
    ``schedulers[i]`` are model i's ``Every`` probes and learning-rate schedulers, as in ``train``
    (a probe sees model i with its current weights). ``History.seconds`` is the wall time of the
    whole batch divided by the number of members (each run's share). No checkpoints: the runs
    this is for take seconds to minutes.
    """
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    models = list(models)
    n = len(models)
    callbacks = [list(c) for c in callbacks] if callbacks is not None else [[] for _ in models]
    schedulers = [list(s) for s in schedulers] if schedulers is not None else [[] for _ in models]
    if not (len(samplers) == len(callbacks) == len(schedulers) == n):
        raise GanutilsError(f"train_vectorised needs one sampler (and callback/scheduler list) per model, "
                            f"got {len(samplers)}/{len(callbacks)}/{len(schedulers)} for {n} models")
    for cbs in callbacks:
        for cb in cbs:
            if not isinstance(cb, Every):
                raise GanutilsError(f"callbacks must be training.Every objects, got {type(cb).__name__}")
    batch = VectorisedGAN(models)
    histories = [History() for _ in models]

    def call_back(step: int, due) -> None:
        if any(due(cb) for cbs in callbacks for cb in cbs):
            batch.write_back()  # a probe reads member i's own GAN object
            for model, history, cbs in zip(models, histories, callbacks):
                for cb in cbs:
                    if due(cb):
                        cb(step, model, history)

    call_back(0, lambda cb: cb.at_start)
    progress = progress_enabled() if progress is None else progress
    pending: list[tuple[int, dict]] = []
    tic = time.perf_counter()
    with tqdm(total=steps, desc=desc, disable=not progress, leave=True) as bar:
        for step in range(1, steps + 1):
            pending.append((step, batch.step(samplers)))
            if any(schedulers):
                with warnings.catch_warnings():  # the members' optimisers are stepped by StackedAdam, not by .step()
                    warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
                    for member in schedulers:
                        for scheduler in member:
                            scheduler.step()
                batch.read_learning_rates()
            if step % log_every == 0 or step == steps:
                _flush(pending, histories, desc)
            if snapshot_every and step % snapshot_every == 0:
                for h, x in zip(histories, batch.snapshots()):
                    h.snapshots.append((step, x))
            call_back(step, lambda cb: step % cb.every == 0)
            bar.update(1)
    batch.write_back()
    share = (time.perf_counter() - tic) / n
    for h in histories:
        h.seconds = share
    return histories


def _flush(pending: list, histories: list[History], desc: str) -> None:
    names = list(pending[0][1])
    values = torch.stack([torch.stack([out[n].float() for n in names]) for _, out in pending])  # (steps, names, S)
    bad = ~torch.isfinite(values)
    if bad.any():
        k, j, i = bad.nonzero()[0].tolist()
        raise TrainingDiverged(f"{desc}: member {i}: {names[j]} became {values[k, j, i].item()} at step {pending[k][0]}; "
                               "training stopped. Fix: lower the learning rate or check the data scale")
    rows = values.permute(2, 0, 1).tolist()  # (S, steps, names)
    for h, member in zip(histories, rows):
        for (step, _), row in zip(pending, member):
            h.steps.append(step)
            for n, v in zip(names, row):
                h.losses.setdefault(n, []).append(v)
    pending.clear()
