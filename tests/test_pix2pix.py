import pytest
import torch
from torch import nn

from ganutils import nets
from ganutils.config import GanutilsError
from ganutils.data import paired as paired_data
from ganutils.metrics import translation
from ganutils.nets.unet import UPSAMPLE
from ganutils.training import loop as train
from ganutils.training import pix2pix


def small_model(loss="l1+cgan", size=16, **kw):
    torch.manual_seed(0)
    G = nets.UNetGenerator(size, width=4, **kw)
    D = nets.PatchDiscriminator(width=4, n_layers=1)
    return pix2pix.Pix2Pix(G, D, loss=loss)


def sampler(size=16, seed=0):
    return paired_data.PairSampler(paired_data.StripedShapes(size), batch_size=4, seed=seed)


# ----------------------------------------------------------------------------- U-Net


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_unet_keeps_the_size_and_goes_down_to_1x1(size):
    G = nets.UNetGenerator(size, in_channels=1, out_channels=3, width=2, max_mult=2)
    bottleneck = []
    G.down[-1].register_forward_hook(lambda m, i, o: bottleneck.append(o.shape))
    y = G(torch.randn(2, 1, size, size))
    assert y.shape == (2, 3, size, size) and y.abs().max() <= 1
    assert bottleneck[0][-2:] == (1, 1) and G.depth == size.bit_length() - 1


@pytest.mark.parametrize("options", [{"skips": False}, {"upsample": "resize"}, {"dropout": 0.0}])
def test_unet_variants_keep_the_shape(options):
    G = nets.UNetGenerator(32, width=4, **options)
    assert G(torch.randn(2, 3, 32, 32)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("size", [30, 48, 4, 0, 32.0, True])
def test_unet_rejects_sizes_that_are_not_powers_of_two(size):
    with pytest.raises(GanutilsError, match="power of two"):
        nets.UNetGenerator(size)


def test_unet_rejects_inputs_of_the_wrong_shape_and_bad_options():
    G = nets.UNetGenerator(32, width=4)
    with pytest.raises(GanutilsError, match=r"built for \(N, 3, 32, 32\)"):
        G(torch.randn(2, 3, 64, 64))
    with pytest.raises(GanutilsError, match="upsample"):
        nets.UNetGenerator(32, upsample="bilinear-ish")
    with pytest.raises(GanutilsError, match="dropout"):
        nets.UNetGenerator(32, dropout=1.0)


def test_skips_carry_the_input_past_the_bottleneck():
    """Zero the 1x1 bottleneck: with skips the output still depends on the input, without skips it cannot."""
    x1, x2 = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    for skips in (True, False):
        torch.manual_seed(0)
        G = nets.UNetGenerator(32, width=4, skips=skips).eval()
        G.down[-1].register_forward_hook(lambda m, i, o: torch.zeros_like(o))
        differ = (G(x1) - G(x2)).abs().max()
        assert (differ > 1e-4) if skips else (differ < 1e-6)


def test_dropout_sits_in_the_innermost_decoder_layers_and_stays_on_at_test_time():
    model = small_model(size=32)
    G = model.G
    has_dropout = [any(isinstance(m, nn.Dropout) for m in layer.modules()) for layer in G.up]
    assert has_dropout == [True, True, True, False, False] and G.n_dropout == 3
    x = torch.randn(4, 3, 32, 32)
    torch.manual_seed(1)
    a = model.translate(x)
    torch.manual_seed(2)
    b = model.translate(x)
    assert (a - b).abs().max() > 0, "dropout on: two draws differ"
    assert torch.equal(model.translate(x, dropout=False), model.translate(x, dropout=False))
    assert G.training, "translate restores train mode"
    with pix2pix.with_test_dropout(G, dropout=True):
        assert not G.training and all(m.training for m in G.modules() if isinstance(m, nn.Dropout))
        assert not any(m.training for m in G.modules() if isinstance(m, nn.BatchNorm2d))


# ----------------------------------------------------------------------------- PatchGAN


def test_patch_discriminator_scores_patches_of_the_pair():
    D = nets.PatchDiscriminator(in_channels=3, cond_channels=1, width=4, n_layers=2)
    out = D(torch.randn(2, 3, 64, 64), torch.randn(2, 1, 64, 64))
    assert out.shape == (2, 1, 14, 14)  # 64 -> 32 -> 16 -> 15 -> 14
    with pytest.raises(GanutilsError, match="D\\(output, input\\)"):
        D(torch.randn(2, 3, 64, 64))
    free = nets.PatchDiscriminator(in_channels=3, cond_channels=0, width=4, n_layers=1)
    assert free(torch.randn(1, 3, 32, 32)).shape == (1, 1, 14, 14)
    with pytest.raises(GanutilsError, match="norm"):
        nets.PatchDiscriminator(norm="spectral")


def test_the_discriminator_sees_the_condition():
    torch.manual_seed(0)
    D = nets.PatchDiscriminator(width=4, n_layers=1).eval()
    y = torch.randn(1, 3, 32, 32)
    assert (D(y, torch.randn(1, 3, 32, 32)) - D(y, torch.randn(1, 3, 32, 32))).abs().max() > 1e-4


# ----------------------------------------------------------------------------- the model


def test_loss_modes_and_their_terms():
    for loss, keys in [("l1", {"g_loss", "l1"}), ("cgan", {"g_loss", "l1", "g_gan", "d_loss", "d_real", "d_fake"}),
                       ("l1+cgan", {"g_loss", "l1", "g_gan", "d_loss", "d_real", "d_fake"})]:
        model = small_model(loss)
        out = model.step(sampler())
        assert set(out) == keys and all(torch.isfinite(v) for v in out.values())
        expected = {"l1": 100 * out["l1"], "cgan": out.get("g_gan"), "l1+cgan": out.get("g_gan", 0) + 100 * out["l1"]}[loss]
        assert out["g_loss"].item() == pytest.approx(float(expected), rel=1e-5)
    assert small_model("l1").D is None and "D" not in small_model("l1").state_dict()


def test_bad_model_settings_are_refused():
    G = nets.UNetGenerator(16, width=4)
    with pytest.raises(GanutilsError, match="unknown pix2pix loss"):
        pix2pix.Pix2Pix(G, None, loss="l2")
    with pytest.raises(GanutilsError, match="needs a discriminator"):
        pix2pix.Pix2Pix(G, None, loss="cgan")
    with pytest.raises(GanutilsError, match="lam"):
        pix2pix.Pix2Pix(G, None, loss="l1", lam=0)
    with pytest.raises(GanutilsError, match="snapshot_inputs"):
        pix2pix.Pix2Pix(G, None, loss="l1").snapshot()


def test_l1_training_lowers_the_pixel_error():
    torch.manual_seed(0)
    model = pix2pix.Pix2Pix(nets.UNetGenerator(16, width=8), loss="l1", lr_g=2e-3)
    fixed = sampler()()
    first = model.step(lambda: fixed)["l1"].item()
    for _ in range(30):
        last = model.step(lambda: fixed)["l1"].item()
    assert last < 0.6 * first


def test_checkpoint_round_trip_through_train_is_exact(tmp_path):
    """6 steps straight == 3 steps, a fresh model resumed from the checkpoint, 3 more (dropout and data included)."""
    snap_x = sampler(seed=5)()[0]
    straight = small_model()
    straight.snapshot_inputs = snap_x
    train.train(straight, sampler(), steps=6, progress=False)
    path = tmp_path / "p2p.pt"
    first = small_model()
    train.train(first, sampler(), steps=3, checkpoint=path, progress=False)
    resumed = small_model()
    resumed.snapshot_inputs = snap_x
    history = train.train(resumed, sampler(), steps=6, checkpoint=path, progress=False)
    assert history.steps == list(range(1, 7))
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(straight.snapshot(), resumed.snapshot())
    with pytest.raises(GanutilsError, match="trained with loss 'l1\\+cgan' but the model uses 'l1'"):
        train.train(small_model("l1"), sampler(), steps=6, checkpoint=path, progress=False)
    with pytest.raises(GanutilsError, match="does not fit"):  # same loss, another architecture
        train.train(small_model(skips=False), sampler(), steps=6, checkpoint=path, progress=False)


def test_train_takes_snapshots_and_guards_nan():
    model = small_model("l1")
    model.snapshot_inputs = sampler()()[0][:2]
    history = train.train(model, sampler(), steps=4, snapshot_every=2, progress=False)
    assert [s for s, _ in history.snapshots] == [2, 4] and history.snapshots[0][1].shape == (2, 3, 16, 16)
    bad = small_model("l1")
    x, y = sampler()()
    with pytest.raises(train.TrainingDiverged):
        train.train(bad, lambda: (x, y * float("nan")), steps=2, progress=False)


# ----------------------------------------------------------------------------- checkerboard artefacts


def test_checkerboard_energy_known_patterns():
    i, j = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    board = ((i + j) % 2 * 2 - 1).float().expand(1, 3, 16, 16)
    assert translation.checkerboard_energy(board).item() == pytest.approx(1.0)
    assert translation.checkerboard_energy(torch.full((1, 3, 16, 16), 0.3)).item() == 0.0
    smooth = torch.sin(i / 16 * 2 * torch.pi).float().expand(1, 1, 16, 16)
    assert translation.checkerboard_energy(smooth).item() < 1e-6
    stripes4 = paired_data.StripedShapes(16).candidate_textures(0)
    assert translation.checkerboard_energy(stripes4).max() < 1e-6, "the data's period-4 stripes have none"
    with pytest.raises(GanutilsError, match="even H and W"):
        translation.checkerboard_energy(torch.zeros(1, 1, 15, 15))


def test_an_untrained_convtranspose_unet_makes_a_checkerboard_and_resize_conv_does_not():
    x = torch.full((2, 3, 32, 32), 0.5)  # a constant input: any period-2 pattern comes from the upsampling
    for seed in range(3):
        energies = {}
        for up in UPSAMPLE:
            torch.manual_seed(seed)
            G = nets.UNetGenerator(32, width=8, upsample=up)
            with torch.no_grad(), pix2pix.with_test_dropout(G, dropout=False):
                energies[up] = translation.checkerboard_energy(G(x)[..., 4:-4, 4:-4]).mean().item()  # interior: no padding effects
        assert energies["convtranspose"] > 0.5 and energies["resize"] < 0.1, energies
