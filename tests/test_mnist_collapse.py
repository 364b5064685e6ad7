import pytest
import torch
from torch import nn

from ganutils import data, nets, training
from ganutils.config import GanutilsError
from ganutils.experiments import mnist_collapse


def test_remove_batchnorm_replaces_every_batchnorm_layer():
    G = nets.DCGANGenerator(8, 4)
    n_bn = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in G.modules())
    assert mnist_collapse.remove_batchnorm(G) == n_bn == 2
    assert not nets.has_batchnorm(G)
    assert G(torch.randn(3, 8)).shape == (3, 1, 28, 28)


def test_dcgan_switch_changes_only_the_generator_normalisation():
    with_bn = mnist_collapse.dcgan(batchnorm_in_g=True, z_dim=8, width=4, seed=1)
    without = mnist_collapse.dcgan(batchnorm_in_g=False, z_dim=8, width=4, seed=1)
    assert nets.has_batchnorm(with_bn.G) and not nets.has_batchnorm(without.G)
    assert nets.has_batchnorm(without.D)  # D keeps the DCGAN layout
    same = [n for n, _ in with_bn.G.named_parameters() if "fc.1" not in n and "net.1" not in n]
    a, b = dict(with_bn.G.named_parameters()), dict(without.G.named_parameters())
    assert all(torch.equal(a[n], b[n]) for n in same)  # identical initial weights where both have them


def test_train_mnist_runs_and_checks_shapes():
    model = mnist_collapse.dcgan(z_dim=8, width=4, seed=0)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    h = mnist_collapse.train_mnist(model, images, steps=2, batch_size=8)
    assert len(h["d_loss"]) == 2
    with pytest.raises(GanutilsError, match=r"\(N, 1, 28, 28\)"):
        mnist_collapse.train_mnist(model, torch.rand(32, 784), steps=1)


def test_pixel_diversity_is_zero_for_copies_and_the_std_otherwise():
    assert mnist_collapse.pixel_diversity(torch.ones(5, 1, 28, 28)) == 0
    x = torch.stack([torch.zeros(1, 28, 28), torch.full((1, 28, 28), 2.0)])
    assert mnist_collapse.pixel_diversity(x) == pytest.approx(2 ** 0.5)
    with pytest.raises(GanutilsError, match="at least 2"):
        mnist_collapse.pixel_diversity(torch.ones(1, 1, 28, 28))


def test_the_healthy_run_is_notebook_02s_dcgan_so_one_checkpoint_serves_both(tmp_path):
    """Notebook 03's BatchNorm run loads notebook 02's DCGAN at step `mnist_steps` (same checkpoint name):
    the two recipes must build and train the very same model."""
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    torch.manual_seed(0)  # notebook 02's recipe
    nb02 = training.GAN(nets.DCGANGenerator(8, 4), nets.DCGANDiscriminator(4), z_dim=8, lr_g=2e-4, lr_d=2e-4, seed=0)
    milestone = tmp_path / "dcgan-3.pt"
    training.train(nb02, data.TensorSampler(images, batch_size=8, seed=0), steps=5, milestones={3: milestone}, progress=False)
    alone = mnist_collapse.dcgan(z_dim=8, width=4, seed=0)  # notebook 03's recipe, trained by itself
    mnist_collapse.train_mnist(alone, images, steps=3, batch_size=8, seed=0)
    loaded = mnist_collapse.dcgan(z_dim=8, width=4, seed=0)
    history = mnist_collapse.train_mnist(loaded, images, steps=3, batch_size=8, seed=0, checkpoint=milestone)
    assert history.steps == [1, 2, 3]
    for a, b in zip(alone.G.state_dict().values(), loaded.G.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(alone.generate(4), loaded.generate(4))


def test_a_job_is_the_notebook_s_run_with_its_samples():
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    job = dict(batchnorm_in_g=False, seed=2, steps=2, images=images, n_samples=5, checkpoint=None)
    result = mnist_collapse.train_and_sample(job)
    by_hand = mnist_collapse.dcgan(batchnorm_in_g=False, seed=2)
    mnist_collapse.train_mnist(by_hand, images, steps=2, seed=2)
    assert result["fake"].shape == (5, 1, 28, 28) and result["history"].steps == [1, 2]
    assert torch.equal(result["fake"], by_hand.generate(5))  # same model, data, noise: the same samples
