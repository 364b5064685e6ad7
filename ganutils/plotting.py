"""Plots the notebooks share: image grids, loss curves, 2-D samples over the true density."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1] (images already in [0, 1] pass through)."""
    images = images.detach().float().cpu()
    return (images + 1) / 2 if images.min() < 0 else images


def image_grid(images: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None, max_images: int = 64):
    """Show up to ``max_images`` images (N, C, H, W) in [-1, 1] or [0, 1] as one grid."""
    grid = make_grid(to_unit(images[:max_images]).clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    ax = ax or plt.subplots(figsize=(nrow * 0.6, (min(len(images), max_images) + nrow - 1) // nrow * 0.6))[1]
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if grid.shape[0] == 1 else None, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def smooth(values, window: int) -> np.ndarray:
    """Moving average (valid part) so noisy GAN losses become readable."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_losses(history, names=None, ax=None, window: int | None = None, title: str | None = None):
    """Loss curves from a :class:`ganutils.train.History`, lightly smoothed."""
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    names = names or list(history.losses)
    window = window or max(len(history.steps) // 100, 1)
    for name in names:
        y = smooth(history.losses[name], window)
        ax.plot(history.steps[len(history.steps) - len(y):], y, label=name)
    ax.set_xlabel("step")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def square_panel(ax, title: str | None = None):
    """Equal axes, no ticks, a small title: the look of every 2-D panel (samples, critics)."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_samples_2d(samples: torch.Tensor, dist=None, ax=None, title: str | None = None, lim: float | None = None, s: float = 2):
    """Generated 2-D samples over the true density's contours (and its mode centres)."""
    ax = ax or plt.subplots(figsize=(3.2, 3.2))[1]
    samples = samples.detach().cpu().numpy()
    if dist is not None:
        lim = lim or float(dist.centers.abs().max()) + 1.0
        g = torch.linspace(-lim, lim, 200)
        xx, yy = torch.meshgrid(g, g, indexing="xy")
        dens = dist.density(torch.stack([xx, yy], -1)).numpy()
        ax.contour(xx.numpy(), yy.numpy(), np.log(dens + 1e-12), levels=[np.log(dens.max()) - 4.5], colors="0.6", linewidths=0.6)
        ax.scatter(*dist.centers.numpy().T, marker="+", c="k", s=30, lw=0.8)
    ax.scatter(samples[:, 0], samples[:, 1], s=s, alpha=0.4, c="tab:blue", lw=0)
    if lim:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    return square_panel(ax, title)


def plot_snapshots_2d(history, dist=None, max_panels: int = 6, title: str | None = None):
    """Samples over time: one panel per snapshot of a 2-D run (not only the end state)."""
    snaps = history.snapshots
    if len(snaps) > max_panels:
        snaps = [snaps[int(i)] for i in np.linspace(0, len(snaps) - 1, max_panels)]
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.2 * len(snaps), 2.4), squeeze=False)
    for ax, (step, samples) in zip(axes[0], snaps):
        plot_samples_2d(samples, dist, ax=ax, title=f"step {step}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_snapshots(history, n: int = 16, max_panels: int = 5, nrow: int = 4):
    """Image snapshots over time, one grid per panel."""
    snaps = history.snapshots
    if len(snaps) > max_panels:
        snaps = [snaps[int(i)] for i in np.linspace(0, len(snaps) - 1, max_panels)]
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.2 * len(snaps), 2.4), squeeze=False)
    for ax, (step, images) in zip(axes[0], snaps):
        image_grid(images[:n], nrow=nrow, ax=ax, title=f"step {step}")
    fig.tight_layout()
    return fig
