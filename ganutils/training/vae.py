"""The variational autoencoder (Kingma & Welling 2014): the likelihood model notebook 06 sets beside the GAN.

A VAE is a *directed* latent-variable model: draw z ~ p(z) = N(0, I), then x ~ p_θ(x|z),
whose parameters a decoder network outputs (not an undirected graphical model: sampling is
ancestral, z first, then x). The encoder q_φ(z|x) = N(μ(x), diag σ²(x))
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

import torch
from torch import nn

from ..config import GanutilsError, check_positive_int, resolve_device, seeded
from ..data.samplers import TensorSampler
from ..losses.elbo import _check_beta, _check_unit_pixels, bernoulli_nll, beta_vae_loss, kl_standard_normal, reparameterize
from ..nets.vae import IMAGE_SHAPE, make_nets
from .loop import train


class VAE:
    """Encoder, decoder, one Adam optimizer and the β-VAE loss; ``step(sample)`` is one training step.

    Works with ``ganutils.training.train`` like a GAN: ``sample()`` returns ``(x,)`` or
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
    if not torch.is_tensor(images) or images.dim() != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise GanutilsError(f"train_vae needs MNIST images (N, 1, 28, 28), got {getattr(images, 'shape', type(images))}")
    _check_unit_pixels(images, "training images")
    with seeded(seed):
        encoder, decoder = make_nets(arch, z_dim, hidden)
    model = VAE(encoder, decoder, beta=beta, lr=lr, binarize=binarize, device=device, seed=seed)
    sample = TensorSampler(images, batch_size=batch_size, seed=seed, device=model.device)
    history = train(model, sample, steps=steps, checkpoint=checkpoint, snapshot_every=snapshot_every, desc=desc)
    return model, history
