"""Exercises of notebook 06: the reparameterisation trick, the closed-form KL, the negative ELBO."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganutils.losses.elbo import bernoulli_nll, beta_vae_loss, kl_standard_normal, reparameterize

from ..core import Bug, Case, Derive, Implement, Predict, register
from ..probes import grads_of, value_and_grads

NB = "06_vae"


def _gaussian_cases():
    def make(n, d, low=-2.0, high=1.0, dtype=torch.float32):
        def build():
            mu = torch.randn(n, d, dtype=dtype).requires_grad_()
            logvar = (low + (high - low) * torch.rand(n, d, dtype=dtype)).requires_grad_()
            return mu, logvar
        return build

    return make


# ----------------------------------------------------------------------------- reparameterisation


def _reparam_observe(z, mu, logvar):
    weights = torch.randn(z.shape, dtype=z.dtype) if isinstance(z, torch.Tensor) and z.is_floating_point() else None
    return {"output": z, "grads": grads_of(z * weights, mu, logvar) if weights is not None else (None, None)}


def _std_from(logvar):
    return torch.exp(0.5 * logvar)


register(Implement(
    id="06-reparameterize", notebook=NB, title="The reparameterisation trick",
    task="reparameterize(mu, logvar): draw z ~ N(mu, diag σ²) with logvar = log σ², so that gradients reach mu and "
         "logvar. Draw the noise with torch.randn_like(mu) (the checker seeds torch's generator).",
    explanation="z = μ + σ ⊙ ε with σ = exp(logvar / 2) and ε = torch.randn_like(μ) (Kingma & Welling 2014): the "
                "randomness moves into ε, so z is a differentiable function of μ and logvar. It makes sampling "
                "differentiable; it does not make z follow the prior (that is the KL term's job).",
    reference=lambda mu, logvar: reparameterize(mu, logvar),
    cases=lambda: [Case("6 codes of 3 dimensions", _gaussian_cases()(6, 3), seed=1),
                   Case("very confident posteriors (logvar = -20 ... -10)", _gaussian_cases()(4, 2, -20.0, -10.0), seed=2),
                   Case("wide posteriors (logvar up to 3)", _gaussian_cases()(3, 5, 0.0, 3.0), seed=3)],
    observe=_reparam_observe, describe={"grads": "the gradients with respect to (mu, logvar)"},
    bugs=(
        Bug("std-exp-logvar", "σ = exp(logvar / 2): logvar is log σ², so exp(logvar) is the *variance*. Your samples "
            "spread by σ² instead of σ.", lambda mu, logvar: mu + torch.exp(logvar) * torch.randn_like(mu)),
        Bug("reparam-not-differentiable", "the sample carries no gradient to μ and logvar (.sample() and torch.normal "
            "are not reparameterised), so the encoder never learns from the reconstruction. Write z = μ + σ·ε with "
            "ε = torch.randn_like(μ) (or use .rsample()).",
            (lambda mu, logvar: torch.distributions.Normal(mu, _std_from(logvar)).sample(),
             lambda mu, logvar: torch.normal(mu, _std_from(logvar)))),
        Bug("reparam-no-noise", "no noise: z = μ turns the VAE into a plain autoencoder whose KL term only shrinks the "
            "means; the decoder never learns to handle the spread of q(z|x).", lambda mu, logvar: mu),
        Bug("logvar-as-std", "logvar is log σ², not σ: multiplying ε by logvar gives negative 'standard deviations'. "
            "σ = exp(logvar / 2).", lambda mu, logvar: mu + logvar * torch.randn_like(mu)),
    ),
))


# ----------------------------------------------------------------------------- KL


def _kl(mu, logvar, sign=-1.0, half=0.5, reduce="sum", var=None):
    var = logvar.exp() if var is None else var
    per_dim = sign * half * (1 + logvar - mu.pow(2) - var)
    if reduce == "sum":
        return per_dim.sum(-1)
    if reduce == "mean":
        return per_dim.mean(-1)
    return per_dim.sum()


register(Implement(
    id="06-kl-divergence", notebook=NB, title="The closed-form KL(q(z|x) || N(0, I))",
    task="kl_standard_normal(mu, logvar): mu and logvar are (N, d). Return KL(N(mu, diag exp(logvar)) || N(0, I)) per "
         "sample, shape (N,), in nats.",
    explanation="KL = -½ Σ_k (1 + log σ_k² - μ_k² - σ_k²), summed over the latent dimensions (independent dimensions' "
                "KLs add), one value per sample (Kingma & Welling 2014, appendix B).",
    reference=kl_standard_normal,
    cases=lambda: [Case("5 posteriors in 3 dimensions", _gaussian_cases()(5, 3), seed=1),
                   Case("2 posteriors in 4 dimensions, float64", _gaussian_cases()(2, 4, dtype=torch.float64), seed=2),
                   Case("posteriors equal to the prior (μ = 0, logvar = 0)",
                        lambda: (torch.zeros(3, 2, requires_grad=True), torch.zeros(3, 2, requires_grad=True))),
                   Case("very confident posteriors (logvar = -30)", _gaussian_cases()(2, 3, -30.0, -29.0), seed=3)],
    observe=lambda out, mu, logvar: value_and_grads(out, mu, logvar),
    describe={"grads": "the gradients with respect to (mu, logvar)"},
    bugs=(
        Bug("kl-wrong-sign", "sign: KL = -½ Σ (1 + log σ² - μ² - σ²) ≥ 0; yours is its negative, so minimising it pushes "
            "the posterior *away* from the prior.", lambda mu, logvar: _kl(mu, logvar, sign=1.0)),
        Bug("kl-missing-half", "the ½ is missing: your KL is twice the true one, a silent β = 2.",
            lambda mu, logvar: _kl(mu, logvar, half=1.0)),
        Bug("kl-mean-over-latent", "you averaged over the latent dimensions: the KL of independent dimensions is their "
            "*sum*; the mean divides it by d (a silent β = 1/d).", lambda mu, logvar: _kl(mu, logvar, reduce="mean")),
        Bug("kl-summed-over-batch", "one KL per sample, shape (N,): sum over the latent dimension only (dim=-1), not over "
            "the batch too.", lambda mu, logvar: _kl(mu, logvar, reduce="all")),
        Bug("kl-std-for-variance", "the last term is σ² = exp(logvar), not σ = exp(logvar / 2).",
            lambda mu, logvar: _kl(mu, logvar, var=torch.exp(0.5 * logvar))),
    ),
))


# ----------------------------------------------------------------------------- the negative ELBO


def _elbo_reference(logits, x, mu, logvar):
    """ganutils.losses.elbo: Bernoulli NLL summed over pixels + KL summed over latents, averaged over the batch (β = 1)."""
    return beta_vae_loss(bernoulli_nll(logits, x), kl_standard_normal(mu, logvar), 1.0)


def _elbo_cases():
    def make(n, binary=True, scale=2.0):
        def build():
            logits = (scale * torch.randn(n, 1, 4, 4)).requires_grad_()
            x = torch.bernoulli(torch.full((n, 1, 4, 4), 0.4)) if binary else torch.rand(n, 1, 4, 4)
            mu, logvar = torch.randn(n, 3).requires_grad_(), (torch.rand(n, 3) - 1).requires_grad_()
            return logits, x, mu, logvar
        return build

    def confident():
        x = torch.bernoulli(torch.full((2, 1, 4, 4), 0.5))
        logits = (30 * (1 - 2 * x)).requires_grad_()  # confidently wrong pixels: sigmoid rounds to 0 or 1
        return logits, x, torch.randn(2, 3).requires_grad_(), torch.zeros(2, 3, requires_grad=True)

    return [Case("4 binarised 4x4 images", make(4), seed=1), Case("3 grey images (targets in [0, 1])", make(3, False), seed=2),
            Case("confidently wrong logits (±30)", confident, seed=3), Case("a batch of 1", make(1), seed=4)]


def _elbo_variant(logits, x, mu, logvar, *, recon="bce", kl_sign=-1.0):
    if recon == "bce":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    elif recon == "mean":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(1)
    elif recon == "seed002":
        nll = (x * F.logsigmoid(logits)).flatten(1).sum(1)
    elif recon == "seed002-log":
        nll = (x * torch.log(torch.sigmoid(logits))).flatten(1).sum(1)
    elif recon == "probs":
        nll = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    else:  # sigmoid fed to a from-logits loss
        nll = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    return (nll + _kl(mu, logvar, sign=kl_sign)).mean()


register(Implement(
    id="06-negative-elbo", notebook=NB, title="The VAE loss: the negative ELBO",
    task="negative_elbo(logits, x, mu, logvar): the decoder's logits and the targets x are (N, 1, H, W), the encoder's "
         "mu and logvar (N, d). Return the batch mean of [-log p(x|z) (Bernoulli, summed over pixels) + KL(q || N(0, I)) "
         "(summed over latents)], in nats per image.",
    explanation="F.binary_cross_entropy_with_logits(logits, x, reduction='none').flatten(1).sum(1) + the KL of the "
                "previous exercise, then .mean() over the batch. Both terms are per image: averaging the reconstruction "
                "over pixels while summing the KL is a silent β = H·W.",
    reference=_elbo_reference, cases=_elbo_cases,
    observe=lambda out, logits, x, mu, logvar: value_and_grads(out, logits, mu, logvar),
    describe={"grads": "the gradients with respect to (logits, mu, logvar)"},
    bugs=(
        Bug("recon-mean-over-pixels", "the reconstruction term is averaged over pixels while the KL is summed over "
            "latents: a silent β = number of pixels (784 on MNIST), blurry reconstructions and collapsed posteriors. "
            "Sum over the pixels of each image, then average over the batch.",
            (lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, recon="mean"),
             lambda lo, x, mu, lv: F.binary_cross_entropy_with_logits(lo, x) + _kl(mu, lv).mean())),
        Bug("recon-missing-minus-sign", "seed 002's reconstruction Σ x log x̂ has no minus sign and no (1 - x) log(1 - x̂) "
            "term: minimising it pushes x̂ to 0 wherever x > 0. Use the binary cross-entropy, "
            "-Σ[x log x̂ + (1 - x) log(1 - x̂)].",
            (lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, recon="seed002"),
             lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, recon="seed002-log")), shipped="seed 002"),
        Bug("kl-wrong-sign", "the KL enters with the wrong sign: the loss is reconstruction *plus* KL (the ELBO is "
            "E[log p(x|z)] - KL).", lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, kl_sign=1.0)),
        Bug("bce-of-sigmoid-unstable", "F.binary_cross_entropy(torch.sigmoid(logits), x) is the right formula computed "
            "unstably: for confident logits the sigmoid rounds to exactly 0 or 1 and PyTorch clamps log(0) at -100. "
            "Use binary_cross_entropy_with_logits on the logits.",
            lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, recon="probs")),
        Bug("sigmoid-into-from-logits", "a sigmoid before a loss that applies its own (BCE *with logits*): pass the raw "
            "logits.", lambda lo, x, mu, lv: _elbo_variant(lo, x, mu, lv, recon="double-sigmoid")),
    ),
))


# ----------------------------------------------------------------------------- derive: one KL by hand


def _kl_1d(mu: float, sigma: float, var_term=None, half=0.5, sign=-1.0) -> float:
    m, lv = torch.tensor([[mu]], dtype=torch.float64), torch.log(torch.tensor([[sigma**2]], dtype=torch.float64))
    if var_term is None and half == 0.5 and sign == -1.0:
        return kl_standard_normal(m, lv).item()
    return _kl(m, lv, sign=sign, half=half, var=var_term).item()


register(Derive(
    id="06-kl-closed-form", notebook=NB, title="One KL term by hand",
    task="q(z|x) = N(1, 0.5²) in one dimension. What is KL(q || N(0, 1)) in nats?",
    explanation="-½ (1 + log 0.25 - 1 - 0.25) = ½ (0.25 + 1.386) ≈ 0.818 nats; the Monte Carlo estimate in the notebook "
                "checks the same closed form.",
    truth=lambda: _kl_1d(1.0, 0.5), hint="KL = -½ (1 + log σ² - μ² - σ²), with σ² = 0.25.",
    bugs=(
        Bug("kl-missing-half", "the ½ is missing: that is twice the KL.", lambda: 2 * _kl_1d(1.0, 0.5)),
        Bug("kl-std-for-variance", "σ² = 0.25 in the last term, not σ = 0.5.",
            lambda: _kl_1d(1.0, 0.5, var_term=torch.tensor([[0.5]], dtype=torch.float64))),
        Bug("kl-wrong-sign", "a KL is never negative: the formula has a leading minus.", lambda: -_kl_1d(1.0, 0.5)),
    ),
))


register(Predict(
    id="06-predict-recall", notebook=NB, title="VAE vs GAN on k-NN recall",
    task="On the evaluation network, will the VAE's samples have a higher or a lower k-NN recall than the DCGAN's?",
    choices=("higher", "lower"), expected="lower",
    explanation="The textbook summary 'GANs: precision, VAEs: recall' does not hold on this evaluation network: blur "
                "moves the VAE's samples off the manifold of real features and packs them together, so their small "
                "k-NN balls miss the real digits (the 3x3-blurred real digits have recall near 0 too). Here low "
                "recall means blurry, not missing modes.",
    bugs=(Bug("vae-recall-textbook", "the textbook rule of thumb; k-NN recall also punishes samples that sit off the "
              "real manifold, which blur does.", "higher"),),
))

