"""House rules for the committed notebooks (nbval executes them; this checks how they are stored)."""

import json
import re

import pytest

from ganutils import runner

NOTEBOOKS = runner.list_notebooks()


def test_the_course_is_numbered_in_reading_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(numbers))), f"notebooks must be numbered 00, 01, ... without gaps: {numbers}"
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; strip them with `python tools/nb.py strip {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_starts_with_a_title_and_a_parameters_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first_md = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    assert re.match(rf"# {path.name[:2]} · ", "".join(first_md["source"])), f"{path.name}: first heading must be '# {path.name[:2]} · Title'"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "parameters" in first_code["metadata"].get("tags", []), f"{path.name}: the first code cell must be tagged 'parameters'"
    params = runner.notebook_parameters(path)
    assert {"profile", "device", "seed"} <= set(params), f"{path.name}: parameters must include profile, device, seed"
    assert params["profile"] == "None", "profile defaults to None so $GANUTILS_PROFILE and the machine decide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_an_interview_checkpoint(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    headings = [line for c in nb["cells"] if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()
                if line.startswith("## ")]
    assert headings and "Interview checkpoint" in headings[-1], f"{path.name}: the last section must be the interview checkpoint"
    last_code = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    assert f'gu.interview.checkpoint("{path.stem}"' in "".join(last_code["source"]), \
        f"{path.name}: the last code cell must be gu.interview.checkpoint(\"{path.stem}\")"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_ganutils_and_write_only_through_it(path):
    source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
    assert "import ganutils as gu" in source
    assert not re.search(r"\bopen\([^)]*['\"]w", source), f"{path.name}: write files under gu.run_dir(), not next to the notebook"
    assert "savefig(" not in source or "run_dir" in source
