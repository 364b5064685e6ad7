"""Notebook sources are text: ``notebooks/NN_name.py`` (jupytext py:percent) is what you edit; the committed
``notebooks/NN_name.ipynb`` (no outputs) is built from it.

    python tools/nb.py sync                        # rebuild every .ipynb from its .py twin (no outputs)
    python tools/nb.py sync notebooks/03_mode_collapse.py
    python tools/nb.py check                       # exit 1 and name every pair that is out of sync
    python tools/nb.py to-py notebooks/NN_name.ipynb   # create the .py twin of a notebook (once)
    python tools/nb.py strip notebooks/*.ipynb     # drop outputs and execution counts in place

Needs jupytext (in the dev extras).
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
FORMATS = "ipynb,py:percent"


def clean(nb):
    """No outputs, no execution counts, stable cell ids, only the metadata the course needs."""
    nb.metadata = {"jupytext": {"formats": FORMATS}, "kernelspec": KERNEL, "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags", "jupyter")}  # jupyter: source_hidden
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.id = f"cell-{i:03d}"  # stable ids: rebuilding a notebook gives the same file
    return nb


def from_text(py: Path):
    return clean(jupytext.read(py, fmt="py:percent"))


def cells(nb) -> list[tuple]:
    """What must agree between the twins: each cell's type, source, tags and whether its source is collapsed."""
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", [])), bool(c.metadata.get("jupyter", {}).get("source_hidden")))
            for c in nb.cells]


def out_of_sync(folder: Path = NOTEBOOKS) -> list[str]:
    """One line per notebook whose .py and .ipynb disagree (or that lacks its twin)."""
    problems = []
    for ipynb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        py = ipynb.with_suffix(".py")
        if not py.exists():
            problems.append(f"{ipynb.name}: no text twin {py.name} (create it: python tools/nb.py to-py {ipynb})")
            continue
        if cells(from_text(py)) != cells(nbformat.read(ipynb, as_version=4)):
            problems.append(f"{ipynb.name} differs from {py.name}: edit the .py, then run `python tools/nb.py sync {py}`")
    for py in sorted(folder.glob("[0-9][0-9]_*.py")):
        if not py.with_suffix(".ipynb").exists():
            problems.append(f"{py.name} has no notebook: run `python tools/nb.py sync {py}`")
    return problems


def main(argv):
    cmd, *paths = argv or ["help"]
    if cmd == "sync":
        for py in [Path(p) for p in paths] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
            nbformat.write(from_text(py), py.with_suffix(".ipynb"), version=4)
    elif cmd == "check":
        problems = out_of_sync()
        print("\n".join(problems) or "every notebook matches its text twin")
        sys.exit(1 if problems else 0)
    elif cmd == "to-py":
        for path in map(Path, paths):
            jupytext.write(clean(nbformat.read(path, as_version=4)), path.with_suffix(".py"), fmt="py:percent")
    elif cmd == "strip":
        for path in paths:
            nbformat.write(clean(nbformat.read(path, as_version=4)), path, version=4)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
