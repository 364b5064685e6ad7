"""Speed of one VAE training step (MLP and conv, batch 100) and of a held-out evaluation.

    .venv/bin/python bench/bench_vae.py [--threads 1 2] [--steps 200]

Prints milliseconds per step per thread count: what notebook 06's `quick` budget is made of
(quick trains six 2,000-step MLP VAEs). Run it on a quiet machine; a busy one inflates every number.
"""

from __future__ import annotations

import argparse
import time

import torch

from ganutils import data
from ganutils.metrics.likelihood import evaluate
from ganutils.nets.vae import make_nets
from ganutils.training import loop as train
from ganutils.training.vae import VAE


def time_steps(arch: str, steps: int, batch_size: int = 100) -> float:
    images = data.load_mnist("train", scale="unit", verbose=False).images
    torch.manual_seed(0)
    enc, dec = make_nets(arch, 20)
    model = VAE(enc, dec)
    sample = data.TensorSampler(images, batch_size=batch_size)
    train.train(model, sample, steps=10, progress=False)  # warm-up
    tic = time.perf_counter()
    train.train(model, sample, steps=steps, progress=False)  # no checkpoint: runs `steps` more steps
    return (time.perf_counter() - tic) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    test = data.load_mnist("test", scale="unit", verbose=False).images
    for threads in args.threads:
        torch.set_num_threads(threads)
        mlp = time_steps("mlp", args.steps)
        conv = time_steps("conv", max(args.steps // 5, 10))
        torch.manual_seed(0)
        model = VAE(*make_nets("mlp", 20))
        tic = time.perf_counter()
        evaluate(model, test, iw_samples=100)
        evaluation = time.perf_counter() - tic
        print(f"{threads} thread(s): MLP VAE step {mlp:.1f} ms, conv VAE step {conv:.1f} ms (batch 100); "
              f"evaluate 1,000 digits with IWAE k=100: {evaluation:.1f} s", flush=True)


if __name__ == "__main__":
    main()
