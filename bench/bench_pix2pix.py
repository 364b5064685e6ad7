"""Milliseconds per pix2pix training step for each loss mode at notebook 08's settings (32x32, width 16, batch 8).

Reports wall time and process CPU time per step (median of rounds): on a shared machine the CPU
time with one thread is the better estimate of the unloaded cost. Use it to budget the notebook's
``steps`` (the quick profile trains four models: L1 twice, cGAN and L1 + cGAN).

    .venv/bin/python bench/bench_pix2pix.py [--size 32] [--width 16] [--batch 8] [--steps 20] [--rounds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from ganutils.data import paired as paired_data
from ganutils.training import pix2pix


def time_steps(model, sampler, steps: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step(sampler)
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = paired_data.StripedShapes(args.size)
    results = {}
    for loss in pix2pix.LOSS_MODES:
        torch.manual_seed(0)
        model = pix2pix.make_pix2pix(args.size, loss, width=args.width, max_mult=4, d_width=args.width, d_layers=1)
        sampler = paired_data.PairSampler(pairs, args.batch, seed=0)
        time_steps(model, sampler, 2)  # warm-up
        rounds = [time_steps(model, sampler, args.steps) for _ in range(args.rounds)]
        wall, cpu = statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)
        results[loss] = {"wall_ms": 1000 * wall, "cpu_ms": 1000 * cpu}
        print(f"{loss:>8}: {1000 * wall:6.1f} ms/step wall, {1000 * cpu:6.1f} ms/step CPU "
              f"({args.size}x{args.size}, width {args.width}, batch {args.batch}, {args.threads} thread(s))")
    data_cpu = time.process_time()
    for _ in range(20):
        pairs.sample(args.batch)
    print(f"    data: {1000 * (time.process_time() - data_cpu) / 20:6.1f} ms/batch CPU (included above)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
