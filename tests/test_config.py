import pytest
import torch

import ganutils as gu
from ganutils.config import GanutilsError, check_positive_int, resolve_device
from ganutils.course.profiles import resolve_profile


def test_profile_precedence(monkeypatch):
    monkeypatch.setenv("GANUTILS_PROFILE", "smoke")
    assert resolve_profile(None) == "smoke"
    assert resolve_profile("quick") == "quick"  # an explicit value beats the environment
    monkeypatch.delenv("GANUTILS_PROFILE")
    assert resolve_profile(None) == ("full" if torch.cuda.is_available() else "quick")


@pytest.mark.parametrize("bad", ["fast", "SMOKEY", "1"])
def test_unknown_profile_is_a_clear_error(bad):
    with pytest.raises(GanutilsError, match=r"unknown profile .* use one of smoke, quick, full"):
        resolve_profile(bad)


def test_unknown_profile_from_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("GANUTILS_PROFILE", "turbo")
    with pytest.raises(GanutilsError, match=r"GANUTILS_PROFILE"):
        resolve_profile(None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(GanutilsError, match=r"CUDA is not available .* device='cpu'"):
        resolve_device("cuda")


def test_device_defaults_and_garbage():
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(GanutilsError, match="unknown device"):
        resolve_device("tpu-ish")


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", None, True])
def test_steps_must_be_positive_whole_numbers(bad):
    with pytest.raises(GanutilsError, match="steps must be a positive whole number"):
        check_positive_int("steps", bad)


def test_setup_picks_profile_values_and_validates_steps():
    cfg = gu.setup("smoke", "cpu", 3, verbose=False)
    assert cfg.pick(1, 2, 3) == 1 and not cfg.asserts_quality
    assert cfg.steps(None, smoke=10, quick=100, full=1000) == 10
    assert cfg.steps(7, smoke=10, quick=100, full=1000) == 7
    with pytest.raises(GanutilsError):
        cfg.steps(-1, smoke=10, quick=100, full=1000)


def test_seeding_gives_the_same_numbers_twice():
    gu.seed_everything(123)
    a = torch.randn(5), torch.rand(3)
    gu.seed_everything(123)
    b = torch.randn(5), torch.rand(3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_checkpoint_path_depends_on_config(tmp_path, monkeypatch):
    monkeypatch.setenv("GANUTILS_RUN_DIR", str(tmp_path))
    a = gu.checkpoint_path("dcgan", lr=1e-4, steps=10)
    assert a == gu.checkpoint_path("dcgan", steps=10, lr=1e-4)
    assert a != gu.checkpoint_path("dcgan", lr=2e-4, steps=10)
    assert a.parent == tmp_path / "checkpoints"
