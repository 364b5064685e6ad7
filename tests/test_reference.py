"""Reference runs: made by one command from a complete run, compared against in every summary.md."""

from __future__ import annotations

import json
import shutil

import pytest

from ganutils.config import GanutilsError
from ganutils.course import reference, runner


def _fake_run(tmp_path, name="run", values=(1.0,), profile="quick", notebooks=("00_a", "01_b"), status="ok"):
    """A run folder shaped like the runner's output: one run per (notebook, seed)."""
    run = tmp_path / name
    run.mkdir()
    runs = []
    for nb in notebooks:
        for seed, v in enumerate(values):
            params = {"seed": seed} if len(values) > 1 else {}
            runs.append({"notebook": nb, "name": nb, "params": params, "profile": profile, "status": status,
                         "seconds": 1.0, "output": f"{nb}.ipynb", "error": "",
                         "metrics": {"ring": {"modes": v}, "label": "x", "flag": True}})
    data = {"started": "2026-11-30T10:00:00", "profile": profile, "device": "cpu", "runs": runs,
            "machine": {"device": "cpu", "cores": 2}}
    (run / "metrics.json").write_text(json.dumps(data))
    (run / "summary.md").write_text("# Course run\n")
    return run


def test_reference_is_written_from_a_complete_run_with_provenance(tmp_path):
    run = _fake_run(tmp_path)
    dest = reference.write(run, "python -m ganutils reference --profile quick", root=tmp_path / "reference",
                           notebooks=["00_a", "01_b"])
    assert dest.name == "quick-cpu"
    prov = json.loads((dest / "provenance.json").read_text())
    assert prov["command"] == "python -m ganutils reference --profile quick"
    assert prov["commit"] and prov["date"].startswith("2026-11-30") and prov["machine"]["cores"] == 2
    assert reference.provenance_text(prov) == "quick, CPU, 2 cores, 2026-11-30"
    assert json.loads((dest / "metrics.json").read_text())["runs"][0]["metrics"]["ring"]["modes"] == 1.0
    assert (dest / "summary.md").exists() and "do not edit" in (dest / "README.md").read_text().lower()
    ref = reference.find("quick", "cpu", tmp_path / "reference")
    assert ref is not None and ref.values("00_a", "ring.modes") == [1.0]


def test_an_incomplete_run_is_refused_with_the_reason(tmp_path):
    run = _fake_run(tmp_path, status="failed")
    with pytest.raises(GanutilsError, match=r"not a complete course run \(00_a failed"):
        reference.write(run, "cmd", root=tmp_path / "reference", notebooks=["00_a", "01_b"])
    run2 = _fake_run(tmp_path, name="run2", notebooks=("00_a",))
    with pytest.raises(GanutilsError, match="01_b not run"):
        reference.write(run2, "cmd", root=tmp_path / "reference", notebooks=["00_a", "01_b"])
    assert not (tmp_path / "reference" / "quick-cpu").exists(), "a refused reference leaves nothing behind"


def test_the_reference_column_says_where_a_run_falls():
    assert reference.compare(7.0, [7.0]) == ("7", "same")
    assert reference.compare(8.0, [10.0]) == ("10", "-20%")
    assert reference.compare("a", ["b"]) == ("b", "differs")
    assert reference.compare(1, []) == ("—", "not in reference")
    cell, verdict = reference.compare(5.0, [4.0, 6.0, 5.5])
    assert cell == "5.167 [4, 6] (3 seeds)" and verdict == "within the seeds' range"
    assert reference.compare(2.0, [4.0, 6.0])[1] == "below the range by 2 (1.0× its width)"
    assert reference.compare(9.0, [4.0, 6.0])[1].startswith("above the range by 3")


def test_summary_md_of_a_run_gets_the_reference_column(tmp_path):
    ref_run = _fake_run(tmp_path, name="ref", values=(4.0, 6.0, 5.0))
    reference.write(ref_run, "cmd", root=tmp_path / "reference", notebooks=["00_a", "01_b"])
    ref = reference.find("quick", "cpu", tmp_path / "reference")
    assert ref.n_seeds == 3
    table = reference.notebook_table("00_a", ["ring.modes", "label"], [{"ring.modes": 9.0, "label": "x"}], ["defaults"], ref)
    assert table[0] == "| metric | value | reference | vs reference |"
    assert "| ring.modes | 9 | 5 [4, 6] (3 seeds) | above the range by 3 (1.5× its width) |" in table
    head = reference.header_lines(ref, "quick", "cpu")[0]
    assert "quick, CPU, 2 cores, 2026-11-30, 3 seeds" in head
    none = reference.header_lines(None, "smoke", "cpu", root=tmp_path / "reference")[0]
    assert "No reference run for profile `smoke`" in none and "quick-cpu" in none


def test_runner_summary_has_the_reference_column(smoke_run, tmp_path, monkeypatch):
    """The shared smoke run, made the smoke reference, compares as "same" with itself in the runner's summary.md."""
    data = json.loads((smoke_run / "metrics.json").read_text())
    root = tmp_path / "reference"
    reference.write(smoke_run, "python -m ganutils reference --profile smoke", root=root,
                    notebooks=sorted({r["notebook"] for r in data["runs"]}))
    monkeypatch.setattr(reference, "REFERENCE_DIR", root)
    out = tmp_path / "again"
    out.mkdir()
    results = [runner.RunResult(**r) for r in data["runs"]]
    runner.write_reports(out, results)
    text = (out / "summary.md").read_text()
    assert "Reference column: " in text and "smoke, CPU" in text
    assert "| metric | value | reference | vs reference |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line and "| metric |" not in line]
    metric_rows = [line for line in rows if line.count("|") == 5]
    assert metric_rows and all(line.endswith("| same |") for line in metric_rows), metric_rows[:3]
    assert json.loads((out / "metrics.json").read_text())["machine"]["cores"] >= 1


def test_one_command_writes_the_reference_and_refreshes_quoted_numbers(tmp_path, capsys):
    run = _fake_run(tmp_path, values=(4.0, 6.0))
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "README.md").write_text("The ring: ?<!--{{00_a:ring/modes}}--> modes; `?<!--{{00_a:ring/modes}}-->` stays.\n")
    (repo / "notebooks" / "00_a.py").write_text("# %% [markdown]\n# covers 1<!--{{00_a:ring.modes}}--> modes\n")
    dest = reference.make(from_run=run, argv=["reference", "--from", str(run)], root=repo / "reference", repo=repo,
                          notebooks=["00_a", "01_b"])
    assert dest == repo / "reference" / "quick-cpu"
    prov = json.loads((dest / "provenance.json").read_text())
    assert prov["command"] == f"python -m ganutils reference --from {run}" and prov["seeds"] == [0, 1]
    assert (repo / "README.md").read_text() == ("The ring: 5<!--{{00_a:ring/modes}}--> modes; "
                                                 "`?<!--{{00_a:ring/modes}}-->` stays.\n")
    assert "covers 5<!--{{00_a:ring.modes}}-->" in (repo / "notebooks" / "00_a.py").read_text()
    out = capsys.readouterr().out
    assert "quoted numbers refreshed in: README.md, notebooks/00_a.py" in out


def test_reference_cli_errors_are_one_line(tmp_path, capsys):
    from ganutils.__main__ import main

    run = _fake_run(tmp_path, status="failed")
    assert main(["reference", "--from", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "is not a complete course run" in err and "\n" not in err
    assert main(["reference", "--seeds", "0,x"]) == 2
    assert "--seeds '0,x'" in capsys.readouterr().err
