import pytest
import torch

from ganutils import data, nets
from ganutils.config import GanutilsError
from ganutils.training import gan
from ganutils.training import loop as train
from ganutils.training.unrolled import UnrolledGAN


def small(cls=UnrolledGAN, seed=0, **kw):
    torch.manual_seed(seed)
    G, D = nets.MLPGenerator(2, (2,), 16, 2), nets.MLPDiscriminator((2,), 16, 2)
    return cls(G, D, z_dim=2, lr_g=1e-3, lr_d=1e-3, seed=seed, **kw)


def params(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def test_differentiable_adam_step_matches_torch_adam():
    model = small(unroll_steps=1)
    sample = data.DistributionSampler(data.ring(), 32, seed=0)
    train.train(model, sample, steps=3, progress=False)  # D's Adam now has non-trivial moments
    real = sample()[0]
    with torch.no_grad():
        fake = model.G(model.sample_z(32))
    unrolled = model.unrolled_params(real, fake)  # one step of a private copy of D's Adam
    loss = model.loss.d(model.D(real), model.D(fake))
    model.opt_d.zero_grad()
    loss.backward()
    model.opt_d.step()  # the real Adam step on the same batch
    for name, p in model.D.named_parameters():
        assert torch.allclose(unrolled[name], p, atol=1e-6, rtol=1e-5), name


def test_zero_unroll_steps_is_the_plain_gan():
    a, b = small(cls=gan.GAN), small(unroll_steps=0)
    for m in (a, b):
        train.train(m, data.DistributionSampler(data.ring(), 32, seed=0), steps=5, progress=False)
    assert torch.equal(params(a.G), params(b.G)) and torch.equal(params(a.D), params(b.D))


def test_second_order_term_changes_the_generator_gradient_and_first_order_differs_from_plain():
    grads = {}
    for name, kw in {"plain": dict(unroll_steps=0), "first": dict(unroll_steps=3, second_order=False),
                     "second": dict(unroll_steps=3, second_order=True)}.items():
        model = small(**kw)
        sample = data.DistributionSampler(data.ring(), 32, seed=0)
        train.train(model, sample, steps=4, progress=False)
        model.noise.manual_seed(123)
        model.d_step(sample()[0])
        model.noise.manual_seed(456)
        d_before = params(model.D)
        model.g_step(32)
        assert torch.equal(params(model.D), d_before), "the unrolled copies must not touch D itself"
        grads[name] = torch.cat([p.grad.flatten() for p in model.G.parameters()])
        assert torch.isfinite(grads[name]).all()
    assert not torch.allclose(grads["first"], grads["plain"])  # the look-ahead D scores G differently
    assert not torch.allclose(grads["second"], grads["first"])  # and D's reaction adds a second term


def test_unrolled_training_is_deterministic_and_finite():
    runs = []
    for _ in range(2):
        model = small(unroll_steps=2)
        h = train.train(model, data.DistributionSampler(data.ring(), 32, seed=1), steps=6, progress=False)
        runs.append((params(model.G), h.losses["g_loss"]))
    assert torch.equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]


@pytest.mark.parametrize("kw, words", [
    (dict(unroll_steps=-1), "unroll_steps"),
    (dict(unroll_steps=2.5), "unroll_steps"),
    (dict(optimizer="rmsprop"), "Adam or SGD"),
    (dict(gp_weight=1.0), "gradient penalty"),
])
def test_bad_settings_are_clear_errors(kw, words):
    with pytest.raises(GanutilsError, match=words):
        small(**kw)


def test_sgd_unrolling_is_a_plain_gradient_step():
    model = small(unroll_steps=1, optimizer="sgd")
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    unrolled = model.unrolled_params(real, fake)
    loss = model.loss.d(model.D(real), model.D(fake))
    grads = torch.autograd.grad(loss, list(model.D.parameters()))
    for (name, p), g in zip(model.D.named_parameters(), grads):
        assert torch.allclose(unrolled[name], p - 1e-3 * g, atol=1e-7)
