"""Cost of one Wasserstein-GAN iteration (n_critic critic steps + one G step) for each Lipschitz constraint.

    .venv/bin/python bench/bench_wgan.py                  # 2-D toy (1 thread) and MNIST DCGAN, prints a table
    .venv/bin/python bench/bench_wgan.py --json out.json  # and writes the numbers

The gradient penalty needs a second backward pass per critic step; spectral normalisation one
power-iteration step per layer; clipping a clamp. Times are medians over --repeats blocks of
--iterations iterations after one warm-up block, wall time and CPU time of this process.
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
from ganutils.experiments import wgan_probes as wgan


def median_ms(model, sample, iterations: int, repeats: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per iteration, medians over ``repeats`` blocks after one warm-up block."""
    for _ in range(iterations):
        model.step(sample)
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(iterations):
            model.step(sample)
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        wall.append(1000 * (time.perf_counter() - w) / iterations)
        cpu.append(1000 * (time.process_time() - c) / iterations)
    return statistics.median(wall), statistics.median(cpu)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mnist-width", type=int, default=16)
    parser.add_argument("--device", default=None, help="for the MNIST models (default: CUDA if available)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the toy networks are tiny: one thread is fastest
    ring = data.DistributionSampler(data.ring(), 256, seed=0)
    for constraint in wgan.CRITICS:
        model = wgan.make_toy_wgan(constraint, seed=0)
        rows.append(("toy 3x128, batch 256", constraint, *median_ms(model, ring, args.iterations, args.repeats)))
    torch.set_num_threads(threads)
    mnist = data.load_mnist("train", verbose=False).images
    for constraint in wgan.CRITICS:
        model = wgan.make_mnist_wgan(constraint, width=args.mnist_width, seed=0, device=args.device)
        sample = data.TensorSampler(mnist, batch_size=64, seed=0, device=model.device)
        rows.append((f"MNIST DCGAN w{args.mnist_width}, batch 64", constraint,
                     *median_ms(model, sample, max(args.iterations // 4, 1), args.repeats)))

    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {threads} threads; n_critic = 5")
    print(f"{'model':28s} {'critic':6s} {'wall ms/it':>11s} {'CPU ms/it':>10s}")
    for model, constraint, wall, cpu in rows:
        print(f"{model:28s} {constraint:6s} {wall:11.1f} {cpu:10.1f}")
    result = {"torch": torch.__version__, "threads": threads,
              "rows": [dict(zip(("model", "critic", "wall_ms", "cpu_ms"), r)) for r in rows]}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
