"""How good is a VAE: held-out negative ELBO and the importance-weighted bound (IWAE, Burda et al. 2016),
active latent units, and how well the latent codes separate the classes (k-NN accuracy).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..config import GanutilsError, check_positive_int
from ..losses.elbo import (
    _check_unit_pixels,
    bernoulli_nll,
    gaussian_log_density,
    kl_per_dimension,
    reparameterize,
    standard_normal_log_density,
)
from ..nets.utils import eval_mode

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016: a unit is active if Var_x(E_q[z_u]) > 0.01


def active_units(mu: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    """(number of active latent units, Var_x(μ_u(x)) per unit): a unit is active if its posterior
    mean varies across digits by more than ``threshold`` (Burda et al. 2016). A collapsed unit's
    posterior equals the prior for every digit: the decoder ignores it."""
    if mu.dim() != 2 or len(mu) < 2:
        raise GanutilsError(f"active_units needs posterior means of shape (N >= 2, z_dim), got {tuple(mu.shape)}")
    var = mu.double().var(0)
    return int((var > threshold).sum()), var.float()


@torch.no_grad()
def evaluate(vae, images: torch.Tensor, *, iw_samples: int = 0, seed: int = 0, batch_size: int = 500) -> dict:
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
    recon, kl, kl_dims, mus, iwae = [], [], [], [], []
    with eval_mode(vae.encoder, vae.decoder):
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


def _iwae_batch(vae, x, mu, logvar, k: int, gen, chunk: int = 50) -> torch.Tensor:
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
