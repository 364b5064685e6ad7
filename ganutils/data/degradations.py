"""Image degradations for super-resolution: bicubic downsampling, and Real-ESRGAN's high-order model.

Real-ESRGAN (Wang et al. 2021) trains on synthetic low-resolution inputs made by the classical
degradation model (sec. 3.1, eq. 1), x = [(y * k) downsample_r + n]_JPEG, applied twice with
random parameters (sec. 3.2, eq. 2: x = (D_2 o D_1)(y), "second-order"), with sinc filters for
ringing and overshoot (sec. 3.3). The parameter ranges below are those of the authors' training
configuration (``options/train_realesrgan_x4plus.yml`` and ``realesrgan/data/realesrgan_dataset.py``
in xinntao/Real-ESRGAN). Two changes for 28x28 digits are named in ``REAL_ESRGAN_SMALL``.

Every function here takes images in [0, 1] (the range Real-ESRGAN uses), shaped (N, C, H, W),
and draws its randomness from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..config import GanutilsError, check_positive_int


def check_scale(size: int, scale: int) -> int:
    """``scale`` as an int that divides ``size``, or a clear error."""
    scale = check_positive_int("scale", scale)
    if size % scale:
        raise GanutilsError(f"scale factor {scale} does not divide the image size {size}: the low-resolution image would be "
                            f"{size / scale:.3g} pixels wide; use a scale that divides {size} (e.g. {', '.join(str(d) for d in range(2, size + 1) if size % d == 0)})")
    return scale


def _check_images(x: torch.Tensor, name: str = "images") -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
        raise GanutilsError(f"{name} must be a float tensor (N, C, H, W) in [0, 1], got "
                            f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}")
    return x


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """The classic SR benchmark degradation: bicubic downsampling by ``scale`` (antialiased, like MATLAB's imresize)."""
    _check_images(hr, "high-resolution images")
    h, w = hr.shape[-2:]
    s = check_scale(h, scale)
    check_scale(w, s)
    return F.interpolate(hr, size=(h // s, w // s), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)


def upsample(lr: torch.Tensor, scale: int, mode: str = "bicubic") -> torch.Tensor:
    """Plain interpolation back up by ``scale``: the baseline every SR network must beat."""
    extra = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(lr, scale_factor=check_positive_int("scale", scale), mode=mode, **extra).clamp(0, 1)


def jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """JPEG-compress and decode every image at ``quality`` (1..100) with Pillow's libjpeg bindings, 8 bits per channel."""
    import io

    import numpy as np
    from PIL import Image

    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or quality != int(quality) or not 1 <= quality <= 100:
        raise GanutilsError(f"JPEG quality must be a whole number from 1 to 100, got {quality!r}: "
                            "Real-ESRGAN draws it from 30..95")
    _check_images(images)
    if images.shape[1] not in (1, 3):
        raise GanutilsError(f"JPEG stores 1 (grey) or 3 (RGB) channels, got {images.shape[1]}")
    u8 = (images.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out = []
    for img in u8:
        buffer = io.BytesIO()
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(buffer, format="JPEG", quality=int(quality))
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
        out.append(torch.from_numpy(decoded.copy()).reshape(img.shape))
    return torch.stack(out).permute(0, 3, 1, 2).to(images.dtype).div_(255).to(images.device)


# ----------------------------------------------------------------------------- blur kernels

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")


def mixed_kernel(kind: str, size: int, sigma_x: float, sigma_y: float, theta: float, beta: float = 1.0) -> torch.Tensor:
    """A normalised (size, size) blur kernel (Real-ESRGAN sec. 3.1 "Blur"): Gaussian exp(-Q/2), generalized
    Gaussian exp(-Q^beta / 2) or plateau 1 / (1 + Q^beta), Q = c^T Sigma^-1 c, Sigma = R diag(sx^2, sy^2) R^T."""
    if kind not in KERNEL_TYPES:
        raise GanutilsError(f"unknown blur kernel {kind!r}: use one of {', '.join(KERNEL_TYPES)}")
    if size % 2 == 0 or size < 1:
        raise GanutilsError(f"blur kernel size must be odd and positive, got {size}")
    if kind.endswith("iso") and not kind.endswith("aniso"):
        sigma_y, theta = sigma_x, 0.0
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * xx + s * yy, -s * xx + c * yy  # coordinates in the kernel's rotated frame
    q = (u / sigma_x) ** 2 + (v / sigma_y) ** 2
    if kind.startswith("generalized"):
        k = torch.exp(-0.5 * q ** beta)
    elif kind.startswith("plateau"):
        k = 1 / (1 + q ** beta)
    else:
        k = torch.exp(-0.5 * q)
    return (k / k.sum()).float()


def sinc_kernel(size: int, omega_c: float) -> torch.Tensor:
    """The circular low-pass (2-D sinc) kernel k(i, j) = omega_c J1(omega_c r) / (2 pi r) (Real-ESRGAN sec. 3.3, eq. 4)."""
    if size % 2 == 0 or size < 1:
        raise GanutilsError(f"sinc kernel size must be odd and positive, got {size}")
    rr = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    yy, xx = torch.meshgrid(rr, rr, indexing="ij")
    r = torch.sqrt(xx ** 2 + yy ** 2)
    k = omega_c * torch.special.bessel_j1(omega_c * r) / (2 * math.pi * r.clamp(min=1e-12))
    k[size // 2, size // 2] = omega_c ** 2 / (4 * math.pi)  # the limit r -> 0
    return (k / k.sum()).float()


def filter2d(img: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve every channel of (N, C, H, W) ``img`` with one (k, k) kernel, reflect padding (as basicsr's filter2D)."""
    k = kernel.shape[-1]
    pad = k // 2
    n, c, h, w = img.shape
    if pad >= min(h, w):  # reflect padding needs pad < size: fall back to replicate on tiny images
        x = F.pad(img, (pad,) * 4, mode="replicate")
    else:
        x = F.pad(img, (pad,) * 4, mode="reflect")
    return F.conv2d(x, kernel.to(img).expand(c, 1, k, k), groups=c)


# ----------------------------------------------------------------------------- the high-order model


@dataclass(frozen=True)
class DegradationConfig:
    """Ranges of Real-ESRGAN's second-order degradation (the authors' x4plus training configuration)."""

    kernel_sizes: tuple = tuple(2 * v + 1 for v in range(3, 11))  # 7..21
    kernel_prob: tuple = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)  # over KERNEL_TYPES
    blur_sigma: tuple = (0.2, 3.0)
    blur_sigma2: tuple = (0.2, 1.5)
    betag_range: tuple = (0.5, 4.0)
    betap_range: tuple = (1.0, 2.0)
    sinc_prob: float = 0.1
    sinc_prob2: float = 0.1
    second_blur_prob: float = 0.8
    final_sinc_prob: float = 0.8
    sinc_cutoff_small: tuple = (math.pi / 3, math.pi)  # omega_c for kernels smaller than 13 (and the final sinc)
    sinc_cutoff_large: tuple = (math.pi / 5, math.pi)  # omega_c for kernels of 13 and more
    resize_prob: tuple = (0.2, 0.7, 0.1)  # up, down, keep
    resize_range: tuple = (0.15, 1.5)
    resize_prob2: tuple = (0.3, 0.4, 0.3)
    resize_range2: tuple = (0.3, 1.2)
    gaussian_noise_prob: float = 0.5
    noise_range: tuple = (1.0, 30.0)  # sigma on the 0..255 scale
    poisson_scale_range: tuple = (0.05, 3.0)
    gaussian_noise_prob2: float = 0.5
    noise_range2: tuple = (1.0, 25.0)
    poisson_scale_range2: tuple = (0.05, 2.5)
    jpeg_range: tuple = (30, 95)
    jpeg_range2: tuple = (30, 95)
    resize_modes: tuple = ("area", "bilinear", "bicubic")


REAL_ESRGAN = DegradationConfig()


def _uniform(g, lo, hi) -> float:
    return lo + (hi - lo) * torch.rand((), generator=g).item()


def _choice(g, options, probs=None):
    if probs is None:
        return options[int(torch.randint(len(options), (), generator=g))]
    return options[int(torch.multinomial(torch.tensor(probs, dtype=torch.float64), 1, generator=g))]


def random_kernel(g: torch.Generator, cfg: DegradationConfig, sigma_range, sinc_prob: float) -> torch.Tensor:
    size = _choice(g, cfg.kernel_sizes)
    if torch.rand((), generator=g).item() < sinc_prob:
        omega = _uniform(g, *(cfg.sinc_cutoff_small if size < 13 else cfg.sinc_cutoff_large))
        return sinc_kernel(size, omega)
    kind = _choice(g, KERNEL_TYPES, cfg.kernel_prob)
    beta = _uniform(g, *cfg.betag_range) if kind.startswith("generalized") else _uniform(g, *cfg.betap_range)
    return mixed_kernel(kind, size, _uniform(g, *sigma_range), _uniform(g, *sigma_range), _uniform(g, -math.pi, math.pi), beta)


def add_gaussian_noise(img: torch.Tensor, sigma: float, g: torch.Generator) -> torch.Tensor:
    """img + N(0, (sigma / 255)^2), clipped to [0, 1]."""
    return (img + torch.randn(img.shape, generator=g) * sigma / 255).clamp(0, 1)


def add_poisson_noise(img: torch.Tensor, scale: float, g: torch.Generator) -> torch.Tensor:
    """Shot noise as basicsr does it: quantise to 8 bits, count levels v (rounded up to a power of 2),
    draw Poisson(img * v) / v, add ``scale`` x (that - img), clip to [0, 1]."""
    x = (img * 255).round().clamp(0, 255) / 255
    levels = 2 ** math.ceil(math.log2(max(len(torch.unique(x)), 1)))
    noisy = torch.poisson(x * levels, generator=g) / levels
    return (x + scale * (noisy - x)).clamp(0, 1)


def _random_noise(img, g, gauss_prob, sigma_range, poisson_range):
    if torch.rand((), generator=g).item() < gauss_prob:
        return add_gaussian_noise(img, _uniform(g, *sigma_range), g)
    return add_poisson_noise(img, _uniform(g, *poisson_range), g)


def _random_resize(img, g, cfg, probs, rng, size=None):
    kind = _choice(g, ("up", "down", "keep"), probs)
    factor = _uniform(g, 1.0, rng[1]) if kind == "up" else _uniform(g, rng[0], 1.0) if kind == "down" else 1.0
    mode = _choice(g, cfg.resize_modes)
    if size is None:
        h, w = img.shape[-2:]
        out = (max(1, int(h * factor)), max(1, int(w * factor)))
    else:
        out = (max(1, int(size[0] * factor)), max(1, int(size[1] * factor)))
    return F.interpolate(img, size=out, mode=mode, **({} if mode == "area" else {"align_corners": False}))


def degrade_one(hr: torch.Tensor, scale: int, g: torch.Generator, cfg: DegradationConfig = REAL_ESRGAN) -> torch.Tensor:
    """Real-ESRGAN's second-order degradation of one (1, C, H, W) image in [0, 1] -> (1, C, H/scale, W/scale).

    Follows ``RealESRGANModel.feed_data`` of the authors' code: blur -> random resize -> noise -> JPEG,
    then (blur with prob. 0.8) -> random resize -> noise -> in random order [resize to the target
    size + sinc filter] and JPEG; finally clamp and round to 8 bits. (The unsharp-masking of the
    ground truth and the training-pair pool of that code are not reproduced.)
    """
    h, w = hr.shape[-2:]
    s = check_scale(h, scale)
    check_scale(w, s)
    x = hr
    # first degradation
    x = filter2d(x, random_kernel(g, cfg, cfg.blur_sigma, cfg.sinc_prob))
    x = _random_resize(x, g, cfg, cfg.resize_prob, cfg.resize_range)
    x = _random_noise(x, g, cfg.gaussian_noise_prob, cfg.noise_range, cfg.poisson_scale_range)
    x = jpeg(x.clamp(0, 1), round(_uniform(g, *cfg.jpeg_range)))
    # second degradation
    if torch.rand((), generator=g).item() < cfg.second_blur_prob:
        x = filter2d(x, random_kernel(g, cfg, cfg.blur_sigma2, cfg.sinc_prob2))
    x = _random_resize(x, g, cfg, cfg.resize_prob2, cfg.resize_range2, size=(h // s, w // s))
    x = _random_noise(x, g, cfg.gaussian_noise_prob2, cfg.noise_range2, cfg.poisson_scale_range2)
    if torch.rand((), generator=g).item() < cfg.final_sinc_prob:
        final = sinc_kernel(_choice(g, cfg.kernel_sizes), _uniform(g, *cfg.sinc_cutoff_small))
    else:
        final = None  # basicsr convolves with a pulse: no blur
    mode = _choice(g, cfg.resize_modes)
    quality = round(_uniform(g, *cfg.jpeg_range2))

    def resize_and_sinc(y):
        y = F.interpolate(y, size=(h // s, w // s), mode=mode, **({} if mode == "area" else {"align_corners": False}))
        return filter2d(y, final) if final is not None else y

    if torch.rand((), generator=g).item() < 0.5:
        x = jpeg(resize_and_sinc(x).clamp(0, 1), quality)
    else:
        x = resize_and_sinc(jpeg(x.clamp(0, 1), quality))
    return (x * 255).round().clamp(0, 255) / 255


def degrade(hr: torch.Tensor, scale: int, generator: torch.Generator, cfg: DegradationConfig = REAL_ESRGAN) -> torch.Tensor:
    """``degrade_one`` for every image of (N, C, H, W) ``hr`` in [0, 1], each with its own random parameters."""
    _check_images(hr, "high-resolution images")
    if not isinstance(generator, torch.Generator):
        raise GanutilsError("degrade needs an explicit torch.Generator (e.g. torch.Generator().manual_seed(0)) so runs repeat")
    return torch.cat([degrade_one(hr[i : i + 1].cpu(), scale, generator, cfg) for i in range(len(hr))]).to(hr.device)


# Real-ESRGAN's ranges were set for 256-pixel crops of photographs; a 28-pixel digit is the size of
# one of their fine details, so the spatial parameters shrink (blur widths halved, resizes kept
# within 0.5-1.5x and 0.6-1.2x); noise levels, JPEG qualities, kernel shapes, probabilities and the
# order of operations stay the authors'.
REAL_ESRGAN_SMALL = replace(REAL_ESRGAN, blur_sigma=(0.1, 1.5), blur_sigma2=(0.1, 0.75), resize_range=(0.5, 1.5),
                            resize_range2=(0.6, 1.2))
