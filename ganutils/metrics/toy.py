"""Mode-collapse metrics on the 2-D toy mixtures: the VEEGAN protocol (Srivastava et al. 2017).

The exact protocol used by the course:

1. Draw ``PROTOCOL_SAMPLES`` = 2,500 samples from the generator.
2. Assign each sample to its nearest mode centre (Euclidean distance).
3. A sample is *high quality* if that distance is at most ``n_sigma`` = 3 standard
   deviations of the mixture (ring: 3 x 0.02 = 0.06; grid: 3 x 0.05 = 0.15).
   Non-finite samples (a diverged generator) are never high quality.
   Note: even perfect samples are not 100% high quality: for an isotropic 2-D Gaussian,
   P(|x - mu| <= 3 sigma) = 1 - exp(-9/2) = 98.89%.
4. A mode is *covered* if it is the nearest mode of at least ``min_count`` (default 1)
   high-quality samples.
5. ``reverse_kl`` = KL(q || u) = sum_k q_k log(q_k / u_k), where q is the histogram of the
   high-quality samples over the modes, normalised to sum to 1, and u is uniform
   (u_k = 1 / n_modes). "Reverse" because the generated distribution comes first, as in
   the mode-seeking KL(p_g || p_data) (the usage of PacGAN, Lin et al. 2018). Empty bins
   contribute 0 (0 log 0 = 0), so the value is finite even when modes are missed:
   0 for a perfectly even histogram, log(n_modes) when every high-quality sample sits on
   one mode, i.e. KL = log(n_modes) - H(q). With no high-quality sample at all, q is
   undefined; we then return log(n_modes), the worst value a non-empty histogram can
   have, so such a run never scores better than a fully collapsed one
   (``n_high_quality == 0`` tells the two apart).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, is_dataclass
from numbers import Real

import numpy as np
import torch

from ..config import GanutilsError, check_positive_int

PROTOCOL_SAMPLES = 2500
PROTOCOL_SIGMAS = 3.0


@dataclass(frozen=True)
class ToyMetrics:
    """The VEEGAN-protocol numbers for one set of generated 2-D samples."""

    modes_covered: int
    n_modes: int
    pct_high_quality: float  # in percent, 0..100
    reverse_kl: float  # KL(q || uniform) in nats, 0..log(n_modes)
    n_samples: int
    n_high_quality: int
    mode_counts: tuple  # high-quality samples per mode, in the order of mixture.centers

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"modes {self.modes_covered}/{self.n_modes}, high quality {self.pct_high_quality:.1f}%, "
                f"reverse KL {self.reverse_kl:.3f}")


def _as_points(samples) -> torch.Tensor:
    try:
        x = samples.detach().cpu() if isinstance(samples, torch.Tensor) else torch.as_tensor(np.asarray(samples))
    except (TypeError, ValueError, RuntimeError) as err:
        raise GanutilsError(f"toy samples could not be read as an (N, 2) array ({err}): pass a tensor or NumPy array") from None
    if x.dim() != 2 or x.shape[1] != 2 or len(x) == 0:
        raise GanutilsError(
            f"toy samples have shape {tuple(x.shape)}; the toy metrics want a non-empty (N, 2) array of 2-D points, "
            f"e.g. generator(noise) with N = {PROTOCOL_SAMPLES}"
        )
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise GanutilsError(f"toy samples have dtype {x.dtype}: pass real-valued coordinates")
    return x.double()


def mode_histogram(samples, mixture, n_sigma: float = PROTOCOL_SIGMAS) -> tuple[torch.Tensor, torch.Tensor]:
    """(counts per mode of the high-quality samples, boolean high-quality mask per sample)."""
    if not hasattr(mixture, "centers") or not hasattr(mixture, "std"):
        raise GanutilsError(
            f"expected a GaussianMixture2D (with .centers and .std), got {type(mixture).__name__}: "
            "use ganutils.data.ring() or ganutils.data.grid()"
        )
    if not n_sigma > 0:
        raise GanutilsError(f"n_sigma must be positive, got {n_sigma!r}: the protocol uses 3")
    x = _as_points(samples)
    centers = torch.as_tensor(mixture.centers).double()
    dist = torch.cdist(x, centers)  # (N, n_modes); NaN rows for non-finite samples
    nearest_dist, nearest = dist.min(dim=1)
    high_quality = torch.isfinite(x).all(dim=1) & (nearest_dist <= n_sigma * float(mixture.std))
    counts = torch.bincount(nearest[high_quality], minlength=len(centers))
    return counts, high_quality


def kl_to_uniform(counts) -> float:
    """KL(q || uniform) in nats for the normalised histogram ``counts``; log(len(counts)) when it is all zero."""
    c = np.asarray(counts, dtype=np.float64).reshape(-1)
    k = len(c)
    if k == 0 or not np.isfinite(c).all() or (c < 0).any():
        raise GanutilsError(f"a histogram needs at least one bin and finite, non-negative counts, got {c.tolist()}")
    if c.sum() == 0:
        return math.log(k)
    q = c[c > 0] / c.sum()
    return float(max(0.0, (q * np.log(q * k)).sum()))  # max: rounding can give -1e-17 for an even histogram


def toy_metrics(samples, mixture, min_count: int = 1, n_sigma: float = PROTOCOL_SIGMAS) -> ToyMetrics:
    """Modes covered, % high-quality samples and reverse KL of ``samples`` (N, 2) against ``mixture``.

    See the module docstring for the exact definitions. The protocol uses N = 2,500 samples.
    """
    min_count = check_positive_int("min_count", min_count)
    counts, high_quality = mode_histogram(samples, mixture, n_sigma)
    n_hq = int(high_quality.sum())
    return ToyMetrics(
        modes_covered=int((counts >= min_count).sum()),
        n_modes=len(counts),
        pct_high_quality=100.0 * n_hq / len(high_quality),
        reverse_kl=kl_to_uniform(counts),
        n_samples=len(high_quality),
        n_high_quality=n_hq,
        mode_counts=tuple(int(c) for c in counts),
    )


def summarize_runs(results) -> dict:
    """Mean and standard deviation over runs (e.g. seeds) of every numeric field.

    ``results``: ToyMetrics, dataclasses or dicts with the same keys. Returns
    ``{"n_runs": k, field: (mean, std), ...}``; std is the sample standard deviation
    (ddof=1), 0 for a single run. NaN values are ignored (nanmean) for that field.
    """
    rows = [asdict(r) if is_dataclass(r) else dict(r) for r in results]
    if not rows:
        raise GanutilsError("summarize_runs got no results: pass a list with one result per seed")
    summary: dict = {"n_runs": len(rows)}
    for key in rows[0]:
        values = [row.get(key) for row in rows]
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in values):
            continue  # tuples, strings: not summarised
        v = np.asarray(values, dtype=np.float64)
        finite = v[~np.isnan(v)]
        mean = float(finite.mean()) if len(finite) else float("nan")
        std = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
        summary[key] = (mean, std)
    return summary


def format_summary(summary: dict, keys=None, digits: int = 2) -> str:
    """One line such as ``modes_covered 7.33 ± 0.58, pct_high_quality 91.20 ± 2.10 (3 runs)``."""
    keys = keys or [k for k in summary if k != "n_runs"]
    missing = [k for k in keys if k not in summary]
    if missing:
        raise GanutilsError(f"summary has no field(s) {missing}: choose from {[k for k in summary if k != 'n_runs']}")
    parts = [f"{k} {summary[k][0]:.{digits}f} ± {summary[k][1]:.{digits}f}" for k in keys]
    return ", ".join(parts) + f" ({summary['n_runs']} runs)"


__all__ = [
    "PROTOCOL_SAMPLES",
    "PROTOCOL_SIGMAS",
    "ToyMetrics",
    "toy_metrics",
    "mode_histogram",
    "kl_to_uniform",
    "summarize_runs",
    "format_summary",
]
