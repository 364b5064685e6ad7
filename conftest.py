"""Test settings: offline, smoke profile, and a throwaway run folder, set before any kernel starts."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # this process only; notebook kernels keep the inline backend

os.environ.setdefault("GANUTILS_OFFLINE", "1")
os.environ.setdefault("GANUTILS_PROFILE", "smoke")
os.environ.setdefault("GANUTILS_PROGRESS", "0")
os.environ.setdefault("GANUTILS_STATIC", "1")  # executed notebooks render widgets' content as plain text
os.environ["GANUTILS_RUN_DIR"] = tempfile.mkdtemp(prefix="ganutils-test-run-")


import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture
def one_thread():
    """Tiny networks run fastest on one thread (and on a busy 2-core machine far faster than on two).

    Use it in a test module with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- smoke runs shared by tests

SMOKE_RUN_NOTEBOOKS = ("00", "01")  # the book, quote and reference tests share one small smoke run of these
NBVAL_METRICS_DIR = tempfile.mkdtemp(prefix="ganutils-nbval-metrics-")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Give each notebook nbval executes a metrics file of its own (its kernel starts at its first cell's setup),
    so the quote staleness test can check quoted keys against what every notebook recorded in this session."""
    nbval = type(item).__name__ == "IPyNbCell"
    if nbval:
        os.environ["GANUTILS_METRICS_FILE"] = os.path.join(NBVAL_METRICS_DIR, f"{item.path.stem}.json")
    yield
    if nbval:
        os.environ.pop("GANUTILS_METRICS_FILE", None)


def pytest_unconfigure(config):
    import shutil

    shutil.rmtree(NBVAL_METRICS_DIR, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``after_notebooks`` run last, when nbval has executed the notebooks."""
    late = [item for item in items if item.get_closest_marker("after_notebooks")]
    items[:] = [item for item in items if not item.get_closest_marker("after_notebooks")] + late


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A run folder of notebooks 00 and 01 in the smoke profile (executed notebooks, metrics.json, summary.md)."""
    from ganutils.course import runner

    out = tmp_path_factory.mktemp("smoke-run")
    results = runner.run(list(SMOKE_RUN_NOTEBOOKS), out=out, profile="smoke")
    failed = [r.error for r in results if r.status != "ok"]
    if failed:
        pytest.fail("the shared smoke run failed: " + "; ".join(failed))
    return out


@pytest.fixture
def nbval_metrics():
    """A function returning {notebook stem: metrics} for every notebook nbval has executed so far in this session."""
    import json
    from pathlib import Path

    def read():
        out = {}
        for path in Path(NBVAL_METRICS_DIR).glob("*.json"):
            try:
                out[path.stem] = json.loads(path.read_text())
            except ValueError:
                pass
        return out

    return read
