"""Plots the notebooks share: image grids, loss curves, 2-D samples over the true density."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from .config import GanutilsError
from .latent import normal_quantile_grid

SCALES = ("tanh", "unit")


def to_unit(images: torch.Tensor, scale: str = "tanh") -> torch.Tensor:
    """Images in ``scale`` ("tanh": [-1, 1], the GANs'; "unit": [0, 1], the VAE's) mapped to [0, 1] for display."""
    if scale not in SCALES:
        raise GanutilsError(f"unknown pixel scale {scale!r}: use 'tanh' for images in [-1, 1] or 'unit' for [0, 1]")
    images = torch.as_tensor(images).detach().float().cpu()
    return (images + 1) / 2 if scale == "tanh" else images


def image_grid(images: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None, max_images: int = 64,
               scale: str = "tanh"):
    """Show up to ``max_images`` images (N, C, H, W) as one grid; ``scale`` says their range ("tanh" [-1, 1], "unit" [0, 1])."""
    grid = make_grid(to_unit(images[:max_images], scale).clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
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


def image_snapshots(history, n: int = 16, max_panels: int = 5, nrow: int = 4, scale: str = "tanh"):
    """Image snapshots over time, one grid per panel."""
    snaps = history.snapshots
    if len(snaps) > max_panels:
        snaps = [snaps[int(i)] for i in np.linspace(0, len(snaps) - 1, max_panels)]
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.2 * len(snaps), 2.4), squeeze=False)
    for ax, (step, images) in zip(axes[0], snaps):
        image_grid(images[:n], nrow=nrow, ax=ax, title=f"step {step}", scale=scale)
    fig.tight_layout()
    return fig


def plot_rows(rows: dict, n: int = 8, cell: float = 0.9, scale: str = "tanh"):
    """One labelled row of ``n`` images per entry of ``rows`` (name -> (N, C, H, W) in [-1, 1])."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(n * cell, len(rows) * cell * 1.05), squeeze=False)
    for ax, (name, images) in zip(axes[:, 0], rows.items()):
        image_grid(images[:n], nrow=n, ax=ax, scale=scale)
        ax.text(-0.01, 0.5, name, transform=ax.transAxes, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


def plot_latent_map(vae, n: int = 15, ax=None, title: str | None = None):
    """Decode a quantile grid of a 2-D latent space into one image (the classic VAE 'manifold' figure)."""
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
