"""Checkpoints: written atomically (a crash or a full disk mid-write never leaves a half-written file),
loaded with ``weights_only=True`` (no code runs on load), and the global random states that make a
resumed run exact."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..config import GanutilsError
from ..io import save_torch_atomic


def save_atomic(obj, path) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync it, then rename over ``path``."""
    return save_torch_atomic(obj, path)


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
    """Every global random state a training step may touch, NumPy's cached Gaussian included."""
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": keys.astype(np.int64).tolist(),
        "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss),
        "numpy_cached_gaussian": float(cached_gaussian),
        "python": repr(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


RNG_KEYS = ("torch", "numpy", "numpy_pos", "python")


def set_rng_state(state: dict, where: str = "the checkpoint") -> None:
    missing = [k for k in RNG_KEYS if k not in state]
    if missing:
        raise GanutilsError(
            f"{where} has no saved random state ({', '.join(missing)} missing), so it cannot resume exactly: "
            "delete it to train from scratch"
        )
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"],
                         state.get("numpy_has_gauss", 0), state.get("numpy_cached_gaussian", 0.0)))
    random.setstate(_literal_tuple(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _literal_tuple(text: str):
    import ast

    return ast.literal_eval(text)
