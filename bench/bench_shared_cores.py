"""Does a kernel's multi-threaded training slow down after it has received results from worker processes?

    .venv/bin/python bench/bench_shared_cores.py                        # through workers.submit_jobs
    .venv/bin/python bench/bench_shared_cores.py --plain-futures        # concurrent.futures as it comes

Times notebook 02's DCGAN step (width 32, batch 64) on every core of this process, then lets two
worker processes train a few steps of seed 001's port each and return their results (the kernel
sleeps meanwhile, so nothing competes), then times the step again. It also counts this process's
voluntary context switches per step. With ``--plain-futures`` the results are unpickled in
``concurrent.futures``' helper thread; measured on a 2-core VM, the kernel's threads then sleep
and wake at every parallel region (hundreds of context switches per step instead of none; see
``workers.JobFuture``). ``workers.submit_jobs`` passes only bytes through that thread.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from ganutils import data, nets, training
from ganutils.experiments import first_gan, workers


def step_time(model, sample, steps: int) -> tuple[float, float]:
    """(milliseconds, voluntary context switches) per training step, after 5 warm-up steps."""
    for _ in range(5):
        model.step(sample)
    before, tic = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        model.step(sample)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter() - tic) / steps * 1000, (after.ru_nvcsw - before.ru_nvcsw) / steps


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plain-futures", action="store_true", help="submit with concurrent.futures directly (results unpickled in its helper thread)")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    images = data.load_mnist("train", verbose=False).images
    held_out = data.load_mnist("test", verbose=False).images
    torch.manual_seed(0)
    model = training.GAN(nets.DCGANGenerator(64, 32), nets.DCGANDiscriminator(32), z_dim=64, lr_g=2e-4, lr_d=2e-4, seed=0)
    sample = data.TensorSampler(images, batch_size=64, seed=0)
    before = step_time(model, sample, args.steps)
    jobs = [dict(name=str(i), fixes={}, images=(images + 1) / 2, held_out=held_out, seed=i, steps=30, batch_size=64, n_eval=1000)
            for i in range(2)]
    if args.plain_futures:
        futures = [workers.pool(2).submit(first_gan.train_seed001, job) for job in jobs]
    else:
        futures = workers.submit_jobs(first_gan.train_seed001, jobs, workers=2)
    results = [f.result() for f in futures]  # waits for the jobs
    after = step_time(model, sample, args.steps)
    workers.shutdown()
    report = {"threads": torch.get_num_threads(), "plain_futures": args.plain_futures, "jobs": len(results),
              "ms_per_step_before": before[0], "ms_per_step_after": after[0],
              "context_switches_per_step_before": before[1], "context_switches_per_step_after": after[1]}
    print(f"{report['threads']} threads, {'plain futures' if args.plain_futures else 'workers.submit_jobs'}: "
          f"DCGAN step {before[0]:.1f} ms ({before[1]:.0f} context switches) before the workers' results, "
          f"{after[0]:.1f} ms ({after[1]:.0f}) after")
    return report


if __name__ == "__main__":
    main()
