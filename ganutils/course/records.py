"""What a run leaves in ``--out`` to be resumed and reported: one record per notebook run (records/NAME.json),
written atomically, and the locks that let several runners share one ``--out``."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..io import atomic_write_json


@dataclass
class RunResult:
    notebook: str
    name: str
    params: dict
    profile: str
    status: str  # ok | failed | timeout | interrupted | pending | running
    seconds: float
    output: str
    metrics: dict = field(default_factory=dict)
    error: str = ""
    key: str = ""  # what was run (notebook text, parameters, profile): a run with the same key and status ok is done
    timeout: int = 0
    worker: str = ""  # what executed it: "local job 1", a Dask worker's address
    threads: int = 0  # CPU threads its kernel was given (0: not set)
    order: list = field(default_factory=list)  # [sweep start, index]: where it sits in the reports
    log: str = ""  # the run's papermill log (the verdict line points at it)


def _record_path(out: Path, name: str) -> Path:
    return out / "records" / f"{name}.json"


def save_record(out: Path, result: RunResult) -> None:
    path = _record_path(out, result.name)
    path.parent.mkdir(exist_ok=True)
    atomic_write_json(path, asdict(result), indent=1)


def _result(data: dict) -> RunResult | None:
    names = {f.name for f in fields(RunResult)}
    try:
        return RunResult(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None


def load_records(out: Path) -> dict[str, RunResult]:
    """Every run recorded in ``out``; a folder written by the runner before records existed is read from its metrics.json."""
    results = {}
    folder = out / "records"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            r = _result(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            r = None
        if r is not None and r.name == path.stem:
            results[r.name] = r
    if not results and (out / "metrics.json").exists():
        try:
            old = json.loads((out / "metrics.json").read_text())
            for i, data in enumerate(old.get("runs", []), 1):
                r = _result(data)
                if r is not None:
                    r.order = r.order or [old.get("started", ""), i]
                    results[r.name] = r
                    save_record(out, r)
        except (OSError, json.JSONDecodeError, AttributeError):
            pass
    return results


try:
    import fcntl
except ImportError:  # Windows: one runner per --out at a time
    fcntl = None


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (rebuilding the reports: two runners may share one --out)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        if fcntl:
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _claim(out: Path, name: str):
    """A lock held while a run executes, so that two runners sharing --out never execute the same run; None if taken."""
    path = out / ".ganutils" / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a")
    if fcntl:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return None
    return f
