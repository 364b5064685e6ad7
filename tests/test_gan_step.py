"""``GAN.step`` against a hand-written reference iteration, and the isolation of the G update from D."""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganutils import nets
from ganutils.training import GAN

pytestmark = pytest.mark.usefixtures("one_thread")


def make(n_critic: int, **kw) -> GAN:
    G, D = nets.toy_nets(z_dim=2, hidden=16, depth=2, seed=0)
    return GAN(G, D, z_dim=2, n_critic=n_critic, lr_g=1e-2, lr_d=1e-2, seed=7, **kw)


def batches(n: int):
    rng = torch.Generator().manual_seed(3)
    return [torch.randn(32, 2, generator=rng) for _ in range(n)]


def reference_step(model: GAN, reals: list[torch.Tensor]) -> None:
    """The textbook iteration, written out: n_critic D updates on detached fakes, then one G update.

    With n_critic = 1 the G update reuses the D step's z (the course's GAN saves that forward pass);
    with n_critic > 1 it draws fresh noise, as WGAN's Algorithm 1 does.
    """
    noise = model.noise
    for real in reals:
        z = torch.randn(len(real), 2, generator=noise)
        fake = model.G(z)
        d_loss = (F.binary_cross_entropy_with_logits(model.D(real), torch.ones(len(real)))
                  + F.binary_cross_entropy_with_logits(model.D(fake.detach()), torch.zeros(len(real))))
        model.opt_d.zero_grad()
        d_loss.backward()
        model.opt_d.step()
    if len(reals) > 1:
        fake = model.G(torch.randn(len(reals[-1]), 2, generator=noise))
    g_loss = F.softplus(-model.D(fake)).mean()  # -log D(G(z)), the non-saturating loss
    model.opt_g.zero_grad()
    g_loss.backward()
    model.opt_g.step()


@pytest.mark.parametrize("n_critic", [1, 5])
def test_step_matches_a_hand_written_reference_iteration(n_critic):
    model, reference = make(n_critic), make(n_critic)
    reals = batches(n_critic)
    for _ in range(3):  # a few iterations, so Adam's state matters too
        feed = iter(reals)
        model.step(lambda: (next(feed),))
        reference_step(reference, reals)
    for a, b in zip(list(model.G.parameters()) + list(model.D.parameters()),
                    list(reference.G.parameters()) + list(reference.D.parameters())):
        assert torch.allclose(a, b, atol=1e-6), "GAN.step differs from the textbook iteration"


def test_the_generator_update_leaves_the_discriminator_untouched():
    model = make(1)
    real = batches(1)[0]
    model.d_step(real)
    d_weights = copy.deepcopy(model.D.state_dict())
    d_grads = [None if p.grad is None else p.grad.clone() for p in model.D.parameters()]
    d_opt = copy.deepcopy(model.opt_d.state_dict())
    model.g_step(len(real))
    for k, v in model.D.state_dict().items():
        assert torch.equal(v, d_weights[k]), f"the G update changed D's {k}"
    for p, g in zip(model.D.parameters(), d_grads):
        assert (p.grad is None and g is None) or torch.equal(p.grad, g), "the G update wrote into D's gradients"
        assert p.requires_grad, "D's parameters must train again after the G update"
    assert str(model.opt_d.state_dict()) == str(d_opt), "the G update stepped D's optimiser"


def test_a_loss_object_is_used_as_given():
    from ganutils.losses import GANLoss, d_loss_bce, g_loss_saturating

    mine = GANLoss("mine", d_loss_bce, g_loss_saturating)
    model = make(1, loss=mine)
    assert model.loss is mine
    out = model.step(lambda: (batches(1)[0],))
    assert set(out) >= {"d_loss", "g_loss"}
