"""Profiles, devices, seeds and paths: the knobs every notebook sets in its first cell.

Profile precedence: an explicit value (papermill ``-p profile ...``) beats the
``GANUTILS_PROFILE`` environment variable, which beats the machine's default
(``full`` where CUDA is available, else ``quick``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PROFILES = ("smoke", "quick", "full")
PROFILE_ENV = "GANUTILS_PROFILE"
OFFLINE_ENV = "GANUTILS_OFFLINE"
RUN_DIR_ENV = "GANUTILS_RUN_DIR"
DATA_DIR_ENV = "GANUTILS_DATA"

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class GanutilsError(Exception):
    """A problem the user can fix. The message names the problem and the fix."""


def default_profile() -> str:
    return "full" if torch.cuda.is_available() else "quick"


def resolve_profile(profile: str | None = None) -> str:
    """The profile to use: ``profile`` if given, else $GANUTILS_PROFILE, else the machine default."""
    source = "the profile parameter"
    if profile is None or profile == "":
        profile = os.environ.get(PROFILE_ENV) or None
        source = f"${PROFILE_ENV}"
    if profile is None:
        return default_profile()
    name = str(profile).strip().lower()
    if name not in PROFILES:
        raise GanutilsError(
            f"unknown profile {profile!r} (from {source}): use one of {', '.join(PROFILES)}, "
            f"e.g. `-p profile quick` with papermill or `{PROFILE_ENV}=quick`"
        )
    return name


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


def check_positive_int(name: str, value) -> int:
    """``value`` as an int > 0, or a clear error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or value != int(value) or value <= 0:
        raise GanutilsError(f"{name} must be a positive whole number, got {value!r}: pass e.g. `-p {name} 100`")
    return int(value)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def offline() -> bool:
    """True when $GANUTILS_OFFLINE forbids network access (set by `make test` and CI)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def data_dir() -> Path:
    """Where datasets live and downloads land: $GANUTILS_DATA, else the repository's ``data/``."""
    return Path(os.environ.get(DATA_DIR_ENV) or REPO_DIR / "data")


def run_dir() -> Path:
    """Where a notebook writes checkpoints and files: $GANUTILS_RUN_DIR (set by the runner), else ``runs/interactive``."""
    path = Path(os.environ.get(RUN_DIR_ENV) or REPO_DIR / "runs" / "interactive")
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_path(name: str, **config) -> Path:
    """A checkpoint file for ``name`` whose file name carries a hash of ``config``.

    Different hyperparameters never resume from each other's checkpoints.
    """
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    digest = hashlib.sha1(blob).hexdigest()[:10]
    path = run_dir() / "checkpoints" / f"{name}-{digest}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def environment(device=None) -> dict:
    """What this machine offers the course, as a dict of short strings (notebook 00 prints it)."""
    import platform

    dev = resolve_device(device)
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": str(dev),
        "cuda available": str(torch.cuda.is_available()),
        "cpu threads": str(torch.get_num_threads()),
        "network for data": "forbidden ($GANUTILS_OFFLINE)" if offline() else "allowed",
        "data folder": str(data_dir()),
        "run folder": str(run_dir()),
    }
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


@dataclass(frozen=True)
class Setup:
    """What a notebook resolved in its first cell."""

    profile: str
    device: torch.device
    seed: int

    def pick(self, smoke, quick, full):
        """The value for the current profile."""
        return {"smoke": smoke, "quick": quick, "full": full}[self.profile]

    def steps(self, value, smoke: int, quick: int, full: int, name: str = "steps") -> int:
        """``value`` if the user set it (checked > 0), else the profile's default."""
        if value is None:
            return self.pick(smoke, quick, full)
        return check_positive_int(name, value)

    @property
    def is_smoke(self) -> bool:
        return self.profile == "smoke"

    @property
    def asserts_quality(self) -> bool:
        """Quality claims are asserted in `quick` and `full`; `smoke` checks plumbing only."""
        return self.profile != "smoke"


def setup(profile: str | None = None, device=None, seed: int = 0, verbose: bool = True) -> Setup:
    """Resolve profile and device, seed everything, and say what was chosen in one line."""
    cfg = Setup(resolve_profile(profile), resolve_device(device), int(seed))
    seed_everything(cfg.seed)
    if verbose:
        print(f"ganutils: profile={cfg.profile} device={cfg.device} seed={cfg.seed} torch={torch.__version__}")
    return cfg
