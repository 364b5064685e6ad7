"""The variational autoencoder (Kingma & Welling 2014): the likelihood model notebook 05 sets beside the GAN.

A VAE is a *directed* latent-variable model: draw z ~ p(z) = N(0, I), then x ~ p_θ(x|z),
whose parameters a decoder network outputs (seed 002 calls it an undirected graphical model;
it is not: sampling is ancestral, z first, then x). The encoder q_φ(z|x) = N(μ(x), diag σ²(x))
is an approximate-inference network, and both are trained by maximising the evidence lower bound

    log p_θ(x) >= ELBO(x) = E_q[log p_θ(x|z)] - KL(q_φ(z|x) || p(z)).

Likelihood: a Bernoulli per pixel on pixels in [0, 1] (``scale="unit"`` MNIST). With
``binarize=True`` (the default) every training batch is *dynamically binarised*: each pixel is
drawn afresh as Bernoulli(intensity) every time the digit is seen; held-out digits are binarised
once with a fixed seed. That is the setting of the published anchor (about 86-87 nats for a
VAE with one stochastic layer, Burda et al. 2016), which was trained on 60,000 digits.
With ``binarize=False`` the grey pixels are used as Bernoulli targets: the loss is still the
familiar BCE, but it is not the log-likelihood of a distribution over grey images, so its nats
are not comparable with the literature.

Every log-likelihood here is in nats, summed over the 784 pixels (and over latent dimensions
for the KL) per digit; batch losses are means over digits. Weighting the KL by β is the β-VAE
(Higgins et al. 2017), a hyperparameter of the objective, not a "λ balancing two losses".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import GanutilsError, check_positive_int, resolve_device
from .sharpness import laplacian_variance  # noqa: F401  (re-exported: vae.laplacian_variance)

LOG_2PI = math.log(2 * math.pi)
IMAGE_SHAPE = (1, 28, 28)
ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016: a unit is active if Var_x(E_q[z_u]) > 0.01


# ----------------------------------------------------------------------------- checks


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


# ----------------------------------------------------------------------------- the pieces of the ELBO


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

    Seed 002 writes the KL as a *sum* over z; z is continuous, so it is an integral, which
    this estimates by sampling and the closed form computes exactly.
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
    cross-entropy *with* its minus sign (seed 002 drops it, and the (1 - x) term).
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


# ----------------------------------------------------------------------------- networks


class MLPEncoder(nn.Module):
    """x (N, 1, 28, 28) -> (μ, log σ²), each (N, z_dim). Predicting log σ² keeps σ positive without a constraint."""

    def __init__(self, z_dim: int = 20, hidden: int = 400, depth: int = 1):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        layers, width = [], math.prod(IMAGE_SHAPE)
        for _ in range(check_positive_int("depth", depth)):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(nn.Flatten(), *layers)
        self.head = nn.Linear(width, 2 * self.z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z (N, z_dim) -> Bernoulli logits (N, 1, 28, 28); sigmoid(logits) is the mean image."""

    def __init__(self, z_dim: int = 20, hidden: int = 400, depth: int = 1):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        layers, width = [], self.z_dim
        for _ in range(check_positive_int("depth", depth)):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, math.prod(IMAGE_SHAPE)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *IMAGE_SHAPE)


class ConvEncoder(nn.Module):
    """28 -> 14 -> 7 strided convolutions, then (μ, log σ²). No BatchNorm: each digit is encoded on its own."""

    def __init__(self, z_dim: int = 20, width: int = 32):
        super().__init__()
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 2 * self.z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """z -> 7x7 -> 14 -> 28 transposed convolutions (the DCGAN generator's layout without BatchNorm) -> logits."""

    def __init__(self, z_dim: int = 20, width: int = 32):
        super().__init__()
        self.z_dim, self.width = check_positive_int("z_dim", z_dim), width
        self.fc = nn.Sequential(nn.Linear(self.z_dim, 2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # 14 -> 28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(len(z), 2 * self.width, 7, 7))


ARCHS = ("mlp", "conv")


def make_nets(arch: str = "mlp", z_dim: int = 20, hidden: int | None = None) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder): "mlp" (``hidden`` units, default 400, one hidden layer each) or "conv" (``hidden`` channels, default 32)."""
    if arch == "mlp":
        return MLPEncoder(z_dim, hidden or 400), MLPDecoder(z_dim, hidden or 400)
    if arch == "conv":
        return ConvEncoder(z_dim, hidden or 32), ConvDecoder(z_dim, hidden or 32)
    raise GanutilsError(f"unknown VAE architecture {arch!r}: use one of {', '.join(ARCHS)}")


# ----------------------------------------------------------------------------- the model


class VAE:
    """Encoder, decoder, one Adam optimizer and the β-VAE loss; ``step(sample)`` is one training step.

    Works with ``ganutils.train.train`` like a GAN: ``sample()`` returns ``(x,)`` or
    ``(x, labels)`` with x in [0, 1]; ``step`` returns {"loss", "recon", "kl"} (per-digit means,
    nats). ``binarize=True`` binarises every batch afresh (dynamic binarisation).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, *, beta: float = 1.0, lr: float = 1e-3,
                 binarize: bool = True, snapshot_size: int = 64, device=None, seed: int = 0):
        if getattr(encoder, "z_dim", None) != getattr(decoder, "z_dim", None) or getattr(encoder, "z_dim", None) is None:
            raise GanutilsError(
                f"encoder and decoder must agree on z_dim (got {getattr(encoder, 'z_dim', None)} and "
                f"{getattr(decoder, 'z_dim', None)}): build both with the same z_dim, e.g. vae.make_nets('mlp', z_dim=20)"
            )
        if not lr > 0:
            raise GanutilsError(f"learning rate must be > 0, got {lr!r}")
        self.device = resolve_device(device)
        self.encoder, self.decoder = encoder.to(self.device), decoder.to(self.device)
        self.z_dim = encoder.z_dim
        self.beta = _check_beta(beta)
        self.binarize = bool(binarize)
        self.opt = torch.optim.Adam(list(self.encoder.parameters()) + list(self.decoder.parameters()), lr=lr)
        self.noise = torch.Generator(device=self.device).manual_seed(seed)
        self.fixed_z = torch.randn(snapshot_size, self.z_dim, generator=self.noise, device=self.device)
        self._checked = False

    # ------------------------------------------------------------------ the loss
    def loss_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(recon_nll, kl, mu) per digit for targets ``x`` (already binarised if wanted), one z sample each.

        Encoder, sampler and decoder form one graph: the reconstruction is scored on
        decoder(z) where z is the encoder's reparameterised sample.
        """
        mu, logvar = self.encoder(x)
        z = reparameterize(mu, logvar, self.noise)
        return bernoulli_nll(self.decoder(z), x), kl_standard_normal(mu, logvar), mu

    def step(self, sample) -> dict[str, torch.Tensor]:
        x = sample()[0].to(self.device)
        if not self._checked:
            _check_unit_pixels(x, "training images")
            self._checked = True
        if self.binarize:
            x = torch.bernoulli(x, generator=self.noise)
        recon, kl, _ = self.loss_terms(x)
        loss = beta_vae_loss(recon, kl, self.beta)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "recon": recon.detach().mean(), "kl": kl.detach().mean()}

    # ------------------------------------------------------------------ using it
    @torch.no_grad()
    def encode(self, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x) for images in [0, 1], on the CPU."""
        outs = [self.encoder(x[i : i + batch_size].to(self.device)) for i in range(0, len(x), batch_size)]
        return torch.cat([m for m, _ in outs]).cpu(), torch.cat([v for _, v in outs]).cpu()

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean image sigmoid(decoder(z)) in [0, 1], on the CPU."""
        return torch.sigmoid(self.decoder(z.to(self.device))).cpu()

    @torch.no_grad()
    def generate(self, n: int | None = None, z: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the model: z ~ N(0, I) decoded to mean images in [0, 1] (not Bernoulli draws)."""
        if z is None:
            z = torch.randn(check_positive_int("n", n), self.z_dim, generator=self.noise, device=self.device)
        return self.decode(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(μ(x)): the reconstruction at the posterior mean, in [0, 1]."""
        return self.decode(self.encode(x)[0])

    def snapshot(self) -> torch.Tensor:
        """Decoded fixed_z: the same latent points every time, so snapshots show the decoder changing."""
        return self.generate(z=self.fixed_z)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        return {"encoder": self.encoder.state_dict(), "decoder": self.decoder.state_dict(),
                "opt": self.opt.state_dict(), "noise": self.noise.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.encoder.load_state_dict(state["encoder"])
        self.decoder.load_state_dict(state["decoder"])
        self.opt.load_state_dict(state["opt"])
        self.noise.set_state(state["noise"])


def train_vae(images: torch.Tensor, *, steps: int, arch: str = "mlp", z_dim: int = 20, hidden: int | None = None,
              beta: float = 1.0, lr: float = 1e-3, batch_size: int = 100, binarize: bool = True, seed: int = 0,
              device=None, checkpoint=None, snapshot_every: int | None = None, desc: str = "vae"):
    """Build a VAE (``make_nets``), train it on ``images`` in [0, 1] with the shared loop; returns (model, history).

    Seeds the initialisation, the sampler and the model's noise from ``seed``, so the same call
    gives the same model; ``checkpoint`` (e.g. ``gu.checkpoint_path("vae", ...)``) resumes a finished run.
    """
    from . import data, train

    if not torch.is_tensor(images) or images.dim() != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise GanutilsError(f"train_vae needs MNIST images (N, 1, 28, 28), got {getattr(images, 'shape', type(images))}")
    _check_unit_pixels(images, "training images")
    torch.manual_seed(seed)
    encoder, decoder = make_nets(arch, z_dim, hidden)
    model = VAE(encoder, decoder, beta=beta, lr=lr, binarize=binarize, device=device, seed=seed)
    sample = data.TensorSampler(images, batch_size=batch_size, seed=seed, device=model.device)
    history = train.train(model, sample, steps=steps, checkpoint=checkpoint, snapshot_every=snapshot_every, desc=desc)
    return model, history


# ----------------------------------------------------------------------------- evaluation


def active_units(mu: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    """(number of active latent units, Var_x(μ_u(x)) per unit): a unit is active if its posterior
    mean varies across digits by more than ``threshold`` (Burda et al. 2016). A collapsed unit's
    posterior equals the prior for every digit: the decoder ignores it."""
    if mu.dim() != 2 or len(mu) < 2:
        raise GanutilsError(f"active_units needs posterior means of shape (N >= 2, z_dim), got {tuple(mu.shape)}")
    var = mu.double().var(0)
    return int((var > threshold).sum()), var.float()


@torch.no_grad()
def evaluate(vae: VAE, images: torch.Tensor, *, iw_samples: int = 0, seed: int = 0, batch_size: int = 500) -> dict:
    """Held-out scores of ``vae`` on ``images`` in [0, 1] (nats per digit, summed over pixels).

    Returns nelbo (= recon + kl, one z sample per digit), recon, kl, kl_per_dim (list),
    active_units, and with ``iw_samples`` = k > 0 the importance-weighted bound
    iwae = -E[log (1/k) Σ_i p(x, z_i) / q(z_i|x)] (Burda et al. 2016): -log p(x) <= iwae <= nelbo in expectation.
    Targets are binarised once with ``seed`` when the model was trained binarised.
    """
    _check_unit_pixels(images, "evaluation images")
    if len(images) < 2:
        raise GanutilsError("evaluate needs at least 2 images (active units compare digits)")
    iw_samples = int(iw_samples)
    if iw_samples < 0:
        raise GanutilsError(f"iw_samples must be >= 0 (0: no importance-weighted bound), got {iw_samples}")
    gen = torch.Generator(device=vae.device).manual_seed(seed)
    was_training = (vae.encoder.training, vae.decoder.training)
    vae.encoder.eval()
    vae.decoder.eval()
    recon, kl, kl_dims, mus, iwae = [], [], [], [], []
    try:
        for i in range(0, len(images), batch_size):
            x = images[i : i + batch_size].to(vae.device)
            if vae.binarize:
                x = torch.bernoulli(x, generator=gen)
            mu, logvar = vae.encoder(x)
            z = reparameterize(mu, logvar, gen)
            recon.append(bernoulli_nll(vae.decoder(z), x).cpu())
            kl_dims.append(kl_per_dimension(mu, logvar).cpu())
            mus.append(mu.cpu())
            if iw_samples:
                iwae.append(_iwae_batch(vae, x, mu, logvar, iw_samples, gen).cpu())
    finally:
        vae.encoder.train(was_training[0])
        vae.decoder.train(was_training[1])
    recon, kl_dims, mus = torch.cat(recon), torch.cat(kl_dims), torch.cat(mus)
    kl = kl_dims.sum(1)
    n_active, _ = active_units(mus)
    out = {
        "nelbo": (recon + kl).mean().item(),
        "recon": recon.mean().item(),
        "kl": kl.mean().item(),
        "kl_per_dim": kl_dims.mean(0).tolist(),
        "active_units": n_active,
        "n": len(images),
        "binarized": vae.binarize,
    }
    if iw_samples:
        out["iwae"] = torch.cat(iwae).mean().item()
        out["iw_samples"] = iw_samples
    return out


def _iwae_batch(vae: VAE, x, mu, logvar, k: int, gen, chunk: int = 50) -> torch.Tensor:
    """-log (1/k) Σ_i exp(log p(x|z_i) + log p(z_i) - log q(z_i|x)) per digit, in chunks of samples."""
    log_w = []
    for start in range(0, k, chunk):
        s = min(chunk, k - start)
        z = reparameterize(mu.expand(s, *mu.shape), logvar.expand(s, *logvar.shape), gen)  # (s, B, d)
        logits = vae.decoder(z.reshape(-1, mu.shape[1])).view(s, len(x), *x.shape[1:])
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").flatten(2).sum(2)
        log_w.append(log_px + standard_normal_log_density(z) - gaussian_log_density(z, mu, logvar))
    return -(torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k))


def latent_knn_accuracy(train_codes: torch.Tensor, train_labels: torch.Tensor, test_codes: torch.Tensor,
                        test_labels: torch.Tensor, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier on latent codes: how well the classes separate
    in a latent space that was learnt without labels."""
    k = check_positive_int("k", k)
    if train_codes.dim() != 2 or test_codes.dim() != 2 or train_codes.shape[1] != test_codes.shape[1]:
        raise GanutilsError(f"codes must be (N, d) with the same d, got {tuple(train_codes.shape)} and {tuple(test_codes.shape)}")
    if len(train_codes) != len(train_labels) or len(test_codes) != len(test_labels) or k > len(train_codes):
        raise GanutilsError("each code set needs one label per code, and k must not exceed the number of training codes")
    train_codes, test_codes = train_codes.float().cpu(), test_codes.float().cpu()
    correct = 0
    for i in range(0, len(test_codes), 512):  # chunks keep the distance matrix small with 60,000 training codes
        nearest = torch.cdist(test_codes[i : i + 512], train_codes).topk(k, dim=1, largest=False).indices
        pred = torch.mode(train_labels.cpu()[nearest], dim=1).values
        correct += int((pred == test_labels.cpu()[i : i + 512]).sum())
    return correct / len(test_codes)


# ----------------------------------------------------------------------------- gradient estimators


ESTIMATORS = ("reparam", "score")


def gradient_samples(f, mu: torch.Tensor, logvar: torch.Tensor, n: int, estimator: str = "reparam",
                     generator: torch.Generator | None = None, baseline: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` single-sample estimates of ∇_μ and ∇_{log σ²} of E_{z~N(μ, σ²)}[f(z)], each (n, d).

    f maps a batch of latent points (n, d) to values (n,), one per row (no BatchNorm across rows).
    "reparam": z = μ + σε, gradient of f(z) through z (needs f differentiable).
    "score" (REINFORCE): f(z) ∇ log q(z), with ∇_μ log q = ε/σ and ∇_{log σ²} log q = (ε² - 1)/2;
    it needs only values of f, and ``baseline=True`` subtracts the leave-one-out mean of f
    (still unbiased). Both are unbiased; their variances are what notebook 05 compares.
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


# ----------------------------------------------------------------------------- sharpness and latent maps


def sharpness(images, scale: str = "tanh") -> float:
    """Mean Laplacian variance over ``images`` (``ganutils.sharpness.laplacian_variance``); real digits set the reference."""
    return laplacian_variance(images, scale).mean().item()


def normal_quantile_grid(n: int, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """(n*n, 2) latent points on the N(0, 1) quantiles linspace(low, high, n) in each axis, row-major, y decreasing.

    Equal steps in probability rather than in z, so every cell of the map covers the same prior mass.
    """
    n = check_positive_int("n", n)
    if not 0 < low < high < 1:
        raise GanutilsError(f"quantiles must satisfy 0 < low < high < 1, got low={low}, high={high}")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(low, high, n))
    ys, xs = torch.meshgrid(q.flip(0), q, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def plot_latent_map(vae: VAE, n: int = 15, ax=None, title: str | None = None):
    """Decode a quantile grid of a 2-D latent space into one image (the classic VAE 'manifold' figure)."""
    import matplotlib.pyplot as plt

    if vae.z_dim != 2:
        raise GanutilsError(f"the latent map needs a 2-D latent space, this VAE has z_dim={vae.z_dim}: train one with z_dim=2")
    z = normal_quantile_grid(n)
    images = vae.decode(z).view(n, n, 28, 28).permute(0, 2, 1, 3).reshape(n * 28, n * 28)
    ax = ax or plt.subplots(figsize=(6, 6))[1]
    q = z[:n, 0]
    ax.imshow(images.numpy(), cmap="gray", extent=(-0.5, n - 0.5, -0.5, n - 0.5))
    ticks = [0, n // 2, n - 1]
    ax.set_xticks(ticks, [f"{q[i]:.2f}" for i in ticks])
    ax.set_yticks(ticks, [f"{q[i]:.2f}" for i in ticks])
    ax.set_xlabel("$z_1$ (N(0,1) quantiles 0.05 ... 0.95)")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_latent_scatter(mu: torch.Tensor, labels: torch.Tensor, ax=None, title: str | None = None, s: float = 4):
    """Posterior means of held-out digits in a 2-D latent space, coloured by digit class."""
    import matplotlib.pyplot as plt

    if mu.dim() != 2 or mu.shape[1] != 2 or len(mu) != len(labels):
        raise GanutilsError(f"plot_latent_scatter needs means (N, 2) and N labels, got {tuple(mu.shape)} and {len(labels)} labels")
    ax = ax or plt.subplots(figsize=(5, 5))[1]
    points = ax.scatter(mu[:, 0].numpy(), mu[:, 1].numpy(), c=labels.numpy(), cmap="tab10", s=s, vmin=-0.5, vmax=9.5)
    ax.figure.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("$\\mu_1(x)$")
    ax.set_ylabel("$\\mu_2(x)$")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax
