"""Latent-space tools: interpolation (lerp, slerp), directions (PCA, GANSpace, attribute directions),
and looking inside a generator (record or zero a layer's feature maps).

The latent explorer widget (``ganutils.course.explorer``) is built on these; the notebooks use them
directly for the interpolation, arithmetic and attribute experiments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch import nn

from .config import GanutilsError, check_positive_int

MODES = ("linear", "slerp")


# ----------------------------------------------------------------------------- interpolation


def _check_t(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise GanutilsError(f"the interpolation position t must be a number in [0, 1], got {t!r}") from None
    if not 0.0 <= t <= 1.0:
        raise GanutilsError(f"the interpolation position t must lie in [0, 1] (0 = seed A, 1 = seed B), got {t}")
    return t


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """(1 - t)·a + t·b. For two Gaussian z of norm ≈ √d the midpoint's norm is ≈ √(d/2): off the prior's shell."""
    t = _check_t(t)
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle from a to b (Shoemake 1985; White 2016 for GANs).

    sin((1-t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with Ω the angle between a and b, row-wise for (N, d)
    inputs. When |a| = |b| every point keeps that norm; (anti)parallel vectors fall back to lerp.
    """
    t = _check_t(t)
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    if a.shape != b.shape:
        raise GanutilsError(f"slerp needs two latents of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    a64, b64 = a.double(), b.double()
    cos = (a64 * b64).sum(-1, keepdim=True) / (a64.norm(dim=-1, keepdim=True) * b64.norm(dim=-1, keepdim=True)).clamp_min(eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / torch.where(safe, sin, 1.0), torch.full_like(sin, 1 - t))
    wb = torch.where(safe, torch.sin(t * omega) / torch.where(safe, sin, 1.0), torch.full_like(sin, t))
    return (wa * a64 + wb * b64).to(a.dtype)


def interpolate(a: torch.Tensor, b: torch.Tensor, t: float, mode: str = "slerp") -> torch.Tensor:
    if mode not in MODES:
        raise GanutilsError(f"unknown interpolation mode {mode!r}: use 'linear' or 'slerp'")
    return slerp(a, b, t) if mode == "slerp" else lerp(a, b, t)


# ----------------------------------------------------------------------------- directions


def principal_directions(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` principal directions of the rows of ``x`` (k, D) and the share of variance each explains (k,).

    Randomized PCA (``torch.pca_lowrank``, Halko et al. 2011): a full SVD of 2,000 x 3,000 features
    takes many seconds on a CPU, this a fraction of one.
    """
    x = torch.as_tensor(x, dtype=torch.float64).flatten(1)
    xc = x - x.mean(0)
    q = min(k + 10, *xc.shape)
    with torch.random.fork_rng(devices=[]):  # randomized PCA: a fixed seed, and the global RNG untouched
        torch.manual_seed(0)
        _, s, v = torch.pca_lowrank(xc, q=q, center=False, niter=6)
    total = (xc**2).sum().clamp_min(1e-12)
    return v[:, :k].T.float(), (s[:k] ** 2 / total).float()


def ganspace_directions(z: torch.Tensor, feats: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace: PCA of the features, then the z-direction that best predicts each principal coordinate.

    With x_i = V_kᵀ(f_i - mean) the principal coordinates of the features of z_i, solve
    min_U Σ ||U x_i - (z_i - mean)||² (least squares); U's columns, normalised, are the directions
    in z (Härkönen et al. 2020, sec. 2). Returns (k, d) unit directions and the features' explained variance.
    """
    z64 = torch.as_tensor(z, dtype=torch.float64)
    f64 = torch.as_tensor(feats, dtype=torch.float64).flatten(1)
    v, ratio = principal_directions(f64, k)
    coords = (f64 - f64.mean(0)) @ v.double().T  # (N, k)
    u = torch.linalg.lstsq(coords, z64 - z64.mean(0)).solution  # (k, d): x -> z
    return torch.nn.functional.normalize(u, dim=1).float(), ratio


def ink(images: torch.Tensor, scale: str = "tanh") -> torch.Tensor:
    """Mean pixel brightness per image in [0, 1]: how much ink a digit uses (stroke thickness and size)."""
    x = torch.as_tensor(images).detach().float().cpu()
    x = (x + 1) / 2 if scale == "tanh" else x
    return x.flatten(1).mean(1)


def attribute_direction(z: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """The unit direction in z along which ``values`` (one number per latent) grows fastest: least squares fit."""
    z64, y = torch.as_tensor(z, dtype=torch.float64), torch.as_tensor(values, dtype=torch.float64).flatten()
    if z64.dim() != 2 or len(z64) != len(y):
        raise GanutilsError(f"need latents (N, d) and N values, got {tuple(z64.shape)} and {tuple(y.shape)}")
    w = torch.linalg.lstsq(z64 - z64.mean(0), (y - y.mean()).unsqueeze(1)).solution.squeeze(1)
    return torch.nn.functional.normalize(w, dim=0).float()


def r_squared(x: torch.Tensor, y: torch.Tensor) -> float:
    """Squared correlation of two 1-D sequences: the share of y's variance a linear function of x explains."""
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    c = torch.corrcoef(torch.stack([x.flatten(), y.flatten()]))[0, 1]
    return float(c**2) if torch.isfinite(c) else 0.0


@contextlib.contextmanager
def record_activations(module: nn.Module):
    """Within the block, every output of ``module`` is appended (detached, on the CPU) to the yielded list."""
    if not isinstance(module, nn.Module):
        raise GanutilsError(f"record_activations needs an nn.Module inside the generator, got {type(module).__name__}")
    out: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, i, o: out.append(o.detach().cpu()))
    try:
        yield out
    finally:
        handle.remove()


@contextlib.contextmanager
def ablate_channels(module: nn.Module, channels: Sequence[int]):
    """Within the block, the given channels of ``module``'s output are set to zero (Radford et al.'s "window" edit).

    The edit acts on G's feature maps, not on z: it is how DCGAN removed windows from bedrooms.
    """
    if not isinstance(module, nn.Module):
        raise GanutilsError(f"ablate_channels needs an nn.Module inside the generator, got {type(module).__name__}")
    channels = [int(c) for c in channels]

    def hook(m, i, o):
        if o.dim() < 2 or any(not 0 <= c < o.shape[1] for c in channels):
            raise GanutilsError(f"cannot zero channels {channels} of an output shaped {tuple(o.shape)}")
        o = o.clone()
        o[:, channels] = 0
        return o

    handle = module.register_forward_hook(hook)
    try:
        yield module
    finally:
        handle.remove()


# ----------------------------------------------------------------------------- grids


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
