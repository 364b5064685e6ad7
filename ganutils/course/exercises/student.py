"""The student edition: ``python -m ganutils student OUT_DIR`` writes the course's notebooks without their solutions.

In the course's notebooks every solution sits in a cell tagged ``solution`` (collapsed in Jupyter), between
nbgrader-style ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers, so a teacher can also feed the notebooks to
nbgrader or otter-grader. The student edition drops those cells and marks each exercise session as the student
edition (``solutions=True`` then only checks the student's own answers); everything else is unchanged, so the
notebooks run top to bottom like the course's with every exercise unsolved.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from ganutils.config import GanutilsError

SOLUTION_TAG = "solution"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SESSION_CALL = re.compile(r"exercises\.session\((?P<args>[^()]*)\)")
README = """# The GAN course, student edition

These notebooks are the course's, without the solutions of the exercises: each exercise is a stub to fill in,
checked by `ganutils` when you run its cell ("not attempted yet" until you try). Run them like the course's:

    jupyter lab notebooks/            # or: python -m ganutils run NN --profile quick --out runs/mine

Built by `python -m ganutils student` from the course's notebooks (cells tagged `solution` removed).
"""


def student_notebook(nb, name: str = "notebook"):
    """``nb`` (an nbformat notebook) without its solution cells; raises if a marker sits outside one."""
    cells = []
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if BEGIN in cell.source or END in cell.source:
            raise GanutilsError(f"{name}, cell {i}: a solution marker outside a cell tagged 'solution'; tag the cell "
                                f"(# %% tags=[\"solution\"] jupyter={{\"source_hidden\": true}}) so the student edition drops it")
        if cell.cell_type == "code" and "exercises.session(" in cell.source:
            cell.source = SESSION_CALL.sub(lambda m: f'exercises.session({m["args"]}, edition="student")', cell.source)
        cells.append(cell)
    nb.cells = cells
    nb.metadata["ganutils"] = {"edition": "student"}
    return nb


def write_student_edition(out_dir, notebooks: list[Path] | None = None) -> list[Path]:
    """Write every course notebook, solutions removed, to ``out_dir/notebooks/``; returns the written paths."""
    from ganutils.course import runner
    from ganutils.io import atomic_write_text

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanutilsError(f"{out} exists and is not an empty folder: pass a new folder for the student edition")
    notebooks = list(notebooks) if notebooks is not None else runner.list_notebooks()
    if not notebooks:
        raise GanutilsError("no course notebooks found: run this from a checkout of the course")
    written = []
    for path in notebooks:
        nb = student_notebook(nbformat.read(path, as_version=4), path.name)
        target = out / "notebooks" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, nbformat.writes(nb))
        written.append(target)
    atomic_write_text(out / "README.md", README)
    return written
