"""The interview question bank (``ganutils/bank``) and the checkpoint that ends every notebook.

- ``load_bank()``, ``load_seed_index()``: the two YAML files (schema: ``bank/README.md``),
  read once and checked by ``validate_bank()``, which names the entry and the field at fault.
- ``questions_for(notebook)``: the entries a notebook demonstrates.
- ``unresolved_links()``: bank links (notebook + ``## `` section) that no committed notebook backs.
- ``coverage_markdown()``: the table seed file -> questions -> where answered, committed as
  ``docs/question_coverage.md``; ``write_coverage()`` rewrites that file
  (``python -c "from ganutils import interview; interview.write_coverage()"``).
- ``checkpoint(notebook)``: the last cell of every notebook. In Jupyter each answer hides behind
  a button (ipywidgets); with $GANUTILS_STATIC set (the runner and the tests set it), or without
  ipywidgets or a kernel, it renders as text plus HTML with the answers folded in <details>.
  A notebook with no questions of its own (00 setup, 09 review) gets a fixed-seed sample of the
  whole bank instead.
"""

from __future__ import annotations

import functools
import html
import json
import os
import random
import re
import textwrap
from pathlib import Path

import yaml

from .config import PACKAGE_DIR, REPO_DIR, GanutilsError

BANK_DIR = PACKAGE_DIR / "bank"
BANK_PATH = BANK_DIR / "questions.yaml"
SEED_INDEX_PATH = BANK_DIR / "seed_index.yaml"
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
SEEDS_DIR = REPO_DIR.parent / "shared" / "seeds"
COVERAGE_PATH = REPO_DIR / "docs" / "question_coverage.md"
STATIC_ENV = "GANUTILS_STATIC"

TOPICS = ("gan-basics", "gan-training", "mode-collapse", "wgan", "vae", "conditional", "pix2pix", "evaluation",
          "applications", "coding")
SOURCES = ("seed", "course")
SEED_KINDS = ("question", "toc", "section", "recap", "code")
NOT_DEMONSTRATED = "not demonstrated here"
SAMPLE_SIZE = 5  # questions shown by a notebook that has none of its own
REVIEW_NOTEBOOK = "09_review"

FIELDS = {  # field -> allowed types (None: may be null)
    "id": (str,), "topic": (str,), "difficulty": (int,), "source": (str,), "question_en": (str,),
    "question_zh": (str,), "answer_en": (str,), "notebook": (str, type(None)), "section": (str, type(None)),
    "demonstrated": (bool,),
}
OPTIONAL_FIELDS = {"note": (str,), "seed_correction": (list,)}
CORRECTION_FIELDS = ("seed_file", "claim", "correction", "experiment")
SEED_INDEX_FIELDS = {"seed_file": (str,), "seed_qid": (str,), "line": (int,), "kind": (str,), "heading": (str,),
                     "bank_id": (str,)}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+$")
SEED_FILE_PATTERN = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")
CJK = re.compile(r"[\u4e00-\u9fff]")


# ----------------------------------------------------------------------------- loading and validation


def _read_yaml(path: Path):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster: keeps checkpoint() cheap
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as err:
        raise GanutilsError(f"the question bank file {path} is unreadable ({type(err).__name__}): "
                            "restore it from git") from None


@functools.lru_cache(maxsize=1)
def _load_default() -> tuple[tuple[dict, ...], tuple[dict, ...]]:
    bank, index = _read_yaml(BANK_PATH), _read_yaml(SEED_INDEX_PATH)
    validate_bank(bank, index)
    return tuple(bank), tuple(index)


def load_bank(path=None) -> tuple[dict, ...]:
    """Every bank entry, in file order, validated (``path``: another questions file, not cross-checked)."""
    if path is not None:
        entries = _read_yaml(path)
        validate_bank(entries, None)
        return tuple(entries)
    return _load_default()[0]


def load_seed_index() -> tuple[dict, ...]:
    """Every question occurrence in the five seed files, each with the ``bank_id`` that answers it."""
    return _load_default()[1]


def _where(i: int, entry) -> str:
    name = entry.get("id") if isinstance(entry, dict) else None
    return f"question bank entry {name!r}" if isinstance(name, str) else f"question bank entry #{i + 1}"


def _check_fields(where: str, entry: dict, required: dict, optional: dict) -> None:
    for field, types in required.items():
        if field not in entry:
            raise GanutilsError(f"{where}: field {field!r} is missing: add it (see ganutils/bank/README.md)")
        _check_type(where, field, entry[field], types)
    for field, value in entry.items():
        if field in optional:
            _check_type(where, field, value, optional[field])
        elif field not in required:
            allowed = ", ".join(list(required) + list(optional))
            raise GanutilsError(f"{where}: unknown field {field!r}: remove it or use one of {allowed}")


def _check_type(where: str, field: str, value, types) -> None:
    if isinstance(value, bool) and bool not in types:  # bool is an int subclass: never a valid difficulty or line
        types = ()
    if not isinstance(value, tuple(types)):
        names = " or ".join("null" if t is type(None) else t.__name__ for t in types) or "not a bool"
        raise GanutilsError(f"{where}: field {field!r} must be {names}, got {type(value).__name__} {value!r:.60}")


def _nonempty(where: str, entry: dict, field: str) -> None:
    if not entry[field].strip():
        raise GanutilsError(f"{where}: field {field!r} is empty: write it")


def _check_link(where: str, field: str, notebook, section) -> None:
    if not isinstance(notebook, str) or not NOTEBOOK_PATTERN.match(notebook):
        raise GanutilsError(f"{where}: field {field!r} names notebook {notebook!r}: use a stem such as '03_mode_collapse'")
    if not isinstance(section, str) or not section.strip():
        raise GanutilsError(f"{where}: field {field!r} needs a section: the notebook's '## ' heading, without the '## '")


def _check_entry(where: str, q: dict) -> None:
    _check_fields(where, q, FIELDS, OPTIONAL_FIELDS)
    if not ID_PATTERN.match(q["id"]):
        raise GanutilsError(f"{where}: field 'id' must be a lowercase slug such as 'gan-core-idea', got {q['id']!r}")
    if q["topic"] not in TOPICS:
        raise GanutilsError(f"{where}: field 'topic' is {q['topic']!r}: use one of {', '.join(TOPICS)}")
    if not 1 <= q["difficulty"] <= 5:
        raise GanutilsError(f"{where}: field 'difficulty' is {q['difficulty']}: use 1 (definition) to 5")
    if q["source"] not in SOURCES:
        raise GanutilsError(f"{where}: field 'source' is {q['source']!r}: use 'seed' or 'course'")
    for field in ("question_en", "question_zh", "answer_en"):
        _nonempty(where, q, field)
    if not CJK.search(q["question_zh"]):
        raise GanutilsError(f"{where}: field 'question_zh' has no Chinese character: put the seed's Chinese phrasing there")
    if q["demonstrated"]:
        _check_link(where, "notebook", q["notebook"], q["section"])
        if "note" in q:
            raise GanutilsError(f"{where}: field 'note' is only for demonstrated: false entries: remove it")
    else:
        if q["notebook"] is not None or q["section"] is not None:
            raise GanutilsError(f"{where}: field 'notebook'/'section' must be null when demonstrated is false "
                                "(or set demonstrated: true)")
        if q.get("note") != NOT_DEMONSTRATED:
            raise GanutilsError(f"{where}: field 'note' must be exactly {NOT_DEMONSTRATED!r} when demonstrated is false, "
                                f"got {q.get('note')!r}")
    if "seed_correction" in q:
        if not q["seed_correction"]:
            raise GanutilsError(f"{where}: field 'seed_correction' is an empty list: remove it or add a correction")
        for j, c in enumerate(q["seed_correction"]):
            cwhere = f"{where}, seed_correction[{j}]"
            if not isinstance(c, dict):
                raise GanutilsError(f"{cwhere}: must be a mapping with {', '.join(CORRECTION_FIELDS)}")
            _check_fields(cwhere, c, {"seed_file": (str,), "claim": (str,), "correction": (str,),
                                      "experiment": (dict, type(None))}, {})
            for field in ("claim", "correction"):
                _nonempty(cwhere, c, field)
            if not SEED_FILE_PATTERN.match(c["seed_file"]):
                raise GanutilsError(f"{cwhere}: field 'seed_file' is {c['seed_file']!r}: use a file name such as "
                                    "'002_b0fa661cb18c15f3.txt'")
            if c["experiment"] is not None:
                _check_fields(cwhere + ".experiment", c["experiment"], {"notebook": (str,), "section": (str,)}, {})
                _check_link(cwhere, "experiment", c["experiment"]["notebook"], c["experiment"]["section"])


def validate_bank(entries=None, seed_index=None) -> None:
    """Check the bank against its schema (``bank/README.md``); a GanutilsError names the entry and the field.

    With ``seed_index`` it also checks the cross references: every occurrence points at an
    existing entry, every ``source: seed`` entry is referenced and no ``source: course`` entry
    is, and each correction's ``seed_file`` is one of the files that ask the question.
    ``entries=None`` checks the shipped files.
    """
    if entries is None:
        entries = _read_yaml(BANK_PATH)
        seed_index = _read_yaml(SEED_INDEX_PATH) if seed_index is None else seed_index
    if not isinstance(entries, list) or not entries:
        raise GanutilsError("the question bank must be a non-empty YAML list of entries (see ganutils/bank/README.md)")
    ids = {}
    for i, q in enumerate(entries):
        where = _where(i, q)
        if not isinstance(q, dict):
            raise GanutilsError(f"{where}: must be a mapping of fields, got {type(q).__name__}")
        _check_entry(where, q)
        if q["id"] in ids:
            raise GanutilsError(f"{where}: field 'id' repeats entry #{ids[q['id']] + 1}: ids must be unique")
        ids[q["id"]] = i
    if seed_index is None:
        return
    if not isinstance(seed_index, list) or not seed_index:
        raise GanutilsError("the seed index must be a non-empty YAML list of occurrences (see ganutils/bank/README.md)")
    files_asking: dict[str, set] = {}
    qids = set()
    for i, occ in enumerate(seed_index):
        label = occ.get("seed_qid", f"#{i + 1}") if isinstance(occ, dict) else f"#{i + 1}"
        where = f"seed index entry {label!r}"
        if not isinstance(occ, dict):
            raise GanutilsError(f"{where}: must be a mapping of fields, got {type(occ).__name__}")
        _check_fields(where, occ, SEED_INDEX_FIELDS, {})
        if not SEED_FILE_PATTERN.match(occ["seed_file"]):
            raise GanutilsError(f"{where}: field 'seed_file' is {occ['seed_file']!r}: use a file name such as "
                                "'000_9b34bae75c080c4e.txt'")
        if not re.match(rf"^{occ['seed_file'][:3]}-q\d\d$", occ["seed_qid"]):
            raise GanutilsError(f"{where}: field 'seed_qid' must be '{occ['seed_file'][:3]}-qNN' (the file's prefix), "
                                f"got {occ['seed_qid']!r}")
        if occ["seed_qid"] in qids:
            raise GanutilsError(f"{where}: field 'seed_qid' is repeated: number the occurrences of a file 01, 02, ...")
        qids.add(occ["seed_qid"])
        if occ["line"] < 1:
            raise GanutilsError(f"{where}: field 'line' must be a 1-based line number, got {occ['line']}")
        if occ["kind"] not in SEED_KINDS:
            raise GanutilsError(f"{where}: field 'kind' is {occ['kind']!r}: use one of {', '.join(SEED_KINDS)}")
        if occ["bank_id"] not in ids:
            raise GanutilsError(f"{where}: field 'bank_id' is {occ['bank_id']!r}, which is not a bank entry: "
                                "add the entry to questions.yaml or fix the id")
        files_asking.setdefault(occ["bank_id"], set()).add(occ["seed_file"])
    for i, q in enumerate(entries):
        where = _where(i, q)
        asked = files_asking.get(q["id"], set())
        if q["source"] == "seed" and not asked:
            raise GanutilsError(f"{where}: field 'source' is 'seed' but no seed_index.yaml occurrence points here: "
                                "add the occurrence or mark it source: course")
        if q["source"] == "course" and asked:
            raise GanutilsError(f"{where}: field 'source' is 'course' but seed files {sorted(asked)} ask it: "
                                "mark it source: seed")
        for j, c in enumerate(q.get("seed_correction", [])):
            if c["seed_file"] not in asked:
                raise GanutilsError(f"{where}, seed_correction[{j}]: field 'seed_file' {c['seed_file']!r} does not ask "
                                    f"this question (asked by {sorted(asked) or 'no seed file'}): fix the file name")


def check_seed_headings(seeds_dir=None) -> int:
    """Check each seed-index heading against its seed file (the text must be on that line); returns how many."""
    seeds_dir = Path(seeds_dir) if seeds_dir is not None else SEEDS_DIR
    lines_of: dict[str, list[str]] = {}
    for occ in load_seed_index():
        path = seeds_dir / occ["seed_file"]
        if occ["seed_file"] not in lines_of:
            if not path.exists():
                raise GanutilsError(f"seed file {path} is missing: pass seeds_dir= the folder holding the five seed files")
            lines_of[occ["seed_file"]] = path.read_text(encoding="utf-8").splitlines()
        lines = lines_of[occ["seed_file"]]
        line = lines[occ["line"] - 1] if occ["line"] <= len(lines) else ""
        if occ["heading"] not in line:
            raise GanutilsError(f"seed index entry {occ['seed_qid']!r}: field 'heading' {occ['heading']!r} is not on line "
                                f"{occ['line']} of {occ['seed_file']}: fix the line number or the heading")
    return len(load_seed_index())


# ----------------------------------------------------------------------------- queries


def topics() -> list[str]:
    """The topics that have at least one question, in the schema's order."""
    present = {q["topic"] for q in load_bank()}
    return [t for t in TOPICS if t in present]


def get(question_id: str) -> dict:
    """One entry by id."""
    for q in load_bank():
        if q["id"] == question_id:
            return q
    raise GanutilsError(f"no question with id {question_id!r} in the bank: see docs/question_coverage.md for the ids")


def questions_for(notebook: str) -> list[dict]:
    """The bank entries a notebook demonstrates (``notebook`` is a stem such as "03_mode_collapse")."""
    stem = Path(notebook).stem
    return [q for q in load_bank() if q.get("notebook") == stem]


def links(entries=None) -> list[tuple[str, str, str, str]]:
    """Every (entry id, field, notebook, section) the bank cites: demonstrations and correction experiments."""
    out = []
    for q in load_bank() if entries is None else entries:
        if q.get("notebook"):
            out.append((q["id"], "notebook", q["notebook"], q["section"]))
        for j, c in enumerate(q.get("seed_correction") or []):
            if c.get("experiment"):
                e = c["experiment"]
                out.append((q["id"], f"seed_correction[{j}].experiment", e["notebook"], e["section"]))
    return out


def notebook_sections(notebooks_dir=None) -> dict[str, list[str]]:
    """``## `` headings of every ``NN_*.ipynb`` in ``notebooks_dir`` (default: the course's), by notebook stem."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    sections = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError) as err:
            raise GanutilsError(f"notebook {path} is unreadable ({type(err).__name__}): restore it from git") from None
        headings, fenced = [], False
        for cell in cells:
            if cell.get("cell_type") != "markdown":
                continue
            for line in "".join(cell.get("source", [])).splitlines():
                if line.lstrip().startswith("```"):
                    fenced = not fenced
                elif not fenced and line.startswith("## "):
                    headings.append(line[3:].strip())
        sections[path.stem] = headings
    return sections


def link_problem(notebook: str, section: str, sections: dict[str, list[str]]) -> str | None:
    """Why ``notebook`` / ``section`` does not resolve in ``sections`` (from ``notebook_sections``), or None."""
    if notebook not in sections:
        return f"notebook notebooks/{notebook}.ipynb does not exist"
    if section not in sections[notebook]:
        return f"{notebook} has no '## {section}' heading (it has: {'; '.join(sections[notebook]) or 'none'})"
    return None


def unresolved_links(entries=None, notebooks_dir=None) -> list[str]:
    """One line per bank link whose notebook or ``## `` section does not exist; empty when all resolve."""
    sections = notebook_sections(notebooks_dir)
    out = []
    for qid, field, notebook, section in links(entries):
        problem = link_problem(notebook, section, sections)
        if problem:
            out.append(f"{qid} ({field} -> {notebook} § {section}): {problem}")
    return out


def static_mode() -> bool:
    """True when widgets cannot be shown: $GANUTILS_STATIC set, no IPython kernel, or no ipywidgets."""
    if os.environ.get(STATIC_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return True
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "Terminal" in type(shell).__name__:
            return True
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


# ----------------------------------------------------------------------------- rendering


def where_text(entry: dict) -> str:
    """"01_minmax_and_js § The min-max objective", or "not demonstrated here"."""
    return f"{entry['notebook']} § {entry['section']}" if entry.get("notebook") else NOT_DEMONSTRATED


def _experiment_text(c: dict) -> str:
    e = c.get("experiment")
    return f"{e['notebook']} § {e['section']}" if e else "the literature (no experiment)"


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def entry_text(entry: dict, number: int | None = None, width: int = 100, answer: bool = True) -> str:
    """One question as plain text: English and Chinese question, then the answer, where it is shown, corrections."""
    label = f"Q{number}. " if number is not None else ""
    lines = textwrap.wrap(f"{label}{_flat(entry['question_en'])}  [{entry['topic']}, difficulty {entry['difficulty']}]",
                          width, subsequent_indent="    ", break_on_hyphens=False)
    lines.append(f"    {_flat(entry['question_zh'])}")
    if answer:
        wrap = functools.partial(textwrap.wrap, width=width, initial_indent="    ", subsequent_indent="    ",
                                 break_on_hyphens=False)  # "cross-entropy" stays one word in copied text
        lines += wrap(f"Answer: {_flat(entry['answer_en'])}")
        lines.append(f"    Shown in: {where_text(entry)}")
        for c in entry.get("seed_correction") or []:
            lines += wrap(f"Seed {c['seed_file'][:3]} says: {_flat(c['claim'])} Correction: {_flat(c['correction'])} "
                          f"Shown by: {_experiment_text(c)}.")
    return "\n".join(lines)


def question_html(entry: dict, number: int | None = None) -> str:
    """The question line: English, the Chinese original beside it, topic and difficulty."""
    esc = html.escape
    label = f"<b>Q{number}.</b> " if number is not None else ""
    return (f"{label}{esc(_flat(entry['question_en']))} <span style='color:#666'>{esc(_flat(entry['question_zh']))}</span>"
            f" <small style='color:#888'>[{esc(entry['topic'])}, difficulty {entry['difficulty']}]</small>")


def entry_html(entry: dict, number: int | None = None) -> str:
    """One question as HTML, the answer folded in a <details> element (hidden until clicked, no kernel needed)."""
    return f"<details><summary>{question_html(entry, number)}</summary>{answer_html(entry)}</details>"


def answer_html(entry: dict) -> str:
    """The answer block of an entry: model answer, where it is shown, and any seed corrections."""
    esc = html.escape
    parts = [f"<p>{esc(_flat(entry['answer_en']))}</p>", f"<p><em>Shown in: {esc(where_text(entry))}</em></p>"]
    for c in entry.get("seed_correction") or []:
        parts.append(f"<p style='border-left:3px solid #c60;padding-left:6px'><b>Seed {esc(c['seed_file'][:3])} says:</b> "
                     f"{esc(_flat(c['claim']))}<br><b>Correction:</b> {esc(_flat(c['correction']))}<br>"
                     f"<em>Shown by: {esc(_experiment_text(c))}</em></p>")
    return "".join(parts)


class Checkpoint:
    """A notebook's interview questions: widgets in Jupyter, text + folded HTML in executed notebooks."""

    def __init__(self, notebook: str, entries: list[dict], header: str = ""):
        self.notebook, self.entries, self.header = notebook, list(entries), header

    def text(self) -> str:
        title = f"Interview checkpoint: {self.notebook} ({len(self.entries)} question{'s' * (len(self.entries) != 1)})"
        body = "\n\n".join(entry_text(q, i) for i, q in enumerate(self.entries, 1))
        return "\n".join(filter(None, [title, _flat(self.header)])) + "\n\n" + body

    def html(self) -> str:
        intro = f"<p><em>{html.escape(_flat(self.header))}</em></p>" if self.header else ""
        hint = "<p><small>Answer aloud first, then click a question to reveal the model answer.</small></p>"
        return intro + hint + "\n".join(entry_html(q, i) for i, q in enumerate(self.entries, 1))

    def widget(self):
        """A VBox: each question with a "Show answer" toggle, plus one toggle for all answers."""
        import ipywidgets as w

        rows, toggles = [], []
        for i, q in enumerate(self.entries, 1):
            question = w.HTML(question_html(q, i))
            answer = w.HTML(answer_html(q), layout=w.Layout(display="none", margin="0 0 0 2em"))
            toggle = w.ToggleButton(description="Show answer", layout=w.Layout(width="9em"))

            def flip(change, answer=answer, toggle=toggle):
                answer.layout.display = "block" if change["new"] else "none"
                toggle.description = "Hide answer" if change["new"] else "Show answer"

            toggle.observe(flip, names="value")
            toggles.append(toggle)
            rows.append(w.VBox([question, toggle, answer]))
        show_all = w.ToggleButton(description="Show all answers", layout=w.Layout(width="12em"))
        show_all.observe(lambda change: [setattr(t, "value", change["new"]) for t in toggles], names="value")
        intro = w.HTML(f"<p><em>{html.escape(_flat(self.header))}</em></p>") if self.header else w.HTML("")
        return w.VBox([intro, show_all, *rows])

    def _ipython_display_(self):
        from IPython.display import display

        if static_mode():
            display({"text/plain": self.text(), "text/html": self.html()}, raw=True)
        else:
            display(self.widget())

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def _course_notebooks() -> set[str]:
    stems = {p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")}
    return stems | {nb for _, _, nb, _ in links()} | {REVIEW_NOTEBOOK}


def checkpoint(notebook: str, n: int = SAMPLE_SIZE, seed: int = 0) -> Checkpoint:
    """The interview checkpoint for ``notebook``, the last cell of every notebook.

    A course notebook that demonstrates no question of its own (00's tour, 09's review) shows
    ``n`` questions drawn from the whole bank with ``seed`` instead, and says so.
    """
    stem = Path(str(notebook)).stem
    own = questions_for(stem)
    if own:
        return Checkpoint(stem, own)
    known = _course_notebooks()
    if stem not in known:
        raise GanutilsError(f"{notebook!r} is not a course notebook: use a stem such as "
                            f"{', '.join(repr(k) for k in sorted(known)[:3])}, ...")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GanutilsError(f"n must be a positive whole number of questions, got {n!r}")
    bank = list(load_bank())
    sample = random.Random(seed).sample(bank, min(n, len(bank)))
    header = (f"{stem} demonstrates no question of its own: here are {len(sample)} of the bank's {len(bank)} questions, "
              f"drawn with seed {seed}. Run `python -m ganutils quiz` (or notebook 09's quiz) for all of them.")
    return Checkpoint(stem, sample, header)


def checkpoint_text(notebook: str) -> str:
    """The checkpoint as plain text (terminals and static runs)."""
    return checkpoint(notebook).text()


def checkpoint_html(notebook: str) -> str:
    """The checkpoint as HTML with each answer folded in a <details> element."""
    return checkpoint(notebook).html()


# ----------------------------------------------------------------------------- coverage table


def _cell(text) -> str:
    return _flat(text).replace("|", "\\|")


def _link(notebook: str | None, section: str | None) -> str:
    if not notebook:
        return NOT_DEMONSTRATED
    return f"[{notebook} § {_cell(section)}](../notebooks/{notebook}.ipynb)"


def coverage_markdown() -> str:
    """docs/question_coverage.md: seed file -> questions -> where answered (and which seed claims are corrected)."""
    bank = {q["id"]: q for q in load_bank()}
    index = load_seed_index()
    files = sorted({o["seed_file"] for o in index})
    corrections = [(q, c) for q in bank.values() for c in q.get("seed_correction") or []]
    out = [
        "# Question coverage: seed file → questions → where answered",
        "",
        "Generated from `ganutils/bank/seed_index.yaml` and `ganutils/bank/questions.yaml` by",
        "`python -c \"from ganutils import interview; interview.write_coverage()\"`;",
        "`tests/test_interview.py` fails when this file is out of date.",
        f"The five seed files (`../shared/seeds/`) hold {len(index)} question occurrences, answered by "
        f"{sum(q['source'] == 'seed' for q in bank.values())} distinct bank entries; the course adds "
        f"{sum(q['source'] == 'course' for q in bank.values())} more. A *correction* marks a seed answer that is wrong "
        "or misleading; the bank entry states the correction and the experiment that shows it.",
        "",
        "## Summary",
        "",
        "| seed file | occurrences | distinct questions | demonstrated | not demonstrated here "
        "| corrections (with an experiment) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in files + [None]:
        occ = [o for o in index if f is None or o["seed_file"] == f]
        ids = {o["bank_id"] for o in occ}
        qs = [bank[i] for i in ids] if f is not None else list(bank.values())
        cs = [c for q, c in corrections if f is None or c["seed_file"] == f]
        name = f"`{f}`" if f else "**all (incl. course questions)**"
        shown, with_run = sum(q["demonstrated"] for q in qs), sum(c["experiment"] is not None for c in cs)
        out.append(f"| {name} | {len(occ)} | {len(qs)} | {shown} | {len(qs) - shown} | {len(cs)} ({with_run}) |")
    out += ["", "## By notebook", "", "| notebook | questions demonstrated | seed corrections shown by an experiment |",
            "|---|---:|---:|"]
    for nb in sorted({q["notebook"] for q in bank.values() if q["notebook"]} |
                     {c["experiment"]["notebook"] for _, c in corrections if c["experiment"]}):
        n_q = sum(q["notebook"] == nb for q in bank.values())
        n_c = sum(bool(c["experiment"]) and c["experiment"]["notebook"] == nb for _, c in corrections)
        out.append(f"| [{nb}](../notebooks/{nb}.ipynb) | {n_q} | {n_c} |")
    for f in files:
        out += ["", f"## `{f}`", "",
                "| seed question | line | kind | seed heading | bank entry | where answered | seed answer corrected |",
                "|---|---:|---|---|---|---|---|"]
        for o in (o for o in index if o["seed_file"] == f):
            q = bank[o["bank_id"]]
            fixed = [c for c in q.get("seed_correction") or [] if c["seed_file"] == f]
            fix = "; ".join(dict.fromkeys(_link(c["experiment"]["notebook"], c["experiment"]["section"]) if c["experiment"]
                                          else "yes (literature)" for c in fixed))  # each place once
            fix = f"{len(fixed)}: {fix}" if len(fixed) > 1 else fix
            out.append(f"| {o['seed_qid']} | {o['line']} | {o['kind']} | {_cell(o['heading'])} | `{q['id']}`: "
                       f"{_cell(q['question_en'])} | {_link(q['notebook'], q['section'])} | {fix} |")
    out += ["", "## Questions the course adds", "", "| bank entry | where answered |", "|---|---|"]
    for q in bank.values():
        if q["source"] == "course":
            out.append(f"| `{q['id']}`: {_cell(q['question_en'])} | {_link(q['notebook'], q['section'])} |")
    return "\n".join(out) + "\n"


def write_coverage(path=None) -> Path:
    """Rewrite docs/question_coverage.md from the bank."""
    path = Path(path) if path is not None else COVERAGE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(coverage_markdown(), encoding="utf-8")
    return path

