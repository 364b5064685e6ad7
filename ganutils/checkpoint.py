"""Atomic checkpoints: a crash or a full disk mid-write never leaves a half-written file behind."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from .config import GanutilsError


def save_atomic(obj, path) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync it, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load(path, map_location="cpu"):
    """Load a checkpoint written by :func:`save_atomic` (``weights_only=True``: no code runs on load)."""
    path = Path(path)
    if not path.exists():
        raise GanutilsError(f"checkpoint {path} does not exist: train first, or pass the path of an existing checkpoint")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        detail = (str(err).strip().splitlines() or [""])[0][:120]
        raise GanutilsError(f"checkpoint {path} is unreadable ({type(err).__name__}: {detail}); delete it to train from scratch") from None


def rng_state() -> dict:
    """Every global random state a training step may touch."""
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state()[1].astype(np.int64).tolist(),
        "numpy_pos": int(np.random.get_state()[2]),
        "python": repr(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"], 0, 0.0))
    random.setstate(_literal_tuple(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _literal_tuple(text: str):
    import ast

    return ast.literal_eval(text)
