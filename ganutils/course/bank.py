"""The interview question bank: loading, validation, queries, links into the notebooks, the coverage table.

The bank is YAML in ``ganutils/course/bank/``: ``questions/<topic>.yaml`` (one entry per distinct
question, schema in ``bank/README.md``) and ``seed_index.yaml`` (every question occurrence in the
source material, each with the entry that answers it).

- ``load_bank()``, ``load_seed_index()``: read once and checked by ``validate_bank()``, which names
  the entry and the field at fault.
- ``questions_for(notebook)``: the entries a notebook demonstrates.
- ``unresolved_links()``: bank links (notebook + ``## `` section) that no notebook of the checkout backs.
The coverage table (seed file -> questions -> where answered) is ``ganutils.course.coverage``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

from ..config import GanutilsError, checkout_dir

BANK_DIR = Path(__file__).resolve().parent / "bank"
QUESTIONS_DIR = BANK_DIR / "questions"
SEED_INDEX_PATH = BANK_DIR / "seed_index.yaml"
GLOSSARY_PATH = BANK_DIR / "glossary.yaml"

TOPICS = ("gan-basics", "gan-training", "mode-collapse", "wgan", "modern-recipe", "vae", "conditional", "pix2pix",
          "cyclegan", "diffusion", "super-resolution", "evaluation", "applications", "coding")
SOURCES = ("seed", "course")
SEED_KINDS = ("question", "toc", "section", "recap", "code")
NOT_DEMONSTRATED = "not demonstrated here"
REVIEW_NOTEBOOK = "13_review"

FIELDS = {  # field -> allowed types (None: may be null)
    "id": (str,), "topic": (str,), "difficulty": (int,), "source": (str,), "question_en": (str,),
    "question_zh": (str,), "key_points_en": (list,), "key_points_zh": (list,), "answer_en": (str,),
    "answer_zh": (str,), "notebook": (str, type(None)), "section": (str, type(None)), "demonstrated": (bool,),
}
OPTIONAL_FIELDS = {"note": (str,), "seed_correction": (list,), "question_zh_seed": (str,), "follow_up_of": (str,),
                   "code": (list,)}
CODE_PATH = re.compile(r"^ganutils(\.[A-Za-z_][A-Za-z0-9_]*)+$")
KEY_POINTS = (2, 4)  # how many key points an entry shows first (and an Anki card's back holds)
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


def _read_questions() -> list[dict]:
    """Every entry of ``questions/<topic>.yaml``, topics in the schema's order; each file holds one topic."""
    entries = []
    for path in sorted(QUESTIONS_DIR.glob("*.yaml"), key=lambda p: (TOPICS.index(p.stem) if p.stem in TOPICS else len(TOPICS), p.stem)):
        if path.stem not in TOPICS:
            raise GanutilsError(f"question bank file {path.name} is not named after a topic ({', '.join(TOPICS)}): rename it")
        part = _read_yaml(path) or []
        if not isinstance(part, list):
            raise GanutilsError(f"question bank file {path} must be a YAML list of entries")
        for entry in part:
            if isinstance(entry, dict) and entry.get("topic") != path.stem:
                raise GanutilsError(f"question bank entry {entry.get('id')!r} has topic {entry.get('topic')!r} but lives in "
                                    f"{path.name}: move it to questions/{entry.get('topic')}.yaml")
        entries += part
    return entries


@functools.lru_cache(maxsize=1)
def _load_default() -> tuple[tuple[dict, ...], tuple[dict, ...]]:
    bank, index = _read_questions(), _read_yaml(SEED_INDEX_PATH)
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
            raise GanutilsError(f"{where}: field {field!r} is missing: add it (see ganutils/course/bank/README.md)")
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
    _nonempty(where, q, "answer_zh")
    if not CJK.search(q["answer_zh"]):
        raise GanutilsError(f"{where}: field 'answer_zh' has no Chinese character: write the answer in Chinese")
    for field in ("key_points_en", "key_points_zh"):
        points = q[field]
        if not KEY_POINTS[0] <= len(points) <= KEY_POINTS[1] or not all(isinstance(p, str) and p.strip() for p in points):
            raise GanutilsError(f"{where}: field {field!r} must list {KEY_POINTS[0]}-{KEY_POINTS[1]} short, non-empty lines")
    if len(q["key_points_zh"]) != len(q["key_points_en"]):
        raise GanutilsError(f"{where}: fields 'key_points_en' and 'key_points_zh' must hold as many points")
    if "question_zh_seed" in q and not CJK.search(q["question_zh_seed"]):
        raise GanutilsError(f"{where}: field 'question_zh_seed' must be the seed's Chinese heading, kept verbatim")
    for path in q.get("code", []):
        if not isinstance(path, str) or not CODE_PATH.match(path):
            raise GanutilsError(f"{where}: field 'code' lists {path!r}: use dotted paths such as "
                                "'ganutils.losses.adversarial.d_loss_bce'")
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
        entries = _read_questions()
        seed_index = _read_yaml(SEED_INDEX_PATH) if seed_index is None else seed_index
    if not isinstance(entries, list) or not entries:
        raise GanutilsError("the question bank must be a non-empty YAML list of entries (see ganutils/course/bank/README.md)")
    ids = {}
    for i, q in enumerate(entries):
        where = _where(i, q)
        if not isinstance(q, dict):
            raise GanutilsError(f"{where}: must be a mapping of fields, got {type(q).__name__}")
        _check_entry(where, q)
        if q["id"] in ids:
            raise GanutilsError(f"{where}: field 'id' repeats entry #{ids[q['id']] + 1}: ids must be unique")
        ids[q["id"]] = i
    for i, q in enumerate(entries):
        parent = q.get("follow_up_of")
        if parent is not None and (parent not in ids or parent == q["id"]):
            raise GanutilsError(f"{_where(i, q)}: field 'follow_up_of' is {parent!r}, which is not another bank entry")
    if seed_index is None:
        return
    if not isinstance(seed_index, list) or not seed_index:
        raise GanutilsError("the seed index must be a non-empty YAML list of occurrences (see ganutils/course/bank/README.md)")
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


def check_seed_headings(seeds_dir) -> int:
    """Check each seed-index heading against its seed file in ``seeds_dir`` (the text must be on that line); returns how many."""
    seeds_dir = Path(seeds_dir)
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


def notebooks_dir() -> Path:
    """The checkout's ``notebooks/`` folder; an installed wheel has no notebooks."""
    root = checkout_dir()
    if root is None:
        raise GanutilsError("the notebooks are not installed with the package: run this from a clone of the course")
    return root / "notebooks"


def notebook_sections(notebooks_dir=None) -> dict[str, list[str]]:
    """``## `` headings of every ``NN_*.ipynb`` in ``notebooks_dir`` (default: the checkout's), by notebook stem."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else globals()["notebooks_dir"]()
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


# ----------------------------------------------------------------------------- glossary


@functools.lru_cache(maxsize=1)
def load_glossary() -> tuple[dict, ...]:
    """The bank's glossary (``bank/glossary.yaml``): each English term with the one Chinese term the answers use."""
    terms = _read_yaml(GLOSSARY_PATH)
    if not isinstance(terms, list) or not terms:
        raise GanutilsError(f"the glossary {GLOSSARY_PATH} must be a non-empty YAML list of terms")
    for i, t in enumerate(terms):
        where = f"glossary term #{i + 1}"
        if not isinstance(t, dict):
            raise GanutilsError(f"{where}: must be a mapping with en and zh")
        _check_fields(where, t, {"en": (str,), "zh": (str,)}, {"avoid": (list,), "match": (str,), "note": (str,)})
        if "match" in t:
            try:
                re.compile(t["match"])
            except re.error as err:
                raise GanutilsError(f"{where} ({t['en']}): field 'match' is not a regular expression ({err})") from None
    return tuple(terms)
