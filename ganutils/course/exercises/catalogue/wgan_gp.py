"""Exercises of notebook 04: the gradient penalty, a clipped critic step, a critic fit for a penalty, power iteration."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganutils import losses
from ganutils.losses.gradient_penalty import gradient_norms, gradient_penalty, interpolates
from ganutils.losses.weight_clipping import clip_weights
from ganutils.nets.critics import MLPCritic

from ..core import Bug, Case, Implement, Predict, register
from ..probes import Squeeze, backward_grads, couples_samples, flat_grads, flat_params

NB = "04_wgan_gp"


# ----------------------------------------------------------------------------- the gradient penalty


def _image_critic(shape=(2, 3, 3)) -> nn.Module:
    n = shape[0] * shape[1] * shape[2]
    return nn.Sequential(nn.Flatten(), nn.Linear(n, 16), nn.Tanh(), nn.Linear(16, 1), Squeeze())


def _gp_cases():
    def images(n, weight):
        def make():
            return (_image_critic(), torch.randn(n, 2, 3, 3), torch.randn(n, 2, 3, 3)), {"weight": weight}
        return make

    def points():
        return (MLPCritic((2,), hidden=16, depth=2), torch.randn(8, 2), torch.randn(8, 2) + 2), {"weight": 10.0}

    return [Case("6 image-shaped samples (N, C, H, W) = (6, 2, 3, 3), weight 10", images(6, 10.0), seed=1),
            Case("8 points in 2-D, weight 10", points, seed=2),
            Case("4 image-shaped samples, weight 1", images(4, 1.0), seed=3)]


def _gp_reference(critic, real, fake, weight=10.0):
    """ganutils.losses.gradient_penalty with ε from torch's global generator (the checker seeds it for every candidate)."""
    return gradient_penalty(critic, real, fake, weight=weight)


def _gp_observe(penalty, critic, real, fake, weight=10.0):
    (critic_grads,) = backward_grads(penalty, critic)
    return {"output": penalty, "critic_grads": critic_grads}


def _gp_variant(critic, real, fake, weight=10.0, *, eps="sample", norm="flat", create_graph=True, of="sum", squared=False):
    """The gradient penalty with one thing changed: how ε is drawn, how the norm is taken, ..."""
    real, fake = real.detach(), fake.detach()
    if eps == "sample":
        e = torch.rand(len(real), *([1] * (real.dim() - 1)))
    elif eps == "batch":
        e = torch.rand(1)
    else:
        e = torch.rand_like(real)
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum() if of == "sum" else scores.mean(), x_hat, create_graph=create_graph)
    if squared:
        return weight * ((grads.flatten(1).pow(2).sum(1) - 1) ** 2).mean()
    norms = grads.flatten(1).norm(2, dim=1) if norm == "flat" else grads.norm(2, dim=1)
    return weight * ((norms - 1) ** 2).mean()


register(Implement(
    id="04-gradient-penalty", notebook=NB, title="The WGAN-GP gradient penalty",
    task="gradient_penalty(critic, real, fake, weight=10.0): λ·E[(||∇ f(x̂)||₂ - 1)²] on x̂ = ε·real + (1 - ε)·fake, "
         "with one ε ~ U[0, 1] per sample drawn with torch.rand (the checker seeds torch's generator so it can "
         "reproduce your draw). The penalty must be differentiable with respect to the critic's weights.",
    explanation="eps = torch.rand(N, 1, ..., 1); x̂ = (eps·real + (1 - eps)·fake).requires_grad_(); grads = "
                "autograd.grad(critic(x̂).sum(), x̂, create_graph=True); norms = grads.flatten(1).norm(2, dim=1); "
                "return λ·((norms - 1)²).mean() (Gulrajani et al. 2017, Algorithm 1). Three details decide it: the "
                "norm is per sample over all non-batch dimensions, create_graph=True lets the penalty's gradient reach "
                "the critic, and ε is drawn per sample so x̂ lies on the line between each real and fake pair.",
    reference=_gp_reference, cases=_gp_cases, observe=_gp_observe, library=(gradient_penalty, interpolates, gradient_norms),
    describe={"critic_grads": "the gradient the penalty sends to the critic's weights"},
    bugs=(
        Bug("gp-norm-dim1", "the norm runs over dim=1 only (the channels) of an (N, C, H, W) gradient: one norm per "
            "pixel, averaged. Flatten first: grads.flatten(1).norm(2, dim=1) (or grads.view(N, -1)). On 2-D points both "
            "agree, which is how this bug survives toy tests.", lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, norm="dim1"),
            shipped="many WGAN-GP ports to images"),
        Bug("no-create-graph", "torch.autograd.grad(..., create_graph=True) is missing: the gradient norms are constants "
            "to autograd, so the penalty never reaches the critic's weights and constrains nothing.",
            lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, create_graph=False)),
        Bug("one-eps-for-batch", "one ε for the whole batch: every x̂ sits at the same fraction of its line, so each step "
            "penalises one slice between the distributions. Draw one ε per sample: torch.rand(N, 1, 1, 1).",
            lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, eps="batch")),
        Bug("eps-per-element", "one ε per *element* (torch.rand_like(real)): x̂ is then not on the line between a real "
            "and a fake sample, where the optimal critic has gradient norm 1. One ε per sample, broadcast over the rest.",
            lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, eps="element")),
        Bug("gp-grad-of-mean", "you differentiate the *mean* of the scores: each sample's gradient is divided by the "
            "batch size, so the norms are N times too small and the penalty pushes them up to N. Differentiate the sum "
            "(or pass grad_outputs=torch.ones_like(scores)).",
            lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, of="mean")),
        Bug("gp-squared-norm", "you penalise (||∇||² - 1)², the squared norm; the penalty is on the norm itself, "
            "(||∇||₂ - 1)² (take the square root, e.g. .norm(2, dim=1)).",
            lambda c, r, f, weight=10.0: _gp_variant(c, r, f, weight, squared=True)),
    ),
))


# ----------------------------------------------------------------------------- a clipped critic step


def _critic_step_cases():
    def make(n, clip):
        def build():
            G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
            D = MLPCritic((2,), hidden=16, depth=2)
            opt_d = torch.optim.RMSprop(D.parameters(), lr=5e-5)
            return (G, D, opt_d, torch.randn(n, 2) + 2, torch.randn(n, 2)), {"clip": clip}
        return build

    return [Case("a batch of 8, c = 0.01 (RMSprop, lr 5e-5)", make(8, 0.01), seed=1),
            Case("a batch of 5, c = 0.1", make(5, 0.1), seed=2)]


def _critic_step_reference(G, D, opt_d, real, z, clip=0.01):
    """One WGAN critic update (Arjovsky et al. 2017, Algorithm 1), from ganutils pieces."""
    loss = losses.d_loss_wasserstein(D(real), D(G(z).detach()))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    clip_weights(D, clip)
    return loss


def _critic_step_observe(loss, G, D, opt_d, real, z, clip=0.01):
    g_grads = flat_grads(G)
    return {"output": loss.detach() if isinstance(loss, torch.Tensor) else loss, "d_params": flat_params(D),
            "g_params": flat_params(G), "g_gets_gradient": g_grads is not None and bool(g_grads.abs().sum() > 0)}


def _critic_step_variant(G, D, opt_d, real, z, clip=0.01, *, target="D", clip_first=False, sign=1, detach=True, labels=False):
    fake = G(z).detach() if detach else G(z)
    if labels:  # seed 003: Keras mean(y_true * y_pred) with y = 1 for real, 0 for fake
        loss = (1.0 * D(real)).mean() + (0.0 * D(fake)).mean()
    else:
        loss = sign * (D(fake).mean() - D(real).mean())
    opt_d.zero_grad()
    loss.backward()
    if clip_first:
        clip_weights(D, clip)
    opt_d.step()
    if not clip_first:
        clip_weights(D if target == "D" else G, clip)
    return loss


register(Implement(
    id="04-critic-step-clipping", notebook=NB, title="One critic update of the original WGAN",
    task="wgan_critic_step(G, D, opt_d, real, z, clip=0.01): one critic update: the critic loss "
         "E[f(G(z))] - E[f(real)] (fakes detached), backward, opt_d.step(), then clamp every critic weight to "
         "[-clip, clip]. Return the loss.",
    explanation="loss = D(G(z).detach()).mean() - D(real).mean(); opt_d.zero_grad(); loss.backward(); opt_d.step(); "
                "then with torch.no_grad(): p.clamp_(-c, c) for every parameter of D (ganutils.losses.weight_clipping."
                "clip_weights). The constraint is on the critic, after the step, so the critic that scores the next "
                "batch lies in the box.",
    reference=_critic_step_reference, cases=_critic_step_cases, observe=_critic_step_observe, atol=1e-7,
    library=(losses.d_loss_wasserstein, clip_weights),
    describe={"d_params": "the critic's weights after your step", "g_params": "G's weights after your step",
              "g_gets_gradient": "whether G's parameters got a gradient"},
    bugs=(
        Bug("clip-g-instead-of-d", "you clipped the generator's weights: the Lipschitz constraint belongs to the critic, "
            "whose gap estimates W1; clipping G only cripples it.",
            lambda G, D, o, r, z, clip=0.01: _critic_step_variant(G, D, o, r, z, clip, target="G")),
        Bug("clip-before-step", "you clip before opt_d.step(): the update moves the weights out of [-c, c] again, so the "
            "critic that scores the next batch is unconstrained. Clip after the step.",
            lambda G, D, o, r, z, clip=0.01: _critic_step_variant(G, D, o, r, z, clip, clip_first=True)),
        Bug("wgan-loss-sign-flipped", "sign flipped: the critic maximises E[f(real)] - E[f(fake)], i.e. minimises "
            "E[f(fake)] - E[f(real)]; yours learns to score the fakes higher.",
            lambda G, D, o, r, z, clip=0.01: _critic_step_variant(G, D, o, r, z, clip, sign=-1)),
        Bug("fakes-not-detached", "the fakes are not detached: the critic's loss backpropagates into G. Use "
            "G(z).detach() in the critic step.",
            lambda G, D, o, r, z, clip=0.01: _critic_step_variant(G, D, o, r, z, clip, detach=False)),
        Bug("wgan-labels-one-zero", "labels 1/0 in mean(y_true * y_pred) (seed 003): the fake term is multiplied by 0 "
            "and the critic only pushes f(real) down, without bound. The Wasserstein loss has no labels: minimise "
            "E[f(fake)] - E[f(real)].", lambda G, D, o, r, z, clip=0.01: _critic_step_variant(G, D, o, r, z, clip, labels=True),
            shipped="seed 003"),
    ),
))


# ----------------------------------------------------------------------------- a critic fit for a gradient penalty


def _critic_properties(critic):
    if not isinstance(critic, nn.Module):
        raise TypeError(f"make_critic() must return an nn.Module, got {type(critic).__name__}")
    x = torch.randn(8, 2)
    with torch.no_grad():
        scores = critic(x)
        far = critic(100 * x)
    return {"score_shape": tuple(scores.shape), "couples_samples": couples_samples(critic),
            "bounded_in_0_1": bool(((far > 0) & (far < 1)).all() and ((scores > 0) & (scores < 1)).all())}


def _mlp(norm=None, sigmoid=False):
    layers = [nn.Linear(2, 64)] + ([nn.BatchNorm1d(64)] if norm == "batch" else []) + [nn.LeakyReLU(0.2), nn.Linear(64, 64)]
    layers += ([nn.BatchNorm1d(64)] if norm == "batch" else []) + [nn.LeakyReLU(0.2), nn.Linear(64, 1), Squeeze()]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


register(Implement(
    id="04-gp-critic", notebook=NB, title="A critic that suits a gradient penalty",
    task="make_critic(): build and return a critic for WGAN-GP on 2-D points: an nn.Module mapping (N, 2) to (N,) raw "
         "scores (for instance two hidden layers of 64 units with LeakyReLU).",
    explanation="A critic for a gradient penalty has no BatchNorm (it couples the samples of a batch, while the penalty "
                "is a per-sample property; Gulrajani et al. 2017, sec. 4 suggest layer normalisation if any) and no "
                "sigmoid (its score is an unbounded estimate of a potential, not a probability): "
                "nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), "
                "nn.Linear(64, 1)) with the last dimension squeezed.",
    reference=lambda: MLPCritic((2,), hidden=64, depth=2), cases=lambda: [Case("the critic make_critic() builds", lambda: ())],
    observe=_critic_properties,
    describe={"score_shape": "the shape of the scores of 8 points (one raw score per sample: squeeze the last dimension)",
              "couples_samples": "whether one sample's score depends on the other samples of the batch",
              "bounded_in_0_1": "whether every score lies in (0, 1)"},
    bugs=(
        Bug("batchnorm-in-gp-critic", "your critic has BatchNorm: each score depends on the other samples of the batch, "
            "so the per-sample gradient penalty no longer constrains a per-sample function (Gulrajani et al. 2017, sec. "
            "4; seed 003 keeps it). Use no normalisation, or LayerNorm.", lambda: _mlp(norm="batch"), shipped="seed 003"),
        Bug("sigmoid-on-critic", "your critic ends in a sigmoid: a Wasserstein critic outputs an unbounded score, not a "
            "probability, and a sigmoid saturates, flattening exactly the gradient the penalty is about.",
            lambda: _mlp(sigmoid=True)),
    ),
))


# ----------------------------------------------------------------------------- power iteration


def power_iteration_step(W: torch.Tensor, u: torch.Tensor, eps: float = 1e-12):
    """One step of Miyato et al. (2018), Algorithm 1: v = Wᵀu/||Wᵀu||, u = Wv/||Wv||, σ = uᵀWv.

    Repeated, σ converges to W's largest singular value (tests/test_exercises.py checks it against an SVD and against
    torch.nn.utils.parametrizations.spectral_norm); one step per training iteration with a persistent u is what
    spectral normalisation does.
    """
    v = F.normalize(W.t() @ u, dim=0, eps=eps)
    u = F.normalize(W @ v, dim=0, eps=eps)
    return u, v, u @ W @ v


def _power_cases():
    def make(m, n, rank1=False):
        def build():
            W = torch.randn(m, 1) @ torch.randn(1, n) if rank1 else torch.randn(m, n)
            return W, torch.randn(m)
        return build

    return [Case("W of shape (5, 3)", make(5, 3), seed=1), Case("a square W (4, 4)", make(4, 4), seed=2),
            Case("a wide W (3, 6)", make(3, 6), seed=3), Case("a rank-1 W (5, 4)", make(5, 4, rank1=True), seed=4)]


def _power_variant(W, u, *, normalise=True, transpose=False, sigma="uWv"):
    v = (W @ u) if transpose else (W.t() @ u)
    v = F.normalize(v, dim=0) if normalise else v
    u_new = W @ v
    u_new = F.normalize(u_new, dim=0) if normalise else u_new
    if sigma == "frobenius":
        s = torch.linalg.matrix_norm(W)
    elif sigma == "stale":
        s = u @ W @ v
    else:
        s = u_new @ W @ v
    return u_new, v, s


register(Implement(
    id="04-power-iteration", notebook=NB, title="One power-iteration step of spectral normalisation",
    task="power_iteration_step(W, u): W is a weight matrix (m, n) and u (m,) the persistent vector. Return "
         "(u_new, v, sigma): v = Wᵀu normalised, u_new = Wv normalised, sigma = u_newᵀ W v, the estimate of W's largest "
         "singular value.",
    explanation="v = F.normalize(W.T @ u, dim=0); u = F.normalize(W @ v, dim=0); sigma = u @ W @ v (Miyato et al. "
                "2018, Algorithm 1). One step per training iteration is enough because W changes slowly and u "
                "persists; spectral normalisation then uses W / sigma.",
    reference=power_iteration_step, cases=_power_cases,
    bugs=(
        Bug("power-iteration-not-normalised", "normalise v and u after each product: without it their norms grow or "
            "shrink geometrically, and uᵀWv is not an estimate of σ.", lambda W, u: _power_variant(W, u, normalise=False)),
        Bug("power-iteration-transposed", "v comes from Wᵀu (W.T @ u), u from W v: you multiplied by the wrong side, "
            "which only runs at all when W is square.", lambda W, u: _power_variant(W, u, transpose=True)),
        Bug("sigma-frobenius", "σ is the *largest singular value* (uᵀWv after the step), not the Frobenius norm, which "
            "over-estimates it and over-normalises W.", lambda W, u: _power_variant(W, u, sigma="frobenius")),
        Bug("sigma-from-stale-u", "σ = uᵀWv must use the *updated* u; with the old one it lags a step behind.",
            lambda W, u: _power_variant(W, u, sigma="stale")),
    ),
))


register(Predict(
    id="04-predict-lambda", notebook=NB, title="Which λ over-estimates W1?",
    task="Critics trained alone on the fixed pair with λ = 0.1, 1, 10 and 100, the same steps each. Which one's gap "
         "over-estimates the true W1 the most (largest gap / W1)?",
    choices=("0.1", "1", "10", "100"), expected="0.1",
    explanation="A weak penalty barely constrains the critic: its gradients between the distributions exceed 1 and its "
                "gap exceeds W1. A strong penalty holds the norms at 1 and under-estimates W1 at a fixed budget (it "
                "lags). λ = 10 is where the gap is W1 within a few percent.",
    bugs=(Bug("strong-penalty-overshoots", "λ = 100 holds the gradient norms at 1 most tightly; at a fixed budget its gap "
              "lags *below* W1.", "100"),),
))
