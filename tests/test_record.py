"""``gu.record``: bookkeeping that stays quiet (no "recorded ..." line, no Out[n] value) and writes atomically."""

import json

import pytest

from ganutils.config import GanutilsError
from ganutils.course import record as rec


def test_record_is_silent_returns_none_and_writes_the_metrics_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "metrics.json"
    monkeypatch.setenv(rec.METRICS_ENV, str(path))
    assert rec.record("ring/modes", 7) is None, "a cell ending with record() must show no Out[n] value"
    assert rec.record("table", {"vanilla": {"modes_mean": 1.5}}, quiet=False) is None  # quiet is ignored
    assert capsys.readouterr().out == ""
    data = json.loads(path.read_text())
    assert data == {"ring/modes": 7, "table": {"vanilla": {"modes_mean": 1.5}}}
    assert rec.flatten(data) == {"ring/modes": 7, "table.vanilla.modes_mean": 1.5}
    assert rec.RECORDED["ring/modes"] == 7


def test_record_refuses_what_json_cannot_hold():
    with pytest.raises(GanutilsError, match="record numbers, strings"):
        rec.record("model", object())
    with pytest.raises(GanutilsError, match="non-empty metric name"):
        rec.record("", 1)
