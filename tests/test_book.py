"""``make book``: a smoke run rendered as an offline site, checked statically and in headless Chromium.

The book is built once per session from the shared smoke run (tests/conftest.py: notebooks 00
and 01; the other notebooks appear as "not run" pages, which exercises the partial-run path).
The static checks (every internal link and anchor resolves, no asset is loaded from the network)
need only the builder. The browser check opens every page in Debian's Chromium through
Playwright (``executable_path``; Playwright's own browser download is never used) with every
non-``file://`` request aborted, and asserts no console error, every math element typeset by the
local MathJax, no raw TeX left, every image decoded. Without /usr/bin/chromium, Playwright or
the npm MathJax, the tests that need them skip -- unless GANUTILS_REQUIRE_BROWSER=1 (.ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

import bookcheck
from ganutils.config import GanutilsError
from ganutils.course import book, runner


def _required() -> bool:
    return os.environ.get("GANUTILS_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false", "no")


def _skip_or_fail(why: str):
    if _required():
        pytest.fail(f"GANUTILS_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def smoke_book(smoke_run):
    try:
        book.mathjax_dir()
    except GanutilsError as err:
        _skip_or_fail(str(err))
    index = book.build(smoke_run, quiet=True)
    return index.parent


def test_the_book_has_every_part(smoke_book, smoke_run):
    index = (smoke_book / "index.html").read_text(encoding="utf-8")
    for stem in ("00_setup_and_tour", "01_minmax_and_js"):
        assert (smoke_book / "notebooks" / f"{stem}.html").exists()
        assert f"notebooks/{stem}.html" in index
    assert (smoke_book / "summary.html").exists() and (smoke_book / "bank" / "index.html").exists()
    assert "not run" in index, "the notebooks the smoke run skipped are marked"
    missing = sorted(p.stem for p in runner.list_notebooks())[-1]
    stub = re.sub(r"<[^>]+>", "", (smoke_book / "notebooks" / f"{missing}.html").read_text(encoding="utf-8"))
    assert "did not run in this run" in stub and f"python -m ganutils run {missing[:2]}" in stub
    nb01 = (smoke_book / "notebooks" / "01_minmax_and_js.html").read_text(encoding="utf-8")
    assert "<img" in nb01 and 'class="math' in nb01, "executed outputs (figures) and math are in the page"
    assert (smoke_book / "_static" / "mathjax" / book.MATHJAX_BUNDLE).exists()
    assert f'src="../_static/mathjax/{book.MATHJAX_BUNDLE}' in nb01


def test_executed_notebooks_show_no_bookkeeping(smoke_run):
    """What the learner sees is teaching: no "recorded ..." lines and no bare Out[n] values of bookkeeping."""
    for path in sorted(smoke_run.glob("[0-9][0-9]_*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", ""))
                assert not any(line.startswith("recorded ") for line in text.splitlines()), f"{path.name} cell {i}: {text[:80]}"
                if out["output_type"] == "execute_result":
                    assert set(out["data"]) - {"text/plain"}, f"{path.name} cell {i} echoes a value: {out['data']['text/plain'][:80]}"


def test_bank_questions_link_to_notebook_sections(smoke_book):
    pages = list((smoke_book / "bank").glob("*.html"))
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert "../notebooks/01_minmax_and_js.html#" in text, "answers link to a section anchor of the notebook"
    assert "<details" in text, "answers are folded"


def test_no_broken_link_and_nothing_from_the_network(smoke_book):
    problems = bookcheck.static_problems(smoke_book)
    assert not problems, "\n".join(problems[:20])


def test_every_page_in_an_offline_browser(smoke_book):
    if not bookcheck.CHROMIUM.exists():
        _skip_or_fail(f"{bookcheck.CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is missing: `pip install -e '.[dev]'` installs it (never `playwright install`)")
    problems, totals = bookcheck.browse(smoke_book)
    assert not problems, "\n".join(problems[:20])
    assert totals["pages"] >= 10
    assert totals["maths"] > 0 and totals["typeset"] >= totals["maths"], totals
    assert totals["images"] > 0, totals


def test_checker_catches_a_remote_script_and_a_broken_anchor(tmp_path):
    """The static checker can fail: a CDN script and a link to a missing anchor are both reported."""
    (tmp_path / "a.html").write_text('<html><head><script src="https://cdn.example.org/x.js"></script></head>'
                                     '<body><a href="b.html#nope">b</a><img src="missing.png"></body></html>')
    (tmp_path / "b.html").write_text('<html><body><h1 id="yes">b</h1></body></html>')
    problems = bookcheck.static_problems(tmp_path)
    assert any("from the network" in p for p in problems)
    assert any("'nope'" in p for p in problems)
    assert any("missing.png" in p for p in problems)


def test_no_run_yet_is_one_clear_line(tmp_path, capsys):
    from ganutils.__main__ import main

    with pytest.raises(GanutilsError, match=r"no course run at .*: run `make course`"):
        book.build(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanutilsError, match="has no metrics.json"):
        book.build(tmp_path / "empty")
    assert main(["book", "--run", str(tmp_path / "nothing-here")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no course run at") and "\n" not in err


def test_a_failed_notebook_is_marked_and_named(smoke_run, tmp_path):
    """A partial run: 01 marked failed in metrics.json; its page says so and the status line names it."""
    try:
        book.mathjax_dir()
    except GanutilsError as err:
        _skip_or_fail(str(err))
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run, ignore=shutil.ignore_patterns("book", ".book"))
    data = json.loads((run / "metrics.json").read_text())
    for r in data["runs"]:
        if r["notebook"] == "01_minmax_and_js":
            r["status"], r["error"] = "failed", "01_minmax_and_js: AssertionError: a claim did not hold"
    (run / "metrics.json").write_text(json.dumps(data))
    src = tmp_path / "src"
    pages, _ = book.write_source(run, src)
    status = {p.stem: p.status for p in pages}
    assert status["01_minmax_and_js"] == "failed" and status["00_setup_and_tour"] == "ok"
    nb = json.loads((src / "notebooks" / "01_minmax_and_js.ipynb").read_text())
    warning = [c for c in nb["cells"] if c.get("id") == "ganutils-run-status"]
    assert warning and "failed" in "".join(warning[0]["source"]) and "a claim did not hold" in "".join(warning[0]["source"])
    line = book.status_line(run, pages, run / "book", tmp_path / "no.log")
    assert "failed: 01_minmax_and_js (failed)" in line and "\n" not in line


def test_claim_and_solution_cells_are_folded(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# 99 · T\n"},
             {"cell_type": "code", "metadata": {"tags": ["claim"]}, "outputs": [], "execution_count": 1,
              "source": "# Claim: the best remedy covers at least\n# 20 of 25 grid modes.\nif cfg.asserts_quality:\n    assert x\n"},
             {"cell_type": "code", "metadata": {"tags": ["solution"]}, "outputs": [], "execution_count": 2, "source": "def f(): ..."}]
    path = tmp_path / "99_t.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    page = book.Page("99_t", "99_t", "99 · T", "ok", path)
    book.prepare_notebook(page, tmp_path / "out.ipynb", [], "quick")
    out = json.loads((tmp_path / "out.ipynb").read_text())["cells"]
    assert "Claim:" in "".join(out[1]["source"]) and "20 of 25 grid modes" in "".join(out[1]["source"])
    assert "hide-input" in out[2]["metadata"]["tags"] and "hide-input" in out[3]["metadata"]["tags"]


def test_claim_cells_state_their_claim():
    """A code cell tagged ``claim`` starts with a ``# Claim: ...`` comment (the book shows it) and asserts it."""
    bad = []
    for path in runner.list_notebooks():
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if "claim" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"])
                if cell["cell_type"] != "code" or not book.claim_text(source) or "assert" not in source:
                    bad.append(f"{path.stem} cell {i}")
    assert not bad, f"cells tagged 'claim' need a leading '# Claim: ...' comment and an assert: {bad}"
