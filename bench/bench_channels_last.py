"""Images/s of one DCGAN training step with the networks stored channels-last (NHWC) vs the default layout (NCHW).

``training.GAN`` stores a convolutional G and D channels-last on a CPU (``nets.utils.fast_layout``):
oneDNN's convolutions then skip the layout conversions that NCHW tensors cost on every call.
Same networks, weights, data and batch size in one process; the two layouts alternate in rounds
so that load from other processes hits both alike, and the median of the rounds is reported,
on one thread (a worker process) and on every core (a notebook's own training).

    .venv/bin/python bench/bench_channels_last.py [--steps 20] [--rounds 5] [--width 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from ganutils import data, nets
from ganutils.training import gan


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--z-dim", type=int, default=64)
    parser.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and every core)")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    cores = torch.get_num_threads()
    threads = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, cores})
    images = data.load_mnist("train", verbose=False).images

    torch.manual_seed(0)
    fast = gan.GAN(nets.DCGANGenerator(args.z_dim, args.width), nets.DCGANDiscriminator(args.width), z_dim=args.z_dim, device="cpu")
    default = copy.deepcopy(fast)
    for net in (default.G, default.D):
        net.to(memory_format=torch.contiguous_format)
    fast_sample, default_sample = (data.TensorSampler(images, batch_size=args.batch_size, seed=0) for _ in range(2))

    def rate(model, sample) -> float:
        tic = time.perf_counter()
        for _ in range(args.steps):
            model.step(sample)
        return args.steps * args.batch_size / (time.perf_counter() - tic)

    result = {"batch_size": args.batch_size, "width": args.width, "steps_per_round": args.steps, "rounds": args.rounds, "threads": {}}
    print(f"DCGAN step (D then G), width {args.width}, batch {args.batch_size}, CPU; median of {args.rounds} rounds")
    for n in threads:
        torch.set_num_threads(n)
        rate(fast, fast_sample), rate(default, default_sample)  # warm-up
        fast_rates, default_rates = [], []
        for _ in range(args.rounds):
            fast_rates.append(rate(fast, fast_sample))
            default_rates.append(rate(default, default_sample))
        row = {"channels_last_img_per_s": statistics.median(fast_rates), "default_img_per_s": statistics.median(default_rates)}
        row["ratio"] = row["channels_last_img_per_s"] / row["default_img_per_s"]
        result["threads"][n] = row
        print(f"  {n} thread(s): channels-last {row['channels_last_img_per_s']:6.0f} img/s, "
              f"NCHW {row['default_img_per_s']:6.0f} img/s, ratio {row['ratio']:.2f}")
    torch.set_num_threads(cores)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return result


if __name__ == "__main__":
    main()
