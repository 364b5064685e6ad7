"""Class-conditional G and D (concatenation and projection), trained by the shared GAN step, and their scores."""

import pytest
import torch
from torch import nn

from ganutils import data
from ganutils.config import GanutilsError
from ganutils.metrics import conditional as CM
from ganutils.nets import conditional as C
from ganutils.training import gan
from ganutils.training import loop as train

ARCHS = ("dcgan", "mlp")
MODES = ("concat", "projection")


def small(arch="dcgan", mode="projection", seed=0):
    torch.manual_seed(seed)
    return C.make_conditional(arch, mode, z_dim=8, embed_dim=4, width=8, hidden=32)


class RealDigitStub(nn.Module):
    """A "generator" that returns a real held-out digit of the requested class, picked by z: a perfect cGAN."""

    def __init__(self, images, labels, z_dim=8):
        super().__init__()
        self.bank = [images[labels == k] for k in range(10)]
        self.z_dim = z_dim
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z, labels):
        idx = (z[:, 0].abs() * 1000).long()
        return torch.stack([self.bank[int(y)][int(i) % len(self.bank[int(y)])] for y, i in zip(labels, idx)])


@pytest.fixture(scope="module")
def held_out():
    return data.load_mnist("test", verbose=False)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("mode", MODES)
def test_shapes_and_ranges(arch, mode):
    G, D = small(arch, mode)
    z, y = torch.randn(5, 8), torch.tensor([0, 1, 2, 3, 9])
    x = G(z, y)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert D(x, y).shape == (5,)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("mode", MODES)
def test_both_players_read_the_label(arch, mode):
    G, D = small(arch, mode)
    for p in D.embed.parameters():  # projection embeddings start at zero (= the unconditional D): give them values
        nn.init.normal_(p, 0, 0.5)
    nn.init.normal_(G.embed.weight, 0, 1.0)
    G.eval(), D.eval()
    z, x = torch.randn(4, 8), torch.rand(4, 1, 28, 28) * 2 - 1
    a, b = torch.zeros(4, dtype=torch.long), torch.full((4,), 7)
    assert not torch.allclose(G(z, a), G(z, b))
    assert not torch.allclose(D(x, a), D(x, b))


@pytest.mark.parametrize("arch", ARCHS)
def test_projection_is_psi_of_phi_plus_embedding_dot_phi(arch):
    _, D = small(arch, "projection")
    nn.init.normal_(D.embed.weight, 0, 0.1)
    D.eval()
    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.arange(6)
    if arch == "dcgan":
        phi = D.features(x)
        psi = D.body.head(phi).squeeze(1)
    else:
        phi = D.body(x.flatten(1))
        psi = D.head(phi).squeeze(1)
    expected = psi + (D.embed.weight[y] * phi).sum(1)
    assert torch.allclose(D(x, y), expected, atol=1e-5)
    nn.init.zeros_(D.embed.weight)  # with a zero embedding the class term vanishes: every label scores the same
    assert torch.allclose(D(x, y), D(x, torch.zeros(6, dtype=torch.long)), atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_the_shared_gan_step_trains_them_with_labels_and_class_snapshots(mode):
    G, D = small("dcgan", mode)
    m = gan.GAN(G, D, z_dim=8, snapshot_size=20)
    m.fixed_z, m.fixed_cond = m.fixed_z[:20], (CM.class_grid_labels(10, 2),)
    x, y = torch.rand(40, 1, 28, 28) * 2 - 1, torch.arange(40) % 10
    before = [p.detach().clone() for p in list(G.embed.parameters()) + list(D.embed.parameters())]
    h = train.train(m, data.TensorSampler(x, y, batch_size=10), steps=3, snapshot_every=3, progress=False)
    assert h.snapshots[0][1].shape == (20, 1, 28, 28)
    after = list(G.embed.parameters()) + list(D.embed.parameters())
    assert all(not torch.equal(p0, p1) for p0, p1 in zip(before, after)), "both label embeddings are trained"


def test_class_grid_labels():
    assert CM.class_grid_labels(3, 2).tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("labels, match", [
    (torch.tensor([0.0, 1.0]), "integer"),
    (torch.tensor([0, 10]), r"0\.\.9"),
    (torch.tensor([-1, 2]), r"0\.\.9"),
    (torch.tensor([0, 1, 2]), r"shape \(2,\)"),
    ([0, 1], "tensor of class indices"),
])
def test_bad_labels_give_clear_errors(labels, match):
    G, D = small("dcgan", "concat")
    with pytest.raises(GanutilsError, match=match):
        G(torch.randn(2, 8), labels)
    with pytest.raises(GanutilsError, match=match):
        D(torch.zeros(2, 1, 28, 28), labels)


def test_bad_mode_and_arch():
    with pytest.raises(GanutilsError, match="'concat' or 'projection'"):
        C.ConditionalDCGANDiscriminator(mode="hidden")
    with pytest.raises(GanutilsError, match="'dcgan' or 'mlp'"):
        C.make_conditional("resnet")
    with pytest.raises(GanutilsError, match="embed_dim"):
        C.ConditionalDCGANGenerator(embed_dim=0)


def test_generate_per_class_is_reproducible_and_restores_train_mode():
    G, _ = small()
    G.train()
    x1, y1 = CM.generate_per_class(G, 3, z_dim=8, seed=5)
    x2, _ = CM.generate_per_class(G, 3, z_dim=8, seed=5)
    x3, _ = CM.generate_per_class(G, 3, z_dim=8, seed=6)
    assert x1.shape == (30, 1, 28, 28) and y1.tolist() == CM.class_grid_labels(10, 3).tolist()
    assert torch.equal(x1, x2) and not torch.equal(x1, x3)
    assert G.training


def test_label_accuracy_of_real_digits_and_of_wrong_labels(held_out):
    good = CM.label_accuracy(held_out.images, held_out.labels)
    assert good["accuracy"] > 0.97 and min(good["per_class"]) > 0.9
    assert sum(map(sum, good["confusion"])) == len(held_out)
    wrong = CM.label_accuracy(held_out.images, (held_out.labels + 1) % 10)
    assert wrong["accuracy"] < 0.05


def test_a_perfect_conditional_generator_scores_like_real_data(held_out):
    G = RealDigitStub(held_out.images, held_out.labels)
    keep = torch.randperm(len(held_out), generator=torch.Generator().manual_seed(0))[:300]  # the split is sorted by class
    real, real_labels = held_out.images[keep], held_out.labels[keep]
    r1 = CM.evaluate_conditional(G, z_dim=8, real_images=real, real_labels=real_labels, n_per_class=30)
    assert r1["label_accuracy"] > 0.97 and len(r1["per_class_accuracy"]) == 10
    assert r1["fd"] < 80 and r1["coverage"] == 10
    again = CM.intra_class_fd(*CM.generate_per_class(G, 30, z_dim=8), real, real_labels)
    assert again == r1["intra_fd"], "fixed seeds give the same metrics"
    noise = torch.rand(300, 1, 28, 28) * 2 - 1
    intra_noise = CM.intra_class_fd(noise, torch.arange(300) % 10, real, real_labels)
    assert max(r1["intra_fd"]) < min(intra_noise)


def test_intra_class_fd_needs_two_images_per_class(held_out):
    with pytest.raises(GanutilsError, match="class 0 has 1 generated"):
        CM.intra_class_fd(held_out.images[:3], torch.tensor([0, 1, 1]), held_out.images, held_out.labels, n_classes=2)
