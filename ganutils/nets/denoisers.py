"""Noise-prediction networks eps_theta(x_t, t) for diffusion models: an MLP for points, a small U-Net for 28x28 images."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GanutilsError, check_positive_int


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (N,) -> (N, dim): the Transformer's position encoding, which Ho
    et al. (2020, appendix B) use to tell the network the noise level."""
    half = check_positive_int("dim", dim) // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class TimeMLP(nn.Module):
    """eps_theta for vectors: [x, Fourier features of x, embedding(t)] -> ``depth`` SiLU layers of ``hidden`` -> noise.

    ``octaves`` > 0 adds sin and cos of 2^k pi x for k < octaves: a plain MLP is slow to learn functions that
    change on a fine scale (the 2-D modes of the toy protocol have sigma = 0.02); Fourier features of the
    input fix that (Tancik et al. 2020).
    """

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, t_dim: int = 32, octaves: int = 0):
        super().__init__()
        self.dim, self.t_dim = check_positive_int("dim", dim), check_positive_int("t_dim", t_dim)
        self.octaves = int(octaves)
        if self.octaves < 0:
            raise GanutilsError(f"octaves must be a whole number >= 0, got {octaves!r}: 0 feeds x as it is")
        layers, width = [], self.dim * (1 + 2 * self.octaves) + self.t_dim
        for _ in range(check_positive_int("depth", depth)):
            layers += [nn.Linear(width, check_positive_int("hidden", hidden)), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, self.dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        feats = [x]
        if self.octaves:
            f = x[:, :, None] * (math.pi * 2.0 ** torch.arange(self.octaves, device=x.device, dtype=x.dtype))
            feats += [f.sin().flatten(1), f.cos().flatten(1)]
        return self.net(torch.cat(feats + [timestep_embedding(t, self.t_dim).to(x.dtype)], dim=1))


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, the timestep embedding added in between, plus a skip (Ho et al. 2020, appendix B)."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int = 8):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(min(groups, c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(min(groups, c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """eps_theta for (N, C, H, W) images: one ResBlock per resolution, stride-2 downsampling, nearest upsampling,
    skips by concatenation; a scaled-down DDPM U-Net (Ho et al. 2020, appendix B) without self-attention.

    ``mults`` gives the channels per level (``width`` x mult); ``patch`` > 1 first folds patch x patch pixels
    into channels (PixelUnshuffle), which divides the cost of every level by about patch^2.
    """

    def __init__(self, channels: int = 1, width: int = 32, mults=(1, 2, 2), patch: int = 1):
        super().__init__()
        width, self.patch = check_positive_int("width", width), check_positive_int("patch", patch)
        self.unshuffle = nn.PixelUnshuffle(patch) if patch > 1 else nn.Identity()
        self.shuffle = nn.PixelShuffle(patch) if patch > 1 else nn.Identity()
        c_io = check_positive_int("channels", channels) * patch * patch
        self.t_dim0, t_dim = width, 4 * width
        self.time = nn.Sequential(nn.Linear(width, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        chans = [width * check_positive_int("mult", m) for m in mults]
        self.inc = nn.Conv2d(c_io, chans[0], 3, padding=1)
        self.down, self.pool = nn.ModuleList(), nn.ModuleList()
        c = chans[0]
        for i, co in enumerate(chans):
            self.down.append(ResBlock(c, co, t_dim))
            c = co
            self.pool.append(nn.Conv2d(c, c, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())
        self.mid = ResBlock(c, c, t_dim)
        self.up = nn.ModuleList()
        for co in reversed(chans):
            self.up.append(ResBlock(c + co, co, t_dim))
            c = co
        self.out = nn.Sequential(nn.GroupNorm(min(8, c), c), nn.SiLU(), nn.Conv2d(c, c_io, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.time(timestep_embedding(t, self.t_dim0))
        h = self.inc(self.unshuffle(x))
        skips = []
        for block, pool in zip(self.down, self.pool):
            h = block(h, temb)
            skips.append(h)
            h = pool(h)
        h = self.mid(h, temb)
        for block in self.up:
            s = skips.pop()
            if h.shape[-2:] != s.shape[-2:]:
                h = F.interpolate(h, size=s.shape[-2:], mode="nearest")
            h = block(torch.cat([h, s], 1), temb)
        return self.shuffle(self.out(h))
