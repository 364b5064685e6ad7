"""Fashion-MNIST: the IDX reader, every step of the fallback chain and every broken-file case, on files the tests write."""

import gzip

import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import fashion, idx
from ganutils.data.idx import read_idx, write_idx


def fake_fashion(folder, gz=True, n_train=60, n_test=10, skip=(), seed=0):
    """Write the four Fashion-MNIST files (random pixels, labels i % 10) into ``folder``; returns the images."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        img_stem, lab_stem = fashion.FILES[split]
        for stem, array in ((img_stem, images), (lab_stem, labels)):
            if stem not in skip:
                write_idx(folder / (stem + (".gz" if gz else "")), array)
        out[split] = images
    return out


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(fashion, "SIZES", {"train": 60, "test": 10})  # the real sizes are 60,000 and 10,000
    fashion._fashion_arrays.cache_clear()
    yield
    fashion._fashion_arrays.cache_clear()


# ----------------------------------------------------------------------------- the IDX format


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 5).reshape(2, 3, 5) - 7).astype(dtype) if dtype != np.uint8 else np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    path = write_idx(tmp_path / f"a-idx3{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 5) and np.array_equal(back, array)


def test_idx_reads_the_real_layout(tmp_path):
    # magic 0x00000803 (uint8, 3 dims), dims 2 x 2 x 2, then 8 bytes: written by hand, not by write_idx
    raw = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") * 3 + bytes(range(8))
    (tmp_path / "x").write_bytes(raw)
    assert read_idx(tmp_path / "x").tolist() == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]


def test_truncated_idx_is_one_clear_line(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((10, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(GanutilsError, match=r"train-images-idx3-ubyte is truncated.*Fix: reinstall it") as err:
        read_idx(path, fix="reinstall it")
    assert "\n" not in str(err.value)


def test_truncated_gzip_and_garbage_are_clear_errors(tmp_path):
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(1000, np.uint8))
    path.write_bytes(path.read_bytes()[:20])  # the gzip stream is cut
    with pytest.raises(GanutilsError, match=r"t10k-labels-idx1-ubyte.gz is not a readable .*Fix: "):
        read_idx(path)
    bad = tmp_path / "garbage-idx1-ubyte"
    bad.write_bytes(b"PK\x03\x04 this is a zip file, not IDX")
    with pytest.raises(GanutilsError, match="garbage-idx1-ubyte is not an IDX file .bad magic number"):
        read_idx(bad)
    longer = write_idx(tmp_path / "long", np.zeros(5, np.uint8))
    longer.write_bytes(longer.read_bytes() + b"\0")
    with pytest.raises(GanutilsError, match="longer than its header says"):
        read_idx(longer)
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(GanutilsError, match="not an IDX file"):
        read_idx(tmp_path / "empty")


# ----------------------------------------------------------------------------- the fallback chain


def test_torchvision_files_under_data_come_first(tmp_path, capsys):
    system = tmp_path / "system"
    local = fake_fashion(fashion.torchvision_dir(tmp_path / "data"), gz=False, seed=1)
    fake_fashion(system, seed=2)
    train = fashion.load_fashion("train", root=tmp_path / "data", system_dir=system)
    assert "torchvision Fashion-MNIST files from" in capsys.readouterr().out
    assert train.images.shape == (60, 1, 28, 28) and train.images.min() == -1 and train.images.max() == 1
    assert torch.equal(train.images[0, 0], torch.from_numpy(local["train"][0]).float() / 127.5 - 1)


def test_the_debian_folder_is_next(tmp_path, capsys):
    system = tmp_path / "system"
    written = fake_fashion(system)
    test = fashion.load_fashion("test", scale="unit", root=tmp_path / "data", system_dir=system)
    assert f"the Debian package {fashion.DEBIAN_PACKAGE} ({system})" in capsys.readouterr().out
    assert test.images.shape == (10, 1, 28, 28) and 0 <= test.images.min() and test.images.max() <= 1
    assert torch.equal((test.images[5, 0] * 255).round().byte(), torch.from_numpy(written["test"][5]))
    everything = fashion.load_fashion("all", root=tmp_path / "data", system_dir=system, verbose=False)
    assert len(everything) == 70
    shoes = fashion.load_fashion("test", classes=fashion.SHOES, root=tmp_path / "data", system_dir=system, verbose=False)
    assert len(shoes) == 3 and set(shoes.labels.tolist()) == {5, 7, 9}


def test_a_download_when_allowed(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GANUTILS_OFFLINE", raising=False)
    calls = []

    def fake_download(root):
        calls.append(root)
        fake_fashion(fashion.torchvision_dir(root))

    files, source, _ = fashion.find_fashion(tmp_path / "data", tmp_path / "absent", False, download=fake_download)
    assert calls == [tmp_path / "data"] and "downloaded into" in source and len(files) == 4


def test_no_download_when_offline_and_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GANUTILS_OFFLINE", "1")
    calls = []
    with pytest.raises(GanutilsError) as err:
        fashion.find_fashion(tmp_path, tmp_path / "absent", True, download=calls.append)
    msg = str(err.value)
    assert calls == [] and "\n" not in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "GANUTILS_OFFLINE=1 forbids the download" in msg
    with pytest.raises(GanutilsError, match="dataset-fashion-mnist"):
        fashion.load_fashion(root=tmp_path, system_dir=tmp_path / "absent")


def test_a_failed_download_is_a_clear_error(tmp_path):
    def broken(root):
        raise OSError("network unreachable")

    with pytest.raises(GanutilsError, match=r"the download failed \(OSError: network unreachable\).*apt-get install dataset-fashion-mnist"):
        fashion.find_fashion(tmp_path, tmp_path / "absent", False, download=broken)


def test_a_folder_with_a_missing_file_names_it_and_the_fix(tmp_path):
    system = tmp_path / "system"
    fake_fashion(system, skip=("t10k-labels-idx1-ubyte",))
    with pytest.raises(GanutilsError, match=rf"{system} lacks t10k-labels-idx1-ubyte\(.gz\).*apt-get install --reinstall dataset-fashion-mnist"):
        fashion.load_fashion(root=tmp_path / "data", system_dir=system)
    local = fashion.torchvision_dir(tmp_path / "data")
    fake_fashion(local, skip=("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))
    with pytest.raises(GanutilsError, match=r"lacks train-images-idx3-ubyte\(.gz\) and 1 more. Fix: delete"):
        fashion.load_fashion(root=tmp_path / "data", system_dir=system)


def test_corrupt_or_wrong_sized_files_are_clear_errors(tmp_path):
    system = tmp_path / "system"
    fake_fashion(system)
    labels = system / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-30])
    with pytest.raises(GanutilsError, match="t10k-labels-idx1-ubyte.gz is not a readable .*apt-get install --reinstall"):
        fashion.load_fashion("test", root=tmp_path / "data", system_dir=system)
    fashion._fashion_arrays.cache_clear()
    small = tmp_path / "small"
    fake_fashion(small, n_train=100)
    with pytest.raises(GanutilsError, match=r"train-images-idx3-ubyte.gz holds uint8 \(100, 28, 28\), not 60 28x28"):
        fashion.load_fashion("train", root=tmp_path / "data", system_dir=small)


def test_bad_arguments(tmp_path):
    with pytest.raises(GanutilsError, match="split"):
        fashion.load_fashion("validation")
    with pytest.raises(GanutilsError, match="scale"):
        fashion.load_fashion(scale="0-255")
    system = tmp_path / "system"
    fake_fashion(system)
    with pytest.raises(GanutilsError, match="classes must be labels in 0..9"):
        fashion.load_fashion(classes=(10,), root=tmp_path, system_dir=system)


@pytest.mark.skipif(not fashion.SYSTEM_DIR.exists(), reason="the Debian package dataset-fashion-mnist is not installed")
def test_the_real_debian_package_loads(monkeypatch):
    monkeypatch.setattr(fashion, "SIZES", {"train": 60000, "test": 10000})
    test = fashion.load_fashion("test", root="/nonexistent-data-dir", verbose=False)
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.equal(test.labels.bincount(), torch.full((10,), 1000))
    assert fashion.DEBIAN_PACKAGE in test.source
