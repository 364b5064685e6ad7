"""Start a command with everything it will start, and stop all of it: no orphan process left behind.

A notebook run is papermill (in a session of its own, so a terminal's Ctrl-C reaches the runner
and not the kernel), the kernel papermill starts (in yet another session: jupyter_client does
that), and whatever the kernel starts (a worker pool, a ``sleep``). When a kernel dies or
papermill is killed, the kernel's children are re-parented to init: they are no longer
anybody's descendants. So each run gets a token in its environment, which every process
it starts inherits; stopping a run stops its descendants, the members of their sessions, and
every process that carries the token (found with psutil).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import psutil

TOKEN_ENV = "GANUTILS_JOB_TOKEN"

# On Linux the child asks the kernel to SIGKILL it when the thread that started it dies, so a runner
# (or a Dask worker) killed with SIGKILL takes papermill with it; the kernel then exits on its own
# (ipykernel polls its parent) and the rest of the family is found by its token the next time.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(137)  # the parent died before prctl\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def start(cmd: list[str], *, env: dict, cwd, stdout) -> tuple[subprocess.Popen, str]:
    """``cmd`` in a new session, with a fresh token in its environment; returns the process and the token."""
    token = uuid.uuid4().hex
    env = dict(env, **{TOKEN_ENV: token})
    if sys.platform.startswith("linux"):
        cmd = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd]
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    return proc, token


def family(pid: int, token: str) -> list[psutil.Process]:
    """The live processes of a run: ``pid``, its descendants, their sessions' members, and the token's carriers."""
    members: dict[int, psutil.Process] = {}
    try:
        root = psutil.Process(pid)
        members[pid] = root
        members.update((p.pid, p) for p in root.children(recursive=True))
    except psutil.NoSuchProcess:
        pass
    sessions = {pid}
    for p in list(members.values()):
        try:
            sessions.add(os.getsid(p.pid))
        except OSError:
            pass
    sessions.discard(os.getsid(0))  # never this process's own session
    me = os.getpid()
    for p in psutil.process_iter():
        if p.pid in members or p.pid == me:
            continue
        try:
            if os.getsid(p.pid) in sessions or p.environ().get(TOKEN_ENV) == token:
                members[p.pid] = p
        except (psutil.Error, OSError):
            pass
    live = []
    for p in members.values():
        try:
            if p.pid != me and p.status() != psutil.STATUS_ZOMBIE:
                live.append(p)
        except psutil.Error:
            pass
    return live


def stop(proc: subprocess.Popen, token: str, grace: float = 2.0) -> int:
    """Stop ``proc`` and its whole family: SIGTERM, then SIGKILL after ``grace`` s; returns how many were stopped."""
    stopped: set[int] = set()
    for round_ in range(5):  # a process may fork while we look: look again until nothing is left
        members = family(proc.pid, token)
        if not members:
            break
        sig = signal.SIGTERM if round_ == 0 else signal.SIGKILL
        for p in members:
            try:
                p.send_signal(sig)
                stopped.add(p.pid)
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(members, timeout=grace if round_ == 0 else 1.0)
        for p in alive:
            try:
                p.kill()
            except psutil.Error:
                pass
        if proc.poll() is None:
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    return len(stopped)
