"""The interview question bank (``ganutils/bank/questions.yaml``) and each notebook's checkpoint."""

from __future__ import annotations

import functools
import html
from pathlib import Path

import yaml

from .config import PACKAGE_DIR, GanutilsError

BANK_DIR = PACKAGE_DIR / "bank"


@functools.lru_cache(maxsize=1)
def load_bank() -> tuple[dict, ...]:
    """Every bank entry, in file order."""
    path = BANK_DIR / "questions.yaml"
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise GanutilsError(f"the question bank {path} is unreadable ({type(err).__name__}); restore it from git") from None
    return tuple(entries)


def questions_for(notebook: str) -> list[dict]:
    """The bank entries a notebook demonstrates (``notebook`` is a stem such as "03_mode_collapse")."""
    stem = Path(notebook).stem
    return [q for q in load_bank() if q.get("notebook") == stem]


def checkpoint_text(notebook: str) -> str:
    """The checkpoint as plain text: question, then answer (for terminals and static runs)."""
    lines = []
    for i, q in enumerate(questions_for(notebook), 1):
        lines += [f"Q{i}. {q['question_en']}  ({q['question_zh']})", "", "    " + " ".join(q["answer_en"].split()), ""]
    return "\n".join(lines)


def checkpoint_html(notebook: str) -> str:
    """The checkpoint with each answer folded in a <details> element: hidden until clicked."""
    parts = []
    for i, q in enumerate(questions_for(notebook), 1):
        section = f" <em>(see: {html.escape(q['section'])})</em>" if q.get("section") else ""
        parts.append(
            f"<details><summary><b>Q{i}.</b> {html.escape(q['question_en'])} <span style='color:#888'>"
            f"{html.escape(q['question_zh'])}</span></summary><p>{html.escape(' '.join(q['answer_en'].split()))}{section}</p></details>"
        )
    return "\n".join(parts)


class Checkpoint:
    """Displays as folded HTML in Jupyter and as plain text elsewhere."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        if not questions_for(notebook):
            raise GanutilsError(f"the question bank has no questions for {notebook!r}")

    def _repr_html_(self) -> str:
        return checkpoint_html(self.notebook)

    def __repr__(self) -> str:
        return checkpoint_text(self.notebook)


def checkpoint(notebook: str) -> Checkpoint:
    """The interview checkpoint for ``notebook``: the last cell of every notebook displays it."""
    return Checkpoint(notebook)
