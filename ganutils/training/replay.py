"""Experience replay for the discriminator (Pfau & Vinyals 2016; Shrivastava et al. 2017).

A generator that hops from mode to mode relies on D forgetting: once G leaves mode A for
B, D stops penalising A, and G can come back. Replay keeps a buffer of past fakes and
mixes some of them into every D batch, so D keeps rejecting the places G has been.
"""

from __future__ import annotations

import torch

from ..config import GanutilsError, check_positive_int
from .gan import GAN


class ReplayGAN(GAN):
    """A ``gan.GAN`` whose D sees ``replay_fraction`` of each fake batch drawn from a buffer of old fakes.

    The buffer holds ``buffer_size`` samples; every D step writes the new fakes over random
    buffer entries (appending until it is full). Unconditional models only.
    """

    def __init__(self, G, D, *, buffer_size: int = 8192, replay_fraction: float = 0.5, **kwargs):
        super().__init__(G, D, **kwargs)
        self.buffer_size = check_positive_int("buffer_size", buffer_size)
        if not 0.0 <= float(replay_fraction) < 1.0:
            raise GanutilsError(f"replay_fraction must be in [0, 1), got {replay_fraction!r}: 0.5 (half old fakes) is usual")
        self.replay_fraction = float(replay_fraction)
        self.buffer: torch.Tensor | None = None  # (filled, *sample shape), on the model's device

    def d_step(self, real: torch.Tensor, *cond) -> dict[str, torch.Tensor]:
        if cond:
            raise GanutilsError("ReplayGAN is unconditional: old fakes carry no labels. Use gan.GAN for class-conditional models")
        with torch.no_grad():
            new = self.G(self.sample_z(len(real)))
        fake = self.mix_with_buffer(new)
        self.push(new)
        return self.update_d(real, fake)

    def mix_with_buffer(self, new: torch.Tensor) -> torch.Tensor:
        """``new`` with its last ``replay_fraction`` replaced by random buffer samples (``new`` itself while the buffer is empty)."""
        k = int(round(self.replay_fraction * len(new)))
        if self.buffer is None or k == 0:
            return new
        idx = torch.randint(len(self.buffer), (k,), generator=self.noise, device=self.device)
        return torch.cat([new[: len(new) - k], self.buffer[idx]])

    @torch.no_grad()
    def push(self, new: torch.Tensor) -> None:
        """Append ``new`` until the buffer is full, then overwrite random entries."""
        new = new.detach()
        if self.buffer is None:
            self.buffer = new[: self.buffer_size].clone()
            new = new[len(self.buffer) :]
        room = self.buffer_size - len(self.buffer)
        if room > 0 and len(new):
            self.buffer = torch.cat([self.buffer, new[:room]])
            new = new[room:]
        if len(new):
            idx = torch.randperm(len(self.buffer), generator=self.noise, device=self.device)[: len(new)]
            self.buffer[idx] = new[: len(idx)]

    def state_dict(self) -> dict:
        return {**super().state_dict(), "buffer": None if self.buffer is None else self.buffer.clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.buffer = None if state.get("buffer") is None else state["buffer"].to(self.device)
