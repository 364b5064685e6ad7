"""Divergences between 1-D densities on a grid: the numbers behind notebook 01's derivation.

All functions take densities evaluated on an evenly spaced grid ``xs`` and integrate with
the trapezoid rule in float64.
"""

from __future__ import annotations

import numpy as np

LOG2 = float(np.log(2.0))
LOG4 = float(np.log(4.0))


def uniform_pdf(xs, low: float, high: float) -> np.ndarray:
    xs = np.asarray(xs, dtype=np.float64)
    return np.where((xs >= low) & (xs < high), 1.0 / (high - low), 0.0)


def gaussian_pdf(xs, mean: float, std: float) -> np.ndarray:
    xs = np.asarray(xs, dtype=np.float64)
    return np.exp(-0.5 * ((xs - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def integrate(values, xs) -> float:
    return float(np.trapezoid(values, xs))


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Prop. 1); 1/2 where both vanish."""
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def kl_divergence(p, q, xs) -> float:
    """KL(p || q) = integral p log(p / q), with 0 log 0 = 0 (inf where p > 0 = q)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    mask = p > 0
    integrand = np.zeros_like(p)
    integrand[mask] = p[mask] * np.log(p[mask] / q[mask])
    return integrate(integrand, xs)


def js_divergence(p, q, xs) -> float:
    """JS(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2; in nats, between 0 and log 2."""
    m = 0.5 * (np.asarray(p, dtype=np.float64) + np.asarray(q, dtype=np.float64))
    return 0.5 * kl_divergence(p, m, xs) + 0.5 * kl_divergence(q, m, xs)


def value_function(d, p_data, p_g, xs, eps: float = 1e-12) -> float:
    """V(D, G) = E_{p_data}[log D(x)] + E_{p_g}[log(1 - D(x))] for a discriminator given on the grid."""
    d = np.clip(np.asarray(d, dtype=np.float64), eps, 1 - eps)
    return integrate(p_data * np.log(d), xs) + integrate(p_g * np.log(1 - d), xs)


def wasserstein1(p, q, xs) -> float:
    """W1 between two 1-D densities: the integral of |F_p - F_q| (difference of the CDFs)."""
    dx = np.diff(xs)
    cdf = lambda f: np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * dx)])  # noqa: E731
    return integrate(np.abs(cdf(np.asarray(p, np.float64)) - cdf(np.asarray(q, np.float64))), xs)


def wasserstein1_samples(a, b) -> float:
    """W1 between two equally sized 1-D samples: mean |sorted(a) - sorted(b)|."""
    a, b = np.sort(np.asarray(a, np.float64).ravel()), np.sort(np.asarray(b, np.float64).ravel())
    if len(a) != len(b):
        raise ValueError("wasserstein1_samples needs samples of equal size")
    return float(np.abs(a - b).mean())
