"""Spectral normalisation (Miyato et al. 2018) and the Lipschitz measurements that go with it.

Spectral normalisation is a *weight normalisation*, not an optimiser: each layer uses W / sigma(W), sigma(W) = W's largest singular value, estimated by
one power-iteration step per forward pass in training mode with a persistent vector u.
A linear layer's Lipschitz constant (L2) is sigma(W) and ReLU/LeakyReLU are 1-Lipschitz,
so a chain of normalised layers is at most 1-Lipschitz. For a convolution PyTorch
normalises the kernel reshaped to (out_channels, in_channels * kh * kw); that matrix's
sigma is not the convolution's operator norm, so for conv nets the bound is approximate.

    critic = apply_spectral_norm(nets.DCGANDiscriminator(64, norm=None))
    spectral_norms(critic)            # {"features.0": 1.0, ...} (exact SVD of each effective weight)
    lipschitz_upper_bound(critic)     # product of the sigmas
    metrics.lipschitz.empirical_lipschitz(critic, x)  # max ||grad_x f(x)|| over the points x: a lower bound

Reading a layer's weight in training mode runs a power iteration (it updates u): the measuring
functions here read it in eval mode, so measuring never changes the network.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..config import GanutilsError, check_positive_int
from ..nets.utils import eval_mode

NORMALISED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _weight_layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, layer) for every Linear/Conv layer; the module itself is named after its class."""
    return [(name or type(m).__name__.removeprefix("Parametrized"), m) for name, m in module.named_modules()
            if isinstance(m, NORMALISED_LAYERS)]


def is_spectrally_normalised(layer: nn.Module) -> bool:
    """True if ``layer.weight`` is computed by a spectral-norm parametrisation."""
    return parametrize.is_parametrized(layer, "weight") and any(
        type(p).__name__ == "_SpectralNorm" for p in layer.parametrizations.weight
    )


def has_spectral_norm(module: nn.Module) -> bool:
    """True if at least one Linear/Conv layer of ``module`` is spectrally normalised."""
    return any(is_spectrally_normalised(m) for _, m in _weight_layers(module))


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Wrap every Linear/Conv layer of ``module`` with ``torch.nn.utils.parametrizations.spectral_norm``, in place.

    Returns ``module``. Applying it twice to the same layer is refused (it would only waste a
    second power iteration); BatchNorm layers are left alone (they are not Lipschitz-bounded,
    so a critic meant to be 1-Lipschitz should not have them).
    """
    if not isinstance(module, nn.Module):
        raise GanutilsError(f"apply_spectral_norm needs a torch nn.Module, got {type(module).__name__}")
    n_power_iterations = check_positive_int("n_power_iterations", n_power_iterations)
    layers = _weight_layers(module)
    if not layers:
        raise GanutilsError(f"{type(module).__name__} has no Linear or Conv layer to normalise: pass the critic network itself")
    done = [name for name, m in layers if is_spectrally_normalised(m)]
    if done:
        raise GanutilsError(f"layer(s) {', '.join(done)} are already spectrally normalised: apply_spectral_norm once per network")
    for _, layer in layers:
        spectral_norm(layer, n_power_iterations=n_power_iterations)
    return module


def largest_singular_value(weight: torch.Tensor) -> float:
    """sigma_max of a weight reshaped to (shape[0], -1) (conv kernels as PyTorch's spectral_norm sees them), by exact SVD.

    ConvTranspose weights are (in, out, ...) and normalised along dim 1: ``spectral_norms`` transposes them first.
    """
    w = torch.as_tensor(weight).detach().double()
    if w.dim() < 2:
        raise GanutilsError(f"a weight matrix needs at least 2 dimensions, got shape {tuple(w.shape)}")
    return float(torch.linalg.matrix_norm(w.flatten(1), ord=2))


def spectral_norms(module: nn.Module) -> dict[str, float]:
    """sigma_max of every Linear/Conv layer's *effective* weight (after normalisation, if any), input to output."""
    out = {}
    with torch.no_grad(), eval_mode(module):  # eval: no power-iteration step while reading the weights
        for name, layer in _weight_layers(module):
            w = layer.weight  # the parametrised weight: W / sigma for a spectrally normalised layer
            if isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                w = w.transpose(0, 1)
            out[name] = largest_singular_value(w)
    if not out:
        raise GanutilsError(f"{type(module).__name__} has no Linear or Conv layer")
    return out


def lipschitz_upper_bound(module: nn.Module) -> float:
    """Product of the layers' sigma_max: a Lipschitz bound for a chain of layers with 1-Lipschitz activations.

    Exact as a bound for MLPs (ReLU, LeakyReLU(0.2), no BatchNorm); for conv nets it uses the
    reshaped kernels, so it is only approximate (see the module docstring).
    """
    return math.prod(spectral_norms(module).values())
