"""The latent explorer: move through a trained generator's latent space and watch the image change.

(About 450 lines on purpose: one class holding both the widget and the Python API its callbacks call,
so that what the tests drive is exactly what the sliders do.)

    ex = LatentExplorer(cgan.G, z_dim=64, n_classes=10)   # any z[, labels] -> images callable
    ex.show()                                             # the live widget (a static image under GANUTILS_STATIC=1)
    ex.set(0, 2.0).set_class(3).interpolate(0.5, mode="slerp")
    ex.image()                                            # the current image, (H, W) floats in [0, 1]

The current latent is ``interp(z_a, z_b, t) + Σ_k value_k · direction_k``: two seeds A and B
(the interpolation slider walks from A to B, linearly or along the sphere), plus offsets
along a basis of directions:

- ``"raw"``: the coordinate axes of z;
- ``"pca_z"``: principal directions of sampled z. For an isotropic prior they carry no
  information (every direction has variance ≈ 1), which is the point of showing them;
- ``"features"``: GANSpace (Härkönen et al. 2020): principal directions of the activations
  of an early layer of G, carried back to z by least squares.

Every widget callback calls the same Python API the tests drive, so the widget does what the
tests check. The latent-space maths (``lerp``/``slerp``, directions, ``ablate_channels``) is in
``ganutils.latent``.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from torch import nn

from ..config import GanutilsError, check_positive_int
from ..latent import MODES, _check_t, ganspace_directions, interpolate, principal_directions, record_activations
from ..nets.utils import eval_mode
from .display import static_display

BASES = ("raw", "pca_z", "features")


# ----------------------------------------------------------------------------- the explorer


def _resolve_generator(generator, z_dim, scale, feature_layer):
    """Unwrap a ``training.GAN`` (its G) or a ``training.VAE`` (its decode, [0, 1] images); read z_dim where the object knows it."""
    if hasattr(generator, "G") and isinstance(generator.G, nn.Module):  # gan.GAN and subclasses
        z_dim = z_dim or getattr(generator, "z_dim", None)
        generator = generator.G
    elif hasattr(generator, "decode") and isinstance(getattr(generator, "decoder", None), nn.Module):  # vae.VAE
        z_dim = z_dim or getattr(generator, "z_dim", None)
        feature_layer = feature_layer if feature_layer is not None else _first_layer(generator.decoder)
        scale = scale or "unit"
        generator = generator.decode
    if not callable(generator):
        raise GanutilsError(f"the explorer needs a generator: a callable z[, labels] -> images, got {type(generator).__name__}")
    z_dim = z_dim or getattr(generator, "z_dim", None)
    if z_dim is None:
        raise GanutilsError("the explorer cannot tell the latent size: pass z_dim=... (the generator's input width)")
    return generator, check_positive_int("z_dim", z_dim), scale or "tanh", feature_layer


def _first_layer(module: nn.Module) -> nn.Module | None:
    """``module.first_layer`` if it names one, else its first Linear/Conv layer (the one z enters)."""
    named = getattr(module, "first_layer", None)
    if isinstance(named, nn.Module):
        return named
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            return m
    return None


def _to_png(image: np.ndarray, zoom: int) -> bytes:
    from PIL import Image

    pixels = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    img = Image.fromarray(pixels)  # uint8 (H, W) -> "L", (H, W, 3) -> "RGB"
    img = img.resize((img.width * zoom, img.height * zoom), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class LatentExplorer:
    """Sliders, class swap, interpolation and vector arithmetic over a trained generator.

    generator: a ``gan.GAN``, a ``vae.VAE``, an ``nn.Module`` or any callable ``z (N, z_dim)
    [, labels (N,)] -> images (N, C, H, W)``; ``scale`` says whether images are in [-1, 1]
    ("tanh", default) or [0, 1] ("unit", the default for a VAE).
    n_classes: the number of classes of a conditional generator (None: unconditional).
    directions: the initial basis, one of "raw", "pca_z", "features" (default: "features" when a
    layer to read is known, else "raw"); ``n_directions`` sliders; values in ±``slider_range``.
    feature_layer: the module whose output GANSpace analyses (default: G's ``first_layer``,
    else its first Linear/Conv layer); n_fit: latents sampled to fit the principal directions.
    """

    def __init__(self, generator, z_dim: int | None = None, *, n_classes: int | None = None, scale: str | None = None,
                 seed: int = 0, n_directions: int = 6, directions: str | None = None,
                 feature_layer: nn.Module | None = None, n_fit: int = 2000, slider_range: float = 3.0, zoom: int = 8,
                 device=None):
        generator, self.z_dim, self.scale, feature_layer = _resolve_generator(generator, z_dim, scale, feature_layer)
        if self.scale not in ("tanh", "unit"):
            raise GanutilsError(f"unknown pixel scale {self.scale!r}: use 'tanh' for images in [-1, 1] or 'unit' for [0, 1]")
        self.generator = generator
        self.n_classes = None if n_classes is None else check_positive_int("n_classes", n_classes)
        self.n_directions = min(check_positive_int("n_directions", n_directions), self.z_dim)
        self.n_fit = check_positive_int("n_fit", n_fit)
        self.slider_range = float(slider_range)
        if not self.slider_range > 0:
            raise GanutilsError(f"slider_range must be > 0, got {slider_range!r}")
        self.zoom = check_positive_int("zoom", zoom)
        if isinstance(generator, nn.Module):
            self.device = torch.device(device) if device is not None else next(generator.parameters(), torch.empty(0)).device
            feature_layer = feature_layer if feature_layer is not None else _first_layer(generator)
        else:
            self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.feature_layer = feature_layer
        self._rng = np.random.default_rng(seed)
        self._fit_seed = int(seed)
        self._bases: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.label = 0 if self.n_classes else None
        self.seed_a, self.seed_b = int(seed), int(seed) + 1
        self.z_a, self.z_b = self.seed_z(self.seed_a), self.seed_z(self.seed_b)
        self.t, self.mode = 0.0, "slerp"
        self.values = np.zeros(self.n_directions)
        self.source = f"seed {self.seed_a}"
        self._check_output()
        available = self.available_bases()
        self.basis = directions if directions is not None else ("features" if "features" in available else "raw")
        self.set_basis(self.basis)
        self._widgets: dict = {}
        self._syncing = False

    # ------------------------------------------------------------------ generation
    def seed_z(self, seed: int) -> torch.Tensor:
        """The latent (z_dim,) that seed ``seed`` stands for: the same seed always gives the same z."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise GanutilsError(f"a seed must be a whole number in 0 .. 2**63 - 1, got {seed!r}")
        return torch.randn(self.z_dim, generator=torch.Generator().manual_seed(int(seed)))

    @torch.no_grad()
    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32).reshape(-1, self.z_dim).to(self.device)
        args = (z,) if self.n_classes is None else (z, torch.as_tensor(labels, dtype=torch.long).reshape(-1).to(self.device))
        module = self.generator if isinstance(self.generator, nn.Module) else None
        try:
            with eval_mode(module):  # BatchNorm must use its running statistics for one image at a time
                out = self.generator(*args)
        except GanutilsError:
            raise
        except TypeError as err:
            need = "without labels (leave n_classes=None)" if self.n_classes else "with labels: pass n_classes=..."
            raise GanutilsError(f"calling the generator failed ({err}); it may need to be called {need}") from None
        except RuntimeError as err:
            detail = (str(err).strip().splitlines() or [""])[0][:160]
            raise GanutilsError(
                f"the generator cannot take latents of size {self.z_dim} ({detail}): "
                "pass the z_dim the generator was built for"
            ) from None
        out = torch.as_tensor(out).detach().float().cpu()
        if out.dim() == 3:
            out = out.unsqueeze(1)
        if out.dim() == 2 and out.shape[1] == 784:
            out = out.view(-1, 1, 28, 28)
        return out

    def _check_output(self) -> None:
        labels = torch.zeros(2, dtype=torch.long) if self.n_classes else None
        out = self._generate(torch.stack([self.z_a, self.z_b]), labels)
        if out.dim() != 4 or len(out) != 2 or out.shape[1] not in (1, 3):
            raise GanutilsError(
                f"the generator returned shape {tuple(out.shape)} for 2 latents; the explorer needs images (N, 1 or 3, H, W)"
            )
        if not torch.isfinite(out).all():
            raise GanutilsError("the generator returned NaN or inf: check the model (a diverged run?)")
        lo = -1.0 if self.scale == "tanh" else 0.0
        if out.min() < lo - 1e-3 or out.max() > 1.0 + 1e-3:
            hint = "scale='tanh' for [-1, 1]" if out.min() >= -1 - 1e-3 and out.max() <= 1 + 1e-3 else "a generator ending in tanh or sigmoid"
            raise GanutilsError(
                f"the generator's images range over [{out.min():.3g}, {out.max():.3g}], outside scale={self.scale!r}: use {hint}"
            )

    def render(self, z: torch.Tensor, labels=None) -> np.ndarray:
        """Images of latents ``z`` ((d,) or (N, d)) as an array (N, H, W) or (N, H, W, 3) in [0, 1]."""
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.shape[-1] != self.z_dim:
            raise GanutilsError(f"latents must have {self.z_dim} entries, got shape {tuple(z.shape)}")
        z = z.reshape(-1, self.z_dim)
        if self.n_classes is not None:
            labels = [self.label] if labels is None else labels
            labels = [self._check_class(c) for c in np.asarray(labels).reshape(-1).tolist()]
            if len(z) == 1 and len(labels) > 1:  # one latent drawn as several classes
                z = z.expand(len(labels), -1)
            if len(labels) not in (1, len(z)):
                raise GanutilsError(f"give one class or one per latent: got {len(labels)} classes for {len(z)} latents")
            labels = torch.tensor(labels * (len(z) if len(labels) == 1 else 1), dtype=torch.long)
        x = self._generate(z, labels)
        x = (x + 1) / 2 if self.scale == "tanh" else x
        x = x.clamp(0, 1).numpy()
        return x[:, 0] if x.shape[1] == 1 else x.transpose(0, 2, 3, 1)

    def z(self) -> torch.Tensor:
        """The current latent: interp(z_a, z_b, t) + Σ value_k · direction_k."""
        base = interpolate(self.z_a, self.z_b, self.t, self.mode)
        offset = torch.as_tensor(self.values, dtype=torch.float32) @ self.directions
        return base + offset

    def image(self) -> np.ndarray:
        """The current image, (H, W) (or (H, W, 3)) float32 in [0, 1]: what the widget shows."""
        return self.render(self.z())[0]

    def classify(self) -> tuple[int, float]:
        """(class, probability) that the MNIST evaluation network reads in the current image (28x28 grey only)."""
        from ..metrics.evalnet import classify

        img = self.image()
        if img.shape != (28, 28):
            raise GanutilsError(f"the evaluation network reads 28x28 grey digits; this generator makes {img.shape} images")
        p = classify(torch.from_numpy(img).view(1, 1, 28, 28), scale="unit")[0]
        return int(p.argmax()), float(p.max())

    # ------------------------------------------------------------------ the API the widget calls
    def available_bases(self) -> list[str]:
        return [b for b in BASES if b != "features" or self.feature_layer is not None]

    def set_basis(self, name: str) -> "LatentExplorer":
        """Switch the sliders' directions to ``name`` ("raw", "pca_z" or "features") and zero them."""
        if name not in BASES:
            raise GanutilsError(f"unknown direction basis {name!r}: use one of {', '.join(BASES)}")
        if name not in self.available_bases():
            raise GanutilsError(
                "directions='features' needs a layer to analyse: pass feature_layer=<a module inside the generator> "
                "(or use 'raw' / 'pca_z')"
            )
        if name not in self._bases:
            self._bases[name] = self._fit_basis(name)
        self.basis = name
        self.directions, self.explained_variance = self._bases[name]
        self.values = np.zeros(self.n_directions)
        return self._changed()

    def _fit_basis(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.n_directions
        if name == "raw":
            return torch.eye(self.z_dim)[:k], torch.full((k,), 1.0 / self.z_dim)
        gen = torch.Generator().manual_seed(self._fit_seed + 12345)
        z = torch.randn(self.n_fit, self.z_dim, generator=gen)
        if name == "pca_z":
            return principal_directions(z, k)
        labels = torch.randint(self.n_classes, (self.n_fit,), generator=gen) if self.n_classes else None
        with record_activations(self.feature_layer) as acts:
            for i in range(0, self.n_fit, 500):
                self._generate(z[i : i + 500], None if labels is None else labels[i : i + 500])
        if not acts:
            raise GanutilsError("feature_layer was never called by the generator: pass a module that the generator uses")
        return ganspace_directions(z, torch.cat(acts), k)

    def set(self, direction: int, value: float) -> "LatentExplorer":
        """Move slider ``direction`` (0..n_directions-1) to ``value`` (in units of z's standard deviation)."""
        if isinstance(direction, bool) or not isinstance(direction, (int, np.integer)) or not 0 <= direction < self.n_directions:
            raise GanutilsError(f"direction must be a slider index 0..{self.n_directions - 1}, got {direction!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise GanutilsError(f"a slider value must be a number, got {value!r}") from None
        if not np.isfinite(value):
            raise GanutilsError(f"a slider value must be finite, got {value}")
        self.values[int(direction)] = value
        return self._changed()

    def _check_class(self, label) -> int:
        if self.n_classes is None:
            raise GanutilsError("this generator is unconditional: there is no class to set (pass n_classes=... for a cGAN)")
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < self.n_classes:
            raise GanutilsError(f"class must be a whole number in 0..{self.n_classes - 1}, got {label!r}")
        return int(label)

    def set_class(self, label: int) -> "LatentExplorer":
        """The class a conditional generator draws (the latent, i.e. the style, stays)."""
        self.label = self._check_class(label)
        return self._changed()

    def interpolate(self, t: float, mode: str | None = None) -> "LatentExplorer":
        """Walk from seed A (t = 0) to seed B (t = 1), "linear" or "slerp" (default: the current mode)."""
        mode = self.mode if mode is None else mode
        if mode not in MODES:
            raise GanutilsError(f"unknown interpolation mode {mode!r}: use 'linear' or 'slerp'")
        self.t, self.mode = _check_t(t), mode
        return self._changed()

    def new_seed(self, seed: int | None = None, which: str = "a") -> "LatentExplorer":
        """A new latent for seed A (or B with ``which="b"``): ``seed``, or a fresh random one; sliders reset."""
        if which not in ("a", "b"):
            raise GanutilsError(f"which must be 'a' or 'b', got {which!r}")
        seed = int(self._rng.integers(0, 2**31 - 1)) if seed is None else seed
        z = self.seed_z(seed)
        if which == "a":
            self.seed_a, self.z_a, self.source = int(seed), z, f"seed {seed}"
            self.values = np.zeros(self.n_directions)
            self.t = 0.0
        else:
            self.seed_b, self.z_b = int(seed), z
        return self._changed()

    def _latent(self, spec, name: str) -> torch.Tensor:
        """A seed, a list of seeds (their latents averaged, as DCGAN averaged 3 exemplars) or a latent tensor."""
        if isinstance(spec, torch.Tensor):
            z = spec.detach().float().cpu()
            if z.shape[-1] != self.z_dim or z.dim() > 2:
                raise GanutilsError(f"{name} must be a latent of size {self.z_dim} (or (n, {self.z_dim}) to average), got {tuple(z.shape)}")
            return z.reshape(-1, self.z_dim).mean(0)
        seeds = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        if not seeds:
            raise GanutilsError(f"{name} is an empty list: give at least one seed")
        return torch.stack([self.seed_z(s) for s in seeds]).mean(0)

    def arithmetic(self, a, b, c) -> "LatentExplorer":
        """Vector arithmetic: seed A becomes z(a) - z(b) + z(c); each is a seed, a list of seeds (averaged) or a latent."""
        za, zb, zc = self._latent(a, "a"), self._latent(b, "b"), self._latent(c, "c")
        self.z_a, self.seed_a, self.source = za - zb + zc, None, "a - b + c"
        self.values, self.t = np.zeros(self.n_directions), 0.0
        return self._changed()

    def reset(self) -> "LatentExplorer":
        """Sliders to zero and the interpolation back to seed A."""
        self.values, self.t = np.zeros(self.n_directions), 0.0
        return self._changed()

    def state(self) -> dict:
        """Everything that determines the current image, as plain values."""
        return {"seed_a": self.seed_a, "seed_b": self.seed_b, "source": self.source, "label": self.label,
                "basis": self.basis, "values": self.values.tolist(), "t": self.t, "mode": self.mode}

    def __repr__(self) -> str:
        s = self.state()
        label = f", class {s['label']}" if self.n_classes else ""
        return f"LatentExplorer({s['source']}{label}, basis {s['basis']}, values {np.round(s['values'], 2).tolist()}, t {s['t']:.2f} {s['mode']})"

    # ------------------------------------------------------------------ the widget
    def widget(self):
        """The ipywidgets UI (built once): every control calls the API above, then the image is redrawn."""
        if self._widgets:
            return self._widgets["box"]
        import ipywidgets as W

        w: dict = {}
        w["image"] = W.Image(value=_to_png(self.image(), self.zoom), format="png", layout=W.Layout(width="196px", height="196px"))
        w["image"].add_class("ganutils-explorer-image")
        w["caption"] = W.HTML(self._caption())
        w["basis"] = W.Dropdown(options=self.available_bases(), value=self.basis, description="directions")
        w["sliders"] = [W.FloatSlider(value=0.0, min=-self.slider_range, max=self.slider_range, step=0.1,
                                      description=f"dir {k}", continuous_update=True) for k in range(self.n_directions)]
        w["t"] = W.FloatSlider(value=self.t, min=0.0, max=1.0, step=0.05, description="A → B")
        w["mode"] = W.ToggleButtons(options=list(MODES), value=self.mode)
        w["new_a"], w["new_b"] = W.Button(description="new seed"), W.Button(description="new seed B")
        w["reset"] = W.Button(description="reset sliders")
        w["a"], w["b"], w["c"] = (W.Text(value=v, description=n, layout=W.Layout(width="160px"))
                                  for n, v in (("a", "1,2,3"), ("b", "4,5,6"), ("c", "7")))
        w["apply"] = W.Button(description="a − b + c")
        w["error"] = W.HTML("")

        def guarded(fn):
            def run(*args):
                if self._syncing:
                    return
                try:
                    fn(*args)
                    w["error"].value = ""
                except GanutilsError as err:
                    w["error"].value = f"<span style='color:#b00'>{err}</span>"
            return run

        for k, s in enumerate(w["sliders"]):
            s.observe(guarded(lambda ch, k=k: self.set(k, ch["new"])), names="value")
        w["basis"].observe(guarded(lambda ch: self.set_basis(ch["new"])), names="value")
        w["t"].observe(guarded(lambda ch: self.interpolate(ch["new"])), names="value")
        w["mode"].observe(guarded(lambda ch: self.interpolate(self.t, ch["new"])), names="value")
        w["new_a"].on_click(guarded(lambda _: self.new_seed()))
        w["new_b"].on_click(guarded(lambda _: self.new_seed(which="b")))
        w["reset"].on_click(guarded(lambda _: self.reset()))
        w["apply"].on_click(guarded(lambda _: self.arithmetic(*(_parse_seeds(w[n].value, n) for n in "abc"))))
        controls = [w["basis"], *w["sliders"]]
        if self.n_classes:
            w["class"] = W.Dropdown(options=list(range(self.n_classes)), value=self.label, description="class")
            w["class"].observe(guarded(lambda ch: self.set_class(ch["new"])), names="value")
            controls.insert(0, w["class"])
        arithmetic = W.HBox([w["a"], w["b"], w["c"], w["apply"]])
        right = W.VBox([*controls, W.HBox([w["t"], w["mode"]]), W.HBox([w["new_a"], w["new_b"], w["reset"]]), arithmetic, w["error"]])
        w["box"] = W.HBox([W.VBox([w["image"], w["caption"]]), right])
        w["box"].add_class("ganutils-explorer")
        self._widgets = w
        return w["box"]

    def _caption(self) -> str:
        s = self.state()
        parts = [s["source"]] + ([f"class {s['label']}"] if self.n_classes else []) + [f"t = {s['t']:.2f} ({s['mode']})"]
        return "<small>" + " · ".join(parts) + "</small>"

    def _changed(self) -> "LatentExplorer":
        """After any API call: move the widget's controls to the new state (without re-triggering) and redraw."""
        w = getattr(self, "_widgets", None)
        if w:
            self._syncing = True
            try:
                w["basis"].value = self.basis
                for k, s in enumerate(w["sliders"]):
                    s.value = float(np.clip(self.values[k], s.min, s.max))
                w["t"].value, w["mode"].value = self.t, self.mode
                if "class" in w:
                    w["class"].value = self.label
            finally:
                self._syncing = False
            w["image"].value = _to_png(self.image(), self.zoom)
            w["caption"].value = self._caption()
        return self

    def show(self, ax=None):
        """Display the live widget, or under $GANUTILS_STATIC (executed notebooks, tests) the current image with matplotlib."""
        if not static_display():
            from IPython.display import display

            display(self.widget())
            return None
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(2.4, 2.6))[1]
        ax.imshow(self.image(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(self._caption().replace("<small>", "").replace("</small>", ""), fontsize=7)
        ax.set_axis_off()
        return ax


def _parse_seeds(text: str, name: str) -> list[int]:
    """ "1, 2,3" -> [1, 2, 3] (the widget's arithmetic boxes)."""
    try:
        seeds = [int(s) for s in str(text).replace(" ", "").split(",") if s]
    except ValueError:
        raise GanutilsError(f"{name}: write seeds as whole numbers separated by commas, e.g. 1,2,3; got {text!r}") from None
    if not seeds:
        raise GanutilsError(f"{name}: give at least one seed, e.g. 1,2,3")
    return seeds


def explorer_for(model, **kwargs) -> LatentExplorer:
    """A ``LatentExplorer`` for a ``training.GAN`` whose G takes labels (n_classes read from G) or not."""
    G = getattr(model, "G", model)
    n_classes = kwargs.pop("n_classes", getattr(G, "n_classes", None))
    return LatentExplorer(model, n_classes=n_classes, **kwargs)
