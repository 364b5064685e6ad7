"""The latent explorer in a real browser: JupyterLab on localhost, headless Chromium, notebook 07, one slider.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token) in the smoke profile with
widgets live (no $GANUTILS_STATIC), opens a copy of notebook 07 in Debian's Chromium driven by
Playwright, runs all cells, drags the explorer's first direction slider, and checks that the
rendered image changed (screenshot pixels of the image element differ).

The notebook is served from a temporary copy so that JupyterLab's autosave can never write
outputs into the committed notebook. Chromium comes from Debian (`apt-get install -y chromium`);
Playwright's own browser download is never used. Without /usr/bin/chromium the test is skipped,
unless GANUTILS_REQUIRE_BROWSER=1 (set by `.ci/run`), in which case it fails.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "07_conditional_gan.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SERVER_START_S = 90
RUN_ALL_S = 240  # the smoke profile of notebook 07 takes well under a minute on 2 idle cores


def _required() -> bool:
    return os.environ.get("GANUTILS_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false", "no")


def _skip_or_fail(why: str):
    if _required():
        pytest.fail(f"GANUTILS_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over a temporary copy of notebook 07; yields (base url, token, log path)."""
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y chromium` to run this test")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is missing: `pip install -e '.[dev]'` installs it (never `playwright install`)")
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "GANUTILS_STATIC"}  # widgets must render live
    env.update({
        "GANUTILS_PROFILE": "smoke", "GANUTILS_OFFLINE": "1", "GANUTILS_PROGRESS": "0",
        "GANUTILS_RUN_DIR": str(tmp_path / "run"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),  # no user settings or saved workspaces leak in
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "OMP_NUM_THREADS": "1",  # the kernel shares 2 cores with the server and the browser
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })
    env.pop("MPLBACKEND", None)
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run the notebook without clicking menus
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = tmp_path / "jupyterlab.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, token, log
    finally:
        proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


NOTEBOOK_STATE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext || !w.sessionContext.session) return {ready: false};
  const kernel = w.sessionContext.session.kernel;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const c of cells) {
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  return {ready: true, kernel: kernel ? kernel.status : null, n: cells.length,
          executed: cells.filter(c => c.model.executionCount !== null).length, errors};
}"""


def _png_pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)


def _wait(page, predicate, timeout_s: float, what: str, log: Path):
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        if state.get("errors"):
            pytest.fail(f"a cell of notebook 07 failed in JupyterLab: {state['errors'][0]}")
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}; last state {json.dumps(state)}\n"
                        f"{log.read_text()[-2000:]}")
        time.sleep(0.5)


def test_moving_an_explorer_slider_changes_the_rendered_image(lab):
    from playwright.sync_api import sync_playwright

    url, token, log = lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=SERVER_START_S * 1000)
            _wait(page, lambda s: s["ready"] and s["kernel"] == "idle", SERVER_START_S, "the notebook and its kernel", log)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            state = _wait(page, lambda s: s["executed"] == s["n"] and s["kernel"] == "idle", RUN_ALL_S,
                          "notebook 07 to run all cells", log)
            assert state["n"] > 10

            image = page.locator("img.ganutils-explorer-image").first
            image.scroll_into_view_if_needed()
            image.wait_for(state="visible", timeout=30_000)
            before = image.screenshot()

            slider = page.locator(".ganutils-explorer .widget-hslider").first  # "dir 0": the first direction slider
            handle, track = slider.locator(".noUi-handle").first, slider.locator(".noUi-target").first
            hb, tb = handle.bounding_box(), track.bounding_box()
            page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
            page.mouse.down()
            page.mouse.move(tb["x"] + tb["width"] - 1, hb["y"] + hb["height"] / 2, steps=8)
            page.mouse.up()
            readout = slider.locator(".widget-readout").first.inner_text()
            assert float(readout) > 1.0, f"the drag should move 'dir 0' towards its maximum, readout {readout!r}"

            deadline, after = time.monotonic() + 30, before
            while after == before and time.monotonic() < deadline:  # the kernel redraws, then the browser
                time.sleep(0.5)
                after = image.screenshot()
            a, b = _png_pixels(before), _png_pixels(after)
            assert a.shape == b.shape and a.size > 100 * 100, f"the explorer's image renders at a readable size, got {a.shape}"
            changed = np.abs(a - b) > 2
            assert changed.mean() > 0.01, f"moving the slider changed only {changed.mean():.2%} of the image's pixels"
        finally:
            browser.close()
