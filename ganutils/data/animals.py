"""Animal shapes: 10,000 real 28x28 grey animal images (1,000 per class) from the PyPI wheel ``animal-shape-mnist``.

The wheel (0.39, MIT) stores its images and labels as gzipped pickles of NumPy arrays. A pickle
can run code when it is loaded, so this module never calls the package's own loader (which
imports TensorFlow anyway) and never unpickles a file before its SHA-256 matches the value
pinned below. Even then only a NumPy array may come out: the unpickler refuses every other class.

Classes (alphabetical, as the package's author numbered them): bear, bird, cat, cow, dog,
elephant, giraffe, horse, sheep, zebra. The horses are white silhouettes on black; the zebras
are grey photographs, background removed, stripes and all: horse2zebra in miniature.
The set holds 284 exact duplicates (never across classes); ``load_animals`` drops them, then
holds out the last ``TEST_PER_CLASS`` images of each class as the "test" split.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import io
import pickle
import zlib
from pathlib import Path

import numpy as np
import torch

from ..config import GanutilsError
from .mnist import ImageData

PACKAGE, VERSION = "animal-shape-mnist", "0.39"
MODULE = "animal_shape_mnist"
SUBDIR = ("data", "Animal Shape")
FILES = {  # role -> (file name, SHA-256 of the file as the 0.39 wheel ships it)
    "images": ("animal_data_version_3.gz", "68a30346781a0984f839463a4615d2decb899d1ce65091bb92586311754a34ce"),
    "labels": ("animal_label_version_3.gz", "dec8dba7c469830989fbab46825021a08a38470753a512f27ada847eced97b57"),
}
CLASSES = ("bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep", "zebra")
HORSE, ZEBRA = CLASSES.index("horse"), CLASSES.index("zebra")
TEST_PER_CLASS = 200
REINSTALL = f"`pip install --force-reinstall --no-deps {PACKAGE}=={VERSION}`"


def package_dir() -> Path | None:
    """Where the installed wheel keeps its data files, found without importing the package."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*SUBDIR)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class NumpyArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays and nothing else (no functions, no other classes)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),  # NumPy 1 pickles
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are expected")
        return super().find_class(*self.ALLOWED[(module, name)])


def verify_sha256(path: Path, expected_sha256: str) -> None:
    """An error naming ``path`` unless it exists and its SHA-256 is ``expected_sha256``."""
    if not path.is_file():
        raise GanutilsError(f"{path} is missing from the {PACKAGE} package. Fix: {REINSTALL}")
    actual = sha256(path)
    if actual != expected_sha256:
        raise GanutilsError(f"{path} has SHA-256 {actual[:16]}..., not the pinned {expected_sha256[:16]}... of "
                            f"{PACKAGE} {VERSION}: refusing to unpickle it. Fix: {REINSTALL}")


def read_verified_pickle(path: Path, expected_sha256: str) -> np.ndarray:
    """The NumPy array pickled (gzipped) in ``path``, after its SHA-256 matched ``expected_sha256``."""
    verify_sha256(path, expected_sha256)
    try:
        with gzip.open(path, "rb") as fh:
            array = NumpyArrayUnpickler(io.BytesIO(fh.read())).load()
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError) as err:
        raise GanutilsError(f"{path} matched its pinned hash but did not load ({type(err).__name__}: {err}). Fix: {REINSTALL}") from None
    if not isinstance(array, np.ndarray):
        raise GanutilsError(f"{path} holds a {type(array).__name__}, not a NumPy array. Fix: {REINSTALL}")
    return array


@functools.lru_cache(maxsize=4)
def _animal_arrays(folder: str) -> tuple[np.ndarray, np.ndarray]:
    """All images and labels, exact duplicates dropped (first copy kept), in the package's order."""
    base = Path(folder)
    for name, digest in FILES.values():  # every file checked before any is unpickled
        verify_sha256(base / name, digest)
    images = read_verified_pickle(base / FILES["images"][0], FILES["images"][1])
    labels = read_verified_pickle(base / FILES["labels"][0], FILES["labels"][1])
    if images.shape != (10000, 28, 28) or images.dtype != np.uint8 or labels.shape != (10000,):
        raise GanutilsError(f"{base} holds images {images.shape} {images.dtype} and labels {labels.shape}, "
                            f"not 10,000 28x28 uint8 images. Fix: {REINSTALL}")
    _, first = np.unique(images.reshape(len(images), -1), axis=0, return_index=True)
    keep = np.sort(first)
    return images[keep], labels[keep].astype(np.int64)


def _split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    keep = []
    for c in range(len(CLASSES)):
        idx = np.flatnonzero(labels == c)
        keep.append(idx[-TEST_PER_CLASS:] if split == "test" else idx[:-TEST_PER_CLASS])
    return np.sort(np.concatenate(keep))


def load_animals(split: str = "train", classes=None, scale: str = "tanh", folder=None, verbose: bool = True) -> ImageData:
    """Animal shapes as float32 (N, 1, 28, 28) with int64 labels (see ``CLASSES``).

    split: "train", "test" (the last 200 distinct images of each class) or "all";
    classes: keep only these labels, e.g. ``(HORSE, ZEBRA)``; folder: where the pickles are
    (default: the installed wheel's data folder).
    """
    if split not in ("train", "test", "all"):
        raise GanutilsError(f"unknown animal-shape split {split!r}: use 'train', 'test' or 'all'")
    if scale not in ("tanh", "unit"):
        raise GanutilsError(f"unknown pixel scale {scale!r}: use 'tanh' ([-1, 1]) or 'unit' ([0, 1])")
    folder = Path(folder) if folder is not None else package_dir()
    if folder is None:
        raise GanutilsError(f"the animal shapes need the {PACKAGE} wheel, which is not installed. "
                            f"Fix: `pip install {PACKAGE}=={VERSION}` (make test installs it)")
    images, labels = _animal_arrays(str(folder))
    if split != "all":
        idx = _split_indices(labels, split)
        images, labels = images[idx], labels[idx]
    if classes is not None:
        wanted = sorted({int(c) for c in classes})
        if not wanted or wanted[0] < 0 or wanted[-1] >= len(CLASSES):
            raise GanutilsError(f"classes must be labels in 0..9 (see animals.CLASSES), got {classes!r}")
        keep = np.isin(labels, wanted)
        images, labels = images[keep], labels[keep]
    x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
    if scale == "tanh":
        x = x.mul_(2.0).sub_(1.0)
    source = f"{PACKAGE} {VERSION} ({folder}), SHA-256 verified"
    if verbose:
        what = "" if classes is None else " of " + ", ".join(CLASSES[c] for c in sorted({int(c) for c in classes}))
        print(f"animal shapes ({split}, {len(labels):,} images{what}): {source}")
    return ImageData(x, torch.from_numpy(labels), source)
