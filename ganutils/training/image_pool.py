"""The image pool (history buffer) of CycleGAN: D also sees fakes from earlier generators.

Zhu et al. 2017 (Sec. 4, "Training details"), after Shrivastava et al. 2017: "to reduce model
oscillation ... we update the discriminators using a history of generated images rather than
the ones produced by the latest generators. We keep an image buffer that stores the 50
previously created images." The official code fills the buffer first; once full, each new fake
is, with probability 1/2, passed through unchanged, otherwise swapped with a random stored one
(which D sees instead). Randomness comes from the pool's own generator, never the global RNG.
"""

from __future__ import annotations

import torch

from ..config import GanutilsError

PAPER_POOL_SIZE = 50


class ImagePool:
    """``pool.query(fakes)`` -> the batch D should see: the new fakes, some swapped for stored older ones.

    size 0 disables the pool (``query`` returns its input). The state (stored images, generator)
    is checkpointed with the model, so a resumed run draws the same swaps.
    """

    def __init__(self, size: int = PAPER_POOL_SIZE, seed: int = 0):
        if isinstance(size, bool) or int(size) != size or size < 0:
            raise GanutilsError(f"pool size must be a whole number >= 0 (0 turns the pool off), got {size!r}")
        self.size = int(size)
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes.detach()
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:  # filling up: store it and show it
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:  # show an older fake, store the new one in its place
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        stored = torch.stack(self.images) if self.images else torch.empty(0)
        return {"size": self.size, "images": stored.cpu(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        if int(state["size"]) != self.size:
            raise GanutilsError(f"this checkpoint's image pool holds {state['size']} images, this model's {self.size}: "
                                "resume with the same pool size or train from scratch")
        device = self.images[0].device if self.images else None
        self.images = [im.to(device) if device is not None else im for im in state["images"]] if len(state["images"]) else []
        self.generator.set_state(state["generator"])
