"""The course runner: execute notebooks with papermill, collect their metrics, write a summary.

Every notebook run (one notebook with one set of parameters) is an independent job, executed
here one after another (the default), in ``--jobs N`` local processes at once, or on a Dask
cluster (``--dask ADDRESS``); see ``executors``. Whatever executed it, a run leaves the same
files in ``--out``: NAME.ipynb (the executed notebook), metrics/NAME.json, logs/NAME.log and
records/NAME.json (status, parameters, metrics: what the reports are built from; ``records``), and
metrics.json + summary.md rebuilt from them (``reports``).

A sweep resumes: the same command with the same ``--out`` skips every run that already
finished ``ok`` with the same notebook text, parameters and profile, and executes the failed,
timed-out, stopped and missing ones. ``metrics.json`` and ``summary.md`` are rebuilt from all the
records in ``--out`` (earlier sweeps into the same folder included) after every finished run,
atomically. Ctrl-C or SIGTERM stops every running notebook with everything it started.

(About 550 lines on purpose: planning a sweep, deciding what is done and reacting to a stop read as one story;
the records and the reports live in ``records`` and ``reports``, the executors in ``executors``.)
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import itertools
import json
import os
import re
import signal
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, wait
from datetime import datetime
from pathlib import Path

# ----------------------------------------------------------------------------- imports from the package (one block)
from ..config import GanutilsError, checkout_dir
from ..io import atomic_write_bytes, atomic_write_json
from . import executors
from .executors import Job, Outcome
from .profiles import resolve_profile
from .record import flatten
from .records import RunResult, _claim, load_records, save_record
from .reports import _has_cuda, update_reports, write_reports  # noqa: F401  (write_reports: runner's public API)

REPO_DIR = checkout_dir()  # None for an installed wheel: the notebooks live in the course's repository
NOTEBOOK_DIR = REPO_DIR / "notebooks" if REPO_DIR is not None else None
RUNS_DIR = REPO_DIR / "runs" if REPO_DIR is not None else None
DEFAULT_TIMEOUT = {"smoke": 600, "quick": 1800, "full": 4 * 3600}  # seconds per notebook


class RunInterrupted(Exception):
    """Ctrl-C (SIGINT) or SIGTERM stopped a run; ``code`` is the exit status a shell expects (130 or 143)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------------- finding notebooks


def _require_checkout() -> None:
    if NOTEBOOK_DIR is None:
        raise GanutilsError("the runner executes the course's notebooks, which are not part of the installed package: "
                            "run it from a clone of the course repository")


def list_notebooks() -> list[Path]:
    """The course in reading order: ``notebooks/NN_name.ipynb``."""
    _require_checkout()
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def read_notebook(path: Path) -> dict:
    """A notebook's JSON, or one line saying it is not one (a merge conflict left in it, say)."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise GanutilsError(f"{path.name} is not valid notebook JSON ({err.msg} at line {err.lineno}; a merge conflict?): "
                            "rebuild it from its text twin with `python tools/nb.py sync`") from None
    except (OSError, UnicodeDecodeError) as err:
        raise GanutilsError(f"cannot read notebook {path}: {err}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise GanutilsError(f"{path.name} is JSON but not a notebook (no list of cells): rebuild it with `python tools/nb.py sync`")
    return nb


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook."""
    for cell in read_notebook(path)["cells"]:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return Path(path).stem


def find_notebook(key: str) -> Path:
    """A notebook by number ("2", "02"), stem ("02_first_gan_mnist"), part of its name, or path."""
    key = str(key).strip()
    path = Path(key)
    if path.suffix == ".ipynb" and path.exists():
        return path.resolve()
    notebooks = list_notebooks()
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
    for cell in read_notebook(path)["cells"]:
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            params = {}
            try:
                body = ast.parse("".join(cell.get("source", ""))).body
            except SyntaxError as err:
                raise GanutilsError(f"{Path(path).name}: its parameters cell is not valid Python ({err.msg})") from None
            for node in body:
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
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _same_value(a, b) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


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
    for i, v in enumerate(values):
        if any(_same_value(v, w) for w in values[:i]):
            raise GanutilsError(f"parameter {text!r}: the value {v!r} is given twice (it would run twice): give it once")
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


def _kind(default) -> str | None:
    """What a parameter whose default is ``default`` takes, when a string cannot be it; None when anything goes."""
    if isinstance(default, bool):
        return "True or False"
    if isinstance(default, (int, float)):
        return "a number"
    if isinstance(default, (tuple, list)):
        return "a tuple or list like its default"
    return None


def check_params(path: Path, params: dict) -> None:
    """Every parameter exists in the notebook, and a text value is not given where the default is a number."""
    known = notebook_parameters(path)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise GanutilsError(
            f"{Path(path).stem} has no parameter {', '.join(map(repr, unknown))}; its parameters are: {', '.join(known)}"
        )
    for name, value in params.items():
        if not isinstance(value, str) or name == "profile":
            continue
        kind = _kind(_value(known[name]))
        if kind:
            raise GanutilsError(f"-p {name}={value}: {Path(path).stem}'s {name} takes {kind} (default {known[name]}), "
                                f"not the text {value!r}: e.g. -p {name}={known[name]}")


def run_name(path: Path, params: dict) -> str:
    """The run's file name: readable (``02_x__lr=0.0001__seed=1``) and different for different parameters.

    Parameters are sorted by name. When the readable text loses information (a value with spaces or
    slashes, the text '1' beside the number 1, a very long name), a short hash of the exact values follows.
    """
    stem = Path(path).stem
    if not params:
        return stem
    items = sorted(params.items())
    text = "__".join(f"{k}={v}" for k, v in items)
    safe = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text)
    exact = safe == text and all(
        _same_value(_value(str(v)), v) and not (isinstance(v, str) and ("=" in v or "__" in v)) for _, v in items)
    if not exact or len(safe) > 120:
        digest = hashlib.sha1(repr([(k, type(v).__name__, repr(v)) for k, v in items]).encode()).hexdigest()[:8]
        safe = f"{safe[:120]}-{digest}"
    return f"{stem}__{safe}"


def check_timeout(timeout) -> int:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != int(timeout) or timeout <= 0:
        raise GanutilsError(f"--timeout must be a positive number of seconds per notebook, got {timeout!r}: "
                            f"e.g. --timeout 900 (defaults: {', '.join(f'{k} {v} s' for k, v in DEFAULT_TIMEOUT.items())})")
    return int(timeout)


def plan(keys: list[str], *, profile: str | None = None, params: list[str] | None = None,
         timeout: int | None = None) -> list[Job]:
    """The runs of a sweep, checked before anything starts: every notebook x every combination of ``params``.

    A profile comes from ``--profile`` (else $GANUTILS_PROFILE, else the machine's default) or from
    ``-p profile=...``, which may sweep profiles; giving both is an error (which one would win?).
    """
    sweep = expand_sweep(params or [])
    if profile not in (None, "") and any("profile" in p for p in sweep):
        raise GanutilsError(f"the profile is given twice (--profile {profile} and -p profile=...): give it once")
    if timeout is not None:
        timeout = check_timeout(timeout)
    paths = list(dict.fromkeys(find_notebook(k) for k in keys))
    runs = []
    for path in paths:
        read_notebook(path)
        for p in sweep:
            check_params(path, p)
            runs.append(_job_fields(path, p, profile, timeout))
    return [Job(index=i, total=len(runs), **r) for i, r in enumerate(runs, 1)]


def _job_fields(path: Path, given: dict, profile: str | None, timeout: int | None) -> dict:
    source = Path(path).read_text(encoding="utf-8")
    run_profile = resolve_profile(given.get("profile", profile))
    user = {k: v for k, v in given.items() if k != "profile"}
    key = hashlib.sha256(json.dumps(
        {"notebook": hashlib.sha256(source.encode()).hexdigest(), "profile": run_profile,
         "params": sorted((k, repr(v)) for k, v in user.items())}).encode()).hexdigest()[:16]
    return dict(notebook=Path(path).stem, name=run_name(path, given), path=str(path), source=source,
                params={"profile": run_profile, **user}, given=dict(given), profile=run_profile,
                timeout=timeout or DEFAULT_TIMEOUT[run_profile], key=key)


# ----------------------------------------------------------------------------- the output folder and its records


def check_out_dir(out) -> Path:
    """``--out`` as a folder that exists and can be written, or one line saying why not."""
    raw = os.fspath(out)
    try:
        os.fsencode(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise GanutilsError(f"--out {os.fsencode(raw)!r} has bytes that are not UTF-8 (they would break the notebooks' "
                            "and the reports' paths): pick a folder name in UTF-8") from None
    out = Path(raw).resolve()
    if NOTEBOOK_DIR is not None and (out == NOTEBOOK_DIR.resolve() or NOTEBOOK_DIR.resolve() in out.parents):
        raise GanutilsError(f"--out {out} is inside notebooks/: executed notebooks never overwrite the sources; pick another folder")
    if out.exists() and not out.is_dir():
        raise GanutilsError(f"--out {out} is a file, not a folder: pick a folder (it is created when missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".ganutils-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise GanutilsError(f"--out {out} cannot be written ({err.strerror or err}): pick a folder you can write") from None
    return out


def _is_done(out: Path, record: RunResult | None, job: Job) -> bool:
    return (record is not None and record.status == "ok" and record.key == job.key
            and (out / record.output).is_file())


# ----------------------------------------------------------------------------- executing


def check_executor(*, jobs: int = 1, jobs_per_gpu: int = 1, dask: str | None = None) -> None:
    """The executor's options checked before anything is written (the executor itself starts only when needed)."""
    if dask:
        if jobs != 1:
            raise GanutilsError("--jobs and --dask do not mix: the Dask workers decide how many runs go at once")
        executors.import_distributed()
    else:
        executors.check_jobs(jobs, executors.local_cores(), executors.local_gpus(), jobs_per_gpu, warn=False)


def make_executor(*, jobs: int = 1, jobs_per_gpu: int = 1, dask: str | None = None, out: Path, on_start=None,
                  on_retry=None):
    """The executor seam: where the jobs of a sweep run."""
    if dask:
        return executors.DaskExecutor(dask, out, on_start=on_start, on_retry=on_retry)
    return executors.LocalExecutor(jobs, per_gpu=jobs_per_gpu, on_start=on_start)


@contextlib.contextmanager
def _stop_signals():
    """SIGTERM stops a run like Ctrl-C does (in the main thread; elsewhere the caller's handlers stay)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Terminated(KeyboardInterrupt):
    pass


def _say(text: str) -> None:
    print(text, flush=True)


def run(keys: list[str], *, out, profile: str | None = None, params: list[str] | None = None,
        timeout: int | None = None, title: str = "run", jobs: int = 1, jobs_per_gpu: int = 1,
        dask: str | None = None) -> list[RunResult]:
    """Execute notebooks (all combinations of ``params`` for each), skipping the runs already done in ``out``."""
    sweep = plan(keys, profile=profile, params=params, timeout=timeout)
    check_executor(jobs=jobs, jobs_per_gpu=jobs_per_gpu, dask=dask)
    out = check_out_dir(out)
    if not dask and any(job.profile == "full" for job in sweep) and not _has_cuda():
        print(f"warning: profile full on a machine without CUDA: each notebook may run on the CPU for up to its "
              f"{max(j.timeout for j in sweep)} s timeout; use --profile quick for a CPU run", file=sys.stderr, flush=True)
    started = datetime.now().isoformat(timespec="seconds")
    records = load_records(out)
    results: dict[str, RunResult] = {}
    todo, claims, executor = [], [], None
    _say(f"ganutils {title}: {len(sweep)} notebook run(s), output in {out}")
    try:
        for job in sweep:
            old = records.get(job.name)
            if _is_done(out, old, job):
                _say(f"[{job.index}/{job.total}] {job.name} skipped (done)")
                results[job.name] = old
                continue
            claim = _claim(out, job.name)
            if claim is None:
                _say(f"[{job.index}/{job.total}] {job.name} skipped (another runner is executing it into this folder)")
                results[job.name] = old or _pending(job, [started, job.index])
                continue
            claims.append(claim)
            results[job.name] = _pending(job, old.order if old and old.order else [started, job.index])
            todo.append(job)
        if todo:  # connect (to a Dask scheduler, say) before the records say "pending"
            executor = make_executor(out=out, jobs=jobs, jobs_per_gpu=jobs_per_gpu, dask=dask,
                                     **_callbacks(out, results, parallel=bool(dask) or jobs > 1))
            for job in todo:
                save_record(out, results[job.name])
        update_reports(out)
        if executor is not None:
            _execute(executor, todo, out, results)
        update_reports(out, plots=True)
    finally:
        if executor is not None:
            executor.close()
        for claim in claims:
            claim.close()
    _say(f"summary: {out / 'summary.md'}")
    return [results[job.name] for job in sweep]


def _pending(job: Job, order: list) -> RunResult:
    return RunResult(job.notebook, job.name, dict(job.given), job.profile, "pending", 0.0, f"{job.name}.ipynb",
                     key=job.key, timeout=job.timeout, order=list(order))


def _callbacks(out: Path, results: dict, parallel: bool) -> dict:
    """What the executor calls when a job starts on a worker, or is retried after its worker died."""

    def on_start(job: Job, worker: str) -> None:
        r = results[job.name]
        r.status, r.worker = "running", worker
        save_record(out, r)
        _say(f"[{job.index}/{job.total}] {job.name} started on {worker}" if parallel else
             f"[{job.index}/{job.total}] {job.name} ...")

    def on_retry(job: Job, why: str) -> None:
        _say(f"[{job.index}/{job.total}] {job.name}: {why}")

    return dict(on_start=on_start, on_retry=on_retry)


def _execute(executor, todo: list[Job], out: Path, results: dict) -> None:
    """Submit every job, write each outcome as it arrives; Ctrl-C/SIGTERM stop them all (RunInterrupted)."""
    _say(f"executing {len(todo)} run(s) on {executor.description}")
    futures = {}
    with _stop_signals():
        try:
            futures = {executor.submit(job, out): job for job in todo}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for f in done:
                    _finish(out, futures[f], f.result(), results)
        except KeyboardInterrupt as stop:
            code = 143 if isinstance(stop, _Terminated) else 130
            _interrupted(executor, futures, out, results)
            raise RunInterrupted(
                f"interrupted ({'SIGTERM' if code == 143 else 'Ctrl-C'}): every running notebook was stopped with "
                f"the processes it started; rerun the same command to resume ({out / 'summary.md'})", code) from None


def _interrupted(executor, futures: dict, out: Path, results: dict) -> None:
    """Stop every job (a second Ctrl-C must not interrupt the stopping), record what each was doing."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        executor.interrupt()
        left = [f for f, job in futures.items() if results[job.name].status in ("pending", "running")]
        done, _ = wait(left, timeout=60)
        for f in left:
            job = futures[f]
            outcome = f.result() if f in done and not f.cancelled() and f.exception() is None else None
            if outcome is None or (outcome.status == "interrupted" and outcome.seconds == 0):
                if results[job.name].status != "running":
                    continue  # never started: it stays pending
                outcome = Outcome("interrupted", 0.0, f"{job.notebook} was stopped (interrupted)")
            _finish(out, job, outcome, results)
        update_reports(out, plots=True)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _finish(out: Path, job: Job, outcome: Outcome, results: dict) -> None:
    """Write what a job sent back, record it, rebuild the reports, say it in one line (two on failure)."""
    if outcome.notebook is not None:
        atomic_write_bytes(out / f"{job.name}.ipynb", outcome.notebook)
    if outcome.log is not None:
        (out / "logs").mkdir(exist_ok=True)
        atomic_write_bytes(out / "logs" / f"{job.name}.log", outcome.log)
    if outcome.notebook is not None or outcome.log is not None:
        (out / "metrics").mkdir(exist_ok=True)
        atomic_write_json(out / "metrics" / f"{job.name}.json", outcome.metrics, indent=1, sort_keys=True)
    error = outcome.error
    if outcome.status in ("failed", "timeout") and (out / "logs" / f"{job.name}.log").exists():
        error += f" (full log: {out / 'logs' / f'{job.name}.log'})"
    old = results[job.name]
    log = out / "logs" / f"{job.name}.log"
    r = RunResult(job.notebook, job.name, old.params, job.profile, outcome.status, outcome.seconds, f"{job.name}.ipynb",
                  outcome.metrics, error, job.key, job.timeout, outcome.worker, outcome.threads, old.order,
                  str(log) if log.exists() else "")
    results[job.name] = r
    save_record(out, r)
    update_reports(out)
    _say(f"[{job.index}/{job.total}] {job.name} {r.status} in {r.seconds:.0f} s, {len(flatten(r.metrics))} metric(s)")
    if r.error:
        _say(f"    {r.error}")


def execute(path: Path, out: Path, params: dict, profile: str, timeout: int) -> RunResult:
    """One notebook run, now, in this process's turn: what ``run`` does for each job (without records or reports)."""
    job = Job(index=1, total=1, **_job_fields(Path(path), dict(params), profile, check_timeout(timeout)))
    env = executors.slot_environment(0, jobs=1, cores=executors.local_cores(), gpus=executors.local_gpus())
    outcome = executors.execute_job(job, Path(out), env)
    log = Path(out) / "logs" / f"{job.name}.log"
    error = outcome.error + (f" (full log: {log})" if outcome.status in ("failed", "timeout") else "")
    return RunResult(job.notebook, job.name, dict(params), job.profile, outcome.status, outcome.seconds,
                     f"{job.name}.ipynb", outcome.metrics, error, job.key, job.timeout, outcome.worker, outcome.threads,
                     [], str(log))


def run_course(*, out=None, profile: str | None = None, only: list[str] | None = None, timeout: int | None = None,
               jobs: int = 1, jobs_per_gpu: int = 1, dask: str | None = None):
    """Every notebook (or ``only`` these) into ``runs/<timestamp>/``, with ``runs/latest`` pointing at it.

    ``out=runs/latest`` resumes the run that the link points at.
    """
    if only is not None and not [k for k in only if str(k).strip()]:
        raise GanutilsError("--only names no notebook: give numbers or names, comma-separated, e.g. --only 01,03")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if not out:
        _require_checkout()
    out = Path(out) if out else RUNS_DIR / stamp
    keys = [k for k in only if str(k).strip()] if only else [p.stem for p in list_notebooks()]
    try:
        results = run(keys, out=out, profile=profile, timeout=timeout, title="course", jobs=jobs,
                      jobs_per_gpu=jobs_per_gpu, dask=dask)
    except RunInterrupted:
        link_latest(out)
        raise
    link_latest(out)
    return results


def link_latest(out: Path) -> None:
    """Point ``runs/latest`` at ``out`` when ``out`` is a run folder in ``runs/`` (a real folder named latest is left alone, said once)."""
    if RUNS_DIR is None:
        return
    runs = Path(RUNS_DIR)
    target = Path(out).resolve()
    if target.parent != runs.resolve() or target.name == "latest":
        return
    latest = runs / "latest"
    if latest.exists() and not latest.is_symlink():
        print(f"warning: runs/latest is a real folder, not a link to the latest run: left as it is; rename it so that "
              f"runs/latest can point at {target.name}", file=sys.stderr, flush=True)
        return
    tmp = runs / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, latest)
