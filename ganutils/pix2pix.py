"""Pix2pix (Isola et al. 2017): a U-Net generator, a PatchGAN discriminator that sees the input, L1 + cGAN.

- ``UNetGenerator``: an encoder of 4x4 stride-2 convs down to 1x1, a mirrored decoder, and skip
  connections that concatenate each encoder layer to its mirror (``skips=False`` removes them: a
  plain encoder-decoder, for the ablation). Dropout (p = 0.5) in the innermost decoder layers is
  the only noise source and stays on at test time (``Pix2Pix.translate``). ``upsample`` picks
  ConvTranspose (the paper) or resize-then-conv (no checkerboard at initialisation, Odena et al. 2016).
- ``PatchDiscriminator``: D(y, x) scores the pair (output y, input x) with a fully convolutional
  stack whose every output unit sees one patch (70x70 for ``n_layers=3``; see ``receptive_field``).
  The condition of this cGAN is the input image itself, concatenated to the judged image.
- ``Pix2Pix``: one training iteration for the loss modes "l1", "cgan" and "l1+cgan"
  (L_cGAN + λ·L1, λ = 100), Adam(2e-4, β1 = 0.5), D's objective halved; ``ganutils.train.train``
  trains it (progress bar, checkpoints with exact resume, NaN guard).

Images are (N, C, H, W) in [-1, 1]; H = W must be a power of two >= 8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import GanutilsError, check_positive_int, resolve_device
from .gan import make_optimizer
from .nets import init_dcgan_weights

LOSS_MODES = ("l1", "cgan", "l1+cgan")
UPSAMPLE = ("convtranspose", "resize")


def unet_depth(size: int) -> int:
    """Number of stride-2 levels that take a ``size`` x ``size`` image down to 1x1 (log2 of the size)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8 or size & (size - 1):
        raise GanutilsError(f"image size must be a power of two >= 8 (the U-Net halves it down to 1x1), got {size!r}: resize to e.g. 32, 64 or 256")
    return size.bit_length() - 1


def _up(in_ch: int, out_ch: int, mode: str, bias: bool) -> nn.Module:
    if mode == "convtranspose":
        return nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=bias)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=bias))


class UNetGenerator(nn.Module):
    """x (N, in_channels, S, S) -> y (N, out_channels, S, S) in [-1, 1], S a power of two.

    Encoder: log2(S) 4x4 stride-2 convs (LeakyReLU 0.2, BatchNorm except on the first and the
    innermost), widths width, 2·width, ... capped at max_mult·width (8 in the paper). Decoder: ReLU,
    up-convolution, BatchNorm, Dropout(0.5) in the ``n_dropout`` innermost layers (the paper's
    CD512-CD512-CD512; its reference code leaves the innermost one out); with ``skips`` each
    decoder layer's output is concatenated with its mirrored encoder layer's output.
    """

    def __init__(self, size: int, in_channels: int = 3, out_channels: int = 3, width: int = 64, *, max_mult: int = 8,
                 skips: bool = True, n_dropout: int = 3, dropout: float = 0.5, upsample: str = "convtranspose"):
        super().__init__()
        if upsample not in UPSAMPLE:
            raise GanutilsError(f"unknown upsample {upsample!r}: use 'convtranspose' (the paper) or 'resize' (resize-then-conv)")
        if not 0 <= dropout < 1:
            raise GanutilsError(f"dropout must be in [0, 1), got {dropout!r}")
        self.size, self.depth = size, unet_depth(size)
        self.in_channels, self.out_channels = check_positive_int("in_channels", in_channels), check_positive_int("out_channels", out_channels)
        width = check_positive_int("width", width)
        self.skips, self.upsample = bool(skips), upsample
        max_mult = check_positive_int("max_mult", max_mult)
        widths = [width * min(2**i, max_mult) for i in range(self.depth)]  # encoder output widths, outermost first
        self.down = nn.ModuleList()
        prev = in_channels
        for i, w in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            norm = 0 < i < self.depth - 1
            layers.append(nn.Conv2d(prev, w, 4, 2, 1, bias=not norm))
            if norm:
                layers.append(nn.BatchNorm2d(w))
            self.down.append(nn.Sequential(*layers))
            prev = w
        self.up = nn.ModuleList()
        n_dropout = min(int(n_dropout), self.depth - 1) if dropout > 0 else 0
        for j in range(self.depth):  # j = 0 is the innermost decoder layer
            i = self.depth - 1 - j  # the encoder level it mirrors
            in_ch = widths[i] * (2 if self.skips and j > 0 else 1)
            if i == 0:  # outermost: back to the image
                self.up.append(nn.Sequential(nn.ReLU(), _up(in_ch, out_channels, upsample, bias=True), nn.Tanh()))
            else:
                layers = [nn.ReLU(), _up(in_ch, widths[i - 1], upsample, bias=False), nn.BatchNorm2d(widths[i - 1])]
                if j < n_dropout:
                    layers.append(nn.Dropout(dropout))
                self.up.append(nn.Sequential(*layers))
        self.n_dropout = n_dropout
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-2:] != (self.size, self.size):
            raise GanutilsError(
                f"UNetGenerator built for (N, {self.in_channels}, {self.size}, {self.size}) got {tuple(x.shape)}: "
                "resize the images or build the generator for their size"
            )
        features = []
        for layer in self.down:
            x = layer(x)
            features.append(x)
        x = self.up[0](features[-1])
        for j, layer in enumerate(self.up[1:], start=1):
            skip = features[self.depth - 1 - j]
            x = layer(torch.cat([x, skip], 1) if self.skips else x)
        return x


class PatchDiscriminator(nn.Module):
    """D(y, x) -> a map of logits, one per patch: the pix2pix PatchGAN conditioned on the input x.

    ``n_layers`` 4x4 stride-2 convs (widths width, 2·width, ... capped at 8·width), one 4x4 stride-1
    conv, a 4x4 stride-1 conv to one channel; LeakyReLU(0.2), BatchNorm except on the first layer.
    ``n_layers=3`` is the paper's 70x70 PatchGAN. With ``cond_channels=0`` it is unconditional.
    """

    def __init__(self, in_channels: int = 3, cond_channels: int = 3, width: int = 64, n_layers: int = 3, norm: str | None = "batch"):
        super().__init__()
        if norm not in ("batch", None):
            raise GanutilsError(f"unknown norm {norm!r}: use 'batch' or None")
        self.in_channels, self.cond_channels = check_positive_int("in_channels", in_channels), int(cond_channels)
        n_layers, width = check_positive_int("n_layers", n_layers), check_positive_int("width", width)
        self.n_layers = n_layers
        layers: list[nn.Module] = [nn.Conv2d(in_channels + self.cond_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        prev = width
        for i in range(1, n_layers + 1):
            w = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers.append(nn.Conv2d(prev, w, 4, stride, 1, bias=norm is None))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2))
            prev = w
        layers.append(nn.Conv2d(prev, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, y: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        if (x is None) != (self.cond_channels == 0):
            raise GanutilsError(
                f"this PatchDiscriminator has cond_channels={self.cond_channels}: "
                + ("call D(output, input)" if self.cond_channels else "call D(output) without a condition")
            )
        return self.net(y if x is None else torch.cat([y, x], 1))


def with_test_dropout(G: nn.Module, dropout: bool = True):
    """Context manager: G in eval mode (BatchNorm uses running statistics) with its Dropout layers on or off."""
    return _TestMode(G, dropout)


class _TestMode:
    def __init__(self, G: nn.Module, dropout: bool):
        self.G, self.dropout = G, dropout

    def __enter__(self):
        self.was_training = self.G.training
        self.G.eval()
        for m in self.G.modules():
            if isinstance(m, nn.Dropout):
                m.train(self.dropout)
        return self.G

    def __exit__(self, *exc):
        self.G.train(self.was_training)
        return False


class Pix2Pix:
    """G, D, their optimizers and the loss mode; ``step(sample)`` is one training iteration.

    ``sample()`` returns an (input, target) batch. loss: "l1" (G alone, no D), "cgan" (the
    adversarial term alone) or "l1+cgan" (L_cGAN + ``lam``·L1, the paper's λ = 100). The adversarial
    terms are the non-saturating BCE on D's patch logits; D's loss is halved as in the paper.
    Dropout draws from torch's global RNG, which ``train``'s checkpoints save, so resumes are exact.
    """

    def __init__(self, G: nn.Module, D: nn.Module | None = None, *, loss: str = "l1+cgan", lam: float = 100.0,
                 lr_g: float = 2e-4, lr_d: float = 2e-4, betas=(0.5, 0.999), snapshot_inputs: torch.Tensor | None = None,
                 device=None):
        if loss not in LOSS_MODES:
            raise GanutilsError(f"unknown pix2pix loss {loss!r}: use one of {', '.join(LOSS_MODES)}")
        self.loss = loss
        self.uses_gan, self.uses_l1 = "cgan" in loss, "l1" in loss
        if self.uses_gan and D is None:
            raise GanutilsError(f"loss {loss!r} needs a discriminator: pass D=PatchDiscriminator(...)")
        if not lam > 0:
            raise GanutilsError(f"lam (the L1 weight) must be > 0, got {lam!r}")
        self.lam = float(lam)
        self.device = resolve_device(device)
        self.G = G.to(self.device)
        self.D = D.to(self.device) if D is not None and self.uses_gan else None
        self.opt_g = make_optimizer(self.G.parameters(), "adam", lr_g, betas)
        self.opt_d = make_optimizer(self.D.parameters(), "adam", lr_d, betas) if self.D is not None else None
        self.snapshot_inputs = snapshot_inputs

    # ------------------------------------------------------------------ one iteration
    def step(self, sample) -> dict[str, torch.Tensor]:
        x, y = (t.to(self.device) for t in sample())
        fake = self.G(x)
        out: dict[str, torch.Tensor] = {}
        if self.uses_gan:
            real_logits, fake_logits = self.D(y, x), self.D(fake.detach(), x)
            d_loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            out.update(d_loss=d_loss.detach(), d_real=torch.sigmoid(real_logits.detach()).mean(),
                       d_fake=torch.sigmoid(fake_logits.detach()).mean())
        g_loss = torch.zeros((), device=self.device)
        if self.uses_gan:
            self.D.requires_grad_(False)  # G's update needs gradients w.r.t. D's input, not its weights
            try:
                logits = self.D(fake, x)
            finally:
                self.D.requires_grad_(True)
            g_gan = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            g_loss = g_loss + g_gan
            out["g_gan"] = g_gan.detach()
        l1 = F.l1_loss(fake, y)
        if self.uses_l1:
            g_loss = g_loss + self.lam * l1
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        out.update(g_loss=g_loss.detach(), l1=l1.detach())
        return out

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def translate(self, x: torch.Tensor, dropout: bool = True) -> torch.Tensor:
        """G(x) on the CPU, BatchNorm on running statistics, dropout on (the paper's test-time noise) or off."""
        with with_test_dropout(self.G, dropout):
            return self.G(x.to(self.device)).cpu()

    def snapshot(self) -> torch.Tensor:
        """G(snapshot_inputs) with dropout off: the same inputs every time, so snapshots show G changing."""
        if self.snapshot_inputs is None:
            raise GanutilsError("this Pix2Pix has no snapshot_inputs: pass snapshot_inputs=<a batch of inputs> to take snapshots")
        return self.translate(self.snapshot_inputs, dropout=False)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        state = {"loss": self.loss, "G": self.G.state_dict(), "opt_g": self.opt_g.state_dict()}
        if self.D is not None:
            state.update(D=self.D.state_dict(), opt_d=self.opt_d.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("loss") != self.loss:
            raise GanutilsError(
                f"this checkpoint was trained with loss {state.get('loss')!r} but the model uses {self.loss!r}: "
                "load it into a Pix2Pix with the same loss, or train from scratch with another checkpoint path"
            )
        self.G.load_state_dict(state["G"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.D is not None:
            self.D.load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_d"])


def make_pix2pix(size: int, loss: str = "l1+cgan", *, width: int = 64, max_mult: int = 8, d_width: int = 64, d_layers: int = 3,
                 skips: bool = True, upsample: str = "convtranspose", lam: float = 100.0, lr: float = 2e-4,
                 in_channels: int = 3, out_channels: int = 3, snapshot_inputs: torch.Tensor | None = None, device=None) -> Pix2Pix:
    """A U-Net + PatchGAN pix2pix for ``size`` x ``size`` images (the defaults are the paper's 256x256 settings, scaled by size)."""
    G = UNetGenerator(size, in_channels, out_channels, width, max_mult=max_mult, skips=skips, upsample=upsample)
    D = PatchDiscriminator(out_channels, in_channels, d_width, d_layers) if "cgan" in loss else None
    return Pix2Pix(G, D, loss=loss, lam=lam, lr_g=lr, lr_d=lr, snapshot_inputs=snapshot_inputs, device=device)


def plot_rows(rows: dict, n: int = 8, scale: float = 0.9):
    """One labelled row of ``n`` images per entry of ``rows`` (name -> (N, C, H, W) in [-1, 1])."""
    import matplotlib.pyplot as plt

    from .plotting import image_grid

    fig, axes = plt.subplots(len(rows), 1, figsize=(n * scale, len(rows) * scale * 1.05), squeeze=False)
    for ax, (name, images) in zip(axes[:, 0], rows.items()):
        image_grid(images[:n], nrow=n, ax=ax)
        ax.text(-0.01, 0.5, name, transform=ax.transAxes, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- checkerboard artefacts


def checkerboard_energy(images: torch.Tensor) -> torch.Tensor:
    """Per image (N,): the share of its spectral energy (mean removed) at the period-2 frequencies.

    A stride-2 up-convolution computes even and odd output pixels with different kernel taps, so
    its output carries a pattern that repeats every 2 pixels: energy at the frequencies (H/2, 0),
    (0, W/2) and (H/2, W/2) of the 2-D DFT. 1 for a pure checkerboard or 1-pixel stripes, 0 for a
    flat image, near 0 for smooth ones (and exactly 0 for the period-4 stripes of ``StripedShapes``).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[-1] % 2 or images.shape[-2] % 2:
        raise GanutilsError(f"images must be an (N, C, H, W) tensor with even H and W, got {getattr(images, 'shape', type(images).__name__)}")
    x = images.detach().double().cpu()
    x = x - x.mean((-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs() ** 2
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    period2 = power[..., h, 0] + power[..., 0, w] + power[..., h, w]
    total = power.flatten(2).sum(2)
    return (period2.sum(1) / total.sum(1).clamp_min(1e-12)).float()

