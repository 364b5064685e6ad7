"""The whole course in ``quick``, timed by the runner, against each notebook's time budget.

    .venv/bin/python bench/bench_course.py                          # run the course (quick), check budgets
    .venv/bin/python bench/bench_course.py --only 02,03             # some notebooks
    .venv/bin/python bench/bench_course.py --from-run runs/latest   # check an existing run, run nothing
    .venv/bin/python bench/bench_course.py --from-run runs/latest --write-readme   # regenerate README's table

The course promises every notebook in ``quick`` within ``BUDGET_SECONDS`` (300 s) on a 2-core
laptop CPU. This runs ``python -m ganutils course --profile quick`` (the same runner and
timing as ``make course``), prints seconds per notebook against the budget and exits 1 if a
notebook failed or ran over. It is on demand (``make bench-course``), never part of ``make
test``: a course run takes tens of minutes on 2 cores.

``--write-readme`` stores the run's times in ``docs/quick_times.json`` (per notebook, with the
date, the command, the CPU count and the load average the runner recorded; notebooks the run
did not include keep their last measurement) and rewrites the table between the
``quick-times`` markers of README.md from it; ``tests/test_readme_times.py`` checks that the
README's table is the one that file gives, so the table is always a measured run, never typed.

Wall time depends on what else the machine runs: the load average is printed beside each time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 300  # per notebook, quick profile, 2 CPU cores
TIMES_FILE = REPO / "docs" / "quick_times.json"
README = REPO / "README.md"
START, END = "<!-- quick-times:start -->", "<!-- quick-times:end -->"


def run_course(out: Path, only: str | None) -> None:
    cmd = [sys.executable, "-m", "ganutils", "course", "--profile", "quick", "--out", str(out)]
    if only:
        cmd += ["--only", only]
    subprocess.run(cmd, cwd=REPO, check=False)  # the runner reports failures itself; the budgets are checked below


def read_run(run: Path) -> dict:
    """The run's start, device, machine and {notebook: {"seconds", "status"}}, from its metrics.json (the runner's)."""
    path = Path(run) / "metrics.json"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass the folder of a course run (e.g. runs/latest)")
    data = json.loads(path.read_text())
    if data.get("profile") != "quick":
        raise SystemExit(f"{run} is a {data.get('profile')!r} run: the budgets are for quick")
    times = {r["notebook"]: {"seconds": r["seconds"], "status": r["status"]} for r in data["runs"] if not r["params"]}
    return {"started": data["started"], "device": data["device"], "machine": data.get("machine", {}), "notebooks": times}


def check(times: dict, budget: float = BUDGET_SECONDS) -> list[str]:
    """One line per notebook that failed or ran over its budget."""
    return [f"{nb}: {t['status']}" if t["status"] != "ok" else f"{nb}: {t['seconds']:.0f} s > {budget:.0f} s"
            for nb, t in times["notebooks"].items() if t["status"] != "ok" or t["seconds"] > budget]


def merge(old: dict, run: dict, budget: float, command: str) -> dict:
    """``docs/quick_times.json`` with the notebooks of ``run`` replaced by its measurements (the rest kept)."""
    notebooks = dict(old.get("notebooks", {}))
    for nb, t in run["notebooks"].items():
        notebooks[nb] = {**t, "started": run["started"], "device": run["device"], **run["machine"], "command": command}
    present = {p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    return {"budget_seconds": budget, "notebooks": {nb: notebooks[nb] for nb in sorted(notebooks) if nb in present}}


def render_table(record: dict) -> str:
    """The README's table (Markdown) from a ``docs/quick_times.json`` record."""
    budget = record["budget_seconds"]
    rows = [f"| notebook | seconds (`quick`) | within {budget:.0f} s | measured | load average (cores) |",
            "|---|---:|:---:|---|---|"]
    busy = False
    for nb, t in record["notebooks"].items():
        ok = "yes" if t["status"] == "ok" and t["seconds"] <= budget else f"**no** ({t['status']})"
        loads = [t[k] for k in ("load_average_at_start", "load_average_at_end") if k in t]
        load = " → ".join(f"{x:.1f}" for x in loads) + f" ({t.get('cpus', '?')})"
        busy |= bool(loads) and max(loads) > (t.get("cpus") or 1)
        rows.append(f"| {nb} | {t['seconds']:.0f} | {ok} | {t['started'][:10]}, `{t['command']}` | {load} |")
    total = sum(t["seconds"] for t in record["notebooks"].values())
    rows.append(f"| all | {total:.0f} | | | |")
    note = ("Times are the runner's own wall-clock seconds, written by `bench/bench_course.py --write-readme` "
            "(never typed). ")
    if busy:
        note += ("A load average above the number of cores means other jobs shared the machine during that run: "
                 "those times are inflated.")
    return "\n".join([note.strip(), "", *rows])


def write_readme(record: dict, readme: Path = README) -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} block to rewrite")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{render_table(record)}\n{END}{tail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-run", type=Path, default=None, help="check this course run instead of running one")
    parser.add_argument("--out", type=Path, default=None, help="where the course run goes (default runs/bench-<time>)")
    parser.add_argument("--only", default=None, help="comma-separated notebook numbers, as for `ganutils course --only`")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, help="seconds per notebook")
    parser.add_argument("--write-readme", action="store_true", help="store the times in docs/quick_times.json and rewrite README's table")
    args = parser.parse_args(argv)
    run = args.from_run
    if run is None:
        run = args.out or REPO / "runs" / f"bench-{datetime.now():%Y%m%d-%H%M%S}"
        run_course(run, args.only)
    times = read_run(run)
    over = check(times, args.budget)
    print(f"quick profile, budget {args.budget:.0f} s per notebook ({run}):")
    for nb, t in times["notebooks"].items():
        flag = "" if t["status"] == "ok" and t["seconds"] <= args.budget else "   <-- " + (t["status"] if t["status"] != "ok" else "over")
        print(f"  {nb:28s} {t['seconds']:7.0f} s{flag}")
    if args.write_readme:
        command = ("python bench/bench_course.py" + (f" --only {args.only}" if args.only else "") if args.from_run is None
                   else f"python -m ganutils ... --profile quick (run folder {Path(run).name})")
        old = json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}
        record = merge(old, times, args.budget, command)
        TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
        TIMES_FILE.write_text(json.dumps(record, indent=1) + "\n")
        write_readme(record)
        print(f"wrote {TIMES_FILE.relative_to(REPO)} and README.md's table")
    if over:
        print("over budget or failed:\n  " + "\n  ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
