"""Fashion-MNIST (Xiao et al. 2017): 70,000 real 28x28 grey images of clothes in 10 classes, offline.

It comes from the first source that holds it, and one line says which:
1. torchvision's files under ``data/FashionMNIST/raw`` (``$GANUTILS_DATA`` moves ``data/``);
2. the Debian package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``),
   which installs the four gzipped IDX files under ``/usr/share/datasets/fashion-mnist/``;
3. a torchvision download into ``data/FashionMNIST``, unless ``GANUTILS_OFFLINE=1`` forbids the network.
A folder that holds some of the four files but not all is an error (naming the missing file),
never a silent fall-through: a half-copied data set is something to fix, not to hide.
"""

from __future__ import annotations

import functools
import shutil
import socket
from pathlib import Path

import numpy as np
import torch

from ..config import GanutilsError, data_dir, offline
from .idx import read_idx
from .mnist import ImageData

CLASSES = ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")
SHOES = (5, 7, 9)  # sandal, sneaker, ankle boot
DEBIAN_PACKAGE = "dataset-fashion-mnist"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {  # split -> (images, labels), without the optional .gz
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SIZES = {"train": 60000, "test": 10000}
INSTALL_HINT = (f"`sudo apt-get install {DEBIAN_PACKAGE}` (Debian/Ubuntu), or run once with the network allowed "
                "(GANUTILS_OFFLINE unset) so torchvision downloads it into data/FashionMNIST, or copy the four "
                "*-ubyte(.gz) files into data/FashionMNIST/raw")


def torchvision_dir(root: Path) -> Path:
    return Path(root) / "FashionMNIST" / "raw"


def _file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def folder_files(folder: Path, fix: str) -> dict[str, Path] | None:
    """The four files of ``folder`` (stem -> path), None if it holds none of them, an error if only some."""
    stems = [s for pair in FILES.values() for s in pair]
    found = {s: _file(folder, s) for s in stems}
    if not any(found.values()):
        return None
    missing = [s for s, p in found.items() if p is None]
    if missing:
        raise GanutilsError(f"the Fashion-MNIST folder {folder} lacks {missing[0]}(.gz)"
                            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "") + f". Fix: {fix}")
    return found


def _read_split(files: dict[str, Path], split: str, fix: str) -> tuple[np.ndarray, np.ndarray]:
    img_stem, lab_stem = FILES[split]
    images, labels = read_idx(files[img_stem], fix), read_idx(files[lab_stem], fix)
    n = SIZES[split]
    if images.shape != (n, 28, 28) or images.dtype != np.uint8:
        raise GanutilsError(f"{files[img_stem]} holds {images.dtype} {images.shape}, not {n} 28x28 uint8 images. Fix: {fix}")
    if labels.shape != (n,) or labels.min() < 0 or labels.max() > 9:
        raise GanutilsError(f"{files[lab_stem]} holds {labels.shape} labels in [{labels.min()}, {labels.max()}], "
                            f"not {n} labels in 0..9. Fix: {fix}")
    return images, labels.astype(np.int64)


def _download(root: Path) -> None:
    """torchvision's download into a temporary folder, moved into place only when complete."""
    from torchvision.datasets import FashionMNIST

    tmp = root / ".fashion-download"
    shutil.rmtree(tmp, ignore_errors=True)
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        FashionMNIST(str(tmp), train=True, download=True)
        FashionMNIST(str(tmp), train=False, download=True)
        (root / "FashionMNIST").parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp / "FashionMNIST"), str(root / "FashionMNIST"))
    finally:
        socket.setdefaulttimeout(old_timeout)
        shutil.rmtree(tmp, ignore_errors=True)


def find_fashion(root: Path, system_dir: Path, offline_: bool, download=_download) -> tuple[dict[str, Path], str, str]:
    """(files, source line, fix) of the first source that holds Fashion-MNIST, downloading when allowed."""
    local = torchvision_dir(root)
    local_fix = f"delete {local.parent} (the course then uses the next source) or put the missing file back"
    files = folder_files(local, local_fix)
    if files is not None:
        return files, f"torchvision Fashion-MNIST files from {local}", local_fix
    system_fix = f"reinstall the package: `sudo apt-get install --reinstall {DEBIAN_PACKAGE}`"
    files = folder_files(system_dir, system_fix)
    if files is not None:
        return files, f"the Debian package {DEBIAN_PACKAGE} ({system_dir})", system_fix
    why = f"not under {local}, and {system_dir} does not exist (the Debian package {DEBIAN_PACKAGE} is not installed)"
    if offline_:
        raise GanutilsError(f"no Fashion-MNIST: {why}, and GANUTILS_OFFLINE=1 forbids the download. Fix: {INSTALL_HINT}")
    try:
        download(root)
    except Exception as err:  # no network, a dead mirror, a proxy: all say "install it another way"
        raise GanutilsError(f"no Fashion-MNIST: {why}, and the download failed ({type(err).__name__}: {str(err)[:100]}). "
                            f"Fix: {INSTALL_HINT}") from None
    files = folder_files(local, local_fix)
    if files is None:
        raise GanutilsError(f"no Fashion-MNIST: the download finished but {local} holds no files. Fix: {INSTALL_HINT}")
    return files, f"torchvision Fashion-MNIST downloaded into {local}", local_fix


@functools.lru_cache(maxsize=8)
def _fashion_arrays(split: str, root: str, system_dir: str, offline_: bool) -> tuple[np.ndarray, np.ndarray, str]:
    files, source, fix = find_fashion(Path(root), Path(system_dir), offline_)
    if split == "all":
        (a, b), (c, d) = _read_split(files, "train", fix), _read_split(files, "test", fix)
        return np.concatenate([a, c]), np.concatenate([b, d]), source
    images, labels = _read_split(files, split, fix)
    return images, labels, source


def load_fashion(split: str = "train", scale: str = "tanh", classes=None, root=None, system_dir=None,
                 verbose: bool = True) -> ImageData:
    """Fashion-MNIST as float32 (N, 1, 28, 28) with int64 labels (see ``CLASSES``).

    split: "train" (60,000), "test" (10,000, held out) or "all"; scale: "tanh" ([-1, 1]) or "unit" ([0, 1]);
    classes: keep only these labels (e.g. ``SHOES``); root: the data folder (default ``data/``);
    system_dir: where the Debian package put the files (default ``/usr/share/datasets/fashion-mnist``).
    """
    if split not in ("train", "test", "all"):
        raise GanutilsError(f"unknown Fashion-MNIST split {split!r}: use 'train', 'test' or 'all'")
    if scale not in ("tanh", "unit"):
        raise GanutilsError(f"unknown pixel scale {scale!r}: use 'tanh' ([-1, 1]) or 'unit' ([0, 1])")
    root = Path(root) if root is not None else data_dir()
    system_dir = Path(system_dir) if system_dir is not None else SYSTEM_DIR
    images, labels, source = _fashion_arrays(split, str(root), str(system_dir), offline())
    if classes is not None:
        keep_classes = sorted({int(c) for c in classes})
        if not keep_classes or keep_classes[0] < 0 or keep_classes[-1] > 9:
            raise GanutilsError(f"classes must be labels in 0..9 (see fashion.CLASSES), got {classes!r}")
        keep = np.isin(labels, keep_classes)
        images, labels = images[keep], labels[keep]
    x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
    if scale == "tanh":
        x = x.mul_(2.0).sub_(1.0)
    if verbose:
        what = "" if classes is None else " of " + ", ".join(CLASSES[c] for c in sorted({int(c) for c in classes}))
        print(f"Fashion-MNIST ({split}, {len(labels):,} images{what}): {source}")
    return ImageData(x, torch.from_numpy(labels), source)


def fashion_source(root=None, system_dir=None) -> str:
    """One line naming the Fashion-MNIST source the course will use (raises if there is none)."""
    root = Path(root) if root is not None else data_dir()
    return find_fashion(root, Path(system_dir) if system_dir is not None else SYSTEM_DIR, offline())[1]
