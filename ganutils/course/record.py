"""``record(name, value)``: a notebook publishes a metric; the course runner collects it.

Under the runner, $GANUTILS_METRICS_FILE names a JSON file per notebook run and every
``record`` rewrites it atomically; in any session the values also stay in ``RECORDED``.
Recording is bookkeeping, not teaching: ``record`` prints nothing and returns None, so a cell
that ends with it shows no ``recorded ...`` line and no ``Out[n]`` value. A notebook prints or
plots what the learner should see.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path

from ..config import GanutilsError
from ..io import atomic_write_json

METRICS_ENV = "GANUTILS_METRICS_FILE"
RECORDED: dict = {}


def _plain(value, name: str):
    """Numbers (incl. 0-d tensors / NumPy scalars), strings, bools, and dicts/lists of those."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    raise GanutilsError(f"record({name!r}, ...) got a {type(value).__name__}: record numbers, strings, or dicts/lists of them")


def record(name: str, value, quiet: bool = True) -> None:
    """Publish ``value`` under ``name`` (e.g. ``record("dcgan/confidence", 0.93)``), silently.

    ``quiet`` is accepted for old call sites and ignored: recording never prints.
    """
    if not isinstance(name, str) or not name:
        raise GanutilsError("record() needs a non-empty metric name")
    plain = _plain(value, name)
    RECORDED[name] = plain
    path = os.environ.get(METRICS_ENV)
    if path:
        path = Path(path)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = plain
        atomic_write_json(path, data, indent=1, sort_keys=True)


def flatten(metrics: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}, for one-row-per-number tables."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat
