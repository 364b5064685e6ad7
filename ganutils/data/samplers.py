"""Samplers: endless, reproducible minibatches from tensors or from a distribution."""

from __future__ import annotations

import torch

from ..config import GanutilsError, check_positive_int


class TensorSampler:
    """Endless shuffled minibatches from in-memory tensors, reproducible through its own generator.

    Each epoch is a fresh permutation; the sampler's state (generator, permutation, position)
    is checkpointed with the model, so a resumed run sees the same batches.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, seed: int = 0, device=None):
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise GanutilsError("TensorSampler needs one or more tensors of the same length")
        batch_size = check_positive_int("batch_size", batch_size)
        if batch_size > len(tensors[0]):
            raise GanutilsError(f"batch_size {batch_size} is larger than the data ({len(tensors[0])} items): "
                                "use a smaller batch or more data")
        self.tensors = tuple(t.to(device) if device is not None else t for t in tensors)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self._perm = torch.randperm(len(self.tensors[0]), generator=self.generator)
        self._pos = 0

    def __call__(self) -> tuple[torch.Tensor, ...]:
        if self._pos + self.batch_size > len(self._perm):
            self._perm = torch.randperm(len(self._perm), generator=self.generator)
            self._pos = 0
        idx = self._perm[self._pos : self._pos + self.batch_size].to(self.tensors[0].device)
        self._pos += self.batch_size
        return tuple(t[idx] for t in self.tensors)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "perm": self._perm.clone(), "pos": self._pos}

    def load_state_dict(self, state: dict) -> None:
        n = len(self.tensors[0])
        if len(state["perm"]) != n or int(state["pos"]) > n:
            raise GanutilsError(
                f"this sampler state was saved for {len(state['perm'])} items, but the sampler holds {n}: "
                "resume with the same data set, or delete the checkpoint to train from scratch"
            )
        self.generator.set_state(state["generator"])
        self._perm, self._pos = state["perm"].clone(), int(state["pos"])


class DistributionSampler:
    """Endless minibatches drawn from a distribution with a ``sample(n, generator)`` method."""

    def __init__(self, dist, batch_size: int, seed: int = 0, device=None):
        self.dist, self.batch_size, self.device = dist, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self) -> tuple[torch.Tensor]:
        x = self.dist.sample(self.batch_size, generator=self.generator)
        return (x.to(self.device) if self.device is not None else x,)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def make_loader(*tensors: torch.Tensor, batch_size: int = 64, shuffle: bool = True, seed: int = 0, drop_last: bool = True):
    """A seeded ``DataLoader`` over in-memory tensors (for code that wants the standard PyTorch idiom)."""
    dataset = torch.utils.data.TensorDataset(*tensors)
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, generator=torch.Generator().manual_seed(seed)
    )
