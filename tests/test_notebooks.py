"""House rules for the committed notebooks (nbval executes them; this checks how they are stored)."""

import json
import re

import pytest

from ganutils.course import runner

NOTEBOOKS = runner.list_notebooks()


def test_the_course_is_numbered_in_reading_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[0] == 0 and numbers == sorted(set(numbers)), f"notebooks must be numbered 00, 01, ... each once: {numbers}"
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


# ----------------------------------------------------------------------------- text twins


def test_every_notebook_matches_its_text_twin():
    """notebooks/NN_name.py is the source; the committed .ipynb must be what `tools/nb.py sync` builds from it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_tool", runner.REPO_DIR / "tools" / "nb.py")
    nb_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nb_tool)
    assert not nb_tool.out_of_sync(runner.NOTEBOOK_DIR), "\n".join(nb_tool.out_of_sync(runner.NOTEBOOK_DIR))


def test_the_twin_check_catches_an_edit_to_one_side(tmp_path):
    import importlib.util
    import shutil

    spec = importlib.util.spec_from_file_location("nb_tool", runner.REPO_DIR / "tools" / "nb.py")
    nb_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nb_tool)
    for suffix in (".py", ".ipynb"):
        shutil.copy(NOTEBOOKS[0].with_suffix(suffix), tmp_path / NOTEBOOKS[0].with_suffix(suffix).name)
    assert nb_tool.out_of_sync(tmp_path) == []
    py = tmp_path / NOTEBOOKS[0].with_suffix(".py").name
    py.write_text(py.read_text(encoding="utf-8") + "\n# %%\nprint('an edit made only to the text file')\n", encoding="utf-8")
    assert len(nb_tool.out_of_sync(tmp_path)) == 1


# ----------------------------------------------------------------------------- no asserted timings


TIMERS = re.compile(r"\btime\.(perf_counter|process_time|time|monotonic|thread_time)(_ns)?\b|\.seconds\b|steps_per_s|per_second"
                    r"|images_per_s|ms_per_")


def timing_asserts(source: str) -> list[str]:
    """Assert statements that use a value computed from a timer, following assignments through the code.

    Taint flows through names (``cpu = time.process_time() - tic``, ``ratio = cpu / x``) and through
    constant dict keys (``run = {"seconds": history.seconds}`` taints ``run["seconds"]``, not all of ``run``).
    """
    import ast

    tree = ast.parse(source)
    names: set[str] = set()
    keys: set[str] = set()

    def key_of(sub):
        return sub.slice.value if isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str) else None

    def uses_timer(node) -> bool:
        if isinstance(node, ast.Dict):  # a dict literal taints its keys, not the whole dict
            hit = False
            for k, v in zip(node.keys, node.values):
                if v is not None and uses_timer(v):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str):
                        keys.add(k.value)
                    else:
                        hit = True
            return hit
        if isinstance(node, ast.Name):
            return node.id in names
        if isinstance(node, ast.Subscript) and key_of(node) in keys:
            return True
        if isinstance(node, (ast.Attribute, ast.Call)) and TIMERS.search(ast.unparse(node)):
            if not isinstance(node, ast.Call) or TIMERS.search(ast.unparse(node.func)) or any(uses_timer(a) for a in node.args):
                return True
        return any(uses_timer(child) for child in ast.iter_child_nodes(node))

    def base_name(target):
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        return target.id if isinstance(target, ast.Name) else None

    changed = True
    while changed:  # propagate through chains of assignments
        before = (len(names), len(keys))
        for node in ast.walk(tree):
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets, value = [node.target], node.value
            if value is None or not uses_timer(value):
                continue
            for target in targets:
                if isinstance(target, ast.Subscript) and key_of(target):
                    keys.add(key_of(target))
                elif isinstance(target, (ast.Tuple, ast.List)):
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                elif base_name(target) and not isinstance(target, ast.Subscript):
                    names.add(base_name(target))
        changed = (len(names), len(keys)) != before
    return [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Assert) and uses_timer(n.test)]


def notebook_code(path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n".join(line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_asserts_a_timing(path):
    """A claim about speed checked by a timer is a timed test: it fails on a busy machine and proves nothing."""
    bad = timing_asserts(notebook_code(path))
    assert not bad, f"{path.name} asserts on a timing: {bad}; print and record times, assert FLOP or pass counts instead"


def test_the_timing_check_follows_assignments():
    source = """
import time
tic = time.process_time()
run()
cpu = time.process_time() - tic
ratio = cpu / other
row = {"r": ratio, "fd": fd}
runs[name] = {"seconds": history.seconds, "fd": fd}
assert flops > 1.2
assert history.seconds < 100
assert row["r"] > 1.2
assert row["fd"] < 10 and runs[name]["fd"] < 10
assert runs[name]["seconds"] < 5
"""
    assert timing_asserts(source) == ["assert history.seconds < 100", "assert row['r'] > 1.2", "assert runs[name]['seconds'] < 5"]
