"""The exercises inside the notebooks: every registered exercise is in its notebook, every hidden solution passes its
check, the notebooks run with ``solutions=True``, and the student edition holds no solution code.

nbval (``make test``) runs every notebook with the exercises unsolved; the slow tests here run each notebook with
exercises once more with ``solutions=True`` (papermill, smoke), and one student notebook.
"""

import ast
import contextlib
import io
import math
import re

import nbformat
import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganutils.course import exercises, runner
from ganutils.course.exercises import student

NOTEBOOKS = {p.stem: p for p in runner.list_notebooks()}
WITH_EXERCISES = sorted({e.notebook for e in exercises.all_exercises()})
CHECK = re.compile(r'exercise\.check\("(?P<id>[0-9a-z-]+)", (?P<name>\w+)\)')
PREDICT = re.compile(r'exercise\.predict\("(?P<id>[0-9a-z-]+)", None\)')
REVEAL = re.compile(r'exercise\.reveal\("(?P<id>[0-9a-z-]+)"')
SOLUTION = re.compile(r'@exercise\.solution\("(?P<id>[0-9a-z-]+)"\)')


def code_cells(stem):
    return [c for c in nbformat.read(NOTEBOOKS[stem], as_version=4).cells if c.cell_type == "code"]


def is_solution(cell) -> bool:
    return "solution" in cell.metadata.get("tags", [])


def test_the_exercises_live_in_course_notebooks():
    assert set(WITH_EXERCISES) <= set(NOTEBOOKS), "every exercise names a notebook of the course"


@pytest.mark.parametrize("stem", WITH_EXERCISES)
def test_every_exercise_sits_in_its_notebook(stem):
    code = code_cells(stem)
    assert re.search(r"^solutions = False\b", code[0].source, re.M), "the parameters cell has solutions = False"
    sessions = [i for i, c in enumerate(code) if f'exercises.session("{stem}", solutions)' in c.source]
    assert len(sessions) == 1
    registered = {e.id: e for e in exercises.for_notebook(stem)}
    where = {}
    for i, cell in enumerate(code):
        for pattern, what in ((CHECK, "check"), (PREDICT, "predict"), (REVEAL, "reveal"), (SOLUTION, "solution")):
            for m in pattern.finditer(cell.source):
                assert (m["id"], what) not in where, f"{m['id']}: two {what} calls"
                where[m["id"], what] = i
    for exercise_id, e in registered.items():
        if e.kind == "predict":
            assert sessions[0] < where[exercise_id, "predict"] < where[exercise_id, "reveal"], exercise_id
        else:
            assert sessions[0] < where[exercise_id, "solution"] < where[exercise_id, "check"], exercise_id
    assert {i for i, _ in where} == set(registered), "every exercise call names a registered exercise"
    for cell in code:
        if is_solution(cell):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, "solutions are collapsed"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        else:
            assert "### BEGIN SOLUTION" not in cell.source


def _definition(source: str, name: str) -> str:
    """The top-level statement of ``source`` that defines ``name`` (the learner's stub)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.get_source_segment(source, node)
    raise AssertionError(f"{name} is not defined in its check cell")


@pytest.mark.parametrize("stem", WITH_EXERCISES)
def test_the_hidden_solutions_pass_and_the_stubs_say_not_attempted(stem):
    """Every solution cell, run against its check with solutions=True (in this process: seconds, not a kernel)."""
    ex = exercises.session(stem, solutions=True)
    namespace = {"exercise": ex, "np": np, "torch": torch, "math": math, "scipy": scipy, "F": F}
    code = code_cells(stem)
    for cell in filter(is_solution, code):
        exec(compile(cell.source, f"{stem} solution cell", "exec"), namespace)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        for cell in code:
            for m in CHECK.finditer(cell.source):
                exec(compile(_definition(cell.source, m["name"]), f"{stem} exercise cell", "exec"), namespace)
                ex.check(m["id"], namespace[m["name"]])  # raises if the solution fails its check
    printed = buffer.getvalue()
    checked = [e for e in exercises.for_notebook(stem) if e.kind != "predict"]
    assert all(ex.results[e.id].passed for e in checked)
    assert len(re.findall(r"yours:\s+not\s+attempted", printed)) == len(checked), printed


@pytest.mark.slow
@pytest.mark.parametrize("stem", WITH_EXERCISES)
def test_the_notebook_runs_with_solutions(stem, tmp_path):
    result = runner.execute(NOTEBOOKS[stem], tmp_path, {"solutions": True}, "smoke", timeout=900)
    assert result.status == "ok", result.error


def test_the_student_edition_has_no_solution_code(tmp_path):
    written = student.write_student_edition(tmp_path / "edition")
    assert sorted(p.name for p in written) == sorted(p.name for p in NOTEBOOKS.values())
    assert (tmp_path / "edition" / "README.md").exists()
    for path in written:
        course = nbformat.read(NOTEBOOKS[path.stem], as_version=4).cells
        edition = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in edition.cells)
        assert "### BEGIN SOLUTION" not in text and "@exercise.solution" not in text
        assert edition.metadata["ganutils"]["edition"] == "student"
        kept = [c for c in course if not is_solution(c)]
        elsewhere = {line.strip() for c in kept for line in c.source.splitlines()}
        solution_lines = {line.strip() for c in course if is_solution(c) for line in c.source.splitlines()
                          if len(line.strip()) > 20 and line.strip() not in elsewhere}
        assert not [line for line in solution_lines if line in text], path.name
        assert len(kept) == len(edition.cells)
        for a, b in zip(kept, edition.cells):
            assert a.source == b.source or b.source == a.source.replace(", solutions)", ', solutions, edition="student")')


def test_the_student_command_refuses_a_folder_in_use(tmp_path, capsys):
    from ganutils.__main__ import main

    assert main(["student", str(tmp_path / "s")]) == 0 and "notebooks without solutions" in capsys.readouterr().out
    assert main(["student", str(tmp_path / "s")]) == 2 and "not an empty folder" in capsys.readouterr().err


@pytest.mark.slow
def test_a_student_notebook_runs_under_papermill(tmp_path):
    (path,) = student.write_student_edition(tmp_path / "edition", notebooks=[NOTEBOOKS["12_evaluation"]])
    out = tmp_path / "run"
    out.mkdir()
    result = runner.execute(path, out, {}, "smoke", timeout=900)
    assert result.status == "ok", result.error
