"""CycleGAN: the ResNet generator, the instance-norm PatchGAN, the image pool, the losses and one training step."""

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.metrics.translation import cycle_error, domain_success, silhouette, silhouette_iou
from ganutils.nets import PatchDiscriminator
from ganutils.nets.resnet import ResnetGenerator
from ganutils.training import cyclegan
from ganutils.training.image_pool import ImagePool

pytestmark = pytest.mark.usefixtures("one_thread")


def test_resnet_generator_shapes_and_the_paper_layout():
    G = ResnetGenerator(1, 1, width=8, n_blocks=2)
    x = torch.randn(3, 1, 28, 28)
    y = G(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    names = [type(m).__name__ for m in G.net]
    assert names[:4] == ["ReflectionPad2d", "Conv2d", "InstanceNorm2d", "ReLU"] and names[-3:] == ["ReflectionPad2d", "Conv2d", "Tanh"]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in G.modules())
    # the paper's 6-block generator at k = 64: about 7.8 million parameters
    paper = ResnetGenerator(3, 3, width=64, n_blocks=6)
    assert 7.7e6 < sum(p.numel() for p in paper.parameters()) < 7.9e6
    with pytest.raises(GanutilsError, match="divisible by 4"):
        G(torch.randn(1, 1, 30, 30))


def test_instance_norm_makes_each_image_independent_of_the_batch():
    G = ResnetGenerator(1, 1, width=8, n_blocks=1)
    x = torch.randn(4, 1, 28, 28)
    alone = torch.cat([G(x[i:i + 1]) for i in range(4)])
    assert torch.allclose(G(x), alone, atol=1e-5)  # BatchNorm would mix the images of a batch
    D = PatchDiscriminator(1, 0, 8, 1, norm="instance")
    assert torch.allclose(D(x), torch.cat([D(x[i:i + 1]) for i in range(4)]), atol=1e-5)
    assert D(x).shape == (4, 1, 12, 12)  # 16x16 patches at 28x28


def test_image_pool_fills_then_swaps_half_and_is_reproducible():
    pool = ImagePool(4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 4  # filling: shown as they are
    new = 10 + torch.arange(200.0).view(200, 1, 1, 1)
    out = pool.query(new)
    old = (out < 10) | ((out != new) & (out >= 10))
    assert 0.35 < old.float().mean() < 0.65  # about half come from the history
    assert set(out.flatten().tolist()) <= set(first.flatten().tolist()) | set(new.flatten().tolist())
    again = ImagePool(4, seed=0)
    again.query(first)
    assert torch.equal(again.query(new), out)
    assert torch.equal(ImagePool(0).query(new), new)
    with pytest.raises(GanutilsError):
        ImagePool(-1)


def test_image_pool_state_resumes_exactly():
    a = ImagePool(3, seed=1)
    a.query(torch.randn(5, 1, 2, 2))
    b = ImagePool(3, seed=99)
    b.load_state_dict(a.state_dict())
    x = torch.randn(6, 1, 2, 2)
    assert torch.equal(a.query(x), b.query(x))
    with pytest.raises(GanutilsError, match="pool holds"):
        ImagePool(5).load_state_dict(a.state_dict())


def test_lsgan_losses_match_the_official_code():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    assert cyclegan.lsgan_d_loss(real, fake).item() == pytest.approx(0.5 * (0.125 + 0.125))
    assert cyclegan.lsgan_g_loss(torch.tensor([0.0, 1.0])).item() == pytest.approx(0.5)


def unpaired(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.rand(n, 1, 12, 12, generator=g) * 2 - 1
    return xs, -xs.flip(-1)


def test_one_step_trains_all_four_networks_and_leaves_the_global_rng_alone():
    xs, ys = unpaired()
    state = torch.random.get_rng_state()
    model = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, pool_size=4, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)
    before = {k: [p.clone() for p in getattr(model, k).parameters()] for k in ("G", "F", "D_x", "D_y")}
    out = model.step(cyclegan.UnpairedSampler(xs, ys, 4, seed=0))
    assert set(out) >= {"g_loss", "g_adv", "cycle", "identity", "d_x", "d_y"} and all(torch.isfinite(v) for v in out.values())
    for k, params in before.items():
        assert any(not torch.equal(a, b) for a, b in zip(params, getattr(model, k).parameters())), f"{k} did not move"
    twin = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, pool_size=4, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(before["G"], twin.G.parameters()))


def test_the_batched_generator_pass_equals_separate_passes():
    xs, ys = unpaired(8)
    model = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, seed=0)
    out = model.G(torch.cat([xs, ys]))
    assert torch.allclose(out[:8], model.G(xs), atol=1e-5) and torch.allclose(out[8:], model.G(ys), atol=1e-5)


def test_switching_terms_off():
    xs, ys = unpaired()
    no_id = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, lam_identity=0, seed=0)
    assert no_id.step(cyclegan.UnpairedSampler(xs, ys, 4))["identity"] == 0
    no_cycle = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, lam_cycle=0, lam_identity=0, seed=0)
    out = no_cycle.step(cyclegan.UnpairedSampler(xs, ys, 4))
    assert out["g_loss"].item() == pytest.approx(out["g_adv"].item())
    with pytest.raises(GanutilsError, match="lam_cycle"):
        cyclegan.make_cyclegan(1, lam_cycle=-1)


def test_checkpoint_round_trip_resumes_exactly(tmp_path):
    xs, ys = unpaired()
    make = lambda: cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, pool_size=3, seed=0)  # noqa: E731
    a, sa = make(), cyclegan.UnpairedSampler(xs, ys, 4, seed=0)
    a.step(sa)
    b, sb = make(), cyclegan.UnpairedSampler(xs, ys, 4, seed=5)
    b.load_state_dict(a.state_dict())
    sb.load_state_dict(sa.state_dict())
    assert a.step(sa)["g_loss"].item() == pytest.approx(b.step(sb)["g_loss"].item(), abs=1e-6)
    other = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, lam_identity=0, seed=0)
    with pytest.raises(GanutilsError, match="lam_cycle, lam_identity"):
        other.load_state_dict(a.state_dict())


def test_translate_cycle_and_unpaired_sampler():
    xs, ys = unpaired()
    model = cyclegan.make_cyclegan(1, width=4, n_blocks=1, d_width=4, d_layers=1, seed=0)
    there, back = model.cycle(xs, "x2y")
    assert there.shape == back.shape == xs.shape and model.G.training
    with pytest.raises(GanutilsError, match="direction"):
        model.translate(xs, "sideways")
    s = cyclegan.UnpairedSampler(xs, ys, 4, seed=0)
    x, y = s()
    assert x.shape == y.shape == (4, 1, 12, 12)
    with pytest.raises(GanutilsError, match="larger than a domain"):
        cyclegan.UnpairedSampler(xs[:2], ys, 4)


def test_scores():
    a = torch.full((2, 1, 8, 8), -1.0)
    a[:, :, 2:6, 2:6] = 1
    b = a.clone()
    b[1] = -1
    b[1, :, 2:6, 2:4] = 1
    assert silhouette_iou(a, a).tolist() == [1.0, 1.0]
    assert silhouette_iou(a, b)[1].item() == pytest.approx(0.5)
    striped = a.clone()
    striped[:, :, 3, 2:6] = -1  # a dark stripe across the body is not a hole in the silhouette
    assert torch.equal(silhouette(striped), silhouette(a))
    assert cycle_error(a, b)[0] == 0 and cycle_error(a, b)[1] > 0
    probs = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert domain_success(probs, 1) == pytest.approx(2 / 3) and domain_success(probs, (0, 1)) == 1
