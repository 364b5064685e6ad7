"""Wall time of one smoke sweep executed three ways: serially, with --jobs 2, and on a Dask LocalCluster of 2 workers.

    .venv/bin/python bench/bench_sweep.py                         # notebook 01, seeds 0..5, smoke profile
    .venv/bin/python bench/bench_sweep.py --notebook 00 --runs 8 --json sweep.json

Each way executes the same runs (``-p seed=0,1,...``) into a fresh folder, through the runner's
executor seam, exactly as ``python -m ganutils run NB -p seed=... [--jobs 2 | --dask ADDRESS]``
would; the cluster is started before its clock starts (its start-up is reported apart). The
ratios (serial wall time / other wall time) are the speed-ups; on a 2-core machine 2 is the
ceiling, and a kernel's start-up (papermill, Python, torch) is part of every run. The runs'
metrics are compared too: every executor must give the same numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from ganutils.course import executors, runner


def timed_sweep(notebook: str, out: Path, seeds: str, profile: str, **how) -> tuple[float, dict]:
    tic = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        results = runner.run([notebook], out=out, profile=profile, params=[f"seed={seeds}"], **how)
    seconds = time.perf_counter() - tic
    bad = [f"{r.name}: {r.status} {r.error}" for r in results if r.status != "ok"]
    if bad:
        raise SystemExit("a run failed, so the timing means nothing:\n" + "\n".join(bad))
    return seconds, {r.name: r.metrics for r in results}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="01", help="notebook to sweep (default 01, the cheapest real one)")
    parser.add_argument("--runs", type=int, default=6, help="runs in the sweep: seeds 0..runs-1 (default 6)")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be >= 2")
    import distributed

    seeds = ",".join(map(str, range(args.runs)))
    report = {"notebook": runner.find_notebook(args.notebook).stem, "runs": args.runs, "profile": args.profile,
              "cores": executors.local_cores(), "python": platform.python_version(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        serial, metrics = timed_sweep(args.notebook, tmp / "serial", seeds, args.profile)
        print(f"serial:        {serial:7.1f} s", flush=True)
        jobs2, metrics_jobs = timed_sweep(args.notebook, tmp / "jobs2", seeds, args.profile, jobs=2)
        print(f"--jobs 2:      {jobs2:7.1f} s  speed-up x{serial / jobs2:.2f}", flush=True)
        tic = time.perf_counter()
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, worker_dashboard_address=None,
                                      silence_logs=logging.ERROR) as cluster:
            cluster_start = time.perf_counter() - tic
            dask, metrics_dask = timed_sweep(args.notebook, tmp / "dask", seeds, args.profile,
                                             dask=cluster.scheduler_address)
        print(f"dask 2 workers:{dask:7.1f} s  speed-up x{serial / dask:.2f}  (cluster start {cluster_start:.1f} s, not counted)")
    same = metrics == metrics_jobs == metrics_dask
    report.update(serial_s=round(serial, 1), jobs2_s=round(jobs2, 1), dask_s=round(dask, 1),
                  speedup_jobs2=round(serial / jobs2, 2), speedup_dask=round(serial / dask, 2),
                  dask_cluster_start_s=round(cluster_start, 1), same_metrics=same, load_after=os.getloadavg())
    print(f"same metrics from all three: {same}; load average before/after: "
          f"{report['load_before'][0]:.1f}/{report['load_after'][0]:.1f} on {report['cores']} core(s)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
