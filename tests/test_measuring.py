"""Measuring never changes a model: every probe and metric leaves weights, buffers, modes and RNGs as they were."""

import pytest
import torch

from ganutils import latent, nets, training
from ganutils.data import ring
from ganutils.experiments import wgan_probes
from ganutils.losses import spectral_norm as sn
from ganutils.metrics import conditional as cmetrics
from ganutils.metrics import cost, likelihood, lipschitz

pytestmark = pytest.mark.usefixtures("one_thread")


def snapshot(*modules):
    """Everything a measurement could change: parameters, buffers (BatchNorm statistics, spectral-norm u/v), modes."""
    return [({k: v.detach().clone() for k, v in m.state_dict().items()}, [c.training for c in m.modules()]) for m in modules]


def assert_same(before, after):
    for (state_a, modes_a), (state_b, modes_b) in zip(before, after):
        assert state_a.keys() == state_b.keys()
        for k in state_a:
            assert torch.equal(state_a[k], state_b[k]), f"{k} changed"
        assert modes_a == modes_b, "a module's train/eval mode changed"


def sn_critic_with_batchnorm():
    critic = nets.MLPCritic((2,), hidden=16, depth=2, norm="batch")
    sn.apply_spectral_norm(critic)
    critic(torch.randn(8, 2))  # one training-mode pass: u, v and BatchNorm statistics are now non-trivial
    return critic.train()


def test_spectral_norms_reads_the_weights_without_a_power_iteration():
    critic = sn_critic_with_batchnorm()
    before = snapshot(critic)
    first, second = sn.spectral_norms(critic), sn.spectral_norms(critic)
    assert first == second, "two readings must agree: reading a weight in training mode ran a power iteration"
    sn.lipschitz_upper_bound(critic)
    assert_same(before, snapshot(critic))


@pytest.mark.parametrize("probe", [
    lambda c, x: lipschitz.input_gradient_norms(c, x),
    lambda c, x: lipschitz.empirical_lipschitz(c, x),
    lambda c, x: lipschitz.critic_gap(c, x, x + 1),
    lambda c, x: lipschitz.cross_sample_gradient(c, x),
    lambda c, x: wgan_probes.layer_gradient_norms(c, x, x + 1),
    lambda c, x: wgan_probes.critic_landscape(c, n=5),
    lambda c, x: cost.forward_flops(c, x),
], ids=["input_gradient_norms", "empirical_lipschitz", "critic_gap", "cross_sample_gradient", "layer_gradient_norms",
        "critic_landscape", "forward_flops"])
def test_critic_probes_leave_the_critic_unchanged(probe):
    critic = sn_critic_with_batchnorm()
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(1))
    before, rng = snapshot(critic), torch.get_rng_state()
    probe(critic, x)
    assert_same(before, snapshot(critic))
    assert torch.equal(rng, torch.get_rng_state()), "a probe must not draw from the global RNG"
    assert critic.training


def test_toy_probe_and_step_flops_leave_a_gan_and_its_noise_unchanged():
    model = wgan_probes.make_toy_wgan("gp", seed=0, hidden=16, depth=2)
    training.train(model, lambda: (ring().sample(32, torch.Generator().manual_seed(0)),), steps=2, progress=False)
    before, noise = snapshot(model.G, model.D), model.noise.get_state()
    opt_before = [s.clone() for s in model.opt_d.state[next(model.D.parameters())].values() if torch.is_tensor(s)]
    real = ring().sample(64, torch.Generator().manual_seed(2))
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(3))
    wgan_probes.probe_toy(model, ring(), real, z, n_w1=32)
    flops = cost.step_flops(model, real)
    assert flops > 0
    assert_same(before, snapshot(model.G, model.D))
    assert torch.equal(noise, model.noise.get_state()), "the model's own noise generator moved"
    opt_after = [s for s in model.opt_d.state[next(model.D.parameters())].values() if torch.is_tensor(s)]
    assert all(torch.equal(a, b) for a, b in zip(opt_before, opt_after)), "the optimiser state moved"


def test_step_flops_counts_the_double_backward_of_the_penalty():
    batch = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    flops = {c: cost.step_flops(wgan_probes.make_mnist_wgan(c, width=8, n_critic=1, seed=0), batch, by_operator=True)
             for c in ("none", "gp", "sn")}
    total = {c: sum(f.values()) for c, f in flops.items()}
    assert total["gp"] > 1.2 * total["sn"], "a gradient-penalty iteration costs more than a spectral-norm one"
    assert flops["gp"]["convolution_backward"] > flops["none"]["convolution_backward"], "double backward = more backward work"
    assert flops["sn"].get("mv", 0) > 0 and flops["none"].get("mv", 0) == 0, "the power iteration is counted"
    assert cost.step_flops(wgan_probes.make_mnist_wgan("gp", width=8, n_critic=1, seed=0), batch) == total["gp"]


def test_vae_evaluation_and_conditional_sampling_leave_models_unchanged():
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    vae, _ = training.train_vae(images, steps=2, arch="mlp", z_dim=2, hidden=16, batch_size=20, seed=0)
    before, noise = snapshot(vae.encoder, vae.decoder), vae.noise.get_state()
    likelihood.evaluate(vae, images[:10], iw_samples=2, seed=0)
    assert_same(before, snapshot(vae.encoder, vae.decoder))
    assert torch.equal(noise, vae.noise.get_state())

    G, _ = nets.make_conditional("dcgan", "projection", z_dim=8, width=8, seed=0)
    G.train()
    G(torch.randn(20, 8), torch.arange(20) % 10)  # BatchNorm statistics become non-trivial
    before = snapshot(G)
    cmetrics.generate_per_class(G, 2, z_dim=8)
    assert_same(before, snapshot(G))


def test_recording_activations_and_the_latent_maths_do_not_touch_the_generator():
    G = nets.DCGANGenerator(8, 8).train()
    before = snapshot(G)
    with latent.record_activations(G.fc) as acts, nets.eval_mode(G):
        G(torch.randn(4, 8))
    assert acts and G.training
    assert_same(before, snapshot(G))


def test_factories_take_explicit_seeds_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, _ = nets.toy_nets(seed=5, hidden=8, depth=1)
    wgan_probes.make_mnist_wgan("sn", width=4, seed=5)
    nets.make_conditional("mlp", "concat", hidden=8, seed=5)
    training.make_pix2pix(8, width=4, d_width=4, d_layers=1, seed=5)
    assert torch.equal(state, torch.get_rng_state()), "building a model reseeded or advanced the global RNG"
    b, _ = nets.toy_nets(seed=5, hidden=8, depth=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())), "the same seed gives the same weights"
