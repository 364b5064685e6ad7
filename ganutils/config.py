"""Library-wide settings: the error type, devices, seeds, validation and where data lives.

Nothing here knows about notebooks or profiles (those are ``ganutils.course.profiles``).
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from pathlib import Path

import numpy as np
import torch

OFFLINE_ENV = "GANUTILS_OFFLINE"
DATA_DIR_ENV = "GANUTILS_DATA"

PACKAGE_DIR = Path(__file__).resolve().parent


class GanutilsError(Exception):
    """A problem the user can fix. The message names the problem and the fix."""


# ----------------------------------------------------------------------------- environment flags


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no environment variable: unset or empty -> ``default``; 0/false/no/off -> False; anything else -> True."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


def offline() -> bool:
    """True when $GANUTILS_OFFLINE forbids network access (set by `make test` and CI)."""
    return env_flag(OFFLINE_ENV)


THREADS_ENV = "GANUTILS_THREADS"


def cpu_threads() -> int:
    """CPU threads this process may use: $GANUTILS_THREADS (the course runner sets it to ``cores // jobs`` for each of
    its parallel jobs, beside OMP_NUM_THREADS), else the cores it may run on. Worker pools size themselves with it."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextlib.contextmanager
def threads(n: int):
    """Run the block with torch on ``n`` CPU threads, then restore the caller's count.

    For a small network that gains nothing from a second thread while worker processes
    train on the other cores: the block then leaves them a core instead of competing for it.
    """
    n = check_positive_int("threads", n)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def checkout_dir() -> Path | None:
    """The repository the package runs from (an editable install or PYTHONPATH), or None for an installed wheel."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def data_dir() -> Path:
    """Where datasets live and downloads land: $GANUTILS_DATA, else the checkout's ``data/``, else ~/.cache/ganutils/data."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    root = checkout_dir()
    if root is not None:
        return root / "data"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganutils" / "data"


# ----------------------------------------------------------------------------- devices and seeds


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/"auto" picks CUDA when present; asking for a device that is absent is an error."""
    if device is None or device == "" or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise GanutilsError(f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N' or leave it unset (None)") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GanutilsError(
            f"device={str(device)!r} was asked for, but CUDA is not available on this machine "
            f"(torch {torch.__version__}): use device='cpu', or leave device unset to pick automatically"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise GanutilsError(
            f"device={str(device)!r} was asked for, but this machine has {torch.cuda.device_count()} CUDA device(s): "
            "use 'cuda:0' or leave device unset"
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise GanutilsError(f"device={str(device)!r} was asked for, but MPS is not available: use 'cpu' or leave device unset")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device). Notebooks call it once, in ``gu.setup``."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def seeded(seed: int):
    """Run the block with torch's global RNG seeded to ``seed``, then restore the caller's RNG state.

    Factories build their networks inside it: the same seed gives the same weights, and building a
    model never changes the random numbers the rest of the program sees.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


# ----------------------------------------------------------------------------- validation


def check_positive_int(name: str, value) -> int:
    """``value`` as an int > 0, or a clear error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or value != int(value) or value <= 0:
        raise GanutilsError(f"{name} must be a positive whole number, got {value!r}: pass e.g. `-p {name} 100`")
    return int(value)


def check_positive_float(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``), or a clear error naming the parameter."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise GanutilsError(f"{name} must be a finite number {bound}, got {value!r}")
    return value
