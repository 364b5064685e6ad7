"""Where notebook runs execute: here one after another, in N local jobs at once, or on a Dask cluster.

Every run is an independent job (a ``Job``: the notebook's text and its parameters) that
``execute_job`` turns into an ``Outcome`` (status, metrics, the executed notebook) wherever it
runs, so the files a sweep leaves behind do not depend on what executed it. The runner submits
jobs to an executor and writes each outcome into ``--out`` as it arrives.

- ``LocalExecutor(jobs)``: ``jobs`` papermill processes at once on this machine; each kernel gets
  ``cores // jobs`` threads (``OMP_NUM_THREADS`` and ``GANUTILS_THREADS`` in its environment) and,
  on a machine with GPUs, one of them (``CUDA_VISIBLE_DEVICES``, round-robin).
- ``DaskExecutor(address)``: jobs go to the workers of a running Dask scheduler
  (``dask``/``distributed`` are an optional extra, imported only here). A worker that sees
  ``--out`` (shared storage) writes into it; one that does not executes in a temporary folder
  and sends the executed notebook, its log and its metrics back.

(About 480 lines on purpose: the two executors share ``execute_job`` and the stop/retry rules, and a
reader checking that a Dask run leaves the same files as a local one reads them side by side.)
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# ----------------------------------------------------------------------------- imports from the package (one block)
from ..config import THREADS_ENV, GanutilsError, cpu_threads
from . import proctree
from .profiles import RUN_DIR_ENV
from .record import METRICS_ENV

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", THREADS_ENV)
START_SECONDS = 120  # a kernel's start-up, on top of --timeout (a busy machine needs some)
# A kernel that cannot bind the port jupyter_client picked for it (another kernel, started at the same moment by a
# parallel job, took it) dies at once, and papermill would wait --start-timeout for it: start it again instead.
KERNEL_START_FAILURES = (b"ZMQError: Address already in use", b"Kernel died before replying to kernel_info")
KERNEL_START_ATTEMPTS = 3
DASK_PINS = "dask==2026.8.0 distributed==2026.8.0"


@dataclass(frozen=True)
class Job:
    """One notebook run, complete enough to execute on another machine."""

    index: int  # 1-based position in the sweep
    total: int
    notebook: str  # the notebook's stem
    name: str  # the run's name: its files in --out are NAME.ipynb, logs/NAME.log, metrics/NAME.json
    path: str  # the notebook on the submitting machine
    source: str  # its text, for a worker that cannot read ``path``
    params: dict  # papermill parameters, profile included
    given: dict  # the parameters as given with -p (what the reports show)
    profile: str
    timeout: int  # seconds for the whole notebook
    key: str  # hash of the notebook's content, the parameters and the profile: a run with the same key is done


@dataclass
class Outcome:
    status: str  # ok | failed | timeout | interrupted
    seconds: float
    error: str = ""  # one line, without the log's path (the runner adds where the log is)
    metrics: dict = field(default_factory=dict)
    worker: str = "local"
    threads: int = 0
    notebook: bytes | None = None  # sent back by a worker that does not share --out
    log: bytes | None = None


# ----------------------------------------------------------------------------- one job, wherever it runs


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Diverged)\b", line):
            return line[:500]
    return lines[-1][:500] if lines else "no output"


def _input_notebook(job: Job, scratch: Path) -> str:
    """The notebook's own file when it is here with the same text, else a copy of the job's text."""
    path = Path(job.path)
    try:
        if path.read_text(encoding="utf-8") == job.source:
            return str(path)
    except (OSError, UnicodeDecodeError):
        pass
    copy = scratch / path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(job.source, encoding="utf-8")
    return str(copy)


def _restore_input_path(notebook: Path, path: str) -> None:
    """An executed copy says it was made from the notebook itself (papermill records the copy's path)."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        nb["metadata"]["papermill"]["input_path"] = path
    except (OSError, ValueError, KeyError, TypeError):
        return
    tmp = notebook.with_name(f".{notebook.name}.tmp")
    tmp.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, notebook)


def _kernel_did_not_start(log_file: Path, offset: int) -> bool:
    """The log written since ``offset`` says the kernel died while starting."""
    try:
        with open(log_file, "rb") as f:
            f.seek(offset)
            text = f.read(200_000)
    except OSError:
        return False
    return any(sign in text for sign in KERNEL_START_FAILURES)


def _papermill(cmd, env, out: Path, log_file: Path, job: Job, stop, since: float, first: bool) -> str:
    """One papermill process, watched twice a second: ok | failed | timeout | interrupted | no kernel."""
    status = None
    with open(log_file, "wb" if first else "ab") as log:
        offset = log.tell()
        proc, token = proctree.start(cmd, env=env, cwd=out, stdout=log)
        try:
            polls = 0
            while status is None:
                try:
                    code = proc.wait(timeout=0.5)
                    status = "ok" if code == 0 else "failed"
                except subprocess.TimeoutExpired:  # still running
                    polls += 1
                    if time.monotonic() - since > job.timeout + START_SECONDS:
                        status = "timeout"
                    elif stop is not None and stop():
                        status = "interrupted"
                    elif polls % 4 == 0 and _kernel_did_not_start(log_file, offset):
                        status = "no kernel"  # papermill would wait --start-timeout for a kernel that is gone
        finally:
            proctree.stop(proc, token)  # also after success: a notebook's stray background process dies with it
    if status == "failed" and _kernel_did_not_start(log_file, offset):
        status = "no kernel"
    return status


def execute_job(job: Job, out: Path, env_extra: dict, *, stop=None, worker: str = "local") -> Outcome:
    """Run one notebook with papermill in its own session; whatever happens, stop everything it started.

    ``out`` receives NAME.ipynb, metrics/NAME.json and logs/NAME.log; the kernel's working folder
    (its run folder) is ``out``. ``stop()`` is polled twice a second: True stops the run
    ("interrupted"). The notebook gets ``job.timeout`` seconds (each cell as much), plus up to
    ``START_SECONDS`` for its kernel to start.
    """
    out = Path(out)
    metrics_file = out / "metrics" / f"{job.name}.json"
    log_file = out / "logs" / f"{job.name}.log"
    for folder in (metrics_file.parent, log_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
    metrics_file.unlink(missing_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ganutils-job-"))
    source = _input_notebook(job, scratch)
    cmd = [
        sys.executable, "-m", "papermill", source, f"{job.name}.ipynb",
        "-y", yaml.safe_dump(job.params), "-k", "python3", "--cwd", ".",
        "--execution-timeout", str(job.timeout), "--start-timeout", str(START_SECONDS), "--no-progress-bar",
    ]
    env = dict(os.environ, **{METRICS_ENV: str(metrics_file), RUN_DIR_ENV: str(out), "GANUTILS_PROFILE": job.profile,
                              "GANUTILS_PROGRESS": "0", "GANUTILS_STATIC": "1",
                              "MPLBACKEND": "module://matplotlib_inline.backend_inline"}, **env_extra)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # the kernel is this environment's
    tic = time.monotonic()
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            status = _papermill(cmd, env, out, log_file, job, stop, since=time.monotonic(), first=attempt == 1)
            if status != "no kernel":
                break
            with open(log_file, "ab") as log:  # two kernels that picked the same free port at once: start again
                log.write(f"\n[ganutils] the kernel did not start (attempt {attempt}); starting it again\n".encode())
        if status == "no kernel":
            status = "failed"
        if source != job.path:
            _restore_input_path(out / f"{job.name}.ipynb", job.path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = round(time.monotonic() - tic, 1)
    log_text = log_file.read_text(errors="replace")
    if status == "failed" and ("CellTimeoutError" in log_text or "Cell execution timed out" in log_text):
        status = "timeout"
    error = ""
    if status == "timeout":
        error = f"{job.notebook} did not finish within {job.timeout} s (a hung kernel?); raise --timeout if it is just slow"
    elif status == "failed":
        error = f"{job.notebook}: {_last_error_line(log_text)}"
    elif status == "interrupted":
        error = f"{job.notebook} was stopped (interrupted); rerun the same command to run it"
    try:
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    except json.JSONDecodeError:
        metrics = {}
    threads = int(env_extra.get(THREADS_ENV, 0) or 0)
    return Outcome(status, seconds, error, metrics, worker, threads)


# ----------------------------------------------------------------------------- local jobs


def local_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    return cpu_threads()


def local_gpus() -> list[str]:
    """The GPUs a job may be pinned to: $CUDA_VISIBLE_DEVICES's list when set, else every CUDA device."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    except Exception:  # a broken CUDA set-up: run on CPU threads
        return []


def check_jobs(jobs, cores: int, gpus: list[str], per_gpu=1, warn: bool = True) -> int:
    """``--jobs`` checked: a positive number; more than the cores warns; more than the GPUs allow is an error."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GanutilsError(f"--jobs must be a whole number >= 1, got {jobs!r}: e.g. --jobs {max(1, cores)} "
                            f"(this machine has {cores} core(s))")
    if isinstance(per_gpu, bool) or not isinstance(per_gpu, int) or per_gpu < 1:
        raise GanutilsError(f"--jobs-per-gpu must be a whole number >= 1, got {per_gpu!r}: e.g. --jobs-per-gpu 2")
    if gpus and jobs > len(gpus) * per_gpu:
        raise GanutilsError(
            f"--jobs {jobs} on {len(gpus)} GPU(s) puts up to {-(-jobs // len(gpus))} jobs on one GPU: pass "
            f"--jobs-per-gpu {-(-jobs // len(gpus))} to allow that, or --jobs {len(gpus) * per_gpu}")
    if jobs > cores and warn:
        print(f"warning: --jobs {jobs} is more jobs than this machine's {cores} core(s): each kernel gets 1 thread "
              "and they share the cores; going on", file=sys.stderr, flush=True)
    return jobs


def slot_environment(slot: int, *, jobs: int, cores: int, gpus: list[str]) -> dict:
    """What the kernel of local job ``slot`` (0-based) of ``jobs`` gets: cores // jobs threads, one GPU round-robin."""
    threads = str(max(1, cores // jobs))
    env = {name: threads for name in THREAD_VARS}
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    return env


class LocalExecutor:
    """``jobs`` notebook runs at once on this machine, each a papermill process watched by a thread."""

    def __init__(self, jobs: int = 1, *, per_gpu: int = 1, on_start=None):
        self.cores, self.gpus = local_cores(), local_gpus()
        self.jobs = check_jobs(jobs, self.cores, self.gpus, per_gpu)
        self.on_start = on_start
        self._stop = threading.Event()
        self._slots: queue.Queue = queue.Queue()
        for slot in range(self.jobs):
            self._slots.put(slot)
        self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="ganutils-job")

    @property
    def description(self) -> str:
        threads = max(1, self.cores // self.jobs)
        text = f"{self.jobs} local job(s) at once, {threads} thread(s) each"
        return text + (f", GPUs {','.join(self.gpus)} round-robin" if self.gpus else "")

    def submit(self, job: Job, out: Path) -> Future:
        return self._pool.submit(self._run, job, out)

    def _run(self, job: Job, out: Path) -> Outcome:
        slot = self._slots.get()
        try:
            if self._stop.is_set():
                return Outcome("interrupted", 0.0, f"{job.notebook} was not started (interrupted)")
            worker = f"local job {slot + 1}" + (f" (GPU {self.gpus[slot % len(self.gpus)]})" if self.gpus else "")
            if self.on_start:
                self.on_start(job, worker)
            env = slot_environment(slot, jobs=self.jobs, cores=self.cores, gpus=self.gpus)
            return execute_job(job, out, env, stop=self._stop.is_set, worker=worker)
        finally:
            self._slots.put(slot)

    def interrupt(self) -> None:
        """Stop every running job (their threads stop their process families) and start no other."""
        self._stop.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- Dask


def import_distributed():
    """``distributed``, or one line saying how to install the optional extra."""
    try:
        import distributed
    except ImportError as err:
        raise GanutilsError(f"--dask needs Dask's distributed package, which is not installed ({err}): "
                            f"pip install {DASK_PINS}   (or pip install -e '.[dask]')") from None
    return distributed


def _start_event(worker, job: Job, sweep: str) -> None:
    worker.log_event("ganutils-job-start", {"sweep": sweep, "name": job.name, "worker": worker.address})


def run_on_worker(job: Job, out: str, sweep: str, threads_by_host: dict, stop_event: str) -> Outcome:
    """The task a Dask worker executes: ``execute_job`` into --out when this worker sees it, else into a
    temporary folder whose executed notebook, log and metrics go back to the client."""
    from distributed import Event, get_worker

    worker = get_worker()
    _start_event(worker, job, sweep)
    host = worker.address.rsplit(":", 1)[0].split("://")[-1]
    threads = threads_by_host.get(host) or max(1, local_cores() // max(1, worker.state.nthreads))
    env = {name: str(threads) for name in THREAD_VARS}
    event = Event(stop_event)
    last = [0.0, False]

    def stopped() -> bool:  # ask the scheduler at most once a second
        if time.monotonic() - last[0] > 1.0:
            last[0], last[1] = time.monotonic(), bool(event.is_set())
        return last[1]

    sentinel = Path(out) / ".ganutils" / f"dask-{sweep}"
    try:
        shared = sentinel.read_text() == sweep
    except OSError:
        shared = False
    if shared:
        return execute_job(job, Path(out), env, stop=stopped, worker=worker.address)
    with tempfile.TemporaryDirectory(prefix="ganutils-dask-") as tmp:
        outcome = execute_job(job, Path(tmp), env, stop=stopped, worker=worker.address)
        notebook = Path(tmp) / f"{job.name}.ipynb"
        outcome.notebook = notebook.read_bytes() if notebook.exists() else None
        outcome.log = (Path(tmp) / "logs" / f"{job.name}.log").read_bytes()
    return outcome


class DaskExecutor:
    """Jobs on the workers of a running Dask scheduler (``tcp://host:port`` or a scheduler file)."""

    def __init__(self, address: str, out: Path, *, on_start=None, on_retry=None, connect_timeout: float = 10.0):
        distributed = import_distributed()
        self.address, self.out, self.on_start, self.on_retry = str(address), Path(out), on_start, on_retry
        self.sweep = uuid.uuid4().hex
        self._client = self._connect(distributed, connect_timeout)
        try:
            self._client.wait_for_workers(1, timeout=60)
        except Exception:
            self._client.close()
            raise GanutilsError(f"the Dask scheduler at {self.address} has no worker: start one with "
                                f"`dask worker {self._client_address()}` (on every machine that should run notebooks)") from None
        info = self._client.scheduler_info(n_workers=-1)["workers"]
        cores = self._client.run(local_cores)
        by_host: dict[str, list[int]] = {}
        for address, w in info.items():
            host = address.rsplit(":", 1)[0].split("://")[-1]
            by_host.setdefault(host, [0, 0])
            by_host[host][0] += w.get("nthreads", 1)
            by_host[host][1] = max(by_host[host][1], cores.get(address, 1))
        self.threads_by_host = {h: max(1, c // max(1, n)) for h, (n, c) in by_host.items()}
        self.n_workers, self.n_threads = len(info), sum(w.get("nthreads", 1) for w in info.values())
        # A worker that finds this file, with this content, sees --out: it writes there. Others send results back.
        # GANUTILS_DASK_SHARED=0 makes every worker send them back (when --out's path exists elsewhere too, say).
        sentinel = self.out / ".ganutils" / f"dask-{self.sweep}"
        sentinel.parent.mkdir(parents=True, exist_ok=True)
        if os.environ.get("GANUTILS_DASK_SHARED", "1").strip().lower() not in ("0", "false", "no"):
            sentinel.write_text(self.sweep)
        self._sentinel = sentinel
        self._stop = distributed.Event(f"ganutils-stop-{self.sweep}", client=self._client)
        self._starts: dict[str, list[str]] = {}
        self._futures: dict[str, object] = {}
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._client.subscribe_topic("ganutils-job-start", self._started)

    def _connect(self, distributed, timeout: float):
        address = self.address
        how = ("start one with `dask scheduler` (it prints its address, tcp://HOST:8786) and workers with "
               "`dask worker tcp://HOST:8786`, then pass that address to --dask")
        try:
            if "://" in address or re.fullmatch(r"[\w.-]+:\d+", address):
                return distributed.Client(address, timeout=f"{timeout}s", set_as_default=False)
            if not Path(address).is_file():
                raise GanutilsError(f"--dask {address}: no such scheduler file and not an address like tcp://HOST:8786; "
                                    f"start a scheduler with `dask scheduler --scheduler-file {address}`")
            return distributed.Client(scheduler_file=address, timeout=f"{timeout}s", set_as_default=False)
        except GanutilsError:
            raise
        except (OSError, TimeoutError, ValueError) as err:
            raise GanutilsError(f"no Dask scheduler answers at {address} ({type(err).__name__}): {how}") from None

    def _client_address(self) -> str:
        try:
            return self._client.scheduler.address
        except Exception:
            return self.address

    @property
    def description(self) -> str:
        return (f"Dask scheduler {self._client_address()}: {self.n_workers} worker(s), {self.n_threads} job(s) at once; "
                "each worker writes into --out when it sees it, else sends the results back")

    def _started(self, event) -> None:
        _, msg = event
        if msg.get("sweep") != self.sweep:
            return
        with self._lock:
            starts = self._starts.setdefault(msg["name"], [])
            starts.append(msg["worker"])
            n = len(starts)
        job = self._jobs.get(msg["name"])
        if job is None:
            return
        if n == 1 and self.on_start:
            self.on_start(job, msg["worker"])
        elif n == 2 and self.on_retry:
            self.on_retry(job, f"worker {starts[0]} died mid-run; retrying once on {msg['worker']}")
        elif n >= 3:  # the retry's worker died too: report it failed rather than let the scheduler try again
            future = self._futures.get(msg["name"])
            if future is not None:
                future.cancel()

    def submit(self, job: Job, out: Path) -> Future:
        self._jobs[job.name] = job
        done: Future = Future()
        future = self._client.submit(run_on_worker, job, str(out), self.sweep, self.threads_by_host,
                                     f"ganutils-stop-{self.sweep}", key=f"ganutils-{job.name}-{self.sweep}",
                                     pure=False, priority=-job.index, retries=0)
        self._futures[job.name] = future

        def finished(f) -> None:
            try:
                done.set_result(f.result())
            except BaseException as err:  # a cancelled task, a killed worker: the run failed, the sweep goes on
                workers = ", ".join(self._starts.get(job.name, [])) or "a worker"
                why = "was stopped" if self._stop_set else f"failed on {workers}: {type(err).__name__}: {err}"
                if not self._stop_set and len(self._starts.get(job.name, [])) >= 2:
                    why = f"lost its worker twice ({workers} died mid-run; retried once)"
                done.set_result(Outcome("interrupted" if self._stop_set else "failed", 0.0, f"{job.notebook} {why}",
                                        worker=workers))

        future.add_done_callback(finished)
        return done

    _stop_set = False

    def interrupt(self) -> None:
        self._stop_set = True
        try:
            self._stop.set()
        except Exception:
            pass

    def close(self) -> None:
        try:
            if self._stop_set:
                time.sleep(0.1)
            pending = [f for f in self._futures.values() if not f.done()]
            if pending and self._stop_set:
                deadline = time.monotonic() + 15  # the workers poll the stop event once a second
                while time.monotonic() < deadline and any(not f.done() for f in pending):
                    time.sleep(0.2)
                self._client.cancel(pending)
        finally:
            self._sentinel.unlink(missing_ok=True)
            self._client.close()
