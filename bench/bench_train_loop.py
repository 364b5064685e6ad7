"""Images/s of one DCGAN training step (D then G) through the shared loop vs a minimal plain loop.

Same model, same batch size, same process; the two loops alternate in rounds so that load
from other processes hits both alike, and the median of the rounds is reported. The shared
loop (``ganutils.training.train`` + ``ganutils.training.GAN``) adds history, NaN guard, progress
bookkeeping and RNG ownership; it must not be slower than 0.95x the plain loop.

    .venv/bin/python bench/bench_train_loop.py [--steps 30] [--rounds 5] [--width 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from ganutils import data, nets
from ganutils.nets.utils import fast_layout
from ganutils.training import gan
from ganutils.training import loop as train


def plain_loop(G, D, opt_g, opt_d, images, steps, batch_size, z_dim, device):
    """The pytorch/examples DCGAN loop, stripped to the step: one G forward, reused for G's update."""
    gen = torch.Generator().manual_seed(0)
    ones = torch.ones(batch_size, device=device)
    zeros = torch.zeros(batch_size, device=device)
    for _ in range(steps):
        real = images[torch.randint(len(images), (batch_size,), generator=gen)].to(device)
        fake = G(torch.randn(batch_size, z_dim, device=device))
        d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--z-dim", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    images = data.load_mnist("train", verbose=False).images

    torch.manual_seed(0)
    shared = gan.GAN(nets.DCGANGenerator(args.z_dim, args.width), nets.DCGANDiscriminator(args.width), z_dim=args.z_dim, device=device)
    sampler = data.TensorSampler(images, batch_size=args.batch_size, seed=0, device=device)
    torch.manual_seed(0)
    # the layout training.GAN gives them (channels-last on a CPU): this compares loops, not memory layouts
    G, D = (fast_layout(net.to(device), device) for net in (nets.DCGANGenerator(args.z_dim, args.width), nets.DCGANDiscriminator(args.width)))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def time_shared():
        tic = time.perf_counter()
        train.train(shared, sampler, steps=args.steps, progress=False)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return args.steps * args.batch_size / (time.perf_counter() - tic)

    def time_plain():
        tic = time.perf_counter()
        plain_loop(G, D, opt_g, opt_d, images, args.steps, args.batch_size, args.z_dim, device)
        return args.steps * args.batch_size / (time.perf_counter() - tic)

    time_shared(), time_plain()  # warm-up
    shared_rates, plain_rates = [], []
    for _ in range(args.rounds):
        shared_rates.append(time_shared())
        plain_rates.append(time_plain())
    result = {
        "device": str(device), "threads": torch.get_num_threads(), "batch_size": args.batch_size, "width": args.width,
        "steps_per_round": args.steps, "rounds": args.rounds,
        "shared_img_per_s": statistics.median(shared_rates), "plain_img_per_s": statistics.median(plain_rates),
    }
    result["ratio"] = result["shared_img_per_s"] / result["plain_img_per_s"]
    print(f"DCGAN step (D then G), width {args.width}, batch {args.batch_size}, {device}, {result['threads']} threads")
    print(f"  shared loop: {result['shared_img_per_s']:8.0f} img/s  (median of {args.rounds} rounds)")
    print(f"  plain loop:  {result['plain_img_per_s']:8.0f} img/s")
    print(f"  ratio:       {result['ratio']:8.3f}  (floor 0.95)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return result


if __name__ == "__main__":
    main()
