"""Quoted measured numbers: ``{{NN_name:metric_key}}`` is rendered from the reference, and cannot go stale.

The staleness checks: every quote in the bank, the README and the notebooks' Markdown names a
course notebook and a key that notebook records -- statically (its ``gu.record`` calls) always,
and exactly (the flattened key) in a smoke run of the notebook: the session's shared smoke run
(tests/conftest.py) and every notebook nbval executed earlier in the same session.
"""

from __future__ import annotations

import json
import re

import pytest

from ganutils.course import bank, quotes, runner
from ganutils.course.record import flatten

NOTEBOOKS = {p.stem: p for p in runner.list_notebooks()}


def all_quotes() -> list[tuple[str, quotes.Quote]]:
    """(where, quote) for every quote the course renders: bank answers, README, notebook Markdown."""
    found = []
    for q in bank.load_bank():
        for field in ("answer_en", "answer_zh"):
            for quote in quotes.find(q.get(field) or ""):
                found.append((f"bank {q['id']}.{field}", quote))
    readme = runner.REPO_DIR / "README.md"
    for quote in quotes.find(readme.read_text(encoding="utf-8")):
        found.append(("README.md", quote))
    for stem, path in NOTEBOOKS.items():
        for text in quotes.markdown_cells(path):
            for quote in quotes.find(text):
                found.append((f"{stem} Markdown", quote))
    return found


# ----------------------------------------------------------------------------- rendering


def test_find_and_normal_keys():
    text = "covers {{03_mode_collapse:ring/vanilla/modes_mean}} of 8 and {{ 01_minmax_and_js : js }}; not {{x:y}}"
    found = quotes.find(text)
    assert [(q.notebook, q.key) for q in found] == [("03_mode_collapse", "ring/vanilla/modes_mean"),
                                                   ("01_minmax_and_js", "js")]
    assert quotes.normal_key("ring/vanilla/modes_mean") == quotes.normal_key("ring.vanilla.modes_mean")


@pytest.mark.parametrize("value, shown", [(7, "7"), (7.0, "7"), (0.123456, "0.123"), (1234.5, "1.23e+03"),
                                          (2.30258, "2.3"), (True, "yes"), ("wgan_gp", "wgan_gp"),
                                          ([1, 2.3456], "[1, 2.35]"), (float("nan"), "nan")])
def test_values_show_three_significant_digits_and_integers_as_integers(value, shown):
    assert quotes.format_value(value) == shown


def test_render_fills_values_and_says_where_they_come_from():
    ref = quotes.Source({"03_mode_collapse": {"ring.vanilla.modes_mean": 1.3333333}}, "quick, CPU, 2 cores, 2026-11-30")
    text = "The vanilla GAN covered {{03_mode_collapse:ring/vanilla/modes_mean}} modes."
    plain = quotes.render(text, ref, "text")
    assert plain.startswith("The vanilla GAN covered 1.33 modes.")
    assert "quick, CPU, 2 cores, 2026-11-30" in plain and "{{" not in plain
    md = quotes.render(text, ref, "markdown")
    assert "{abbr}`1.33 (03_mode_collapse:ring/vanilla/modes_mean, the reference run: quick, CPU" in md
    html = quotes.render(text, ref, "html")
    assert '<abbr title="03_mode_collapse:ring/vanilla/modes_mean' in html and ">1.33</abbr>" in html


def test_render_falls_back_to_the_next_source_and_marks_what_nobody_measured():
    ref = quotes.Source({"01_minmax_and_js": {"js": 0.5}}, "quick, CPU, 2 cores, 2026-11-30")
    run = quotes.Source({"03_mode_collapse": {"ring.vanilla.modes_mean": 2}}, "smoke, cpu, 2026-12-01", "this run")
    out = quotes.render("{{01_minmax_and_js:js}} {{03_mode_collapse:ring.vanilla.modes_mean}} {{01_minmax_and_js:gone}}",
                        [ref, run], "text")
    assert out.startswith("0.5 2 [01_minmax_and_js:gone: not measured]")
    assert "Numbers measured by the reference run (quick" in out and "this run (smoke" in out
    zh = quotes.render("{{01_minmax_and_js:js}}", [ref], "text", lang="zh")
    assert zh.startswith("0.5") and "实测数字来自the reference run" not in zh and "实测数字来自" in zh
    assert quotes.render("no quote here", [ref], "text") == "no quote here"


def test_quotes_in_markdown_code_are_examples_left_alone():
    ref = quotes.Source({"03_m": {"a": 1.23456}}, "p")
    text = "`{{03_m:a}}` and 9<!--{{03_m:a}}--> and `7<!--{{03_m:a}}-->`\n```\n{{03_m:a}}\n```\n"
    assert len(quotes.find(text)) == 1
    assert quotes.render(text, ref).startswith("`{{03_m:a}}` and 1.23 and `7<!--{{03_m:a}}-->`\n```\n{{03_m:a}}\n```")
    assert quotes.malformed("{{03_m:a}} {{ oops }} `{{not checked}}`") == ["{{ oops }}"]


def test_prerendered_quotes_are_refreshed_from_the_reference(tmp_path):
    ref = quotes.Source({"01_minmax_and_js": {"js": 0.18661}}, "quick, CPU, 2 cores, 2026-11-30")
    path = tmp_path / "README.md"
    path.write_text("JS measured 0.2<!--{{01_minmax_and_js:js}}-->, and ?<!-- {{01_minmax_and_js:gone}} -->.\n")
    assert [(shown, q.key) for shown, q in quotes.prerendered(path.read_text())] == [("0.2", "js"), ("?", "gone")]
    assert quotes.refresh_file(path, ref) is True
    assert path.read_text() == "JS measured 0.187<!--{{01_minmax_and_js:js}}-->, and ?<!--{{01_minmax_and_js:gone}}-->.\n"
    assert quotes.refresh_file(path, ref) is False, "a second refresh changes nothing"
    rendered = quotes.render(path.read_text(), ref)
    assert rendered.startswith("JS measured 0.187, and [01_minmax_and_js:gone: not measured].")


def test_static_record_names_cover_plain_nested_and_fstring_keys(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source":
                     'gu.record("ring", table)\nfor m in ms:\n    gu.record(f"toy/{m}/modes", 1)\n%matplotlib inline\n'},
                    {"cell_type": "markdown", "metadata": {}, "source": "{{00_x:ring.vanilla}}"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "00_x.ipynb"
    path.write_text(json.dumps(nb))
    names = quotes.recorded_names(path)
    assert "ring" in names and any(isinstance(n, re.Pattern) for n in names)
    assert quotes.statically_recorded("ring/vanilla/modes_mean", names)
    assert quotes.statically_recorded("toy.wgan.modes", names)
    assert not quotes.statically_recorded("toy.wgan.coverage", names)
    assert not quotes.statically_recorded("rings", names)


# ----------------------------------------------------------------------------- staleness


def test_every_quote_names_a_course_notebook_and_a_key_it_records():
    problems = []
    names = {stem: quotes.recorded_names(path) for stem, path in NOTEBOOKS.items()}
    for where, q in all_quotes():
        if q.notebook not in NOTEBOOKS:
            problems.append(f"{where}: {q.text} names no course notebook (they are: {', '.join(NOTEBOOKS)})")
        elif not quotes.statically_recorded(q.key, names[q.notebook]):
            problems.append(f"{where}: {q.text}: {q.notebook} records no such key (its gu.record names: "
                            f"{', '.join(n if isinstance(n, str) else n.pattern for n in names[q.notebook][:12])} ...)")
    assert not problems, "stale quotes:\n" + "\n".join(problems)


def test_quotes_are_well_formed():
    texts = [(f"bank {q['id']}", q.get(f) or "") for q in bank.load_bank() for f in ("answer_en", "answer_zh")]
    texts.append(("README.md", (runner.REPO_DIR / "README.md").read_text(encoding="utf-8")))
    texts += [(stem, t) for stem, path in NOTEBOOKS.items() for t in quotes.markdown_cells(path)]
    bad = [(where, m) for where, text in texts for m in quotes.malformed(text)]
    assert not bad, f"write quotes as {{{{NN_name:metric_key}}}}: {bad[:10]}"


def test_prerendered_values_match_the_reference():
    """A number shown in README.md or a notebook beside a quote is the reference's (`quotes --refresh` fixes it)."""
    sources = quotes.reference_sources()
    if not sources:
        pytest.skip("no quick/full reference run committed yet: pre-rendered values are checked once there is one")
    stale = [(f.name, shown, quotes.shown_value(q, sources), q.text) for f in quotes.quoted_files(runner.REPO_DIR)
             for shown, q in quotes.prerendered(f.read_text(encoding="utf-8")) if shown != quotes.shown_value(q, sources)]
    assert not stale, f"run `python -m ganutils quotes --refresh` (then tools/nb.py check): {stale[:10]}"


def test_the_staleness_check_fails_on_a_renamed_key(tmp_path):
    """The check above can fail: a quote of a key the notebook does not record is reported."""
    stem = next(iter(NOTEBOOKS))
    assert not quotes.statically_recorded("no_such_metric_anywhere.x", quotes.recorded_names(NOTEBOOKS[stem]))


@pytest.mark.after_notebooks
def test_quoted_keys_are_recorded_by_a_smoke_run(smoke_run, nbval_metrics):
    """Exact keys: the shared smoke run's notebooks, and every notebook nbval ran earlier in this session."""
    recorded = {}
    data = json.loads((smoke_run / "metrics.json").read_text())
    for r in data["runs"]:
        recorded[r["notebook"]] = {quotes.normal_key(k) for k in flatten(r["metrics"])}
    for stem, metrics in nbval_metrics().items():
        recorded.setdefault(stem, {quotes.normal_key(k) for k in flatten(metrics)})
    assert recorded, "no smoke-run metrics at all"
    checked, problems = 0, []
    for where, q in all_quotes():
        if q.notebook in recorded:
            checked += 1
            if quotes.normal_key(q.key) not in recorded[q.notebook]:
                problems.append(f"{where}: {q.text} is not recorded by a smoke run of {q.notebook}")
    assert not problems, "stale quotes:\n" + "\n".join(problems)
    # the static collector agrees with what the smoke run recorded (so the always-on check above is sound)
    for stem, keys in recorded.items():
        names = quotes.recorded_names(NOTEBOOKS[stem])
        missed = [k for k in keys if not quotes.statically_recorded(k, names)]
        assert not missed, f"{stem}: keys a smoke run recorded that the static reader misses: {missed[:5]}"
