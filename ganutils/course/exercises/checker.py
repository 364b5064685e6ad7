"""How a learner's answer is run and compared: a time limit, an isolated RNG, structure, values.

Nothing here raises at the learner: every problem (an exception inside their function, a wrong
shape, dtype or device, NaN, a function that runs too long) becomes a short description that
``core`` turns into one message.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import random
import signal
import sys
import sysconfig
import threading
import time
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import torch


class TimeLimitExceeded(Exception):
    """Raised inside a learner's function when it runs past its time limit."""


@dataclass(frozen=True)
class Raised:
    """A learner's function raised: what, and where in *their* code."""

    type: str
    message: str
    where: str = ""

    @classmethod
    def from_exception(cls, err: BaseException) -> "Raised":
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return cls(type(err).__name__, message[:200], _user_line(err))

    def describe(self) -> str:
        text = f"raised {self.type}" + (f": {self.message}" if self.message else "")
        return text + (f" ({self.where})" if self.where else "")


@dataclass(frozen=True)
class TimedOut:
    limit: float


# ----------------------------------------------------------------------------- running


@contextlib.contextmanager
def time_limit(seconds: float):
    """Stop the block with ``TimeLimitExceeded`` after ``seconds``.

    Uses SIGALRM, so it works in the main thread (a Jupyter cell, a pytest test); elsewhere the
    block runs unbounded. An outer timer (e.g. pytest-timeout's) is kept: if it would fire first
    it is left alone, otherwise it is re-armed with its remaining time afterwards.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    outer_remaining, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield
        return

    def stop(signum, frame):
        raise TimeLimitExceeded()

    outer_handler = signal.signal(signal.SIGALRM, stop)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_remaining:
            left = max(outer_remaining - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


@contextlib.contextmanager
def isolated_rng(seed: int):
    """Seed torch, NumPy and ``random`` for the block and restore their states afterwards.

    Every candidate (the learner's function, the reference, each known bug) sees the same random
    numbers, so a function that draws ε with ``torch.rand`` can be compared value by value; the
    caller's random state is untouched (checking never changes what a notebook draws next).
    """
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


@contextlib.contextmanager
def quiet_numerics():
    """No NumPy/torch warnings from a learner's 0/0 or log(0): the checker reports them as NaN/inf."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def call(fn, args: tuple, kwargs: dict, seed: int, limit: float):
    """``fn(*args, **kwargs)`` with a seeded, isolated RNG, gradients enabled and a time limit."""
    with isolated_rng(seed), torch.enable_grad(), quiet_numerics(), time_limit(limit):
        return fn(*args, **kwargs)


_LIBRARY_DIRS = tuple(
    os.path.dirname(p) for p in (torch.__file__, np.__file__, os.path.dirname(__file__) + "/x", contextlib.__file__)
) + tuple(p for p in {sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get("platlib")} if p)


def _user_line(err: BaseException) -> str:
    """'line N: code' of the innermost frame that is the learner's code (not torch, NumPy, the stdlib or ganutils)."""
    try:
        frames = traceback.extract_tb(err.__traceback__)
    except Exception:  # pragma: no cover - a broken traceback object
        return ""
    ganutils_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for frame in reversed(frames):
        name = frame.filename or ""
        if name.startswith(_LIBRARY_DIRS) or os.path.abspath(name).startswith(ganutils_dir) or name == sys.argv[0]:
            continue
        code = (frame.line or "").strip()
        return f"line {frame.lineno}" + (f": {code}" if code else "")
    return ""


# ----------------------------------------------------------------------------- describing values


def is_real_number(x) -> bool:
    if isinstance(x, bool) or isinstance(x, np.bool_):
        return False
    if isinstance(x, numbers.Real):
        return True
    return isinstance(x, torch.Tensor) and x.dim() == 0 and not x.is_complex() and x.dtype != torch.bool


def describe(x) -> str:
    """A short description of a value's kind and size, for 'expected ..., got ...'."""
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)}, dtype {x.dtype}, on {x.device}"
    if isinstance(x, np.ndarray):
        return f"a NumPy array of shape {x.shape}, dtype {x.dtype}"
    if isinstance(x, (bool, np.bool_)):
        return f"the boolean {bool(x)}"
    if isinstance(x, numbers.Number):
        return f"the number {x!r}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    if x is None:
        return "None (did the function forget to `return`?)"
    return f"a {type(x).__name__}"


def structure_problem(expected, got, what: str = "the output") -> str | None:
    """Why ``got`` cannot be compared with ``expected`` (kind, shape, dtype, device), or None."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            if expected.dim() == 0 and is_real_number(got):
                return None
            return f"{what} should be {describe(expected)}; got {describe(got)}"
        if got.is_complex() and not expected.is_complex():
            return f"{what} is complex ({got.dtype}): return a real tensor (take .real where a matrix function adds rounding noise)"
        if tuple(got.shape) != tuple(expected.shape):
            return f"{what} has shape {tuple(got.shape)}; expected {tuple(expected.shape)}"
        if got.dtype != expected.dtype:
            return f"{what} has dtype {got.dtype}; expected {expected.dtype} (keep the dtype of the inputs)"
        if got.device != expected.device:
            return f"{what} is on device {got.device}; expected {expected.device} (create new tensors on the inputs' device)"
        return None
    if isinstance(expected, np.ndarray):
        if isinstance(got, torch.Tensor):
            got = got.detach().cpu().numpy()
        if not isinstance(got, np.ndarray):
            return f"{what} should be {describe(expected)}; got {describe(got)}"
        if np.iscomplexobj(got) and not np.iscomplexobj(expected):
            return f"{what} is complex ({got.dtype}): return real values (take .real)"
        if got.shape != expected.shape:
            return f"{what} has shape {got.shape}; expected {expected.shape}"
        if got.dtype.kind not in "biuf":
            return f"{what} has dtype {got.dtype}; expected numbers ({expected.dtype})"
        return None
    if isinstance(expected, (bool, np.bool_)):
        return None if isinstance(got, (bool, np.bool_)) else f"{what} should be True or False; got {describe(got)}"
    if isinstance(expected, numbers.Number):
        if isinstance(got, (complex, np.complexfloating)) or (isinstance(got, np.ndarray) and np.iscomplexobj(got)):
            return f"{what} is the complex number {got!r}: return a real number (take .real)"
        if is_real_number(got) or (isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "biuf"):
            return None
        return f"{what} should be a single number; got {describe(got)}"
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"{what} should be a tuple of {len(expected)} items; got {describe(got)}"
        if len(got) != len(expected):
            return f"{what} should have {len(expected)} items; got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = structure_problem(e, g, f"item {i} of {what}")
            if problem:
                return problem
        return None
    if expected is None:
        return None if got is None else f"{what} should be None; got {describe(got)}"
    return None


def _as_float64(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return x.to(torch.float64) if not x.is_complex() else x.to(torch.complex128)
    return torch.as_tensor(np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64))


def _is_array_like(x) -> bool:
    return isinstance(x, (torch.Tensor, np.ndarray)) or is_real_number(x) or isinstance(x, (np.floating, np.integer))


def same(a, b, rtol: float, atol: float) -> bool:
    """Equal within tolerance, NaN == NaN and inf == inf, recursing into tuples/lists/dicts."""
    if isinstance(a, Raised) or isinstance(b, Raised):
        return isinstance(a, Raised) and isinstance(b, Raised) and a.type == b.type
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return isinstance(a, (bool, np.bool_)) and isinstance(b, (bool, np.bool_)) and bool(a) == bool(b)
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    if _is_array_like(a) and _is_array_like(b):
        try:
            x, y = _as_float64(a), _as_float64(b)
        except (TypeError, ValueError):
            return False
        if tuple(x.shape) != tuple(y.shape):
            return False
        if x.is_complex() != y.is_complex():
            return False
        return bool(torch.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    return a == b


def non_finite(x) -> bool:
    """True if ``x`` (a number, tensor, array, or a tuple/dict of them) holds NaN or inf."""
    if isinstance(x, dict):
        return any(non_finite(v) for v in x.values())
    if isinstance(x, (tuple, list)):
        return any(non_finite(v) for v in x)
    if _is_array_like(x) and not isinstance(x, (bool, np.bool_)):
        try:
            return not bool(torch.isfinite(_as_float64(x)).all())
        except (TypeError, ValueError):
            return False
    return False


def holds_none(x) -> bool:
    """True if ``x`` is None or a tuple/list holding a None (a gradient that did not flow)."""
    return x is None or (isinstance(x, (tuple, list)) and any(holds_none(v) for v in x))


def summary(x, limit: int = 4) -> str:
    """A value, briefly: a number with 4 significant digits, the first entries of a tensor."""
    if isinstance(x, Raised):
        return x.describe()
    if isinstance(x, (bool, np.bool_)) or x is None or isinstance(x, str):
        return repr(bool(x) if isinstance(x, np.bool_) else x)
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(summary(v, limit) for v in x) + ")"
    if _is_array_like(x):
        t = _as_float64(x)
        if t.dim() == 0:
            return f"{t.item():.4g}"
        flat = t.flatten()
        head = ", ".join(f"{v:.4g}" for v in flat[:limit].tolist())
        return f"[{head}{', ...' if len(flat) > limit else ''}] (shape {tuple(t.shape)})"
    return repr(x)


def largest_difference(expected, got) -> str:
    """Where two same-shaped values differ most, in words."""
    try:
        e, g = _as_float64(expected), _as_float64(got)
    except (TypeError, ValueError):
        return ""
    if e.shape != g.shape or e.numel() == 0 or e.is_complex() or g.is_complex():
        return ""
    diff = (e - g).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
    flat = int(diff.flatten().argmax())
    if e.dim() == 0:
        return ""
    index = tuple(int(i) for i in np.unravel_index(flat, tuple(e.shape)))
    return f"largest difference at index {index}: expected {e.flatten()[flat].item():.4g}, got {g.flatten()[flat].item():.4g}"
