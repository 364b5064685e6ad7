"""Data that runs offline: generated toy distributions, MNIST with a fallback chain, samplers, paired images."""

from . import paired
from .mnist import ImageData, load_mnist
from .samplers import DistributionSampler, TensorSampler, make_loader
from .toy import GaussianMixture1D, GaussianMixture2D, grid, grid_centers, ring, ring_centers, toy

__all__ = ["DistributionSampler", "GaussianMixture1D", "GaussianMixture2D", "ImageData", "TensorSampler", "grid",
           "grid_centers", "load_mnist", "make_loader", "paired", "ring", "ring_centers", "toy"]
