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
