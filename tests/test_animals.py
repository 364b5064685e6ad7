"""Animal shapes: pickles are read only after their pinned SHA-256 matches, and only NumPy arrays come out."""

import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import animals


class Payload:
    """Unpickling this runs ``os.system``-like code: here it only writes a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))  # opening for writing creates the file: proof that code ran


def write_pickle(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as fh:
        pickle.dump(obj, fh)
    return path


def fake_package(folder, n_per_class=1000, duplicate=True):
    """A folder laid out like the wheel's, with distinct images (and one duplicate) and labels in class order."""
    n = 10 * n_per_class
    images = np.zeros((n, 28, 28), np.uint8)
    ids = np.arange(n)
    images[:, 0, 0], images[:, 0, 1], images[:, 5:20, 5:20] = ids % 256, ids // 256, 200
    if duplicate:
        images[1] = images[0]  # an exact duplicate inside class 0, as the real set has 284
    labels = np.repeat(np.arange(10), n_per_class).astype(np.int64)
    write_pickle(folder / animals.FILES["images"][0], images)
    write_pickle(folder / animals.FILES["labels"][0], labels)
    return images, labels


def pin(monkeypatch, folder):
    """Pin the hashes of the files in ``folder`` (as if they were the released ones)."""
    monkeypatch.setattr(animals, "FILES", {role: (name, animals.sha256(folder / name)) for role, (name, _) in animals.FILES.items()})


@pytest.fixture(autouse=True)
def fresh_cache():
    animals._animal_arrays.cache_clear()
    yield
    animals._animal_arrays.cache_clear()


def test_a_wrong_hash_refuses_to_unpickle(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    fake_package(tmp_path / "pkg")
    pin(monkeypatch, tmp_path / "pkg")
    write_pickle(tmp_path / "pkg" / animals.FILES["labels"][0], Payload(marker))  # a tampered labels file
    with pytest.raises(GanutilsError) as err:
        animals.load_animals(folder=tmp_path / "pkg")
    msg = str(err.value)
    assert animals.FILES["labels"][0] in msg and "refusing to unpickle" in msg and "pip install --force-reinstall" in msg
    assert "\n" not in msg and not marker.exists()


def test_no_file_is_unpickled_before_every_hash_matched(tmp_path, monkeypatch):
    fake_package(tmp_path / "pkg")
    monkeypatch.setattr(animals, "read_verified_pickle", lambda *a: pytest.fail("unpickled before all hashes were checked"))
    (tmp_path / "pkg" / animals.FILES["labels"][0]).write_bytes(b"tampered")
    with pytest.raises(GanutilsError, match="refusing to unpickle"):
        animals.load_animals(folder=tmp_path / "pkg")


def test_a_matching_hash_still_builds_nothing_but_arrays(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    fake_package(tmp_path / "pkg")
    write_pickle(tmp_path / "pkg" / animals.FILES["images"][0], Payload(marker))
    pin(monkeypatch, tmp_path / "pkg")  # even a pinned file may only hold a NumPy array
    with pytest.raises(GanutilsError, match=r"did not load \(UnpicklingError: refusing to load (io|builtins)\.open"):
        animals.load_animals(folder=tmp_path / "pkg")
    assert not marker.exists()


def test_pinned_files_load_deduplicated_and_split(tmp_path, monkeypatch, capsys):
    fake_package(tmp_path / "small", n_per_class=300)
    pin(monkeypatch, tmp_path / "small")
    with pytest.raises(GanutilsError, match="not 10,000 28x28 uint8 images"):
        animals.load_animals(folder=tmp_path / "small")
    fake_package(tmp_path / "pkg")
    pin(monkeypatch, tmp_path / "pkg")
    train = animals.load_animals("train", folder=tmp_path / "pkg")
    test = animals.load_animals("test", classes=(animals.HORSE, animals.ZEBRA), scale="unit", folder=tmp_path / "pkg")
    assert "SHA-256 verified" in capsys.readouterr().out
    counts = train.labels.bincount(minlength=10)
    assert counts[0] == 1000 - 1 - animals.TEST_PER_CLASS and (counts[1:] == 1000 - animals.TEST_PER_CLASS).all()
    assert len(test) == 2 * animals.TEST_PER_CLASS and set(test.labels.tolist()) == {animals.HORSE, animals.ZEBRA}
    assert train.images.shape[1:] == (1, 28, 28) and train.images.min() == -1 and 0 <= test.images.min()
    flat = torch.cat([train.images, animals.load_animals("test", folder=tmp_path / "pkg", verbose=False).images]).flatten(1)
    assert len(torch.unique(flat, dim=0)) == len(flat) == 9999  # the duplicate is gone, no image in both splits


def test_missing_package_or_file_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(GanutilsError, match=r"animal_data_version_3.gz is missing .*pip install --force-reinstall --no-deps animal-shape-mnist==0.39"):
        animals.load_animals(folder=tmp_path)
    monkeypatch.setattr(animals, "package_dir", lambda: None)
    with pytest.raises(GanutilsError, match=r"Fix: `pip install animal-shape-mnist==0.39`"):
        animals.load_animals()
    with pytest.raises(GanutilsError, match="split"):
        animals.load_animals("val")


@pytest.mark.skipif(animals.package_dir() is None, reason="animal-shape-mnist is not installed")
def test_the_real_wheel_matches_its_pins_and_has_horses_and_zebras():
    folder = animals.package_dir()
    for name, digest in animals.FILES.values():
        assert animals.sha256(folder / name) == digest
    both = animals.load_animals("all", classes=(animals.HORSE, animals.ZEBRA), verbose=False)
    horses, zebras = both.images[both.labels == animals.HORSE], both.images[both.labels == animals.ZEBRA]
    assert len(horses) == 997 and len(zebras) == 1000  # 3 duplicate horses dropped
    # horses are bright silhouettes (many saturated pixels), zebras grey photographs (many mid-grey stripes)
    mid = lambda x: ((x > -0.5) & (x < 0.5)).float().mean()  # noqa: E731
    assert (horses > 0.5).float().mean() > 2 * (zebras > 0.5).float().mean() and mid(zebras) > 2 * mid(horses)
