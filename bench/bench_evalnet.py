"""Throughput of the MNIST evaluation network and wall time of the image metrics.

    .venv/bin/python bench/bench_evalnet.py                 # prints a table
    .venv/bin/python bench/bench_evalnet.py --json out.json  # and writes the numbers

Times are medians over --repeats runs after --warmup runs, on real held-out digits.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from ganutils.data import load_mnist
from ganutils.metrics import frechet_distance, frechet_distance_from_features, precision_recall_from_features
from ganutils.metrics.evalnet import features, load_evalnet


def median_seconds(fn, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--batches", type=int, default=8, help="batches per timed run of the feature extractor")
    parser.add_argument("--n", type=int, default=1000, help="images per set for the Fréchet distance")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    model = load_evalnet("cpu")
    train, test = load_mnist("train", verbose=False), load_mnist("test", verbose=False)
    batch = test.images[torch.arange(args.batch_size) % len(test)]

    def extract():
        with torch.no_grad():
            for _ in range(args.batches):
                model.features(batch)

    feat_s = median_seconds(extract, args.repeats, args.warmup)
    # "fake" = random training digits (the bundled file is sorted by class, so not the first n)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[: args.n]
    fake, real = train.images[pick], test.images[: args.n]
    fd_s = median_seconds(lambda: frechet_distance(fake, real, model=model), args.repeats, args.warmup)
    f_fake, f_real = features(fake, model=model), features(real, model=model)
    formula_s = median_seconds(lambda: frechet_distance_from_features(f_fake, f_real), args.repeats, args.warmup)
    pr_s = median_seconds(lambda: precision_recall_from_features(f_fake, f_real), args.repeats, args.warmup)

    results = {
        "features_images_per_s": args.batch_size * args.batches / feat_s,
        "batch_size": args.batch_size,
        "n_per_set": len(fake),
        "fd_torchmetrics_s": fd_s,
        "fd_formula_from_features_s": formula_s,
        "precision_recall_from_features_s": pr_s,
        "fd_train_vs_test": frechet_distance(fake, real, model=model),
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "cpu": platform.processor() or platform.machine(),
    }
    rows = [
        (f"features, batch {args.batch_size}", f"{results['features_images_per_s']:,.0f} images/s"),
        (f"Fréchet distance (torchmetrics, incl. features), {len(fake)} vs {len(real)}", f"{fd_s * 1e3:.1f} ms"),
        (f"Fréchet distance (scipy formula, features given), {len(fake)} vs {len(real)}", f"{formula_s * 1e3:.1f} ms"),
        (f"precision/recall k=3 (features given), {len(fake)} vs {len(real)}", f"{pr_s * 1e3:.1f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"evaluation network on CPU, {results['threads']} threads, torch {results['torch']} "
          f"(median of {args.repeats} after {args.warmup} warm-up runs)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>18}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
