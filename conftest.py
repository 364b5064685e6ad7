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
