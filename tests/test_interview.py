"""The question bank: schema, seed coverage, links into the notebooks, checkpoints, coverage table."""

import copy
import json
import random
import re

import nbformat
import pytest
import yaml

from ganutils.config import GanutilsError, checkout_dir
from ganutils.course import bank as qbank
from ganutils.course import coverage
from ganutils.course import interview

REPO_DIR = checkout_dir()
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
SEEDS_DIR = REPO_DIR.parent / "shared" / "seeds"  # the source material, beside the repository in this workspace
COVERAGE_PATH = REPO_DIR / "docs" / "question_coverage.md"


@pytest.fixture(scope="module")
def shipped():
    """Fresh copies of the two bank files, straight from disk."""
    bank = [e for p in sorted(qbank.QUESTIONS_DIR.glob("*.yaml")) for e in yaml.safe_load(p.read_text(encoding="utf-8"))]
    index = yaml.safe_load(qbank.SEED_INDEX_PATH.read_text(encoding="utf-8"))
    return bank, index


def entry(bank, qid):
    return next(q for q in bank if q["id"] == qid)


# ----------------------------------------------------------------------------- schema


def test_the_shipped_bank_validates_and_loads(shipped):
    bank, index = shipped
    qbank.validate_bank(bank, index)
    qbank.validate_bank()  # the default: both shipped files
    assert len(qbank.load_bank()) == len(bank) >= 60
    assert len(qbank.load_seed_index()) == len(index)


def _drop(field):
    return lambda bank, index: entry(bank, "gan-core-idea").pop(field)


def _set(qid, field, value):
    return lambda bank, index: entry(bank, qid).__setitem__(field, value)


def _correction(qid, field, value):
    return lambda bank, index: entry(bank, qid)["seed_correction"][0].__setitem__(field, value)


def _duplicate_id(bank, index):
    bank[1]["id"] = bank[0]["id"]


def _unreference(qid):
    return lambda bank, index: index.__setitem__(slice(None), [o for o in index if o["bank_id"] != qid])


def _occurrence(field, value):
    return lambda bank, index: index[3].__setitem__(field, value)


def _duplicate_qid(bank, index):
    index[4]["seed_qid"] = index[3]["seed_qid"]


BROKEN = {
    "missing answer": (_drop("answer_en"), r"'gan-core-idea'.*'answer_en' is missing"),
    "unknown topic": (_set("gan-core-idea", "topic", "gans"), r"'gan-core-idea'.*'topic'.*use one of"),
    "difficulty out of range": (_set("gan-core-idea", "difficulty", 7), r"'gan-core-idea'.*'difficulty'"),
    "difficulty as a bool": (_set("gan-core-idea", "difficulty", True), r"'gan-core-idea'.*'difficulty'"),
    "empty answer": (_set("gan-core-idea", "answer_en", "  "), r"'gan-core-idea'.*'answer_en' is empty"),
    "English in question_zh": (_set("gan-core-idea", "question_zh", "What is a GAN?"), r"'gan-core-idea'.*'question_zh'"),
    "unknown field": (_set("gan-core-idea", "answer_fr", "..."), r"'gan-core-idea'.*unknown field 'answer_fr'"),
    "bad id": (_set("gan-core-idea", "id", "GAN core"), r"'GAN core'.*'id'"),
    "duplicate id": (_duplicate_id, r"'id' repeats entry #1"),
    "bad source": (_set("gan-core-idea", "source", "web"), r"'gan-core-idea'.*'source'"),
    "bad notebook stem": (_set("gan-core-idea", "notebook", "notebook01"), r"'gan-core-idea'.*'notebook'"),
    "demonstrated without a section": (_set("gan-core-idea", "section", None), r"'gan-core-idea'.*needs a section"),
    "demonstrated with a note": (_set("gan-core-idea", "note", qbank.NOT_DEMONSTRATED), r"'gan-core-idea'.*'note'"),
    "not demonstrated with a link": (_set("gan-nlp", "notebook", "02_first_gan_mnist"), r"'gan-nlp'.*'notebook'/'section'"),
    "not demonstrated without the note": (_set("gan-nlp", "note", "todo"), r"'gan-nlp'.*'note' must be exactly"),
    "correction from a file that does not ask": (
        _correction("coding-wgan", "seed_file", "000_9b34bae75c080c4e.txt"), r"'coding-wgan'.*seed_correction\[0\].*'seed_file'.*does not ask"),
    "correction with a bad file name": (_correction("gan-core-idea", "seed_file", "004.txt"), r"seed_correction\[0\].*'seed_file'"),
    "correction experiment on a bad notebook": (
        _correction("gan-core-idea", "experiment", {"notebook": "one", "section": "x"}), r"seed_correction\[0\].*'experiment'"),
    "correction without its claim": (
        lambda bank, index: entry(bank, "gan-core-idea")["seed_correction"][0].pop("claim"), r"seed_correction\[0\].*'claim'"),
    "empty correction list": (_set("gan-core-idea", "seed_correction", []), r"'gan-core-idea'.*'seed_correction' is an empty list"),
    "seed entry nothing points at": (_unreference("gan-nlp"), r"'gan-nlp'.*'source' is 'seed' but no seed_index"),
    "course entry a seed asks": (_set("gan-core-idea", "source", "course"), r"'gan-core-idea'.*'source' is 'course'"),
    "occurrence of an unknown entry": (_occurrence("bank_id", "gan-nope"), r"seed index entry '000-q04'.*'bank_id'.*'gan-nope'"),
    "occurrence of an unknown kind": (_occurrence("kind", "faq"), r"seed index entry '000-q04'.*'kind'"),
    "occurrence id of another file": (_occurrence("seed_qid", "001-q99"), r"'seed_qid' must be '000-qNN'"),
    "occurrence with line 0": (_occurrence("line", 0), r"seed index entry '000-q04'.*'line'"),
    "duplicate occurrence id": (_duplicate_qid, r"'000-q04'.*'seed_qid' is repeated"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_copy_fails_naming_the_entry_and_the_field(shipped, case):
    bank, index = copy.deepcopy(shipped[0]), copy.deepcopy(shipped[1])
    breaker, message = BROKEN[case]
    breaker(bank, index)
    with pytest.raises(GanutilsError, match=message) as err:
        qbank.validate_bank(bank, index)
    assert "\n" not in str(err.value)  # one line


def test_a_bank_that_is_not_a_list_of_mappings_is_refused(shipped):
    with pytest.raises(GanutilsError, match="non-empty YAML list"):
        qbank.validate_bank({"id": "x"}, None)
    with pytest.raises(GanutilsError, match="entry #2: must be a mapping"):
        qbank.validate_bank([shipped[0][0], "just a string"], None)


def test_load_bank_reads_and_validates_another_file(tmp_path, shipped):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(shipped[0][:3], allow_unicode=True), encoding="utf-8")
    assert [q["id"] for q in qbank.load_bank(good)] == [q["id"] for q in shipped[0][:3]]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: [unclosed", encoding="utf-8")
    with pytest.raises(GanutilsError, match="unreadable"):
        qbank.load_bank(bad)


# ----------------------------------------------------------------------------- seed coverage


def test_every_seed_question_is_covered_by_a_bank_entry(shipped):
    bank, index = shipped
    ids = [q["id"] for q in bank]
    assert len(ids) == len(set(ids)), "bank ids must be unique"
    assert len({o["seed_file"] for o in index}) == 5, "the index covers the five seed files"
    asked = {o["bank_id"] for o in index}
    assert asked <= set(ids), f"seed occurrences pointing at no entry: {sorted(asked - set(ids))}"
    orphans = [q["id"] for q in bank if q["id"] not in asked and q["source"] != "course"]
    assert not orphans, f"entries no seed asks, not marked source: course: {orphans}"
    qids = [o["seed_qid"] for o in index]
    assert len(qids) == len(set(qids))


def test_not_demonstrated_entries_say_so(shipped):
    bank, _ = shipped
    hidden = [q for q in bank if not q["demonstrated"]]
    assert hidden, "the seeds raise questions the course does not demonstrate (diffusion, GFPGAN, ...)"
    assert all(q.get("note") == "not demonstrated here" and q["notebook"] is None for q in hidden)
    assert all("note" not in q for q in bank if q["demonstrated"])


@pytest.mark.skipif(not SEEDS_DIR.exists(), reason=f"the seed files are not at {SEEDS_DIR}")
def test_seed_index_headings_are_on_the_lines_it_names():
    assert qbank.check_seed_headings(SEEDS_DIR) == len(qbank.load_seed_index())


def test_seed_heading_check_names_a_wrong_line(tmp_path):
    occ = qbank.load_seed_index()[0]
    (tmp_path / occ["seed_file"]).write_text("nothing here\n" * 400, encoding="utf-8")
    with pytest.raises(GanutilsError, match=f"{occ['seed_qid']}.*'heading'.*line {occ['line']}"):
        qbank.check_seed_headings(tmp_path)
    with pytest.raises(GanutilsError, match="seed file .* is missing"):
        qbank.check_seed_headings(tmp_path / "nowhere")


# ----------------------------------------------------------------------------- links into the notebooks


def test_every_linked_notebook_section_exists():
    """Every demonstration and correction experiment lands on a `## ` heading of a committed notebook.

    A link to a notebook that does not exist fails too: the course must hold all of them.
    """
    broken = qbank.unresolved_links()
    assert not broken, f"{len(broken)} unresolved bank link(s):\n" + "\n".join(broken)


def _notebook(path, *markdown):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, path)


def test_the_link_checker_reads_headings_and_reports_what_is_missing(tmp_path):
    _notebook(tmp_path / "01_minmax_and_js.ipynb", "# 01 · T\n\n## The min-max objective\ntext",
              "```\n## not a heading (code fence)\n```\n## The optimal discriminator ")
    sections = qbank.notebook_sections(tmp_path)
    assert sections == {"01_minmax_and_js": ["The min-max objective", "The optimal discriminator"]}
    entries = [{"id": "a", "notebook": "01_minmax_and_js", "section": "The min-max objective"},
               {"id": "b", "notebook": "01_minmax_and_js", "section": "not a heading (code fence)"},
               {"id": "c", "notebook": "04_wgan_gp", "section": "WGAN-GP",
                "seed_correction": [{"experiment": {"notebook": "01_minmax_and_js", "section": "Nope"}}, {"experiment": None}]}]
    broken = qbank.unresolved_links(entries, tmp_path)
    assert len(broken) == 3
    assert broken[0].startswith("b (notebook -> 01_minmax_and_js") and "no '## not a heading" in broken[0]
    assert "notebooks/04_wgan_gp.ipynb does not exist" in broken[1]
    assert broken[2].startswith("c (seed_correction[0].experiment -> 01_minmax_and_js § Nope)")


def test_every_notebook_with_questions_ends_with_its_checkpoint_call():
    """The last code cell of a notebook the bank cites is `gu.interview.checkpoint("<its stem>")`."""
    cited = {q["notebook"] for q in qbank.load_bank() if q["notebook"]}
    wrong = []
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        last = "".join(cells[-1]["source"]) if cells else ""
        if path.stem in cited and f'gu.interview.checkpoint("{path.stem}"' not in last:
            wrong.append(f"{path.name}: last code cell is {last[:60]!r}")
    assert not wrong, "\n".join(wrong)


# ----------------------------------------------------------------------------- checkpoints


def _flat(text):
    return " ".join(text.split())


@pytest.mark.parametrize("notebook", sorted({q["notebook"] for q in qbank.load_bank() if q["notebook"]}))
def test_the_checkpoint_renders_every_question_of_a_notebook(notebook):
    cp = interview.checkpoint(notebook)
    questions = qbank.questions_for(notebook)
    assert cp.entries == questions and questions
    text, page = _flat(cp.text()), cp.html()
    for q in questions:
        assert _flat(q["question_en"]) in text and _flat(q["question_zh"]) in text
        assert _flat(q["answer_en"])[:80] in text
        for c in q.get("seed_correction") or []:
            assert f"Seed {c['seed_file'][:3]} says: {_flat(c['claim'])}" in text
            assert _flat(c["correction"]) in text
    assert page.count("<details>") == len(questions) == page.count("</details>")
    assert repr(cp) == cp.text() and cp._repr_html_() == page


def test_a_notebook_without_questions_shows_a_seeded_sample_of_the_bank():
    cp = interview.checkpoint("13_review")
    assert len(cp.entries) == interview.SAMPLE_SIZE and "13_review demonstrates no question of its own" in cp.text()
    assert [q["id"] for q in cp.entries] == [q["id"] for q in interview.checkpoint("13_review").entries]
    other = interview.checkpoint("13_review", n=8, seed=1)
    assert len(other.entries) == 8 and [q["id"] for q in other.entries] != [q["id"] for q in cp.entries][:8]
    assert interview.checkpoint("00_setup_and_tour").entries  # the tour has none of its own either


def test_checkpoint_refuses_unknown_notebooks_and_bad_sizes():
    with pytest.raises(GanutilsError, match="'03_mode_colapse' is not a course notebook"):
        interview.checkpoint("03_mode_colapse")
    with pytest.raises(GanutilsError, match="n must be a positive"):
        interview.checkpoint("13_review", n=0)
    assert interview.checkpoint("notebooks/12_evaluation.ipynb").notebook == "12_evaluation"


def test_static_runs_display_text_and_folded_html(monkeypatch):
    shown = []
    monkeypatch.setenv("GANUTILS_STATIC", "1")
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.append((objs, kw)))
    cp = interview.checkpoint("06_vae")
    cp._ipython_display_()
    (bundle,), kw = shown[0]
    assert kw == {"raw": True} and bundle["text/plain"] == cp.text() and bundle["text/html"] == cp.html()


def test_static_mode_follows_the_environment_and_the_shell(monkeypatch):
    monkeypatch.setenv("GANUTILS_STATIC", "1")
    assert interview.static_mode()
    monkeypatch.setenv("GANUTILS_STATIC", "0")
    assert interview.static_mode()  # no kernel in a pytest process: static
    monkeypatch.setattr("IPython.get_ipython", lambda: type("ZMQInteractiveShell", (), {})())
    assert not interview.static_mode()  # a Jupyter kernel with ipywidgets: widgets


def test_the_widget_hides_answers_until_revealed():
    cp = interview.checkpoint("01_minmax_and_js")
    box = cp.widget()
    show_all, rows = box.children[2], box.children[3:]  # after the exercise progress and the header lines
    assert len(rows) == len(cp.entries) and show_all.description == "Show all answers"
    toggle, answer = rows[0].children[1], rows[0].children[2]
    assert answer.layout.display == "none" and "Shown in:" in answer.value
    toggle.value = True
    assert answer.layout.display == "block" and toggle.description == "Hide answer"
    toggle.value = False
    show_all.value = True
    assert all(r.children[2].layout.display == "block" for r in rows)


def test_get_and_topics():
    assert qbank.get("gan-evaluation")["notebook"] == "12_evaluation"
    with pytest.raises(GanutilsError, match="no question with id"):
        qbank.get("nope")
    assert set(qbank.topics()) == {q["topic"] for q in qbank.load_bank()}


# ----------------------------------------------------------------------------- coverage table


def test_the_committed_coverage_table_is_up_to_date():
    committed = COVERAGE_PATH.read_text(encoding="utf-8") if COVERAGE_PATH.exists() else ""
    assert committed == coverage.coverage_markdown(), (
        "docs/question_coverage.md is stale: run "
        "`.venv/bin/python -m ganutils.course.coverage`")


def test_the_coverage_table_lists_every_occurrence_and_where_it_is_answered():
    table = coverage.coverage_markdown()
    for occ in qbank.load_seed_index():
        row = next(line for line in table.splitlines() if line.startswith(f"| {occ['seed_qid']} |"))
        q = qbank.get(occ["bank_id"])
        assert f"`{q['id']}`" in row and occ["heading"].replace("|", "\\|") in row
        assert (f"{q['notebook']} § " in row) if q["demonstrated"] else ("not demonstrated here" in row)
        assert len(re.split(r"(?<!\\)\|", row)) == 9  # seven columns: no unescaped pipe split a cell
    for q in qbank.load_bank():
        if q["source"] == "course":
            assert f"`{q['id']}`" in table


def test_write_coverage_writes_the_table(tmp_path):
    path = coverage.write_coverage(tmp_path / "docs" / "c.md")
    assert path.read_text(encoding="utf-8") == coverage.coverage_markdown()


def test_a_random_entry_renders_as_text_with_both_languages():
    q = random.Random(0).choice(qbank.load_bank())
    text = interview.entry_text(q, 3)
    assert text.startswith("Q3. ") and _flat(q["question_zh"]) in text and "Shown in: " in text
    assert "Answer:" not in interview.entry_text(q, answer=False)
