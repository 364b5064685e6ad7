"""The pieces of the VAE's objective, the evidence lower bound (Kingma & Welling 2014):

    log p_θ(x) >= ELBO(x) = E_q[log p_θ(x|z)] - KL(q_φ(z|x) || p(z)),

with q_φ(z|x) = N(μ(x), diag σ²(x)) and p(z) = N(0, I): the reparameterisation z = μ + σ·ε, the
closed-form Gaussian KL (and a Monte Carlo estimate to check it), the Bernoulli reconstruction
term, and the two gradient estimators of E_q[f(z)] (reparameterisation vs score function).

Every log-likelihood is in nats, summed over the 784 pixels (and over latent dimensions for the
KL) per digit. Weighting the KL by β is the β-VAE (Higgins et al. 2017), a hyperparameter of the
objective, not a "λ balancing two losses".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..config import GanutilsError, check_positive_int

LOG_2PI = math.log(2 * math.pi)


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not (torch.is_tensor(mu) and torch.is_tensor(logvar)):
        raise GanutilsError("mu and logvar must be tensors: pass the encoder's two outputs")
    if mu.shape != logvar.shape:
        raise GanutilsError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must have the same shape (N, z_dim)")


def _check_unit_pixels(x: torch.Tensor, what: str = "images") -> None:
    lo, hi = x.min().item(), x.max().item()
    if lo < 0 or hi > 1:
        raise GanutilsError(
            f"{what} range over [{lo:.3g}, {hi:.3g}], but the Bernoulli likelihood needs pixels in [0, 1]: "
            "load MNIST with data.load_mnist(split, scale='unit') (or map [-1, 1] images with (x + 1) / 2)"
        )


def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not math.isfinite(beta) or beta < 0:
        raise GanutilsError(f"beta (the KL weight) must be a number >= 0, got {beta!r}: e.g. beta=1.0 for the plain VAE")
    return float(beta)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I): the randomness moves into ε, so gradients reach μ and σ.

    (It makes sampling differentiable; it does not make z follow the prior: that is the KL's job.)
    """
    _check_gaussian(mu, logvar)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) || N(0, 1)) per latent dimension, (N, d): -½ (1 + log σ² - μ² - σ²)."""
    _check_gaussian(mu, logvar)
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form KL(q(z|x) || N(0, I)) of a diagonal Gaussian, summed over latent dimensions: (N,)."""
    return kl_per_dimension(mu, logvar).sum(-1)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; μ, diag σ²), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


def standard_normal_log_density(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)


def kl_monte_carlo(mu: torch.Tensor, logvar: torch.Tensor, n_samples: int = 1000,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte Carlo KL: the mean of log q(z|x) - log p(z) over ``n_samples`` z ~ q, and its standard error, each (N,).

    z is continuous, so the KL is an integral over z (not a sum), which this estimates by
    sampling and the closed form computes exactly.
    """
    _check_gaussian(mu, logvar)
    n_samples = check_positive_int("n_samples", n_samples)
    if n_samples < 2:
        raise GanutilsError("kl_monte_carlo needs n_samples >= 2 to estimate its standard error")
    z = reparameterize(mu.expand(n_samples, *mu.shape), logvar.expand(n_samples, *logvar.shape), generator)
    log_ratio = gaussian_log_density(z, mu, logvar) - standard_normal_log_density(z)  # (S, N)
    return log_ratio.mean(0), log_ratio.std(0) / math.sqrt(n_samples)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) of Bernoulli pixels, summed over all non-batch dimensions: (N,) nats.

    = -Σ_j [x_j log x̂_j + (1 - x_j) log(1 - x̂_j)] with x̂ = sigmoid(logits), the binary
    cross-entropy *with* its minus sign and both terms.
    """
    if logits.shape != x.shape:
        raise GanutilsError(f"decoder logits {tuple(logits.shape)} and targets {tuple(x.shape)} must have the same shape")
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its intensity in [0, 1]."""
    _check_unit_pixels(x)
    return torch.bernoulli(x, generator=generator)


def beta_vae_loss(recon_nll: torch.Tensor, kl: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Mean over the batch of recon_nll + β·KL (both per digit, summed over pixels / latent dims).

    β = 1 is the negative ELBO; β ≠ 1 is the β-VAE. Averaging the reconstruction over pixels
    while summing the KL would silently set β to 784 times its value.
    """
    beta = _check_beta(beta)
    if recon_nll.shape != kl.shape or recon_nll.dim() != 1:
        raise GanutilsError(f"recon_nll {tuple(recon_nll.shape)} and kl {tuple(kl.shape)} must both be per-digit vectors (N,)")
    return (recon_nll + beta * kl).mean()


# ----------------------------------------------------------------------------- gradient estimators


ESTIMATORS = ("reparam", "score")


def gradient_samples(f, mu: torch.Tensor, logvar: torch.Tensor, n: int, estimator: str = "reparam",
                     generator: torch.Generator | None = None, baseline: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` single-sample estimates of ∇_μ and ∇_{log σ²} of E_{z~N(μ, σ²)}[f(z)], each (n, d).

    f maps a batch of latent points (n, d) to values (n,), one per row (no BatchNorm across rows).
    "reparam": z = μ + σε, gradient of f(z) through z (needs f differentiable).
    "score" (REINFORCE): f(z) ∇ log q(z), with ∇_μ log q = ε/σ and ∇_{log σ²} log q = (ε² - 1)/2;
    it needs only values of f, and ``baseline=True`` subtracts the leave-one-out mean of f
    (still unbiased). Both are unbiased; their variances are what notebook 06 compares.
    """
    _check_gaussian(mu, logvar)
    if mu.dim() != 1:
        raise GanutilsError(f"mu and logvar must be one latent point (d,), got shape {tuple(mu.shape)}")
    n = check_positive_int("n", n)
    if estimator not in ESTIMATORS:
        raise GanutilsError(f"unknown gradient estimator {estimator!r}: use one of {', '.join(ESTIMATORS)}")
    mu, logvar = mu.detach(), logvar.detach()
    sigma = torch.exp(0.5 * logvar)
    eps = torch.randn(n, len(mu), generator=generator, device=mu.device, dtype=mu.dtype)
    if estimator == "reparam":
        z = (mu + sigma * eps).requires_grad_(True)
        values = _values(f, z, n)
        (grad_z,) = torch.autograd.grad(values.sum(), z)
        return grad_z, grad_z * eps * sigma * 0.5
    with torch.no_grad():
        values = _values(f, mu + sigma * eps, n)
        if baseline:
            if n < 2:
                raise GanutilsError("the leave-one-out baseline needs n >= 2 samples")
            values = values - (values.sum() - values) / (n - 1)
        return values[:, None] * eps / sigma, values[:, None] * 0.5 * (eps.pow(2) - 1)


def _values(f, z: torch.Tensor, n: int) -> torch.Tensor:
    values = f(z)
    if not torch.is_tensor(values) or values.shape != (n,):
        raise GanutilsError(f"f must map latent points (n, d) to one value per point (n,), got {getattr(values, 'shape', type(values))}")
    return values
