import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import load_mnist
from ganutils.metrics import evalnet


@pytest.fixture(scope="module")
def held_out():
    return load_mnist("test", verbose=False)


def test_shipped_weights_are_small_and_load_with_weights_only():
    path = evalnet.WEIGHTS_PATH
    assert path.exists(), "run `python -m ganutils.evalnet` to create the weights"
    assert path.stat().st_size < 300 * 1024
    blob = torch.load(path, map_location="cpu", weights_only=True)
    assert set(blob) == {"state_dict", "meta"}
    meta = blob["meta"]
    assert meta["arch"] == evalnet.ARCH
    assert {"accuracy", "source", "epochs", "seed"} <= set(meta)
    assert all(isinstance(v, torch.Tensor) for v in blob["state_dict"].values())


def test_load_evalnet_is_cached_frozen_and_in_eval_mode():
    model = evalnet.load_evalnet("cpu")
    assert model is evalnet.load_evalnet("cpu")
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_classifier_reaches_98_percent_on_held_out_digits(held_out):
    acc = evalnet.accuracy(evalnet.load_evalnet("cpu"), held_out.images, held_out.labels)
    assert acc >= 0.98, f"held-out accuracy {acc:.4f}"


def test_features_and_probabilities_have_the_documented_shapes(held_out):
    x = held_out.images[:50]
    feats = evalnet.features(x)
    probs = evalnet.classify(x)
    logits = evalnet.classify(x, probs=False)
    assert feats.shape == (50, evalnet.FEATURE_DIM) and feats.dtype == torch.float32
    assert probs.shape == (50, 10)
    assert torch.allclose(probs.sum(1), torch.ones(50), atol=1e-5)
    assert torch.allclose(logits.softmax(1), probs, atol=1e-6)
    # batching does not change the answer
    assert torch.allclose(evalnet.features(x, batch_size=7), feats, atol=1e-5)


def test_unit_scale_and_flat_inputs_give_the_same_features(held_out):
    x = held_out.images[:20]
    ref = evalnet.features(x)
    assert torch.allclose(evalnet.features((x + 1) / 2, scale="unit"), ref, atol=1e-5)
    assert torch.allclose(evalnet.features(x.reshape(20, 784)), ref, atol=1e-6)
    assert torch.allclose(evalnet.features(x[:, 0]), ref, atol=1e-6)


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.rand(4, 1, 28, 28) * 255, "range"),
        (torch.zeros(4, 3, 28, 28), "shape"),
        (torch.zeros(4, 1, 32, 32), "shape"),
        (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), "dtype"),
        (torch.full((4, 1, 28, 28), float("nan")), "NaN"),
        (torch.zeros(0, 1, 28, 28), "no images"),
    ],
)
def test_bad_images_raise_a_clear_error(bad, match):
    with pytest.raises(GanutilsError, match=match):
        evalnet.features(bad)


def test_scale_mixups_are_caught(held_out):
    x = held_out.images[:4]
    with pytest.raises(GanutilsError, match="scale='tanh'"):
        evalnet.features(x, scale="unit")  # [-1, 1] images called [0, 1]
    with pytest.warns(UserWarning, match="scale='unit'"):
        evalnet.features((x + 1) / 2)  # [0, 1] images called [-1, 1]
    with pytest.raises(GanutilsError, match="127.5"):
        evalnet.features((x + 1) * 127.5)
    with pytest.raises(GanutilsError, match="unknown pixel scale"):
        evalnet.features(x, scale="0-255")


def test_missing_or_corrupt_weights_say_how_to_regenerate(tmp_path):
    with pytest.raises(GanutilsError, match="python -m ganutils.metrics.evalnet"):
        evalnet.load_evalnet("cpu", path=tmp_path / "absent.pt")
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(evalnet.WEIGHTS_PATH.read_bytes()[:5000])
    with pytest.raises(GanutilsError, match="python -m ganutils.metrics.evalnet"):
        evalnet.load_evalnet("cpu", path=bad)
    wrong = tmp_path / "wrong.pt"
    torch.save({"state_dict": {}, "meta": {"arch": "something-else"}}, wrong)
    with pytest.raises(GanutilsError, match="python -m ganutils.metrics.evalnet"):
        evalnet.load_evalnet("cpu", path=wrong)


def test_identity_affine_leaves_images_unchanged_and_random_affine_keeps_background(held_out):
    x = held_out.images[:16]
    g = torch.Generator().manual_seed(0)
    same = evalnet.random_affine(x, g, max_degrees=0, max_shift_px=0, scale_range=(1, 1), max_shear=0)
    assert torch.allclose(same, x, atol=1e-5)
    moved = evalnet.random_affine(x, g)
    assert moved.shape == x.shape and moved.min() >= -1 - 1e-6 and moved.max() <= 1 + 1e-6
    assert moved[:, :, 0, :].max() < -0.9  # the top row stays background
    assert not torch.allclose(moved, x, atol=1e-2)


def test_training_is_deterministic_and_save_is_loadable(tmp_path):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    m1, meta1 = evalnet.train_evalnet(epochs=1, seed=3, limit=128, verbose=False)
    m2, meta2 = evalnet.train_evalnet(epochs=1, seed=3, limit=128, verbose=False)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k
    assert meta1["accuracy"] == meta2["accuracy"] and meta1["seed"] == 3 and meta1["epochs"] == 1
    path = evalnet.save_evalnet(m1, meta1, tmp_path / "net.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]  # the temporary file is gone
    loaded = evalnet.load_evalnet("cpu", path=path)
    x = load_mnist("test", verbose=False).images[:8]
    assert torch.allclose(evalnet.features(x, model=loaded), evalnet.features(x, model=m1.eval()), atol=1e-6)


def test_training_rejects_bad_arguments():
    with pytest.raises(GanutilsError, match="epochs"):
        evalnet.train_evalnet(epochs=0, verbose=False)
    with pytest.raises(GanutilsError, match="limit"):
        evalnet.train_evalnet(epochs=1, limit=10, verbose=False)


# ----------------------------------------------------------------------------- the Fashion-MNIST and animal networks


@pytest.mark.parametrize("dataset, floor", [("fashion", 0.85), ("animals", 0.9)])
def test_each_data_set_has_its_own_small_network(dataset, floor):
    path = evalnet.weights_path(dataset)
    assert path.exists() and path.stat().st_size < 300 * 1024, f"run `python -m ganutils.metrics.evalnet --dataset {dataset}`"
    meta = torch.load(path, map_location="cpu", weights_only=True)["meta"]
    assert meta["dataset"] == dataset and meta["arch"] == evalnet.ARCH and meta["accuracy"] >= floor
    model = evalnet.load_evalnet("cpu", dataset=dataset)
    assert model is evalnet.load_evalnet("cpu", dataset=dataset) and model is not evalnet.load_evalnet("cpu")
    assert model.meta["dataset"] == dataset and not model.training


def test_fashion_network_knows_held_out_clothes_and_features_follow_the_dataset():
    from ganutils.data.fashion import SYSTEM_DIR, load_fashion

    if not SYSTEM_DIR.exists():
        pytest.skip("the Debian package dataset-fashion-mnist is not installed")
    test = load_fashion("test", verbose=False)
    x, y = test.images[:1000], test.labels[:1000]
    model = evalnet.load_evalnet("cpu", dataset="fashion")
    assert evalnet.accuracy(model, x, y) > 0.85
    assert torch.allclose(evalnet.features(x[:20], dataset="fashion"), evalnet.features(x[:20], model=model))
    assert not torch.allclose(evalnet.features(x[:20], dataset="fashion"), evalnet.features(x[:20]))  # MNIST's network


def test_a_network_of_another_data_set_or_an_unknown_name_is_refused(tmp_path):
    wrong = tmp_path / "fashion_as_mnist.pt"
    wrong.write_bytes(evalnet.weights_path("fashion").read_bytes())
    with pytest.raises(GanutilsError, match=r"trained on 'fashion', not 'mnist'.*python -m ganutils.metrics.evalnet"):
        evalnet.load_evalnet("cpu", path=wrong)
    with pytest.raises(GanutilsError, match="--dataset animals"):
        evalnet.load_evalnet("cpu", path=tmp_path / "absent.pt", dataset="animals")
    with pytest.raises(GanutilsError, match="no evaluation network for 'cifar'"):
        evalnet.load_evalnet("cpu", dataset="cifar")


def test_random_flip_mirrors_about_half():
    x = torch.arange(4.0).view(1, 1, 1, 4).expand(400, 1, 1, 4)
    out = evalnet.random_flip(x, torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0, 0] == 3).float().mean()
    assert 0.4 < flipped < 0.6 and ((out[:, 0, 0, 0] == 0) | (out[:, 0, 0, 0] == 3)).all()
