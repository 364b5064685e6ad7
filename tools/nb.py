"""Author notebooks as percent-format scripts, commit them as clean .ipynb.

    python tools/nb.py to-ipynb SRC.py notebooks/NN_name.ipynb   # build (no outputs, python3 kernel)
    python tools/nb.py to-py notebooks/NN_name.ipynb SRC.py      # back to a script for editing
    python tools/nb.py strip notebooks/*.ipynb                   # drop outputs and execution counts

Needs jupytext (in the dev extras).
"""

import sys

import jupytext
import nbformat

KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def clean(nb):
    nb.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.id = f"cell-{i:03d}"  # stable ids: rebuilding a notebook gives the same file
    return nb


def main(argv):
    cmd, *paths = argv
    if cmd == "to-ipynb":
        src, dst = paths
        nb = clean(jupytext.read(src, fmt="py:percent"))
        nbformat.write(nb, dst, version=4)
    elif cmd == "to-py":
        src, dst = paths
        jupytext.write(nbformat.read(src, as_version=4), dst, fmt="py:percent")
    elif cmd == "strip":
        for path in paths:
            nbformat.write(clean(nbformat.read(path, as_version=4)), path, version=4)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
