"""Wall time of the mode-collapse toy benchmark: training steps per second for every method.

    .venv/bin/python bench/bench_toy.py                          # ring and grid, every method
    .venv/bin/python bench/bench_toy.py --methods vanilla,unrolled --json out.json

Each method is built exactly as notebook 03 builds it (``ganutils.toy_benchmark``) and timed
on --steps steps after --warmup steps; the number is the median over --repeats. One step is
one generator update with everything the method adds (unrolling, critic steps, replay).
The toy networks are tiny, so one thread is fastest (--threads 1, as in the notebook).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from ganutils import data
from ganutils.experiments import toy_benchmark


def steps_per_second(method: str, dist, *, steps: int, warmup: int, repeats: int, batch_size: int, **setup) -> float:
    model = toy_benchmark.build(method, seed=0, **setup)
    sample = data.DistributionSampler(dist, batch_size, seed=0)
    for _ in range(warmup):
        model.step(sample)
    rates = []
    for _ in range(repeats):
        tic = time.perf_counter()
        for _ in range(steps):
            model.step(sample)
        rates.append(steps / (time.perf_counter() - tic))
    return statistics.median(rates)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default=",".join(toy_benchmark.METHODS), help="comma-separated, from toy_benchmark.METHODS")
    parser.add_argument("--dists", default="ring,grid")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=toy_benchmark.SETUP["batch_size"])
    parser.add_argument("--hidden", type=int, default=toy_benchmark.SETUP["hidden"])
    parser.add_argument("--depth", type=int, default=toy_benchmark.SETUP["depth"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    dists = [d.strip() for d in args.dists.split(",") if d.strip()]

    rates: dict = {}
    for name in dists:
        dist = data.toy(name)
        rates[name] = {m: steps_per_second(m, dist, steps=args.steps, warmup=args.warmup, repeats=args.repeats,
                                           batch_size=args.batch_size, hidden=args.hidden, depth=args.depth) for m in methods}
    results = {
        "steps_per_s": rates,
        "relative_to_vanilla": {d: {m: r / rates[d]["vanilla"] for m, r in row.items()} for d, row in rates.items() if "vanilla" in row},
        "batch_size": args.batch_size, "hidden": args.hidden, "depth": args.depth,
        "threads": torch.get_num_threads(), "torch": str(torch.__version__), "cpu": platform.processor() or platform.machine(),
    }
    print(f"toy benchmark on CPU, {results['threads']} thread(s), torch {results['torch']}, batch {args.batch_size}, "
          f"MLPs {args.depth}x{args.hidden} (median of {args.repeats} x {args.steps} steps after {args.warmup} warm-up)")
    width = max(len(m) for m in methods)
    print(f"  {'method':<{width}}  " + "  ".join(f"{d + ' steps/s':>16s}" for d in dists))
    for m in methods:
        cells = []
        for d in dists:
            rel = results["relative_to_vanilla"].get(d, {}).get(m)
            cells.append(f"{rates[d][m]:9.1f}" + (f" ({rel:4.2f}x)" if rel is not None else ""))
        print(f"  {m:<{width}}  " + "  ".join(f"{c:>16s}" for c in cells))
    print("  (x: speed relative to vanilla; the evaluation network's images/s: bench/bench_evalnet.py)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
