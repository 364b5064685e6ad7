"""Profiles, run folders and the one-line setup every notebook calls in its first cell.

Profile precedence: an explicit value (papermill ``-p profile ...``) beats the
``GANUTILS_PROFILE`` environment variable, which beats the machine's default
(``full`` where CUDA is available, else ``quick``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import GanutilsError, check_positive_int, checkout_dir, data_dir, offline, resolve_device, seed_everything

PROFILES = ("smoke", "quick", "full")
PROFILE_ENV = "GANUTILS_PROFILE"
RUN_DIR_ENV = "GANUTILS_RUN_DIR"


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


def run_dir() -> Path:
    """Where a notebook writes checkpoints and files: $GANUTILS_RUN_DIR (set by the runner), else
    ``runs/interactive`` in the checkout (or in the current folder outside one)."""
    if os.environ.get(RUN_DIR_ENV):
        path = Path(os.environ[RUN_DIR_ENV])
    else:
        path = (checkout_dir() or Path.cwd()) / "runs" / "interactive"
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
