"""Sweep results at a glance: one PNG per numeric metric, one panel per swept parameter, linked from summary.md.

A parameter is swept when the finished runs of a notebook do not all share its value. Each
panel shows every run as a dot (the metric against the parameter's value) and the mean over
the other swept parameters (seeds, say) as a line, so a trend and its noise are seen together.
Numbers on a log scale when they span two decades or more; text values as categories in the
order they were given.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from pathlib import Path

# ----------------------------------------------------------------------------- imports from the package (one block)
from ..io import atomic_write_bytes
from .record import flatten


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _file_name(metric: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", metric)
    if safe != metric:
        safe += "-" + hashlib.sha1(metric.encode()).hexdigest()[:6]
    return safe + ".png"


def swept_parameters(runs) -> list[str]:
    """The parameters whose values differ between ``runs``, in the order they were given."""
    names = list(dict.fromkeys(k for r in runs for k in r.params))
    return [k for k in names if len({repr(r.params.get(k)) for r in runs}) > 1]


def _panel(ax, xs: list, ys: list[float], name: str) -> None:
    numeric = all(_number(x) is not None for x in xs)
    if numeric:
        positions = [float(x) for x in xs]
        labels = None
    else:
        first: dict[str, object] = {}
        for x in xs:
            first.setdefault(repr(x), x)
        order = list(first)
        positions = [order.index(repr(x)) for x in xs]
        labels = [str(first[k]) for k in order]
    ax.scatter(positions, ys, s=14, alpha=0.6, color="tab:blue")
    means: dict[float, list[float]] = {}
    for x, y in zip(positions, ys):
        means.setdefault(x, []).append(y)
    line = sorted((x, sum(v) / len(v)) for x, v in means.items())
    ax.plot([x for x, _ in line], [y for _, y in line], color="tab:orange", lw=1.5, label="mean")
    if numeric and min(positions) > 0 and max(positions) / min(positions) >= 100:
        ax.set_xscale("log")
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
    ax.set_xlabel(name)
    ax.grid(alpha=0.3)


def plot_metric(runs, metric: str, params: list[str]) -> bytes | None:
    """A PNG of ``metric`` against each of ``params`` over ``runs``; None when fewer than two runs have a number."""
    from matplotlib.figure import Figure

    points = [(r, _number(flatten(r.metrics).get(metric))) for r in runs]
    points = [(r, y) for r, y in points if y is not None]
    if len(points) < 2:
        return None
    fig = Figure(figsize=(3.2 * len(params), 2.6), dpi=90, layout="constrained")
    axes = fig.subplots(1, len(params), squeeze=False)[0]
    for ax, name in zip(axes, params):
        _panel(ax, [r.params.get(name) for r, _ in points], [y for _, y in points], name)
    axes[0].set_ylabel(metric if len(metric) < 30 else "…" + metric[-28:], fontsize=8)
    fig.suptitle(metric, fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_sweep_plots(out: Path, results) -> dict[str, list[tuple[str, str]]]:
    """For every notebook swept in ``results``: ``[(metric, path relative to out), ...]``, PNGs written under plots/."""
    by_notebook: dict[str, list] = {}
    for r in results:
        if r.status == "ok":
            by_notebook.setdefault(r.notebook, []).append(r)
    links = {}
    for notebook, runs in by_notebook.items():
        params = swept_parameters(runs)
        if len(runs) < 2 or not params:
            continue
        metrics = list(dict.fromkeys(k for r in runs for k, v in flatten(r.metrics).items() if _number(v) is not None))
        folder = Path(out) / "plots" / notebook
        for metric in metrics:
            png = plot_metric(runs, metric, params)
            if png is None:
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / _file_name(metric)
            atomic_write_bytes(path, png)
            links.setdefault(notebook, []).append((metric, path.relative_to(out).as_posix()))
    return links


def summary_lines(links: dict[str, list[tuple[str, str]]]) -> list[str]:
    """summary.md's section of sweep plots (empty when nothing was swept)."""
    lines = []
    for notebook, plots in links.items():
        lines += ["", f"## Sweep plots: {notebook}", ""]
        lines += [f"![{metric}]({path})" for metric, path in plots]
    return lines
