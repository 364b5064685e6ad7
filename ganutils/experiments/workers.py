"""One session-wide pool of single-threaded worker processes for independent training runs.

Several notebooks train runs that share nothing but their settings (other seeds, one trick changed,
one remedy each). On a 2-core laptop two single-threaded processes finish such a list in about half
the time of one process: the course's networks are small and gain little from a second thread.
Every run seeds its own weights, batches and noise, so its numbers do not depend on the number of
workers (up to float rounding: one thread and two threads sum in different orders).

    results = workers.map_jobs(fn, jobs, workers=2)    # [fn(job) for job in jobs], in order
    for r in workers.imap_jobs(fn, jobs, workers=2): ...  # the same, one at a time as they finish
    futures = workers.submit_jobs(fn, jobs, workers=2)  # start now, collect with f.result() later
    workers.shutdown()                                  # also registered to run at exit

``fn`` must be a module-level function of the package (a spawned worker imports it by name).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pickle
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import torch

from ..config import check_positive_int

_POOLS: dict = {}  # {workers: ProcessPoolExecutor} while a pool is alive


def pool(workers: int):
    """The session's pool of ``workers`` processes, started on first use (starting one imports torch: seconds)."""
    workers = check_positive_int("workers", workers)
    if workers not in _POOLS:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # fork is unsafe once torch has started threads
        if not _POOLS:
            atexit.register(shutdown)
        _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker)
    return _POOLS[workers]


def shutdown() -> None:
    """Stop the worker processes (also run at exit, so that none outlives its parent's teardown)."""
    while _POOLS:
        _, executor = _POOLS.popitem()
        executor.shutdown(wait=True, cancel_futures=True)


def init_worker() -> None:
    os.environ["GANUTILS_PROGRESS"] = "0"  # a worker's progress bar would land in the kernel's terminal
    torch.set_num_threads(1)
    keep_freed_memory()


def keep_freed_memory() -> None:
    """Let this process reuse freed blocks instead of handing them back to the system at once.

    glibc serves blocks over its mmap threshold (a toy step's activations are ~400 kB each) with
    fresh pages and returns them on free, so every training step page-faults its activations in
    again (~4,600 faults per vectorised unrolled step): 6-19 % of the step on a 2-core VM
    (``bench/bench_toy.py --keep-freed-memory``). A worker's peak memory stays what it was; it is
    just kept until the worker exits. No effect off glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 512 << 20)  # M_MMAP_THRESHOLD: blocks up to 512 MiB come from the heap
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of free heap


def imap_jobs(fn, jobs: list, workers: int = 1):
    """``fn(job)`` for each job, yielded in order as they finish; with ``workers`` > 1 in that many
    single-threaded processes. A caller can report each result while the rest still train."""
    workers = check_positive_int("workers", workers)
    jobs = list(jobs)
    if workers == 1 or len(jobs) <= 1:
        yield from map(fn, jobs)
        return
    try:
        for result in pool(workers).map(_run_pickled, [fn] * len(jobs), map(_dumps, jobs)):
            yield pickle.loads(result)  # here, in the caller's thread (see JobFuture)
    except BrokenProcessPool:
        _POOLS.pop(workers, None)  # a crashed worker breaks the pool: start a fresh one next time
        raise


def map_jobs(fn, jobs: list, workers: int = 1) -> list:
    """``[fn(job) for job in jobs]``; with ``workers`` > 1 in that many single-threaded processes."""
    return list(imap_jobs(fn, jobs, workers))


def submit_jobs(fn, jobs: list, workers: int = 1) -> list[Future | JobFuture]:
    """Start ``fn(job)`` for every job and return their futures, in order, without waiting.

    With ``workers`` == 1 the jobs run here, now, one after another (the futures are already done),
    so a caller reads the results the same way on every machine.
    """
    workers = check_positive_int("workers", workers)
    if workers == 1:
        done = []
        for job in jobs:
            f: Future = Future()
            f.set_result(fn(job))
            done.append(f)
        return done
    executor = pool(workers)
    return [JobFuture(executor.submit(_run_pickled, fn, _dumps(job))) for job in jobs]


def _dumps(obj) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _run_pickled(fn, job: bytes) -> bytes:
    """In a worker: the job arrives and its result leaves as pickled bytes (see ``JobFuture``)."""
    return _dumps(fn(pickle.loads(job)))


class JobFuture:
    """The future of one submitted job, whose result is unpickled in the thread that asks for it.

    ``concurrent.futures`` unpickles results in a helper thread of the kernel. After tensors were
    rebuilt there, the kernel's own OpenMP threads slept and woke at every parallel region instead
    of spinning: on a 2-core VM a two-thread DCGAN step went from ~50 to 60-80 ms, with ~285
    voluntary context switches per step instead of none, for as long as the kernel ran
    (``bench/bench_shared_cores.py``; likely libgomp throttling its spin once a second thread
    team exists, i.e. more threads than cores). So only bytes pass through the helper threads.
    """

    def __init__(self, future: Future):
        self.future = future
        self._result = None
        self._loaded = False

    def done(self) -> bool:
        return self.future.done()

    def result(self, timeout: float | None = None):
        if not self._loaded:
            self._result, self._loaded = pickle.loads(self.future.result(timeout)), True
        return self._result
