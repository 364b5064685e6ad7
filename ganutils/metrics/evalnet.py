"""Evaluation networks: small classifiers whose features stand in for Inception's, one per data set.

Inception-v3 weights cannot be downloaded where the course runs, so the image metrics
(Fréchet distance, precision/recall, class coverage) use these networks instead: one for
MNIST digits, one for Fashion-MNIST clothes, one for the animal shapes (the same architecture,
``dataset=`` picks one). Each is trained by a reproducible command; the weights ship with the package:

    python -m ganutils.metrics.evalnet                                  # weights/mnist_classifier.pt
    python -m ganutils.metrics.evalnet --dataset fashion --threads 1    # weights/fashion_classifier.pt
    python -m ganutils.metrics.evalnet --dataset animals --threads 1    # weights/animals_classifier.pt

(On a busy machine use ``--threads 1``: small convolutions on two contended threads cost about ten
times the CPU of one. Results depend slightly on the thread count, which the weights record.)

Inputs everywhere are images in the course's GAN scale, [-1, 1] (``scale="tanh"``),
shaped (N, 1, 28, 28), (N, 28, 28) or (N, 784); pass ``scale="unit"`` for [0, 1] images.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, check_positive_int, checkout_dir, resolve_device, seeded
from ..data.animals import load_animals
from ..data.fashion import load_fashion
from ..data.mnist import load_mnist
from ..io import atomic_write_bytes
from ..nets.utils import eval_mode

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ARCH = "lenet-bn-16-32-64-fc64-v1"  # bump when the layout below changes, so old files are refused
FEATURE_DIM = 64
NUM_CLASSES = 10
COMMAND = "python -m ganutils.metrics.evalnet"


@dataclass(frozen=True)
class EvalSpec:
    """What an evaluation network is trained on, and how."""

    load: object  # (split, verbose) -> ImageData, with "train" and a held-out "test" split
    epochs: int
    flip: bool  # random left-right flips (clothes and animals: yes; digits: no)
    affine: dict = field(default_factory=dict)  # random_affine's ranges (empty: its defaults)


DATASETS = {
    "mnist": EvalSpec(lambda split, verbose: load_mnist(split, verbose=verbose), 40, False),
    "fashion": EvalSpec(lambda split, verbose: load_fashion(split, verbose=verbose), 3, True,
                        dict(max_degrees=4.0, max_shift_px=1.5, scale_range=(0.95, 1.05), max_shear=0.05)),
    "animals": EvalSpec(lambda split, verbose: load_animals(split, verbose=verbose), 15, True),
}


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise GanutilsError(f"no evaluation network for {dataset!r}: use one of {', '.join(DATASETS)}")
    return dataset


def weights_path(dataset: str = "mnist") -> Path:
    """Where the shipped weights of ``dataset``'s evaluation network are."""
    return WEIGHTS_DIR / f"{check_dataset(dataset)}_classifier.pt"


def regenerate(dataset: str = "mnist") -> str:
    flag = "" if dataset == "mnist" else f" --dataset {dataset} --threads 1"
    return f"regenerate it with `{COMMAND}{flag}` (minutes on 2 CPU cores)"


WEIGHTS_PATH = weights_path("mnist")
DEFAULT_EPOCHS = DATASETS["mnist"].epochs
REGENERATE = regenerate("mnist")


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class EvalNet(nn.Module):
    """LeNet-like: three conv-BN-ReLU-pool blocks (28 -> 14 -> 7 -> 3), a 64-d feature layer, a linear head.

    ``features`` (the penultimate layer's 64 values before its ReLU) is what the image metrics
    compare: after the ReLU about a quarter of the units are zero on every digit, which makes
    the feature covariance singular; before it every unit varies and the covariance has full rank.
    """

    num_features = FEATURE_DIM  # torchmetrics reads this instead of probing with a dummy image

    def __init__(self, dropout: float = 0.3):
        super().__init__()
        self.conv = nn.Sequential(conv_block(1, 16), conv_block(16, 32), conv_block(32, 64))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, FEATURE_DIM))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))

    def logits_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(F.relu(feats)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_from_features(self.features(x))


MnistEvalNet = EvalNet  # its name from before Fashion-MNIST and the animals had their own


# ----------------------------------------------------------------------------- inputs


def prepare_images(images, scale: str = "tanh") -> torch.Tensor:
    """``images`` as float32 (N, 1, 28, 28) in [-1, 1], or a GanutilsError naming what is wrong."""
    if scale not in ("tanh", "unit"):
        raise GanutilsError(f"unknown pixel scale {scale!r}: use 'tanh' for images in [-1, 1] or 'unit' for [0, 1]")
    x = torch.as_tensor(images)
    if not x.is_floating_point():
        raise GanutilsError(
            f"images have dtype {x.dtype}; the evaluation network wants floats in [-1, 1]: "
            "convert uint8 pixels with `x.float() / 127.5 - 1`"
        )
    if x.dim() == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 1, 28, 28)
    elif x.dim() == 3 and tuple(x.shape[1:]) == (28, 28):
        x = x.unsqueeze(1)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise GanutilsError(
            f"images have shape {tuple(x.shape)}; the evaluation network wants MNIST-sized images "
            "(N, 1, 28, 28), (N, 28, 28) or (N, 784)"
        )
    if len(x) == 0:
        raise GanutilsError("no images were given: pass at least one image")
    x = x.detach().float()
    if not torch.isfinite(x).all():
        raise GanutilsError("images contain NaN or inf: check the generator's output (a diverged run?)")
    lo, hi = (0.0, 1.0) if scale == "unit" else (-1.0, 1.0)
    tol = 1e-3
    x_min, x_max = x.min().item(), x.max().item()
    if x_min < lo - tol or x_max > hi + tol:
        if scale == "unit" and x_min >= -1 - tol and x_max <= 1 + tol:
            hint = "they look like [-1, 1] images: use scale='tanh' (the default)"
        elif x_max > 2:
            hint = "they look like 0..255 pixels: pass x / 127.5 - 1"
        else:
            hint = "rescale them (e.g. clamp a generator without a tanh output)"
        raise GanutilsError(
            f"images range over [{x_min:.3g}, {x_max:.3g}] but scale={scale!r} expects [{lo:g}, {hi:g}]: {hint}"
        )
    if scale == "tanh" and x_min >= 0 and len(x) > 1:
        # MNIST backgrounds are -1 in this scale; a batch with no negative pixel is almost surely [0, 1] data
        warnings.warn(
            "images passed with scale='tanh' contain no negative pixel: if they are [0, 1] images "
            "(e.g. a sigmoid output), pass scale='unit'",
            stacklevel=3,
        )
    return x * 2 - 1 if scale == "unit" else x


# ----------------------------------------------------------------------------- loading and inference


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, device: str, dataset: str) -> EvalNet:
    path_ = Path(path)
    if not path_.exists():
        raise GanutilsError(f"the {dataset} evaluation network's weights {path_} are missing: {regenerate(dataset)}")
    try:
        blob = torch.load(path_, map_location="cpu", weights_only=True)
        if blob["meta"]["arch"] != ARCH:
            raise ValueError(f"architecture {blob['meta']['arch']!r}, this code expects {ARCH!r}")
        trained_on = blob["meta"].get("dataset", "mnist")  # files written before there were several data sets
        if trained_on != dataset:
            raise ValueError(f"it was trained on {trained_on!r}, not {dataset!r}")
        model = EvalNet()
        model.load_state_dict(blob["state_dict"])
    except Exception as err:  # a truncated zip, a pickle, a dict of the wrong shape: all mean "retrain"
        raise GanutilsError(
            f"the {dataset} evaluation network's weights {path_} are unreadable ({type(err).__name__}: {err}): {regenerate(dataset)}"
        ) from None
    model.meta = {"dataset": dataset, **blob["meta"]}
    return model.to(device).eval().requires_grad_(False)


def load_evalnet(device=None, path=None, dataset: str = "mnist") -> EvalNet:
    """The shipped evaluation network of ``dataset`` ("mnist", "fashion" or "animals") in eval mode,
    loaded once per device (shared: do not train it).

    ``model.meta`` holds what the training script recorded (data set, accuracy, source, epochs, seed).
    """
    path = Path(path) if path is not None else weights_path(dataset)
    return _load_cached(str(path), str(resolve_device(device)), check_dataset(dataset))


def _batched(fn, images, scale: str, batch_size: int, model, device, dataset: str) -> torch.Tensor:
    x = prepare_images(images, scale)
    model = model if model is not None else load_evalnet(device, dataset=dataset)
    dev = next(model.parameters()).device
    with torch.no_grad():
        out = [fn(model, x[i : i + batch_size].to(dev)).float().cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out)


def features(images, scale: str = "tanh", batch_size: int = 500, model=None, device=None, dataset: str = "mnist") -> torch.Tensor:
    """Penultimate-layer features (N, 64, before the ReLU) on the CPU: what the Fréchet distance and precision/recall compare.

    ``model`` (an evaluation network) wins over ``dataset``, which picks a shipped one.
    """
    return _batched(lambda m, b: m.features(b), images, scale, batch_size, model, device, dataset)


def features_and_logits(images, scale: str = "tanh", batch_size: int = 500, model=None, device=None,
                        dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """``features(images)`` and the logits of ``classify``, from one pass through the network (N, 64) and (N, 10)."""
    def both(m, b):
        feats = m.features(b)
        logits = m.logits_from_features(feats) if hasattr(m, "logits_from_features") else m(b)  # another network: two passes
        return torch.cat([feats, logits], dim=1)

    out = _batched(both, images, scale, batch_size, model, device, dataset)
    return out[:, :FEATURE_DIM], out[:, FEATURE_DIM:]


def classify(images, scale: str = "tanh", batch_size: int = 500, model=None, device=None, probs: bool = True,
             dataset: str = "mnist") -> torch.Tensor:
    """Class probabilities (N, 10) (softmax), or logits with ``probs=False``."""
    logits = _batched(lambda m, b: m(b), images, scale, batch_size, model, device, dataset)
    return logits.softmax(dim=1) if probs else logits


def accuracy(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Fraction of ``images`` whose predicted class equals ``labels``."""
    with eval_mode(model):
        pred = classify(images, batch_size=batch_size, model=model, probs=False).argmax(dim=1)
    return (pred == labels.cpu()).float().mean().item()


# ----------------------------------------------------------------------------- training


def random_affine(
    x: torch.Tensor,
    generator: torch.Generator,
    max_degrees: float = 12.0,
    max_shift_px: float = 2.5,
    scale_range: tuple[float, float] = (0.9, 1.1),
    max_shear: float = 0.15,
) -> torch.Tensor:
    """Random small rotations, shifts, scalings and shears of [-1, 1] images (one draw per image).

    The background stays -1: images are sampled as ``x + 1`` with zero padding, then shifted back.
    """
    n = len(x)

    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(n, generator=generator)

    angle = uniform(-max_degrees, max_degrees) * math.pi / 180
    scale = uniform(*scale_range)
    shear = uniform(-max_shear, max_shear)
    shift = uniform(-1, 1), uniform(-1, 1)
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin + shear
    theta[:, 1, 0], theta[:, 1, 1] = sin, cos
    px = 2.0 / x.shape[-1]  # one pixel in affine_grid's [-1, 1] coordinates
    theta[:, 0, 2], theta[:, 1, 2] = shift[0] * max_shift_px * px, shift[1] * max_shift_px * px
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1).to(x.device), x.flip(-1), x)


def train_evalnet(
    epochs: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 5e-4,
    device=None,
    limit: int | None = None,
    verbose: bool = True,
    dataset: str = "mnist",
) -> tuple[EvalNet, dict]:
    """Train on ``dataset``'s "train" split with augmentation; report accuracy on its held-out "test" split.

    Augmentation: small random affine maps, plus left-right flips for clothes and animals.
    ``epochs`` None: the data set's default (``DATASETS``: 40 for the digits, 3 passes over the
    60,000 clothes, 15 over the 7,716 animals).

    Deterministic for a given seed, device and thread count: all randomness (init, shuffling,
    augmentation, dropout) flows from ``seed``, and the caller's random state is left as it was.
    AdamW with a one-cycle learning-rate schedule.
    ``limit`` trains on ``limit`` random training images only (quick checks, not for shipping).
    """
    with seeded(seed):
        return _train_evalnet(epochs, seed, batch_size, lr, weight_decay, device, limit, verbose, check_dataset(dataset))


def _train_evalnet(epochs, seed, batch_size, lr, weight_decay, device, limit, verbose, dataset) -> tuple[EvalNet, dict]:
    spec = DATASETS[dataset]
    epochs = check_positive_int("epochs", epochs if epochs is not None else spec.epochs)
    dev = resolve_device(device)
    train, test = spec.load("train", verbose), spec.load("test", verbose)
    if limit is not None:
        n = min(check_positive_int("limit", limit), len(train))
        if n < batch_size:
            raise GanutilsError(f"limit={limit} is smaller than batch_size={batch_size}: raise the limit")
        keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n]
        train = type(train)(train.images[keep], train.labels[keep], train.source + f" ({n} random images of it)")
    model = EvalNet().to(dev)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = len(train) // batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.2)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(train), generator=gen)
        total = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * batch_size : (step + 1) * batch_size]
            x = random_affine(train.images[idx], gen, **spec.affine)
            x = (random_flip(x, gen) if spec.flip else x).to(dev)
            loss = F.cross_entropy(model(x), train.labels[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if verbose and (epoch % 5 == 0 or epoch == epochs or epochs <= 15):
            acc = accuracy(model, test.images, test.labels)
            print(f"epoch {epoch:3d}/{epochs}  loss {total / steps_per_epoch:.4f}  held-out acc {acc:.4f}  "
                  f"({time.perf_counter() - start:.0f} s)")
    model.eval()
    meta = {
        "arch": ARCH,
        "dataset": dataset,
        "accuracy": round(accuracy(model, test.images, test.labels), 4),
        "n_test": len(test),
        "n_train": len(train),
        "source": train.source.replace(str(checkout_dir() or "<none>"), "<repo>"),
        "epochs": int(epochs),
        "seed": int(seed),
        "train_seconds": round(time.perf_counter() - start, 1),
        "threads": int(torch.get_num_threads()),
        "torch": str(torch.__version__),  # TorchVersion would not load with weights_only=True
    }
    return model, meta


def save_evalnet(model: EvalNet, meta: dict, path=None) -> Path:
    """Write ``{"state_dict", "meta"}`` atomically; refuses to ship a file that ``load_evalnet`` (weights_only=True) cannot read."""
    import io as _bytes_io

    path = Path(path) if path is not None else weights_path(meta.get("dataset", "mnist"))
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    buffer = _bytes_io.BytesIO()
    torch.save({"state_dict": state, "meta": dict(meta)}, buffer)
    torch.load(_bytes_io.BytesIO(buffer.getvalue()), map_location="cpu", weights_only=True)
    atomic_write_bytes(path, buffer.getvalue())
    _load_cached.cache_clear()
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="mnist", choices=list(DATASETS), help="which data set (default: mnist)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the data set's (mnist 40, fashion 3, animals 15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="where to write the weights (default: weights/<dataset>_classifier.pt)")
    parser.add_argument("--device", default="cpu", help="cpu (default, reproducible), cuda or auto")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (results depend slightly on it)")
    parser.add_argument("--limit", type=int, default=None, help="train on N random images only (a quick check)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, meta = train_evalnet(epochs=args.epochs, seed=args.seed, device=args.device, limit=args.limit, dataset=args.dataset)
    path = save_evalnet(model, meta, args.out if args.out is not None else weights_path(args.dataset))
    size_kb = path.stat().st_size / 1024
    print(f"{args.dataset}: held-out accuracy {meta['accuracy']:.4f} on {meta['n_test']} images; "
          f"wrote {path} ({size_kb:.0f} KB) in {meta['train_seconds']:.0f} s of training")


if __name__ == "__main__":
    main()
