"""Sweeps that scale (issue 16): executors (--jobs, --dask), resuming, stopping, and the runner's bad-input defects.

The notebooks these tests run are tiny ones the tests write (a kernel start and a few lines of
Python, no torch), so a run costs the kernel's start-up only; every test that starts kernels
checks, through an environment mark the kernels inherit, that none of their processes survive.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import nbformat
import psutil
import pytest

from ganutils.__main__ import main
from ganutils.config import GanutilsError, checkout_dir, cpu_threads
from ganutils.course import executors, runner

REPO_DIR = checkout_dir()

MARK = "GANUTILS_TEST_MARK"
PARAMS = "profile = None\nseed = 0\nlr = 0.1\nlabel = 'a'"
# Publishes metrics the way gu.record does (one JSON file named by $GANUTILS_METRICS_FILE) without importing torch.
RECORDS = """\
import json, os, random
rng = random.Random(seed)
metrics = {"mean": sum(rng.random() for _ in range(1000)) / 1000 * lr, "seed_squared": seed * seed,
           "label": label, "profile": profile, "threads": os.environ.get("OMP_NUM_THREADS")}
if os.environ.get("GANUTILS_METRICS_FILE"):
    with open(os.environ["GANUTILS_METRICS_FILE"], "w") as f:
        json.dump(metrics, f)
print(metrics)
"""
# Starts a child process of the kernel in a session of its own (as a server started from a cell does, out of
# reach of the kernel's process group), then never finishes.
HANGS = """\
import os, subprocess, time
child = subprocess.Popen(["sleep", "600"], start_new_session=True)
open(os.path.join(os.environ["GANUTILS_RUN_DIR"], "child-started"), "w").close()
time.sleep(600)
"""
# Starts a child, then the kernel dies (as under the OOM killer).
DIES = """\
import os, signal, subprocess
child = subprocess.Popen(["sleep", "600"])
os.kill(os.getpid(), signal.SIGKILL)
"""


# The first time it runs, it kills the Dask worker that executes it (the kernel's grandparent: worker -> papermill -> kernel).
KILLS_ITS_WORKER = """\
import os, signal, psutil
flag = {flag!r}
if not os.path.exists(flag):
    open(flag, "w").close()
    os.kill(psutil.Process(os.getppid()).ppid(), signal.SIGKILL)
"""


# The first time, says on the kernel's stderr what a kernel that lost its port to another says, and hangs.
LOSES_ITS_PORT = """\
import os, time
flag = os.path.join(os.environ["GANUTILS_RUN_DIR"], "lost-port")
if not os.path.exists(flag):
    open(flag, "w").close()
    os.write(2, b"zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:38841')\\n")
    time.sleep(600)
"""


def write_notebook(path, code=RECORDS, params=PARAMS):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"),
                nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cli(*args, mark=None, timeout=300, env_extra=None, **kwargs):
    env = dict(os.environ, **({MARK: mark} if mark else {}), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "ganutils", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_DIR, env=env, **kwargs)


def cli_main(capsys, *args):
    """``python -m ganutils ARGS`` in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def marked_processes(mark):
    """Processes that inherited the environment mark: papermill, the kernel and the kernel's children."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARK) == mark:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def wait_until_gone(mark, seconds=10.0):
    deadline = time.monotonic() + seconds
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    names = []
    for proc in left:  # don't leave them to the next test
        try:
            names.append(" ".join(proc.cmdline()[:3]))
            proc.kill()
        except psutil.Error:
            pass
    return names


def runs_by_name(out):
    return {r["name"]: r for r in json.loads((out / "metrics.json").read_text())["runs"]}


def same_numbers(a, b):
    """The runs' metrics, except the thread count that each executor sets on purpose."""
    def strip(runs):
        return {name: {k: v for k, v in r["metrics"].items() if k != "threads"} for name, r in runs.items()}
    return strip(a) == strip(b)


def cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


SWEEP = ["-p", "seed=0,1,2", "--profile", "smoke"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A serial sweep of 3 runs, stopped (SIGINT, as Ctrl-C) after its first run finished, then resumed."""
    folder = tmp_path_factory.mktemp("sweep")
    notebook = write_notebook(folder / "91_tiny.ipynb")
    out = folder / "serial"
    mark = uuid.uuid4().hex
    env = dict(os.environ, **{MARK: mark})
    first = subprocess.Popen([sys.executable, "-m", "ganutils", "run", str(notebook), "--out", str(out), *SWEEP],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_DIR, env=env,
                             start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and first.poll() is None:
        if (out / "metrics.json").exists() and any(r["status"] == "ok" for r in runs_by_name(out).values()):
            break
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the runner's process group
    first_out = first.communicate(timeout=60)[0]
    leftovers = wait_until_gone(mark)
    resumed = cli("run", notebook, "--out", out, *SWEEP)
    return dict(notebook=notebook, out=out, first=first_out, first_code=first.returncode, leftovers=leftovers,
                resumed=resumed)


def test_a_stopped_sweep_resumes_and_runs_only_the_rest(reference):
    assert reference["leftovers"] == [], "no process of the stopped run survives it"
    assert reference["first_code"] == 130, reference["first"]
    resumed = reference["resumed"]
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.count("skipped (done)") == 1, resumed.stdout
    assert "91_tiny__seed=0 skipped (done)" in resumed.stdout
    assert resumed.stdout.count(" ok in ") == 2, resumed.stdout
    runs = runs_by_name(reference["out"])
    assert sorted(runs) == [f"91_tiny__seed={s}" for s in range(3)]
    assert all(r["status"] == "ok" for r in runs.values())
    assert runs["91_tiny__seed=2"]["metrics"]["seed_squared"] == 4
    assert runs["91_tiny__seed=0"]["metrics"]["threads"] == str(cores()), "one job gets every core"


def test_sweep_summary_plots_each_numeric_metric_against_the_swept_parameter(reference):
    out = reference["out"]
    summary = (out / "summary.md").read_text()
    for metric in ("mean", "seed_squared"):
        links = [line for line in summary.splitlines() if f"{metric}" in line and ".png" in line]
        assert links, f"summary.md links a plot of {metric}"
        png = out / links[0].split("](")[1].rstrip(")")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any("label" in line and ".png" in line for line in summary.splitlines()), "strings are not plotted"


def test_two_local_jobs_give_the_serial_metrics_and_a_rerun_skips_everything(reference, tmp_path):
    out = tmp_path / "jobs2"
    first = cli("run", reference["notebook"], "--out", out, *SWEEP, "--jobs", "2")
    assert first.returncode == 0, first.stdout + first.stderr
    runs = runs_by_name(out)
    assert [r["status"] for r in runs.values()] == ["ok"] * 3
    assert same_numbers(runs, runs_by_name(reference["out"]))
    assert runs["91_tiny__seed=1"]["metrics"]["threads"] == str(max(1, cores() // 2)), "cores // jobs threads each"
    notebooks = {p.name: p.stat().st_mtime_ns for p in out.glob("*.ipynb")}
    again = cli("run", reference["notebook"], "--out", out, *SWEEP, "--jobs", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("skipped (done)") == 3 and " ok in " not in again.stdout, again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.ipynb")} == notebooks, "nothing executed again"


def test_a_dask_local_cluster_gives_the_serial_metrics(reference, tmp_path):
    import distributed  # the [dask] extra, which the dev extra (and so `make test`) installs
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        first = cli("run", reference["notebook"], "--out", out, *SWEEP, "--dask", cluster.scheduler_address)
        assert first.returncode == 0, first.stdout + first.stderr
        runs = runs_by_name(out)
        assert [r["status"] for r in runs.values()] == ["ok"] * 3
        assert same_numbers(runs, runs_by_name(reference["out"]))
        assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in runs.values()), runs
        again = cli("run", reference["notebook"], "--out", out, *SWEEP, "--dask", cluster.scheduler_address)
        assert again.returncode == 0 and again.stdout.count("skipped (done)") == 3, again.stdout + again.stderr
        # A worker that dies mid-run: the run is said to have lost it, and is retried once (here: successfully).
        dies = write_notebook(tmp_path / "93_kills_its_worker.ipynb", KILLS_ITS_WORKER.format(flag=str(tmp_path / "killed")))
        # ... with GANUTILS_DASK_SHARED=0, as when --out is not on storage the workers see: results come back.
        lost = cli("run", dies, "--out", tmp_path / "lost", "--dask", cluster.scheduler_address,
                   env_extra={"GANUTILS_DASK_SHARED": "0"})
        assert lost.returncode == 0, lost.stdout + lost.stderr
        assert "died mid-run; retrying once" in lost.stdout and (tmp_path / "killed").exists()
        assert runs_by_name(tmp_path / "lost")["93_kills_its_worker"]["status"] == "ok"
        executed = nbformat.read(tmp_path / "lost" / "93_kills_its_worker.ipynb", as_version=4)
        assert executed.metadata.papermill.input_path == str(dies), "the notebook came back as if run here"
        assert (tmp_path / "lost" / "logs" / "93_kills_its_worker.log").stat().st_size > 0


def test_an_unreachable_scheduler_or_a_missing_extra_is_one_line(tmp_path, capsys, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    notebook = write_notebook(tmp_path / "91_tiny.ipynb")
    code, out, err = cli_main(capsys, "run", notebook, "--out", tmp_path / "out", "--dask", f"tcp://127.0.0.1:{port}")
    assert code == 2 and err.count("\n") == 1, err
    assert f"tcp://127.0.0.1:{port}" in err and "dask scheduler" in err
    code, out, err = cli_main(capsys, "run", notebook, "--out", tmp_path / "out", "--dask", tmp_path / "no-scheduler.json")
    assert code == 2 and err.count("\n") == 1 and "dask scheduler --scheduler-file" in err, err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the [dask] extra were not installed
    with pytest.raises(GanutilsError, match=r"pip install"):
        executors.import_distributed()


@pytest.mark.parametrize("how", ["SIGINT --jobs 2", "SIGTERM --jobs 1"])
def test_stopping_a_run_leaves_no_process_behind(tmp_path, how):
    sig, jobs = how.split(" --jobs ")
    notebook = write_notebook(tmp_path / "92_hangs.ipynb", HANGS)
    mark = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "ganutils", "run", str(notebook), "--out", str(tmp_path / "out"),
                             "-p", "seed=0,1", *(["--jobs", jobs] if jobs != "1" else [])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=REPO_DIR, env=dict(os.environ, **{MARK: mark}), start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(p.name() == "sleep" for p in marked_processes(mark)) == int(jobs):  # every kernel's child is running
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    os.killpg(proc.pid, getattr(signal, sig))
    output = proc.communicate(timeout=150)[0]  # above the runner's own 60 s wait for its stopping jobs (slow machines)
    assert wait_until_gone(mark) == [], output
    assert proc.returncode in (130, 143), output
    assert "interrupted" in output


@pytest.mark.parametrize("code", [HANGS, DIES], ids=["timeout", "dead-kernel"])
def test_a_timeout_or_a_dead_kernel_leaves_no_process_behind(tmp_path, monkeypatch, capsys, code):
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)
    notebook = write_notebook(tmp_path / "92_hangs.ipynb", code)
    (result,) = runner.run([str(notebook)], out=tmp_path / "out", profile="full", timeout=5 if code is HANGS else 300)
    assert wait_until_gone(mark) == []
    assert result.status == ("timeout" if code is HANGS else "failed") and "92_hangs" in result.error
    assert code is DIES or (tmp_path / "out" / "child-started").exists(), "the kernel's child had started"
    err = capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():  # `--profile full` without CUDA: one line before starting
        assert "CUDA" in err and "full" in err


def test_reusing_an_out_folder_keeps_the_earlier_runs_and_a_failure_stops_nothing(tmp_path):
    notebook = write_notebook(tmp_path / "91_tiny.ipynb")
    out = tmp_path / "out"
    assert cli("run", notebook, "--out", out, "--profile", "smoke", "-p", "seed=0").returncode == 0
    second = cli("run", notebook, "--out", out, "--profile", "smoke", "-p", "seed=1", "-p", "lr=None,0.2",
                 "--jobs", str(cores() + 2))
    assert second.returncode == 1, second.stdout + second.stderr  # lr=None fails inside the notebook
    assert "more jobs than" in second.stderr, "--jobs above the core count warns and goes on"
    runs = runs_by_name(out)
    assert sorted(runs) == ["91_tiny__lr=0.2__seed=1", "91_tiny__lr=None__seed=1", "91_tiny__seed=0"]
    assert [runs[n]["status"] for n in sorted(runs)] == ["ok", "failed", "ok"]
    assert "TypeError" in runs["91_tiny__lr=None__seed=1"]["error"] and "full log:" in runs["91_tiny__lr=None__seed=1"]["error"]
    summary = (out / "summary.md").read_text()
    assert all(f"| {name} |" in summary for name in runs)


def test_a_kernel_that_lost_its_port_is_started_again(tmp_path):
    notebook = write_notebook(tmp_path / "94_lost_port.ipynb", LOSES_ITS_PORT)
    (result,) = runner.run([str(notebook)], out=tmp_path / "out", profile="smoke", timeout=300)
    assert result.status == "ok" and (tmp_path / "out" / "lost-port").exists()
    assert result.seconds < 250, "restarted as soon as the port was lost, not after papermill's start timeout"
    assert "starting it again" in (tmp_path / "out" / "logs" / "94_lost_port.log").read_text()


def test_run_names_are_unique_and_values_are_not_repeated(tmp_path):
    path = tmp_path / "91_tiny.ipynb"
    names = {runner.run_name(path, p) for p in ({"label": "x y"}, {"label": "x_y"}, {"label": "x/y"},
                                                {"seed": 1}, {"seed": "1"}, {"seed": 1.0})}
    assert len(names) == 6, names
    assert runner.run_name(path, {"seed": 1}) == "91_tiny__seed=1", "plain values keep readable names"
    assert runner.run_name(path, {"lr": 0.1, "seed": 1}) == runner.run_name(path, {"seed": 1, "lr": 0.1})
    with pytest.raises(GanutilsError, match="twice"):
        runner.expand_sweep(["seed=1,1"])


def test_course_keeps_runs_latest_a_link_to_a_real_run(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    (runs / "20260101-000000").mkdir(parents=True)
    (runs / "latest").symlink_to("20260101-000000")
    monkeypatch.setattr(runner, "RUNS_DIR", runs)
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: [])  # the link, not the notebooks, is tested here
    runner.run_course(out=runs / "latest", only=["00"])
    assert os.readlink(runs / "latest") == "20260101-000000", "`--out runs/latest` resumes the run it points at"
    runner.run_course(out=runs / "20260102-000000", only=["00"])
    assert os.readlink(runs / "latest") == "20260102-000000"
    (runs / "latest").unlink()
    (runs / "latest").mkdir()
    capsys.readouterr()
    runner.run_course(out=runs / "20260103-000000", only=["00"])
    assert "runs/latest" in capsys.readouterr().err, "a real folder named latest is not silently left stale"


def test_profile_given_twice_is_refused_and_a_p_profile_wins_everywhere(tmp_path, monkeypatch):
    notebook = write_notebook(tmp_path / "91_tiny.ipynb")
    with pytest.raises(GanutilsError, match="profile"):
        runner.run([str(notebook)], out=tmp_path / "a", profile="smoke", params=["profile=quick"])
    monkeypatch.setenv("GANUTILS_PROFILE", "smoke")
    (result,) = runner.run([str(notebook)], out=tmp_path / "b", params=["profile=quick"])
    assert result.status == "ok" and result.profile == "quick" and result.metrics["profile"] == "quick"
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["runs"][0]["timeout"] == runner.DEFAULT_TIMEOUT["quick"]


@pytest.mark.parametrize("args, text", [
    (["--timeout", "0"], "--timeout"), (["--timeout", "-3"], "--timeout"), (["--jobs", "0"], "--jobs"),
    (["-p", "lr=abc"], "lr"), (["-p", "seed='x y'"], "seed"), (["-p", "seed=1,1"], "twice")])
def test_bad_run_options_are_one_line(tmp_path, capsys, args, text):
    notebook = write_notebook(tmp_path / "91_tiny.ipynb")
    code, out, err = cli_main(capsys, "run", notebook, "--out", tmp_path / "out", *args)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and text in err, err
    assert "-p timeout" not in err
    assert not (tmp_path / "out" / "metrics.json").exists(), "nothing ran"


def test_course_only_with_no_notebook_is_one_line(tmp_path, capsys):
    code, out, err = cli_main(capsys, "course", "--only", ",", "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "--only" in err, err


def test_a_bad_out_folder_is_one_line(tmp_path, capsys):
    notebook = write_notebook(tmp_path / "91_tiny.ipynb")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    undecodable = tmp_path / os.fsdecode(b"caf\xe9")
    for out in (a_file, a_file / "sub", undecodable):
        code, _, err = cli_main(capsys, "run", notebook, "--out", out)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "--out" in err, err
    assert not undecodable.exists() or not any(p.stat().st_size == 0 for p in undecodable.rglob("*") if p.is_file())


def test_a_notebook_that_is_not_json_is_one_line(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "notebooks"
    write_notebook(folder / "00_good.ipynb")
    broken = folder / "01_broken.ipynb"
    broken.write_text('{"cells": [\n<<<<<<< HEAD\n')
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", folder)
    code, out, err = cli_main(capsys, "run", broken, "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "01_broken" in err and "JSON" in err, err
    code, out, err = cli_main(capsys, "list")
    assert code == 2 and "00_good" in out and err.count("\n") == 1 and "01_broken" in err, out + err


def test_local_jobs_are_pinned_round_robin_to_gpus():
    env = [executors.slot_environment(slot, jobs=4, cores=16, gpus=["0", "1"]) for slot in range(4)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in env] == ["0", "1", "0", "1"]
    assert all(e["OMP_NUM_THREADS"] == e["GANUTILS_THREADS"] == "4" for e in env)
    assert "CUDA_VISIBLE_DEVICES" not in executors.slot_environment(0, jobs=2, cores=2, gpus=[])
    assert executors.slot_environment(1, jobs=3, cores=2, gpus=[])["OMP_NUM_THREADS"] == "1"
    with pytest.raises(GanutilsError, match="jobs-per-gpu"):
        executors.check_jobs(jobs=4, cores=16, gpus=["0", "1"], per_gpu=1)
    assert executors.check_jobs(jobs=4, cores=16, gpus=["0", "1"], per_gpu=2) == 4


def test_cpu_threads_honours_the_runners_budget(monkeypatch):
    monkeypatch.setenv("GANUTILS_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.delenv("GANUTILS_THREADS")
    assert cpu_threads() == cores()
