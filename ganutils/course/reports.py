"""The reports of a run folder: metrics.json (everything) and summary.md (one table per notebook, the
reference column, sweep plots), rebuilt from the records after every finished run."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from ..io import atomic_write_text
from . import executors, reference, sweep_plots
from .record import flatten
from .records import RunResult, _locked, load_records


@lru_cache(maxsize=1)
def _has_cuda() -> bool:
    return bool(executors.local_gpus())


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={reference.format_value(v)}" for k, v in params.items()) or "defaults"


def _report_order(r: RunResult) -> tuple[str, int]:
    """Sweeps in the order they started, each in its own order (a rerun keeps its run's first place)."""
    started = str(r.order[0]) if r.order else "~"
    index = r.order[1] if len(r.order) > 1 and isinstance(r.order[1], int) else 0
    return started, index


def update_reports(out: Path, plots: bool = False) -> None:
    """Rebuild metrics.json and summary.md from every record in ``out`` (under a lock: runners may share ``out``).

    ``plots``: also draw the sweep plots (at the end of a sweep; they cost a second or two each).
    """
    with _locked(out / ".ganutils" / "reports.lock"):
        results = sorted(load_records(out).values(), key=_report_order)
        links = sweep_plots.write_sweep_plots(out, results) if plots else None
        write_reports(out, results, links)


def _machine(out: Path) -> dict:
    """What ran the notebooks, and the load average when the run started and now (a busy machine inflates wall times)."""
    info = reference.machine()
    try:
        before = json.loads((out / "metrics.json").read_text()).get("machine", {})
    except (OSError, ValueError):
        before = {}
    load = round(os.getloadavg()[0], 2)
    info.update(load_average_at_start=before.get("load_average_at_start", load), load_average_at_end=load)
    return info


def write_reports(out: Path, results: list[RunResult], plots: dict | None = None) -> None:
    """metrics.json (everything) and summary.md (one row per run, each notebook's metrics, sweep plots), atomically."""
    started = min((str(r.order[0]) for r in results if r.order), default=datetime.now().isoformat(timespec="seconds"))
    profiles = ", ".join(dict.fromkeys(r.profile for r in results)) or "-"
    device = "cuda" if _has_cuda() else "cpu"
    data = {"started": started, "updated": datetime.now().isoformat(timespec="seconds"), "profile": profiles,
            "device": device, "machine": _machine(out), "runs": [asdict(r) for r in results]}
    atomic_write_text(out / "metrics.json", json.dumps(data, indent=1))
    # the committed reference run of this profile (None for a mixed-profile folder or none committed)
    ref = reference.find(profiles, device) if "," not in profiles and profiles != "-" else None
    lines = [f"# Course run {started}", "", f"Profile `{profiles}` on `{device}`. Executed notebooks are beside this file.", "",
             *reference.header_lines(ref, profiles, device),
             "| run | parameters | status | seconds | metrics |", "|---|---|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {_params_text(r.params)} | {r.status} | {r.seconds:.0f} | {len(flatten(r.metrics))} |")
    failures = [r for r in results if r.error]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {r.error}" for r in failures]
    by_notebook: dict[str, list[RunResult]] = {}
    for r in results:
        by_notebook.setdefault(r.notebook, []).append(r)
    for notebook, runs in by_notebook.items():
        flat = [flatten(r.metrics) for r in runs]
        names = list(dict.fromkeys(k for f in flat for k in f))
        if not names:
            continue
        lines += ["", f"## {notebook}", ""]
        lines += reference.notebook_table(notebook, names, flat, [_params_text(r.params) for r in runs], ref)
    lines += sweep_plots.summary_lines(plots or {})
    atomic_write_text(out / "summary.md", "\n".join(lines) + "\n")
