"""Data that runs offline: generated toy distributions, MNIST and Fashion-MNIST with fallback chains, the animal
shapes (hash-checked), Canny edge -> shoe pairs, samplers, paired images."""

from . import animals, edges, fashion, idx, paired
from .mnist import ImageData, load_mnist
from .samplers import DistributionSampler, TensorSampler, make_loader
from .toy import GaussianMixture1D, GaussianMixture2D, grid, grid_centers, ring, ring_centers, toy

__all__ = ["DistributionSampler", "GaussianMixture1D", "GaussianMixture2D", "ImageData", "TensorSampler", "grid",
           "grid_centers", "load_mnist", "make_loader", "paired", "animals", "edges", "fashion", "idx", "ring", "ring_centers", "toy"]
