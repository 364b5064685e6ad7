"""README's per-notebook time table is generated from a measured run (bench/bench_course.py), never typed."""

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def bench_course():
    spec = importlib.util.spec_from_file_location("bench_course", REPO / "bench" / "bench_course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_the_one_the_measured_times_give():
    bc = bench_course()
    record = json.loads(bc.TIMES_FILE.read_text())
    readme = bc.README.read_text()
    block = readme.split(bc.START, 1)[1].split(bc.END, 1)[0].strip()
    assert block == bc.render_table(record).strip(), (
        "README's time table differs from docs/quick_times.json: regenerate it with "
        "`python bench/bench_course.py --from-run RUN --write-readme`, do not edit it by hand")
    assert record["budget_seconds"] == bc.BUDGET_SECONDS
    for nb, t in record["notebooks"].items():
        assert (REPO / "notebooks" / f"{nb}.ipynb").exists() and t["seconds"] > 0 and t["started"]


def test_budget_check_flags_slow_and_failed_notebooks(tmp_path):
    bc = bench_course()
    runs = [{"notebook": "02_a", "params": {}, "seconds": 120.0, "status": "ok"},
            {"notebook": "03_b", "params": {}, "seconds": 301.0, "status": "ok"},
            {"notebook": "04_c", "params": {}, "seconds": 10.0, "status": "failed"}]
    (tmp_path / "metrics.json").write_text(json.dumps({"started": "2026-01-01T00:00:00", "profile": "quick", "device": "cpu",
                                                       "machine": {"cpus": 2}, "runs": runs}))
    times = bc.read_run(tmp_path)
    assert bc.check(times) == ["03_b: 301 s > 300 s", "04_c: failed"]
    assert bc.main(["--from-run", str(tmp_path)]) == 1
    smoke = tmp_path / "smoke"
    smoke.mkdir()
    (smoke / "metrics.json").write_text(json.dumps({"started": "x", "profile": "smoke", "device": "cpu", "runs": []}))
    with pytest.raises(SystemExit, match="quick"):
        bc.read_run(smoke)
