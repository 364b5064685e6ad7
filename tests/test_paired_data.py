import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganutils import nets
from ganutils.config import GanutilsError
from ganutils.data import paired as pdata
from ganutils.metrics import translation
from ganutils.metrics.sharpness import mean_abs_laplacian


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def pairs():
    return pdata.StripedShapes(32)


@pytest.fixture(scope="module")
def scene(pairs):
    return pairs.sample_scene(64, gen(0))


# ----------------------------------------------------------------------------- the procedural set


def test_shapes_ranges_and_reproducibility(pairs, scene):
    assert scene.inputs.shape == scene.targets.shape == (64, 3, 32, 32)
    assert scene.regions.shape == (64, 32, 32) and scene.classes.shape == (64, 4)
    assert scene.targets.min() >= -1 and scene.targets.max() <= 1
    assert set(scene.inputs.unique().tolist()) == {-1.0, 1.0}, "the input is a pure label map"
    again = pairs.sample_scene(64, gen(0))
    assert torch.equal(again.inputs, scene.inputs) and torch.equal(again.targets, scene.targets)
    assert not torch.equal(pairs.sample(64, gen(1))[0], scene.inputs)
    x, y = pairs.sample(5, gen(3))
    assert x.shape == y.shape == (5, 3, 32, 32)


def test_each_image_has_a_background_and_one_to_three_shapes_of_distinct_classes(scene):
    for classes in scene.classes:
        present = classes[classes >= 0].tolist()
        assert present[0] == 0 and 2 <= len(present) <= 4
        assert len(set(present[1:])) == len(present) - 1 and set(present[1:]) <= {1, 2, 3}
    n_shapes = (scene.classes[:, 1:] >= 0).sum(1)
    assert set(n_shapes.tolist()) == {1, 2, 3}


def test_the_label_map_determines_the_regions_but_not_the_textures(pairs, scene):
    """Multimodality: the same label map, re-textured, gives a different but equally valid target."""
    other = pairs.texture(scene.regions, scene.classes, gen(7))
    assert (other - scene.targets).abs().mean() > 0.3
    assert translation.mode_distance(scene.targets, scene, pairs).max() < 1e-6
    assert translation.mode_distance(other, scene, pairs).max() < 1e-6
    # the pixel-wise label colour of the input is the same wherever two targets could differ in class
    pixel_class = scene.classes.gather(1, scene.regions.flatten(1)).view(scene.regions.shape)
    assert torch.equal(scene.inputs, pdata.LABEL_COLOURS[pixel_class].permute(0, 3, 1, 2))


def test_the_average_of_valid_targets_is_blurred_and_far_from_every_mode(pairs, scene):
    """What L1/L2 regression converges to: the mean over textures has no stripes and no valid colour."""
    few = pdata.Scene(scene.inputs[:16], scene.targets[:16], scene.regions[:16], scene.classes[:16])
    draws = torch.stack([pairs.texture(few.regions, few.classes, gen(s)) for s in range(100)])
    average = draws.mean(0)
    assert translation.mode_distance(average, few, pairs).mean() > 0.4
    assert mean_abs_laplacian(average).mean() < 0.3 * mean_abs_laplacian(few.targets).mean()
    assert translation.diversity(draws[:4]) > 0.5, "valid targets for one input differ a lot"
    # ... and it still has the lower pixel error against the one drawn ground truth
    assert translation.l1_error(average, few.targets).mean() < translation.l1_error(draws[0], few.targets).mean()


@pytest.mark.parametrize("n_modes", [1, 2, 3])
def test_candidate_textures_cover_colours_orientations_and_phases(n_modes):
    pairs = pdata.StripedShapes(16, n_modes=n_modes)
    cands = pairs.candidate_textures(1)
    assert cands.shape == (pairs.n_textures, 3, 16, 16) == (n_modes * 2 * 4, 3, 16, 16)
    assert len({tuple(c.flatten().tolist()) for c in cands}) == len(cands), "all distinct"


def test_bad_settings_are_refused():
    with pytest.raises(GanutilsError, match="n_modes"):
        pdata.StripedShapes(32, n_modes=4)
    with pytest.raises(GanutilsError, match="even"):
        pdata.StripedShapes(32, period=3)
    with pytest.raises(GanutilsError, match="max_shapes"):
        pdata.StripedShapes(32, max_shapes=5)
    with pytest.raises(GanutilsError, match="size"):
        pdata.StripedShapes(4)


def test_pair_sampler_resumes_exactly(pairs):
    a = pdata.PairSampler(pairs, 4, seed=3)
    a()
    state = a.state_dict()
    x1, y1 = a()
    b = pdata.PairSampler(pairs, 4, seed=99)
    b.load_state_dict(state)
    x2, y2 = b()
    assert torch.equal(x1, x2) and torch.equal(y1, y2)


# ----------------------------------------------------------------------------- scores


def test_l1_and_psnr_known_values():
    real = torch.zeros(2, 3, 8, 8)
    fake = real + 0.2
    assert torch.allclose(translation.l1_error(fake, real), torch.tensor([0.2, 0.2]))
    assert torch.allclose(translation.psnr(fake, real), torch.tensor([20.0, 20.0]))  # 10 log10(4 / 0.04)
    assert translation.psnr(real, real).min() > 99
    with pytest.raises(GanutilsError, match="same shape"):
        translation.l1_error(fake, real[:1])
    with pytest.raises(GanutilsError, match=r"\(N, C, H, W\)"):
        translation.psnr(fake[0], real[0])


def test_sharpness_is_zero_when_flat_and_drops_with_blur(scene):
    assert mean_abs_laplacian(torch.full((2, 3, 16, 16), 0.3)).abs().max() < 1e-6
    blurred = F.avg_pool2d(scene.targets, 3, 1, 1, count_include_pad=False)
    assert (mean_abs_laplacian(blurred) < 0.7 * mean_abs_laplacian(scene.targets)).all()


def test_mode_distance_checks_and_measures(pairs, scene):
    wrong_colour = scene.targets.clone()
    wrong_colour[scene.regions[:, None].expand_as(wrong_colour) == 0] = 0.0  # background flattened to grey
    assert (translation.mode_distance(wrong_colour, scene, pairs) > 0.05).all()
    with pytest.raises(GanutilsError, match="match the scene"):
        translation.mode_distance(scene.targets[:3], scene, pairs)
    nums = translation.score(scene.targets, scene, pairs)
    assert nums["l1"] == 0 and nums["mode_distance"] < 1e-6 and nums["sharpness"] == pytest.approx(1.0) and nums["psnr"] > 99


def test_diversity():
    x = torch.zeros(3, 2, 1, 4, 4)
    x[1] += 0.5
    x[2] += 1.0
    assert translation.diversity(x) == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    with pytest.raises(GanutilsError, match="R >= 2"):
        translation.diversity(x[:1])


# ----------------------------------------------------------------------------- the A|B folder format


def write_pair(path, a_rgb, b_rgb, h=20, w=20):
    img = np.zeros((h, 2 * w, 3), dtype=np.uint8)
    img[:, :w] = a_rgb
    img[:, w:] = b_rgb
    Image.fromarray(img).save(path)


def test_loads_side_by_side_pairs_in_both_directions(tmp_path):
    for i in range(3):
        write_pair(tmp_path / f"{i}.jpg" if i else tmp_path / "0.png", (255, 0, 0), (0, 0, 255))
    (tmp_path / "notes.txt").write_text("not an image")
    a, b = pdata.load_paired_folder(tmp_path)
    assert a.shape == b.shape == (3, 3, 20, 20)
    assert a[:, 0].mean() > 0.9 and a[:, 2].mean() < -0.9, "A (left half) is red"
    assert b[:, 2].mean() > 0.9 and b[:, 0].mean() < -0.9, "B (right half) is blue"
    a2, b2 = pdata.load_paired_folder(tmp_path, direction="BtoA", size=8, max_images=2)
    assert a2.shape == (2, 3, 8, 8) and a2[:, 2].mean() > 0.9 and b2[:, 0].mean() > 0.9
    assert len(pdata.PairedFolder(tmp_path)) == 3


def test_save_pairs_round_trips_through_the_loader(tmp_path, pairs):
    x, y = pairs.sample(3, gen(4))
    paths = pdata.save_pairs(tmp_path / "ab", x, y)
    assert [p.name for p in paths] == ["pair_00000.png", "pair_00001.png", "pair_00002.png"]
    a, b = pdata.load_paired_folder(tmp_path / "ab")
    assert (a - x).abs().max() <= 1 / 127.5 + 1e-6 and (b - y).abs().max() <= 1 / 127.5 + 1e-6  # 8-bit rounding only
    a, b = pdata.load_paired_folder(tmp_path / "ab", direction="BtoA")
    assert (a - y).abs().max() <= 1 / 127.5 + 1e-6
    with pytest.raises(GanutilsError, match="same shape"):
        pdata.save_pairs(tmp_path / "bad", x, y[:2])


def test_loaded_pairs_train_a_pix2pix_step(tmp_path):
    from ganutils import data
    from ganutils.training import pix2pix

    for i in range(4):
        write_pair(tmp_path / f"{i}.png", (10 * i, 100, 200), (200, 10 * i, 0), h=40, w=50)
    a, b = pdata.load_paired_folder(tmp_path, size=32)
    model = pix2pix.Pix2Pix(nets.UNetGenerator(32, width=4), nets.PatchDiscriminator(width=4, n_layers=1))
    out = model.step(data.TensorSampler(a, b, batch_size=2))
    assert all(torch.isfinite(v) for v in out.values())


def test_folder_errors_are_clear(tmp_path):
    with pytest.raises(GanutilsError, match="does not exist"):
        pdata.load_paired_folder(tmp_path / "facades" / "train")
    with pytest.raises(GanutilsError, match="holds no images"):
        pdata.load_paired_folder(tmp_path)
    Image.fromarray(np.zeros((10, 21, 3), dtype=np.uint8)).save(tmp_path / "odd.png")
    with pytest.raises(GanutilsError, match=r"odd.png is 21 pixels wide, an odd width, so its halves cannot match.*Fix: ") as err:
        pdata.load_paired_folder(tmp_path)
    assert "\n" not in str(err.value)
    (tmp_path / "odd.png").unlink()
    write_pair(tmp_path / "a.png", 0, 255, h=10, w=10)
    write_pair(tmp_path / "b.png", 0, 255, h=12, w=12)
    with pytest.raises(GanutilsError, match=r"b.png has halves of 12x12 pixels, a.png of 10x10.*Fix: pass size="):
        pdata.load_paired_folder(tmp_path)
    assert pdata.load_paired_folder(tmp_path, size=16)[0].shape == (2, 3, 16, 16)
    (tmp_path / "c.png").write_bytes(b"not a png")
    with pytest.raises(GanutilsError, match="not a readable image"):
        pdata.load_paired_folder(tmp_path, size=16)
    with pytest.raises(GanutilsError, match="direction"):
        pdata.load_paired_folder(tmp_path, direction="left-to-right")
