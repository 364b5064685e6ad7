"""An exponential moving average (EMA) of a model's weights, for sampling from G.

    θ_ema ← β·θ_ema + (1 - β)·θ        after every optimiser step of the raw model, θ_ema starts at θ.

GAN generators keep moving around the equilibrium instead of settling on it (the Dirac-GAN
shows why); an average of the recent iterates sits closer to its centre. Yazıcı et al. 2019
("The unusual effectiveness of averaging in GAN training") measure it; ProGAN (Karras et al.
2018, β = 0.999), BigGAN (β = 0.9999) and StyleGAN all sample from the EMA generator. The
averaged copy is only for sampling: training continues on the raw weights.

Built on ``torch.optim.swa_utils.AveragedModel`` with ``get_ema_multi_avg_fn(β)``. Buffers
(BatchNorm's running statistics) are averaged with the weights (``use_buffers=True``), so the
averaged generator's normalisation matches its averaged weights.
"""

from __future__ import annotations

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..config import GanutilsError


def check_decay(decay) -> float:
    """β as a float strictly between 0 and 1, or one clear error."""
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay < 1:
        raise GanutilsError(f"the EMA decay must be a number strictly between 0 and 1, got {decay!r}: e.g. decay=0.999 "
                            "(an average over about 1 / (1 - decay) steps)")
    return float(decay)


def ema_model(model: nn.Module, decay: float = 0.999) -> AveragedModel:
    """A frozen copy of ``model`` whose weights follow θ_ema ← decay·θ_ema + (1 - decay)·θ.

    Call ``ema.update_parameters(model)`` after each optimiser step; ``ema(z)`` (or ``ema.module``)
    is the averaged network. The copy never receives gradients.
    """
    decay = check_decay(decay)
    if not isinstance(model, nn.Module):
        raise GanutilsError(f"ema_model needs a torch nn.Module, got {type(model).__name__}")
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.requires_grad_(False)
    ema.decay = decay
    return ema


def horizon(decay: float) -> float:
    """1 / (1 - decay): roughly how many recent steps the average remembers (0.999 -> 1,000)."""
    return 1.0 / (1.0 - check_decay(decay))
