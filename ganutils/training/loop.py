"""The training loop every model in the course shares.

``train(model, sample, steps=...)`` calls ``model.step(sample)`` ``steps`` times and adds
what every run needs: a progress bar, the loss history, sample snapshots, probes every N steps
(``Every``), learning-rate schedules (``torch.optim.lr_scheduler``), atomic checkpoints with
exact resume (probes and schedules included), a NaN/inf guard, and a clean stop on Ctrl-C /
Jupyter's interrupt button (the step in flight finishes, a checkpoint is written, then it stops).

A model is any object with ``step(sample) -> dict[str, scalar tensor]``,
``state_dict()`` and ``load_state_dict()``; ``snapshot()`` is needed only for snapshots.
GAN, VAE and Pix2Pix all follow it, so no caller chops training into chunks.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..config import GanutilsError, check_positive_int, env_flag
from . import checkpoint as ckpt


class TrainingDiverged(GanutilsError):
    """A loss became NaN or infinite."""


@dataclass
class History:
    """Per-step losses, snapshots (step, tensor), probe results (name -> list of dicts with "step") and
    the wall time spent training."""

    steps: list = field(default_factory=list)
    losses: dict = field(default_factory=dict)
    snapshots: list = field(default_factory=list)
    seconds: float = 0.0
    probes: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> list:
        return self.losses[name]

    def mean(self, name: str, last: int = 100) -> float:
        """Mean of the last ``last`` logged values of ``name``."""
        values = self.losses[name][-last:]
        return sum(values) / len(values)

    def state_dict(self) -> dict:
        return {"steps": list(self.steps), "losses": {k: list(v) for k, v in self.losses.items()},
                "snapshots": [[s, t] for s, t in self.snapshots], "seconds": self.seconds,
                "probes": {k: [dict(r) for r in v] for k, v in self.probes.items()}}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(list(state["steps"]), {k: list(v) for k, v in state["losses"].items()},
                   [(int(s), t) for s, t in state["snapshots"]], float(state["seconds"]),
                   {k: [dict(r) for r in v] for k, v in state.get("probes", {}).items()})


@dataclass
class Every:
    """A callback for ``train``: ``fn(step, model)`` every ``every`` steps (and at step 0 if ``at_start``).

    If ``fn`` returns a dict, it is stored as ``history.probes[name]`` (with its "step") and saved in
    checkpoints, so a resumed run has every probe. Probes must not change the model (measure in
    eval mode, use their own random generators), or a resumed run would differ from an uninterrupted one.
    """

    every: int
    fn: object
    name: str = "probe"
    at_start: bool = False

    def __post_init__(self):
        self.every = check_positive_int("every", self.every)
        if not callable(self.fn):
            raise GanutilsError(f"Every({self.every}, fn) needs a callable fn(step, model), got {type(self.fn).__name__}")

    def __call__(self, step: int, model, history: History) -> None:
        result = self.fn(step, model)
        if result is not None:
            if not isinstance(result, dict):
                raise GanutilsError(f"probe {self.name!r} returned {type(result).__name__}: return a dict of numbers, or None")
            history.probes.setdefault(self.name, []).append({"step": step, **result})


def progress_enabled() -> bool:
    return env_flag("GANUTILS_PROGRESS", default=True)


class _StopRequest:
    """Turns SIGINT into a flag that the loop checks between steps (main thread only)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            signal.signal(signal.SIGINT, self._previous)
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def train(
    model,
    sample,
    *,
    steps: int,
    checkpoint=None,
    checkpoint_every: int | None = None,
    snapshot_every: int | None = None,
    log_every: int | None = None,
    progress: bool | None = None,
    desc: str = "train",
    callbacks=(),
    schedulers=(),
    milestones=None,
) -> History:
    """Run ``model.step(sample)`` until ``steps`` steps are done; resume from ``checkpoint`` if it exists.

    log_every: losses are read back (one device sync) every ``log_every`` steps; default 1 on
    the CPU, 20 on a GPU. The NaN guard runs on every value read back.
    checkpoint_every: default ``max(steps // 10, 1)``; the final step is always saved.
    callbacks: ``Every`` objects (probes every N steps; results in ``history.probes``).
    schedulers: ``torch.optim.lr_scheduler`` objects, stepped once after every training step and
    saved in checkpoints (e.g. a linear decay to 0: ``LambdaLR(opt, lambda s: 1 - s / steps)``).
    milestones: ``{step: path}``, the checkpoints of shorter runs with the same settings (e.g. the
    500-step version of this run that an ablation or another notebook trains). Passing ``step``
    writes the state there too; and when ``checkpoint`` does not exist yet, training starts from
    the latest milestone file that exists and holds every snapshot and probe this call would
    have recorded by then. A run is then trained once, however many lengths of it are used.
    """
    steps = check_positive_int("steps", steps)
    callbacks, schedulers = list(callbacks), list(schedulers)
    for cb in callbacks:
        if not isinstance(cb, Every):
            raise GanutilsError(f"callbacks must be training.Every objects, got {type(cb).__name__}")
    device = getattr(model, "device", torch.device("cpu"))
    log_every = check_positive_int("log_every", log_every or (20 if torch.device(device).type == "cuda" else 1))
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every or max(steps // 10, 1))
    milestones = {check_positive_int("milestone step", k): Path(v) for k, v in dict(milestones or {}).items()}
    milestones = {k: v for k, v in milestones.items() if k <= steps}
    history, start = History(), 0
    if checkpoint is not None and checkpoint.exists():
        start, history = _resume(checkpoint, model, sample, desc, steps, schedulers)
    else:
        for at in sorted(milestones, reverse=True):
            if _usable_milestone(milestones[at], at, snapshot_every, callbacks, schedulers):
                start, history = _resume(milestones[at], model, sample, desc, steps, schedulers)
                break
    if start == 0:
        for cb in callbacks:
            if cb.at_start:
                cb(0, model, history)
    progress = progress_enabled() if progress is None else progress
    bar = tqdm(total=steps, initial=min(start, steps), desc=desc, disable=not progress, leave=True)
    pending: list[tuple[int, dict]] = []
    tic = time.perf_counter()
    done = saved = start  # last step whose losses were checked, last step saved to the checkpoint
    postfix_every = max(steps // 50, 1)
    try:
        with _StopRequest() as stop:
            for step in range(start + 1, steps + 1):
                out = model.step(sample)
                for scheduler in schedulers:
                    scheduler.step()
                pending.append((step, out))
                if step % log_every == 0 or step == steps or stop.requested or step in milestones:
                    _flush(pending, history, desc, checkpoint, saved)
                    done = step
                    if progress and step % postfix_every < log_every:
                        bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in history.losses.items()}, refresh=False)
                if snapshot_every and step % snapshot_every == 0:
                    history.snapshots.append((step, model.snapshot()))
                for cb in callbacks:
                    if step % cb.every == 0:
                        cb(step, model, history)
                bar.update(1)
                if checkpoint is not None and done == step and (step - saved >= checkpoint_every or step == steps or stop.requested):
                    history.seconds += time.perf_counter() - tic
                    tic = time.perf_counter()
                    _save(checkpoint, model, sample, history, step, schedulers)
                    saved = step
                if step in milestones:
                    history.seconds += time.perf_counter() - tic
                    tic = time.perf_counter()
                    _save(milestones[step], model, sample, history, step, schedulers)
                if stop.requested:
                    where = f"; checkpoint saved at step {saved}, run again to resume" if checkpoint is not None else ""
                    raise KeyboardInterrupt(f"{desc}: interrupted after step {done}{where}")
    finally:
        bar.close()
    history.seconds += time.perf_counter() - tic
    return history


def _flush(pending: list, history: History, desc: str, checkpoint, last_saved: int) -> None:
    """Read buffered losses back (one sync), check they are finite, append them to the history."""
    names = list(pending[0][1])
    values = torch.stack([torch.stack([out[n].float() for n in names]) for _, out in pending]).tolist()
    for (step, _), row in zip(pending, values):
        bad = [(n, v) for n, v in zip(names, row) if not math.isfinite(v)]
        if bad:
            where = f"the last good checkpoint is {checkpoint} (step {last_saved})" if checkpoint and last_saved else "no checkpoint was kept"
            raise TrainingDiverged(
                f"{desc}: {bad[0][0]} became {bad[0][1]} at step {step}; training stopped and {where}. "
                "Fix: lower the learning rate, check the data is scaled like the generator's output, or use a gradient penalty"
            )
        history.steps.append(step)
        for n, v in zip(names, row):
            history.losses.setdefault(n, []).append(v)
    pending.clear()


def _save(path: Path, model, sample, history: History, step: int, schedulers) -> None:
    state = {"step": step, "model": model.state_dict(), "history": history.state_dict(), "rng": ckpt.rng_state(),
             "schedulers": [s.state_dict() for s in schedulers]}
    if hasattr(sample, "state_dict"):
        state["sampler"] = sample.state_dict()
    ckpt.save_atomic(state, path)


def _usable_milestone(path: Path, step: int, snapshot_every, callbacks, schedulers) -> bool:
    """Whether ``path`` holds this run at ``step`` with the snapshots, probes and schedules this call records."""
    if not path.exists():
        return False
    state = ckpt.load(path)
    if int(state.get("step", -1)) != step or len(state.get("schedulers", [])) != len(schedulers) or "history" not in state:
        return False
    history = state["history"]
    want = list(range(snapshot_every, step + 1, snapshot_every)) if snapshot_every else []
    if [int(s) for s, _ in history.get("snapshots", [])] != want:
        return False
    for cb in callbacks:
        want = ([0] if cb.at_start else []) + list(range(cb.every, step + 1, cb.every))
        if [int(r["step"]) for r in history.get("probes", {}).get(cb.name, [])] != want:
            return False
    return True


def _resume(path: Path, model, sample, desc: str, steps: int, schedulers) -> tuple[int, History]:
    state = ckpt.load(path)
    missing = [k for k in ("step", "model", "history", "rng") if k not in state]
    if missing:
        raise GanutilsError(
            f"{desc}: checkpoint {path} lacks {', '.join(missing)} (not written by training.train?): "
            "delete it to train from scratch, or pass another checkpoint path"
        )
    if int(state["step"]) > steps:
        raise GanutilsError(
            f"{desc}: checkpoint {path} is at step {state['step']}, beyond steps={steps}: pass steps >= {state['step']} "
            "to continue it, or another checkpoint path to train a shorter run"
        )
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, ValueError) as err:
        raise GanutilsError(
            f"{desc}: checkpoint {path} does not fit this model ({type(err).__name__}); "
            "delete it to train from scratch, or pass another checkpoint path"
        ) from None
    if "sampler" in state and hasattr(sample, "load_state_dict"):
        sample.load_state_dict(state["sampler"])
    saved_schedulers = state.get("schedulers", [])
    if len(saved_schedulers) != len(schedulers):
        raise GanutilsError(
            f"{desc}: checkpoint {path} has {len(saved_schedulers)} learning-rate schedule(s), this run {len(schedulers)}: "
            "resume with the same schedulers, or delete the checkpoint"
        )
    for scheduler, s in zip(schedulers, saved_schedulers):
        scheduler.load_state_dict(s)
    ckpt.set_rng_state(state["rng"], where=f"checkpoint {path}")
    print(f"{desc}: resuming from {path.name} at step {state['step']}")
    return int(state["step"]), History.from_state_dict(state["history"])
