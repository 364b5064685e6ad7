"""What a hostile (or hurried) user can do wrong: each gets one clear GanutilsError line, never a deep traceback."""

import math
import os
import subprocess
import sys

import pytest
import torch

from ganutils import data, nets
from ganutils.config import GanutilsError, checkout_dir
from ganutils.course.explorer import LatentExplorer
from ganutils.io import atomic_write_text
from ganutils.losses import d_loss_hinge, d_loss_lsgan, d_loss_wasserstein
from ganutils.metrics import frechet_distance, frechet_distance_from_features
from ganutils.metrics.toy import kl_to_uniform
from ganutils.training import GAN, History, checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")


def toy_gan(**kw):
    G, D = nets.toy_nets(hidden=8, depth=1, seed=0)
    return GAN(G, D, z_dim=2, **kw)


@pytest.mark.parametrize("lr", ["abc", float("inf"), float("nan"), -1e-3, 0, None, True])
def test_a_learning_rate_that_is_not_a_positive_number(lr):
    with pytest.raises(GanutilsError, match="lr_g must be a finite number > 0"):
        toy_gan(lr_g=lr)


def test_labels_with_a_loss_that_has_none_are_refused_not_ignored():
    with pytest.raises(GanutilsError, match="hinge loss has no labels"):
        toy_gan(loss="hinge", real_label=0.9)
    with pytest.raises(GanutilsError, match="wasserstein loss has no labels"):
        d_loss_wasserstein(torch.zeros(2), torch.zeros(2), 0.9, 0.0)
    with pytest.raises(GanutilsError, match="hinge loss has no labels"):
        d_loss_hinge(torch.zeros(2), torch.zeros(2), 1.0, 0.1)


def test_lsgan_uses_both_of_its_targets():
    real, fake = torch.full((4,), 0.5), torch.full((4,), 0.5)
    assert d_loss_lsgan(real, fake, 1.0, 0.0).item() == pytest.approx(0.25)
    assert d_loss_lsgan(real, fake, 1.0, 0.5).item() == pytest.approx(0.125), "the fake target a must be used"
    assert d_loss_lsgan(real, fake, 0.5, 0.5).item() == pytest.approx(0.0)


def test_a_histogram_with_nan_is_not_perfectly_uniform():
    with pytest.raises(GanutilsError, match="finite, non-negative counts"):
        kl_to_uniform([1, math.nan])
    with pytest.raises(GanutilsError, match="finite, non-negative counts"):
        kl_to_uniform([1, -1])
    assert kl_to_uniform([3, 3]) == 0.0


def test_a_checkpoint_without_its_random_state(tmp_path):
    model = toy_gan()
    path = tmp_path / "norng.pt"
    checkpoint.save_atomic({"step": 1, "model": model.state_dict(), "history": History().state_dict()},
                           path)
    sampler = data.DistributionSampler(data.ring(), 8, seed=0)
    with pytest.raises(GanutilsError, match="lacks rng"):
        train(toy_gan(), sampler, steps=2, checkpoint=path, progress=False)


def test_a_checkpoint_beyond_the_requested_steps_is_not_silently_returned(tmp_path):
    path = tmp_path / "c.pt"
    sampler = data.DistributionSampler(data.ring(), 8, seed=0)
    train(toy_gan(), sampler, steps=4, checkpoint=path, progress=False)
    with pytest.raises(GanutilsError, match="at step 4, beyond steps=2"):
        train(toy_gan(), sampler, steps=2, checkpoint=path, progress=False)


def test_resuming_a_sampler_on_a_smaller_data_set(tmp_path):
    path = tmp_path / "s.pt"
    images = torch.randn(40, 2)
    train(toy_gan(), data.TensorSampler(images, batch_size=8, seed=0), steps=3, checkpoint=path, progress=False)
    with pytest.raises(GanutilsError, match="saved for 40 items, but the sampler holds 30"):
        train(toy_gan(), data.TensorSampler(images[:30], batch_size=8, seed=0), steps=6, checkpoint=path, progress=False)


def test_the_explorer_refuses_huge_seeds_and_a_wrong_latent_size():
    G = nets.DCGANGenerator(8, 4)
    ex = LatentExplorer(G, z_dim=8, n_directions=2, n_fit=20)
    with pytest.raises(GanutilsError, match=r"seed must be a whole number in 0 \.\. 2\*\*63 - 1"):
        ex.new_seed(2**70)
    with pytest.raises(GanutilsError, match="cannot take latents of size 5.*pass the z_dim the generator was built for"):
        LatentExplorer(G, z_dim=5, n_directions=2, n_fit=20)


def test_the_frechet_distance_of_identical_sets_is_exactly_zero_not_negative():
    const = -torch.ones(50, 1, 28, 28)  # 50 blank digits
    assert frechet_distance(const, const) == 0.0
    feats = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    assert frechet_distance_from_features(feats, feats) == 0.0


def test_an_ill_conditioned_frechet_distance_is_reported_not_dropped(monkeypatch):
    import numpy as np
    import scipy.linalg

    monkeypatch.setattr(scipy.linalg, "sqrtm", lambda m: np.eye(len(m)) * (1 + 0.5j))
    with pytest.raises(GanutilsError, match="imaginary part of 0.5"):
        frechet_distance_from_features(torch.randn(30, 3), torch.randn(30, 3))


def test_a_killed_atomic_write_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "summary.md"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".summary.md.tmp-{int(dead.stdout)}"  # what a writer killed mid-write leaves
    stale.write_text("half")
    mine = tmp_path / f".summary.md.tmp-{os.getppid()}"  # a live writer's temporary is left alone
    mine.write_text("in progress")
    atomic_write_text(target, "done")
    assert target.read_text() == "done" and not stale.exists() and mine.exists()


def test_the_quiz_with_standard_input_closed():
    root = checkout_dir()
    out = subprocess.run([sys.executable, "-m", "ganutils", "quiz", "-n", "1"], stdin=subprocess.DEVNULL, cwd=root,
                         capture_output=True, text=True, timeout=120, close_fds=True,
                         preexec_fn=lambda: os.close(0))
    assert out.returncode == 2, out.stderr
    assert "standard input is closed" in out.stderr and "Traceback" not in out.stderr
