import json
import subprocess
import sys

import nbformat
import pytest

from ganutils.config import GanutilsError, checkout_dir
from ganutils.course import runner

REPO_DIR = checkout_dir()


def cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "ganutils", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO_DIR)


def test_find_notebook_by_number_name_and_part():
    first = runner.list_notebooks()[0]
    assert runner.find_notebook("0") == first
    assert runner.find_notebook("00") == first
    assert runner.find_notebook(first.stem) == first
    assert runner.find_notebook("setup") == first
    with pytest.raises(GanutilsError, match=r"matches no notebook: use a number or name from: 00_"):
        runner.find_notebook("99")
    with pytest.raises(GanutilsError, match=r"matches no notebook"):
        runner.find_notebook("transformer")


def test_parse_params_and_sweeps():
    assert runner.parse_param("steps=50") == ("steps", [50])
    assert runner.parse_param("lr=1e-4,2e-4") == ("lr", [1e-4, 2e-4])
    assert runner.parse_param("betas=(0.0, 0.9)") == ("betas", [(0.0, 0.9)])
    assert runner.parse_param("betas=(0.5,0.999),(0.0,0.9)") == ("betas", [(0.5, 0.999), (0.0, 0.9)])
    assert runner.parse_param("loss=hinge") == ("loss", ["hinge"])
    assert runner.parse_param("device=None") == ("device", [None])
    runs = runner.expand_sweep(["lr=1e-4,2e-4", "seed=0,1,2"])
    assert len(runs) == 6 and runs[0] == {"lr": 1e-4, "seed": 0} and runs[-1] == {"lr": 2e-4, "seed": 2}
    assert runner.expand_sweep([]) == [{}]


@pytest.mark.parametrize("bad, why", [("steps", "write -p NAME=VALUE"), ("=5", "not a valid parameter name"),
                                      ("2lr=1", "not a valid parameter name"), ("steps=", "no value"),
                                      ("betas=(0,0.9", "unbalanced"), ("lr=1e-4,,2e-4", "empty value")])
def test_malformed_params_are_clear_errors(bad, why):
    with pytest.raises(GanutilsError, match=why):
        runner.parse_param(bad)


def test_repeated_param_is_an_error():
    with pytest.raises(GanutilsError, match="given twice"):
        runner.expand_sweep(["lr=1", "lr=2"])


def test_unknown_notebook_parameter_is_an_error():
    with pytest.raises(GanutilsError, match=r"has no parameter 'stpes'; its parameters are: profile"):
        runner.check_params(runner.list_notebooks()[0], {"stpes": 5})


def test_output_inside_notebooks_is_refused(tmp_path):
    with pytest.raises(GanutilsError, match="inside notebooks/"):
        runner.run(["00"], out=runner.NOTEBOOK_DIR / "out", profile="smoke")
    assert not (runner.NOTEBOOK_DIR / "out").exists()


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    for args, text in ((["run", "42", "--out", str(tmp_path)], "matches no notebook"),
                       (["run", "00", "--out", str(tmp_path), "-p", "seed"], "malformed parameter"),
                       (["run", "00", "--out", str(tmp_path), "--profile", "fast"], "unknown profile"),
                       (["run", "00", "--out", str(tmp_path), "-p", "steps=-1,5", "-p", "nope=1"], "has no parameter 'nope'")):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: ") and text in proc.stderr and proc.stderr.count("\n") == 1


def _snapshot(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_run_a_sweep_end_to_end(tmp_path):
    before = _snapshot(runner.NOTEBOOK_DIR)
    proc = cli("run", "00", "--profile", "smoke", "--out", str(tmp_path), "-p", "seed=1,2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[1/2] 00_setup_and_tour__seed=1" in proc.stdout and "[2/2]" in proc.stdout
    for seed in (1, 2):
        nb = nbformat.read(tmp_path / f"00_setup_and_tour__seed={seed}.ipynb", as_version=4)
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "executed notebooks keep outputs"
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["params"] for r in data["runs"]] == [{"seed": 1}, {"seed": 2}]
    assert all(r["status"] == "ok" and r["profile"] == "smoke" for r in data["runs"])
    assert data["runs"][0]["metrics"]["profile"] == "smoke" and data["runs"][0]["metrics"]["mnist/n_train"] > 0
    summary = (tmp_path / "summary.md").read_text()
    assert "| 00_setup_and_tour__seed=1 | seed=1 | ok |" in summary and "| 00_setup_and_tour__seed=2 | seed=2 | ok |" in summary
    assert "mnist/n_train" in summary
    assert _snapshot(runner.NOTEBOOK_DIR) == before, "a run never writes into notebooks/"


def test_a_failing_or_hanging_notebook_is_reported_by_name(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("profile = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\ntime.sleep(120)")]
    path = tmp_path / "src" / "97_hangs.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.execute(path, out, {}, "smoke", timeout=5)
    assert result.status != "ok" and "97_hangs" in result.error
    assert result.seconds < 100
