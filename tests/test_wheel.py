"""The library works from an installed wheel: nothing in it needs the repository, the notebooks or ../shared."""

import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from ganutils.config import checkout_dir

pytestmark = pytest.mark.slow

USE_THE_LIBRARY = textwrap.dedent("""
    import sys, torch
    import ganutils
    from ganutils import config, data, losses, metrics, nets, training
    from ganutils.course import bank, interview
    assert "/site/" in ganutils.__file__, ganutils.__file__
    assert config.checkout_dir() is None, "an installed package is not a checkout"
    assert "ganutils" in str(config.data_dir()), config.data_dir()
    G, D = nets.toy_nets(hidden=8, depth=1, seed=0)
    model = training.GAN(G, D, z_dim=2)
    history = training.train(model, data.DistributionSampler(data.ring(), 16, seed=0), steps=3, progress=False)
    assert len(history.steps) == 3
    digits = torch.rand(8, 1, 28, 28) * 2 - 1
    assert metrics.classify(digits).shape == (8, 10)   # the evaluation network's weights ship in the wheel
    assert len(bank.load_bank()) > 50                    # and so does the question bank
    assert interview.checkpoint("02_first_gan_mnist").entries
    assert not any(m in sys.modules for m in ("ipywidgets", "papermill", "nbformat")), "the library needs no Jupyter"
    print("wheel ok")
""")


def test_a_wheel_of_the_package_works_outside_the_repository(tmp_path):
    root, src = checkout_dir(), tmp_path / "src"  # build from a copy: setuptools writes build/ beside the sources
    shutil.copytree(root / "ganutils", src / "ganutils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), "-q"], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("ganutils-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ganutils/metrics/weights/mnist_classifier.pt" in names
    assert any(n.startswith("ganutils/course/bank/questions/") and n.endswith(".yaml") for n in names)
    assert not any(n.startswith(("notebooks/", "tests/")) for n in names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(site), "GANUTILS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", USE_THE_LIBRARY], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0 and "wheel ok" in run.stdout, run.stdout[-2000:] + run.stderr[-3000:]
