"""The training loop every model in the course shares.

``train(model, sample, steps=...)`` calls ``model.step(sample)`` ``steps`` times and adds
what every run needs: a progress bar, the loss history, sample snapshots, atomic
checkpoints with exact resume, a NaN/inf guard, and a clean stop on Ctrl-C / Jupyter's
interrupt button (the step in flight finishes, a checkpoint is written, then it stops).

A model is any object with ``step(sample) -> dict[str, scalar tensor]``,
``state_dict()`` and ``load_state_dict()``; ``snapshot()`` is needed only for snapshots.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import checkpoint as ckpt
from .config import GanutilsError, check_positive_int


class TrainingDiverged(GanutilsError):
    """A loss became NaN or infinite."""


@dataclass
class History:
    """Per-step losses, snapshots (step, tensor) and the wall time spent training."""

    steps: list = field(default_factory=list)
    losses: dict = field(default_factory=dict)
    snapshots: list = field(default_factory=list)
    seconds: float = 0.0

    def __getitem__(self, name: str) -> list:
        return self.losses[name]

    def mean(self, name: str, last: int = 100) -> float:
        """Mean of the last ``last`` logged values of ``name``."""
        values = self.losses[name][-last:]
        return sum(values) / len(values)

    def state_dict(self) -> dict:
        return {"steps": list(self.steps), "losses": {k: list(v) for k, v in self.losses.items()},
                "snapshots": [[s, t] for s, t in self.snapshots], "seconds": self.seconds}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(list(state["steps"]), {k: list(v) for k, v in state["losses"].items()},
                   [(int(s), t) for s, t in state["snapshots"]], float(state["seconds"]))


def progress_enabled() -> bool:
    return os.environ.get("GANUTILS_PROGRESS", "1").strip().lower() not in ("0", "false", "no")


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
) -> History:
    """Run ``model.step(sample)`` until ``steps`` steps are done; resume from ``checkpoint`` if it exists.

    log_every: losses are read back (one device sync) every ``log_every`` steps; default 1 on
    the CPU, 20 on a GPU. The NaN guard runs on every value read back.
    checkpoint_every: default ``max(steps // 10, 1)``; the final step is always saved.
    """
    steps = check_positive_int("steps", steps)
    device = getattr(model, "device", torch.device("cpu"))
    log_every = check_positive_int("log_every", log_every or (20 if torch.device(device).type == "cuda" else 1))
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every or max(steps // 10, 1))
    history, start = History(), 0
    if checkpoint is not None and checkpoint.exists():
        start, history = _resume(checkpoint, model, sample, desc)
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
                pending.append((step, out))
                if step % log_every == 0 or step == steps or stop.requested:
                    _flush(pending, history, desc, checkpoint, saved)
                    done = step
                    if progress and step % postfix_every < log_every:
                        bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in history.losses.items()}, refresh=False)
                if snapshot_every and step % snapshot_every == 0:
                    history.snapshots.append((step, model.snapshot()))
                bar.update(1)
                if checkpoint is not None and done == step and (step - saved >= checkpoint_every or step == steps or stop.requested):
                    history.seconds += time.perf_counter() - tic
                    tic = time.perf_counter()
                    _save(checkpoint, model, sample, history, step)
                    saved = step
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


def _save(path: Path, model, sample, history: History, step: int) -> None:
    state = {"step": step, "model": model.state_dict(), "history": history.state_dict(), "rng": ckpt.rng_state()}
    if hasattr(sample, "state_dict"):
        state["sampler"] = sample.state_dict()
    ckpt.save_atomic(state, path)


def _resume(path: Path, model, sample, desc: str) -> tuple[int, History]:
    state = ckpt.load(path)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, ValueError) as err:
        raise GanutilsError(
            f"{desc}: checkpoint {path} does not fit this model ({type(err).__name__}); "
            "delete it to train from scratch, or pass another checkpoint path"
        ) from None
    if "sampler" in state and hasattr(sample, "load_state_dict"):
        sample.load_state_dict(state["sampler"])
    ckpt.set_rng_state(state["rng"])
    print(f"{desc}: resuming from {path.name} at step {state['step']}")
    return int(state["step"]), History.from_state_dict(state["history"])
