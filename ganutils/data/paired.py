"""Paired images for pix2pix: a procedural multimodal set and the ``A|B`` folder format.

``StripedShapes`` draws (label map, photo) pairs on the fly, offline. The input is a label map:
a background and up to three shapes, each shape of its own class and label colour. In the
target every region is filled with stripes whose colour (one of ``n_modes`` per class),
orientation (horizontal or vertical) and phase are drawn at random: one input has
``n_modes * 2 * period`` valid textures per region. The mean of those textures (what L2
regression predicts) is none of them: a flat, stripe-less compromise colour. L1 regression
predicts a per-pixel median; with the default two light colours per class and their dark
stripes, every value between the two middle ones is a median, so L1 is indifferent to where in
that range it lands, and a smooth network lands in the middle: a greyish, stripe-less blend.

Its scores (L1, PSNR, distance to the nearest valid texture, sharpness, diversity) are in
``ganutils.metrics.translation``.

``load_paired_folder`` reads the standard pix2pix dataset layout (facades, edges2shoes, maps...):
one image per file, A on the left half and B on the right half; ``save_pairs`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import GanutilsError, check_positive_int

# label colours of the input map: background black, shape classes red, green, blue
LABEL_COLOURS = torch.tensor([[-1.0, -1.0, -1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
# the valid stripe colours of each class (rows: background, rectangle, ellipse, diamond). The first two of
# each class are light (every channel >= -0.3), so their dark stripes lie below both of them in every channel.
PALETTE = torch.tensor([
    [[0.8, 0.8, 0.8], [1.0, 0.7, -0.2], [-0.5, 0.3, 0.9]],     # background: light grey, sand, sky blue
    [[1.0, -0.2, -0.2], [1.0, 1.0, -0.2], [-0.7, -0.7, 1.0]],  # rectangles: salmon, yellow, blue
    [[-0.2, 1.0, -0.2], [-0.2, 1.0, 1.0], [1.0, -0.7, 1.0]],   # ellipses: green, cyan, magenta
    [[1.0, 0.4, -0.3], [-0.3, 0.4, 1.0], [0.3, 1.0, 0.3]],     # diamonds: orange, azure, mint
])
SHAPES = ("rectangle", "ellipse", "diamond")


def dark(colour: torch.Tensor) -> torch.Tensor:
    """The 'off' stripe of a colour: the same hue, much darker."""
    return -1.0 + 0.3 * (colour + 1.0)


@dataclass
class Scene:
    """A batch of pairs plus what the scores need: region ids per pixel and each region's class (-1: absent)."""

    inputs: torch.Tensor  # (N, 3, S, S) label maps
    targets: torch.Tensor  # (N, 3, S, S) striped photos
    regions: torch.Tensor  # (N, S, S) int64: 0 background, m + 1 the m-th shape (topmost wins)
    classes: torch.Tensor  # (N, 1 + max_shapes) int64 class of each region id, -1 where the region is absent


class StripedShapes:
    """The procedural paired set: ``sample(n, generator) -> (inputs, targets)``, drawn fresh every call.

    size: image side (a power of two for the U-Net); n_modes: valid colours per class (1..3);
    max_shapes: shapes per image (1..3, each of a different class); period: stripe period in pixels (even).
    """

    def __init__(self, size: int = 32, n_modes: int = 2, max_shapes: int = 3, period: int = 4):
        self.size = check_positive_int("size", size)
        self.n_modes = check_positive_int("n_modes", n_modes)
        self.max_shapes = check_positive_int("max_shapes", max_shapes)
        self.period = check_positive_int("period", period)
        if self.size < 8:
            raise GanutilsError(f"size must be >= 8, got {size}")
        if self.n_modes > PALETTE.shape[1]:
            raise GanutilsError(f"n_modes must be at most {PALETTE.shape[1]} (the palette's colours per class), got {n_modes}")
        if self.max_shapes > len(SHAPES):
            raise GanutilsError(f"max_shapes must be at most {len(SHAPES)} (one shape per class), got {max_shapes}")
        if self.period % 2 or self.period < 2:
            raise GanutilsError(f"period must be an even number of pixels >= 2, got {period}")
        self.palette = PALETTE[:, : self.n_modes]

    @property
    def n_textures(self) -> int:
        """Valid textures per region: colours x orientations x phases."""
        return self.n_modes * 2 * self.period

    def __repr__(self) -> str:
        return f"StripedShapes(size={self.size}, n_modes={self.n_modes}, max_shapes={self.max_shapes}, period={self.period})"

    # ------------------------------------------------------------------ drawing
    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        scene = self.sample_scene(n, generator)
        return scene.inputs, scene.targets

    def sample_scene(self, n: int, generator: torch.Generator | None = None) -> Scene:
        n, s, m = check_positive_int("n", n), self.size, self.max_shapes
        u = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
        n_shapes = 1 + (u(n) * m).long().clamp(max=m - 1)
        shape_class = u(n, len(SHAPES)).argsort(1)[:, :m] + 1  # distinct classes 1..3 per image
        active = torch.arange(m)[None] < n_shapes[:, None]
        centre = (0.2 + 0.6 * u(n, m, 2)) * s
        half = (0.12 + 0.18 * u(n, m, 2)) * s
        coords = torch.arange(s, dtype=torch.float32) + 0.5
        dy = (coords[None, None, :, None] - centre[..., 0, None, None]) / half[..., 0, None, None]  # (n, m, s, 1)
        dx = (coords[None, None, None, :] - centre[..., 1, None, None]) / half[..., 1, None, None]  # (n, m, 1, s)
        masks = {
            1: (dy.abs() <= 1) & (dx.abs() <= 1),
            2: dy**2 + dx**2 <= 1,
            3: dy.abs() + dx.abs() <= 1,
        }
        regions = torch.zeros(n, s, s, dtype=torch.long)
        for j in range(m):
            kind = shape_class[:, j, None, None]
            inside = torch.zeros(n, s, s, dtype=torch.bool)
            for c, mask in masks.items():
                inside |= (kind == c) & mask[:, j]
            regions[inside & active[:, j, None, None]] = j + 1
        classes = torch.cat([torch.zeros(n, 1, dtype=torch.long), torch.where(active, shape_class, -1)], 1)
        pixel_class = classes.gather(1, regions.flatten(1)).view(n, s, s)
        inputs = LABEL_COLOURS[pixel_class].permute(0, 3, 1, 2).contiguous()
        targets = self.texture(regions, classes, generator)
        return Scene(inputs, targets, regions, classes)

    def texture(self, regions: torch.Tensor, classes: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Fill each region with a random valid texture: a fresh ground truth for the same label maps."""
        n, s = regions.shape[0], self.size
        r = classes.shape[1]
        colour = (torch.rand(n, r, generator=generator) * self.n_modes).long().clamp(max=self.n_modes - 1)
        vertical = torch.rand(n, r, generator=generator) < 0.5
        phase = (torch.rand(n, r, generator=generator) * self.period).long().clamp(max=self.period - 1)
        flat = regions.flatten(1)
        pick = lambda t: t.gather(1, flat).view(n, s, s)  # noqa: E731  per-region value -> per pixel
        ys, xs = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
        coord = torch.where(pick(vertical), xs, ys)
        on = (coord + pick(phase)) % self.period < self.period // 2
        rgb = self.palette[pick(classes).clamp(min=0), pick(colour)]  # (n, s, s, 3)
        return torch.where(on[..., None], rgb, dark(rgb)).permute(0, 3, 1, 2).contiguous()

    def candidate_textures(self, cls: int) -> torch.Tensor:
        """Every valid full-image texture of class ``cls``: (n_textures, 3, S, S)."""
        s, p = self.size, self.period
        ys, xs = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
        out = []
        for colour in self.palette[cls]:
            for coord in (ys, xs):
                for phase in range(p):
                    on = (coord + phase) % p < p // 2
                    out.append(torch.where(on[None], colour[:, None, None], dark(colour)[:, None, None]))
        return torch.stack(out)


class PairSampler:
    """Endless fresh (input, target) batches from a procedural set, reproducible through its own generator."""

    def __init__(self, pairs: StripedShapes, batch_size: int, seed: int = 0, device=None):
        self.pairs, self.batch_size, self.device = pairs, check_positive_int("batch_size", batch_size), device
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.pairs.sample(self.batch_size, self.generator)
        return (x, y) if self.device is None else (x.to(self.device), y.to(self.device))

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])



# ----------------------------------------------------------------------------- checks


def _check_images(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise GanutilsError(f"{name} must be an (N, C, H, W) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    return x.detach().float().cpu()


def _check_pair(fake, real) -> tuple[torch.Tensor, torch.Tensor]:
    fake, real = _check_images("fake", fake), _check_images("real", real)
    if fake.shape != real.shape:
        raise GanutilsError(f"fake and real must have the same shape, got {tuple(fake.shape)} and {tuple(real.shape)}")
    return fake, real


# ----------------------------------------------------------------------------- the A|B folder format

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DIRECTIONS = ("AtoB", "BtoA")


def paired_files(root) -> list[Path]:
    """The image files of a pix2pix split folder (e.g. ``facades/train``), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise GanutilsError(
            f"paired image folder {root} does not exist: download a pix2pix dataset (e.g. facades) and pass its split "
            "folder, e.g. data/facades/train"
        )
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise GanutilsError(f"paired image folder {root} holds no images ({', '.join(IMAGE_EXTENSIONS)}): pass the folder that contains the A|B files")
    return files


def _to_tensor(img) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1).div(127.5).sub(1.0)


def load_pair(path, direction: str = "AtoB", size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``A|B`` file -> (input, target), each (3, H, W) in [-1, 1]; ``size`` resizes both halves to size x size."""
    from PIL import Image, UnidentifiedImageError

    if direction not in DIRECTIONS:
        raise GanutilsError(f"unknown direction {direction!r}: use 'AtoB' (left half is the input) or 'BtoA'")
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise GanutilsError(f"{path} is not a readable image ({type(err).__name__}): delete it or replace it") from None
    w, h = img.size
    if w % 2:
        raise GanutilsError(f"{path} is {w} pixels wide, an odd width, so its halves cannot match: an A|B pair has A and B side "
                            "by side in two equal halves. Fix: re-export the pair with both halves the same size, or remove the file")
    a, b = img.crop((0, 0, w // 2, h)), img.crop((w // 2, 0, w, h))
    if size is not None:
        size = check_positive_int("size", size)
        a, b = a.resize((size, size), Image.BICUBIC), b.resize((size, size), Image.BICUBIC)
    a, b = _to_tensor(a), _to_tensor(b)
    return (a, b) if direction == "AtoB" else (b, a)


def save_pairs(folder, inputs: torch.Tensor, targets: torch.Tensor, prefix: str = "pair") -> list[Path]:
    """Write pairs as ``A|B`` PNG files (input left, target right), the format ``load_paired_folder`` reads."""
    from PIL import Image

    inputs, targets = _check_pair(inputs, targets)
    if inputs.shape[1] not in (1, 3):
        raise GanutilsError(f"save_pairs writes 1- or 3-channel images, got {inputs.shape[1]} channels")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    side_by_side = torch.cat([inputs, targets], dim=3).clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    paths = []
    for i, img in enumerate(side_by_side):
        path = folder / f"{prefix}_{i:05d}.png"
        Image.fromarray(img.expand(3, -1, -1).permute(1, 2, 0).numpy()).save(path)
        paths.append(path)
    return paths


class PairedFolder(torch.utils.data.Dataset):
    """A pix2pix ``A|B`` folder as a Dataset of (input, target) pairs, read lazily (for large sets and DataLoaders)."""

    def __init__(self, root, direction: str = "AtoB", size: int | None = None, max_images: int | None = None):
        if direction not in DIRECTIONS:
            raise GanutilsError(f"unknown direction {direction!r}: use 'AtoB' (left half is the input) or 'BtoA'")
        self.files = paired_files(root)
        if max_images is not None:
            self.files = self.files[: check_positive_int("max_images", max_images)]
        self.direction, self.size = direction, size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return load_pair(self.files[i], self.direction, self.size)


def load_paired_folder(root, direction: str = "AtoB", size: int | None = None, max_images: int | None = None):
    """Every pair of an ``A|B`` folder stacked in memory: (inputs, targets), each (N, 3, H, W) in [-1, 1].

    Feed them to ``data.TensorSampler(inputs, targets, batch_size=...)`` to train a ``Pix2Pix``.
    """
    dataset = PairedFolder(root, direction, size, max_images)
    pairs = [dataset[i] for i in range(len(dataset))]
    first = tuple(pairs[0][0].shape)
    for path, (a, _) in zip(dataset.files, pairs):
        if tuple(a.shape) != first:
            raise GanutilsError(f"{path} has halves of {a.shape[2]}x{a.shape[1]} pixels, {dataset.files[0].name} of "
                                f"{first[2]}x{first[1]}: the pairs of a folder must match. Fix: pass size=... (e.g. 256) to "
                                "resize every pair, or remove the odd file")
    return torch.stack([a for a, _ in pairs]), torch.stack([b for _, b in pairs])
