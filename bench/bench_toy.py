"""Speed of the mode-collapse toy benchmark: steps per second per seed, one run at a time vs vectorised.

    .venv/bin/python bench/bench_toy.py                          # every method, 3 seeds, on the ring
    .venv/bin/python bench/bench_toy.py --methods vanilla,unrolled --seeds 6 --json out.json
    .venv/bin/python bench/bench_toy.py --keep-freed-memory     # as in notebook 03's worker processes

Each method is built exactly as notebook 03 builds it (``toy_benchmark.build``). For every
method the same ``--seeds`` runs of ``--steps`` steps are timed twice, back to back in one
process: one after another (``training.train``, the plain loop) and as one vectorised batch
(``training.vectorised.train_vectorised``). "Steps/s per seed" is seeds x steps / seconds,
so the ratio is the speed-up a notebook gets from vectorising. Both wall time and this
process's CPU time are reported: on a shared machine wall time is inflated by the other
jobs, CPU time much less. The median of --repeats alternating rounds is reported.
The toy networks are tiny, so one thread is fastest (--threads 1, as in the notebook).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from ganutils import data
from ganutils.experiments import toy_benchmark, workers
from ganutils.training import train, train_vectorised


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def one_at_a_time(method: str, dist, seeds, steps: int, batch_size: int, **setup) -> None:
    for seed in seeds:
        model = toy_benchmark.build(method, seed=seed, **setup)
        train(model, data.DistributionSampler(dist, batch_size, seed=seed), steps=steps, progress=False)


def vectorised(method: str, dist, seeds, steps: int, batch_size: int, **setup) -> None:
    models = [toy_benchmark.build(method, seed=seed, **setup) for seed in seeds]
    samplers = [data.DistributionSampler(dist, batch_size, seed=seed) for seed in seeds]
    train_vectorised(models, samplers, steps=steps, progress=False)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default=",".join(toy_benchmark.METHODS), help="comma-separated, from toy_benchmark.METHODS")
    parser.add_argument("--dist", default="ring", help="ring or grid")
    parser.add_argument("--seeds", type=int, default=3, help="runs per method (notebook 03 trains 3 seeds per table row)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=toy_benchmark.SETUP["batch_size"])
    parser.add_argument("--hidden", type=int, default=toy_benchmark.SETUP["hidden"])
    parser.add_argument("--depth", type=int, default=toy_benchmark.SETUP["depth"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="reuse freed memory as notebook 03's worker processes do (workers.keep_freed_memory)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.keep_freed_memory:
        workers.keep_freed_memory()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    dist, seeds = data.toy(args.dist), list(range(args.seeds))
    setup = dict(steps=args.steps, batch_size=args.batch_size, hidden=args.hidden, depth=args.depth)
    print(f"toy benchmark on CPU, {torch.get_num_threads()} thread(s), torch {torch.__version__}, {args.dist}, "
          f"{len(seeds)} seeds x {args.steps} steps, batch {args.batch_size}, MLPs {args.depth}x{args.hidden}; "
          f"median of {args.repeats} alternating rounds; freed memory {'kept' if args.keep_freed_memory else 'returned'}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'method':<17s} {'steps/s per seed (wall)':>36s} {'steps/s per seed (CPU)':>36s}")
    print(f"  {'':<17s} {'single':>10s} {'vectorised':>12s} {'ratio':>8s}   {'single':>10s} {'vectorised':>12s} {'ratio':>8s}")
    rows = {}
    for method in methods:
        warm = dict(setup, steps=2)
        one_at_a_time(method, dist, seeds, **warm)  # first calls pay one-off costs (kernels, vmap's set-up)
        vectorised(method, dist, seeds, **warm)
        times = {"single": [], "vectorised": []}
        for _ in range(args.repeats):
            for name, fn in (("single", one_at_a_time), ("vectorised", vectorised)):
                times[name].append(timed(lambda: fn(method, dist, seeds, **setup)))
        work = len(seeds) * args.steps
        rate = {name: {"wall": work / statistics.median(t[0] for t in ts), "cpu": work / statistics.median(t[1] for t in ts)}
                for name, ts in times.items()}
        rows[method] = {**{f"{name}_{clock}": r for name, rs in rate.items() for clock, r in rs.items()},
                        "ratio_wall": rate["vectorised"]["wall"] / rate["single"]["wall"],
                        "ratio_cpu": rate["vectorised"]["cpu"] / rate["single"]["cpu"]}
        r = rows[method]
        print(f"  {method:<17s} {r['single_wall']:10.1f} {r['vectorised_wall']:12.1f} {r['ratio_wall']:7.2f}x"
              f"   {r['single_cpu']:10.1f} {r['vectorised_cpu']:12.1f} {r['ratio_cpu']:7.2f}x", flush=True)
    results = {"steps_per_s_per_seed": rows, "dist": args.dist, "seeds": len(seeds), "steps": args.steps,
               "batch_size": args.batch_size, "hidden": args.hidden, "depth": args.depth, "threads": torch.get_num_threads(),
               "keep_freed_memory": args.keep_freed_memory,
               "torch": str(torch.__version__), "cpu": platform.processor() or platform.machine(),
               "load_average_after": os.getloadavg()[0], "cores": os.cpu_count()}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
