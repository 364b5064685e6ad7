"""The course runner: execute notebooks with papermill, collect their metrics, write a summary.

Each notebook runs in its own papermill process under a timeout, with the run folder as
its working directory, so a hung kernel fails with the notebook's name and nothing is
ever written into ``notebooks/``.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from ..config import GanutilsError, check_positive_int, checkout_dir
from ..io import atomic_write_text
from .profiles import RUN_DIR_ENV, resolve_profile
from .record import METRICS_ENV, flatten

REPO_DIR = checkout_dir()  # None for an installed wheel: the notebooks live in the course's repository
NOTEBOOK_DIR = REPO_DIR / "notebooks" if REPO_DIR is not None else None
RUNS_DIR = REPO_DIR / "runs" if REPO_DIR is not None else None
DEFAULT_TIMEOUT = {"smoke": 600, "quick": 1800, "full": 4 * 3600}  # seconds per notebook


# ----------------------------------------------------------------------------- finding notebooks


def _require_checkout() -> None:
    if NOTEBOOK_DIR is None:
        raise GanutilsError("the runner executes the course's notebooks, which are not part of the installed package: "
                            "run it from a clone of the course repository")


def list_notebooks() -> list[Path]:
    """The course in reading order: ``notebooks/NN_name.ipynb``."""
    _require_checkout()
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return Path(path).stem


def find_notebook(key: str) -> Path:
    """A notebook by number ("2", "02"), stem ("02_first_gan_mnist"), part of its name, or path."""
    notebooks = list_notebooks()
    key = str(key).strip()
    path = Path(key)
    if path.suffix == ".ipynb" and path.exists():
        return path.resolve()
    if key.isdigit():
        matches = [p for p in notebooks if int(p.name[:2]) == int(key)]
    else:
        stem = key.removesuffix(".ipynb")
        matches = [p for p in notebooks if p.stem == stem] or [p for p in notebooks if stem in p.stem]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in notebooks)
        why = "matches several" if matches else "matches no notebook"
        raise GanutilsError(f"notebook {key!r} {why}: use a number or name from: {names}")
    return matches[0]


def notebook_parameters(path: Path) -> dict:
    """Names and default values (as source text) of the notebook's papermill ``parameters`` cell."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            params = {}
            for node in ast.parse("".join(cell["source"])).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    params[node.targets[0].id] = ast.unparse(node.value)
            return params
    raise GanutilsError(f"{Path(path).name} has no cell tagged 'parameters': add one (papermill needs it)")


# ----------------------------------------------------------------------------- parameters


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: "1e-4,2e-4" -> 2 values, "(0,0.9)" -> 1."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise GanutilsError(f"unbalanced brackets in parameter value {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quote:
        raise GanutilsError(f"unbalanced brackets or quotes in parameter value {text!r}")
    parts.append(text[start:])
    return parts


def _value(text: str):
    """A Python literal if it parses as one ("1e-4", "True", "(0, 0.9)", "None"), else the string."""
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_param(text: str) -> tuple[str, list]:
    """``"lr=1e-4,2e-4"`` -> ``("lr", [0.0001, 0.0002])``; a malformed one is a clear error."""
    if "=" not in text:
        raise GanutilsError(f"malformed parameter {text!r}: write -p NAME=VALUE, e.g. -p steps=50 or -p lr=1e-4,2e-4")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key.isidentifier():
        raise GanutilsError(f"malformed parameter {text!r}: {key!r} is not a valid parameter name")
    if not raw.strip():
        raise GanutilsError(f"malformed parameter {text!r}: no value after '='")
    values = [_value(v) for v in _split_top_level(raw)]
    if any(isinstance(v, str) and not v for v in values):
        raise GanutilsError(f"malformed parameter {text!r}: an empty value in the list")
    return key, values


def expand_sweep(param_texts: list[str]) -> list[dict]:
    """All combinations of the ``-p`` values: one dict of parameters per run."""
    grid: dict[str, list] = {}
    for text in param_texts or []:
        key, values = parse_param(text)
        if key in grid:
            raise GanutilsError(f"parameter {key!r} given twice: give its values once, comma-separated (-p {key}=a,b)")
        grid[key] = values
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))] or [{}]


def check_params(path: Path, params: dict) -> None:
    known = notebook_parameters(path)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise GanutilsError(
            f"{path.stem} has no parameter {', '.join(map(repr, unknown))}; its parameters are: {', '.join(known)}"
        )


def run_name(path: Path, params: dict) -> str:
    if not params:
        return path.stem
    text = "__".join(f"{k}={v}" for k, v in params.items())
    return f"{path.stem}__{re.sub(r'[^A-Za-z0-9_.=+-]+', '_', text)}"


# ----------------------------------------------------------------------------- executing


@dataclass
class RunResult:
    notebook: str
    name: str
    params: dict
    profile: str
    status: str  # ok | failed | timeout
    seconds: float
    output: str
    metrics: dict = field(default_factory=dict)
    error: str = ""
    log: str = ""


def _check_out_dir(out: Path) -> Path:
    out = Path(out).resolve()
    if out == NOTEBOOK_DIR.resolve() or NOTEBOOK_DIR.resolve() in out.parents:
        raise GanutilsError(f"--out {out} is inside notebooks/: executed notebooks never overwrite the sources; pick another folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Diverged)\b", line):
            return line[:500]
    return lines[-1][:500] if lines else "no output"


def execute(path: Path, out: Path, params: dict, profile: str, timeout: int) -> RunResult:
    """Run one notebook with papermill in a child process; kill its whole process group on timeout."""
    name = run_name(path, params)
    output = out / f"{name}.ipynb"
    metrics_file = out / "metrics" / f"{name}.json"
    metrics_file.parent.mkdir(exist_ok=True)
    metrics_file.unlink(missing_ok=True)
    log_file = out / "logs" / f"{name}.log"
    log_file.parent.mkdir(exist_ok=True)
    all_params = {"profile": profile, **params}
    cmd = [
        sys.executable, "-m", "papermill", str(path), str(output),
        "-y", yaml.safe_dump(all_params), "-k", "python3", "--cwd", str(out),
        "--execution-timeout", str(timeout), "--start-timeout", "120", "--no-progress-bar",
    ]
    env = dict(os.environ, **{METRICS_ENV: str(metrics_file), RUN_DIR_ENV: str(out), "GANUTILS_PROFILE": profile,
                              "GANUTILS_PROGRESS": "0", "GANUTILS_STATIC": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # the kernel is this environment's
    tic = time.perf_counter()
    with open(log_file, "w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=out, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = "ok" if proc.wait(timeout=timeout + 60) == 0 else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = "timeout"
    seconds = time.perf_counter() - tic
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    error = ""
    if status == "timeout":
        error = f"{path.stem} did not finish within {timeout} s (a hung kernel?); raise --timeout if it is just slow"
    elif status == "failed":
        error = f"{path.stem}: {_last_error_line(log_file.read_text(errors='replace'))} (full log: {log_file})"
    return RunResult(path.stem, name, params, profile, status, round(seconds, 1), output.name, metrics, error, str(log_file))


def run(keys: list[str], *, out, profile: str | None = None, params: list[str] | None = None,
        timeout: int | None = None, title: str = "run") -> list[RunResult]:
    """Execute notebooks (all combinations of ``params`` for each), then write metrics.json and summary.md."""
    profile = resolve_profile(profile)
    timeout = check_positive_int("timeout", timeout or DEFAULT_TIMEOUT[profile])
    paths = [find_notebook(k) for k in keys]
    sweep = expand_sweep(params or [])
    for path in paths:
        for p in sweep:
            check_params(path, p)
    out = _check_out_dir(out)
    jobs = [(path, p) for path in paths for p in sweep]
    started = datetime.now().isoformat(timespec="seconds")
    machine = {"cpus": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2)}  # wall times depend on both
    results = []
    print(f"ganutils {title}: {len(jobs)} notebook run(s), profile {profile}, output in {out}", flush=True)
    for i, (path, p) in enumerate(jobs, 1):
        label = run_name(path, p)
        print(f"[{i}/{len(jobs)}] {label} ...", end=" ", flush=True)
        result = execute(path, out, p, profile, timeout)
        results.append(result)
        print(f"{result.status} in {result.seconds:.0f} s, {len(flatten(result.metrics))} metric(s)", flush=True)
        if result.error:
            print(f"    {result.error}", flush=True)
        machine["load_average_at_end"] = round(os.getloadavg()[0], 2)
        write_reports(out, results, profile, started, machine)
    print(f"summary: {out / 'summary.md'}", flush=True)
    return results


def run_course(*, out=None, profile: str | None = None, only: list[str] | None = None, timeout: int | None = None):
    """Every notebook (or ``only`` these) into ``runs/<timestamp>/``, with ``runs/latest`` pointing at it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out else RUNS_DIR / stamp
    keys = only or [p.stem for p in list_notebooks()]
    results = run(keys, out=out, profile=profile, timeout=timeout, title="course")
    if out.resolve().parent == RUNS_DIR.resolve():
        latest = RUNS_DIR / "latest"
        if latest.is_symlink():
            latest.unlink()
        if not latest.exists():
            latest.symlink_to(out.name)
    return results


# ----------------------------------------------------------------------------- reports


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value[:8]) + (", ..." if len(value) > 8 else "") + "]"
    return str(value)


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items()) or "defaults"


def write_reports(out: Path, results: list[RunResult], profile: str, started: str, machine: dict | None = None) -> None:
    """metrics.json (everything) and summary.md (one row per run, then each notebook's metrics).

    ``machine``: CPU count and load averages, kept beside the times (a busy machine inflates them).
    """
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = {"started": started, "profile": profile, "device": device, "machine": machine or {},
            "runs": [asdict(r) for r in results]}
    atomic_write_text(out / "metrics.json", json.dumps(data, indent=1))
    lines = [f"# Course run {started}", "", f"Profile `{profile}` on `{device}`. Executed notebooks are beside this file.", "",
             "| run | parameters | status | seconds | metrics |", "|---|---|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {_params_text(r.params)} | {r.status} | {r.seconds:.0f} | {len(flatten(r.metrics))} |")
    failures = [r for r in results if r.error]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {r.error}" for r in failures]
    by_notebook: dict[str, list[RunResult]] = {}
    for r in results:
        by_notebook.setdefault(r.notebook, []).append(r)
    for notebook, runs in by_notebook.items():
        flat = [flatten(r.metrics) for r in runs]
        names = list(dict.fromkeys(k for f in flat for k in f))
        if not names:
            continue
        lines += ["", f"## {notebook}", ""]
        if len(runs) == 1:
            lines += ["| metric | value |", "|---|---:|"] + [f"| {n} | {_fmt(flat[0][n])} |" for n in names]
        else:
            lines += ["| metric | " + " | ".join(_params_text(r.params) for r in runs) + " |",
                      "|---|" + "---:|" * len(runs)]
            lines += [f"| {n} | " + " | ".join(_fmt(f.get(n, "")) for f in flat) + " |" for n in names]
    atomic_write_text(out / "summary.md", "\n".join(lines) + "\n")
