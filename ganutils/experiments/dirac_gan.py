"""The Dirac-GAN (Mescheder et al. 2018, "Which training methods for GANs do actually converge?", sec. 2-3).

The smallest GAN that shows why GAN training need not converge. The data is a point mass at
0, the generator a point mass at θ (p_θ = δ_θ), the discriminator linear, D_ψ(x) = ψ·x. In the
paper's notation the game is

    L(θ, ψ) = f(ψ θ) + f(0)         G minimises L over θ, D maximises it over ψ,

with f(t) = -log(1 + exp(-t)) for the GAN of Goodfellow et al. and f(t) = t for the WGAN. The
unique equilibrium is θ = ψ = 0. Training follows the *gradient vector field*
v(θ, ψ) = (-∂L/∂θ, ∂L/∂ψ); near the equilibrium its Jacobian is

    J = [[0, -f'(0)], [f'(0), 0]]     eigenvalues ±i·f'(0), purely imaginary,

so the continuous dynamics circle the equilibrium forever (Lemma 2.2), simultaneous gradient
descent spirals out (the update's eigenvalues 1 ± i·h·f'(0) have modulus > 1) and alternating
gradient descent keeps circling. A regulariser that adds a negative real part fixes it:
R1 = γ/2·ψ² on the real data (sec. 4, eq. 9) or instance noise (sec. 3.3) make the eigenvalues
-γ/2 ± sqrt(γ²/4 - f'(0)²) and σ²f''(0) ± sqrt(σ⁴f''(0)² - f'(0)²). WGAN-GP's penalty
γ/2·(|ψ| - g₀)² is centred on g₀ ≠ 0 and pushes D *away* from the flat equilibrium
discriminator ψ = 0, so it does not converge either (sec. 3.2).

The vector fields follow the authors' code (github.com/LMescheder/GAN_stability,
notebooks/diracgan/gans.py); instance noise is integrated by Gauss-Hermite quadrature instead of
their 1,000 random draws, so every number here is deterministic.

    traj = simulate("ns_gan", steps=500, h=0.2, mode="alternating")   # (steps + 1, 2): θ, ψ
    eigenvalues("r1", gamma=0.3)                                      # of J at the equilibrium
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ..config import GanutilsError, check_positive_int

METHODS = ("gan", "ns_gan", "wgan", "wgan_gp", "r1", "instance_noise")
MODES = ("simultaneous", "alternating")
DEFAULTS = {"gamma": 0.3, "g0": 1.0, "noise_std": 0.7, "clip": 1.0}  # as in the authors' DiracGAN notebook
QUADRATURE_POINTS = 40


def f_prime(t):
    """f'(t) for f(t) = -log(1 + exp(-t)): sigmoid(-t) = 1 / (1 + exp(t)); f'(0) = 1/2. NumPy or torch."""
    return 1 / (1 + (torch.exp(t) if isinstance(t, torch.Tensor) else np.exp(t)))


def _check(method: str, gamma: float, g0: float, noise_std: float) -> None:
    if method not in METHODS:
        raise GanutilsError(f"unknown Dirac-GAN method {method!r}: use one of {', '.join(METHODS)}")
    if not gamma >= 0:
        raise GanutilsError(f"gamma must be >= 0 (a penalty weight), got {gamma!r}: e.g. gamma=0.3")
    if method == "instance_noise" and not noise_std > 0:
        raise GanutilsError(f"noise_std must be > 0 for instance noise, got {noise_std!r}: e.g. noise_std=0.7")


@functools.lru_cache(maxsize=8)
def _hermite(noise_std: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with sum_i w_i g(x_i) ≈ E[g(x)], x ~ N(0, noise_std²) (probabilists' Gauss-Hermite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_POINTS)
    return nodes * noise_std, weights / math.sqrt(2 * math.pi)


def vector_field(method: str, state, *, gamma: float = DEFAULTS["gamma"], g0: float = DEFAULTS["g0"],
                 noise_std: float = DEFAULTS["noise_std"]) -> torch.Tensor:
    """v(θ, ψ) = (-∂L/∂θ, ∂L/∂ψ) of ``method`` at ``state`` = (θ, ψ): a NumPy array, or a float64 torch
    tensor (so that ``torch.func`` can differentiate it), of shape (2,); returns the same kind.

    gan: the minimax GAN; ns_gan: G uses the non-saturating loss; wgan: f(t) = t (clipping is
    applied by ``simulate``); wgan_gp: WGAN - γ/2 (|ψ| - g0)² for D; r1: non-saturating GAN -
    γ/2 ψ² for D (the gradient of D_ψ(x) = ψx is ψ everywhere); instance_noise: the GAN with
    N(0, noise_std²) added to real and fake samples.
    """
    _check(method, gamma, g0, noise_std)
    xp = torch if isinstance(state, torch.Tensor) else np
    theta, psi = state[0], state[1]
    if method == "gan":
        v = (-psi * f_prime(psi * theta), theta * f_prime(psi * theta))
    elif method in ("ns_gan", "r1"):
        v = (-psi * f_prime(-psi * theta), theta * f_prime(psi * theta) - (gamma * psi if method == "r1" else 0))
    elif method == "wgan":
        v = (-psi, theta)
    elif method == "wgan_gp":
        v = (-psi, theta - gamma * (abs(psi) - g0) * xp.sign(psi))
    else:  # instance noise: L = E_eps f(ψ(θ + eps)) + E_x f(-ψ x), eps, x ~ N(0, σ²)
        eps, w = _hermite(noise_std)
        if xp is torch:
            eps, w = torch.from_numpy(eps), torch.from_numpy(w)
        fake = theta + eps
        v = (-(w * psi * f_prime(psi * fake)).sum(),
             (w * fake * f_prime(psi * fake)).sum() - (w * eps * f_prime(-psi * eps)).sum())
    if xp is torch:
        return torch.stack([torch.as_tensor(c, dtype=torch.float64) for c in v])
    return np.array(v, dtype=np.float64)


def jacobian(method: str, **kw) -> torch.Tensor:
    """The 2x2 Jacobian ∂v/∂(θ, ψ) of the vector field at the equilibrium (0, 0), by autodiff."""
    if method == "wgan_gp":
        raise GanutilsError("WGAN-GP's vector field has no Jacobian at the equilibrium: sign(ψ) jumps at ψ = 0 "
                            "(that kink is why it does not converge); use simulate('wgan_gp') instead")
    return torch.autograd.functional.jacobian(lambda s: vector_field(method, s, **kw), torch.zeros(2, dtype=torch.float64))


def eigenvalues(method: str, **kw) -> np.ndarray:
    """Eigenvalues of ``jacobian(method)`` (complex): real part < 0 means locally convergent for small steps."""
    return np.linalg.eigvals(jacobian(method, **kw).numpy())


def predicted_eigenvalues(method: str, *, gamma: float = DEFAULTS["gamma"], noise_std: float = DEFAULTS["noise_std"]) -> np.ndarray:
    """The closed forms of the paper (f'(0) = 1/2, f''(0) = -1/4; WGAN: f'(0) = 1)."""
    fp, fpp = (1.0, 0.0) if method == "wgan" else (0.5, -0.25)
    if method in ("gan", "ns_gan", "wgan"):
        return np.array([1j * fp, -1j * fp])
    if method == "r1":
        root = np.sqrt(complex(gamma**2 / 4 - fp**2))
        return np.array([-gamma / 2 + root, -gamma / 2 - root])
    if method == "instance_noise":
        root = np.sqrt(complex(noise_std**4 * fpp**2 - fp**2))
        return np.array([noise_std**2 * fpp + root, noise_std**2 * fpp - root])
    raise GanutilsError(f"no closed form for {method!r}: use one of gan, ns_gan, wgan, r1, instance_noise")


def simulate(method: str, *, steps: int = 500, h: float = 0.2, mode: str = "alternating", start=(1.0, 1.0),
             clip: float | None = None, **kw) -> np.ndarray:
    """Gradient descent on the Dirac-GAN: the trajectory (θ_k, ψ_k), k = 0..steps, shape (steps + 1, 2).

    simultaneous: both players step from the same point; alternating: G steps, then D steps from
    G's new θ (the authors' ``trajectory_simgd`` / ``trajectory_altgd``). ``clip`` keeps ψ in
    [-clip, clip] after every step (WGAN's weight clipping; default 1 for wgan, none otherwise).
    """
    steps = check_positive_int("steps", steps)
    if mode not in MODES:
        raise GanutilsError(f"unknown update mode {mode!r}: use 'simultaneous' or 'alternating'")
    if not h > 0:
        raise GanutilsError(f"the step size h must be > 0, got {h!r}")
    if clip is None and method == "wgan":
        clip = DEFAULTS["clip"]
    state = np.array(start, dtype=np.float64)
    out = np.empty((steps + 1, 2))
    out[0] = state
    for k in range(1, steps + 1):
        if mode == "simultaneous":
            state = state + h * vector_field(method, state, **kw)
        else:
            state[0] += h * vector_field(method, state, **kw)[0]
            state[1] += h * vector_field(method, state, **kw)[1]
        if clip is not None:
            state[1] = np.clip(state[1], -clip, clip)
        out[k] = state
    return out


def distance_to_equilibrium(trajectory: np.ndarray) -> np.ndarray:
    """||(θ_k, ψ_k)|| for every step of a trajectory."""
    return np.linalg.norm(np.asarray(trajectory), axis=-1)


def plot_trajectories(ax, method: str, trajectories: dict, *, lim: float = 2.0, title: str | None = None, **kw):
    """The vector field of ``method`` (arrows) and {label: trajectory} drawn on it, equilibrium marked."""
    grid = np.linspace(-lim, lim, 13)
    th, ps = np.meshgrid(grid, grid)
    field = np.array([[vector_field(method, np.array([t, p]), **kw) for t, p in zip(row_t, row_p)] for row_t, row_p in zip(th, ps)])
    ax.quiver(th, ps, field[..., 0], field[..., 1], color="0.75", angles="xy", width=0.004)
    for label, traj in trajectories.items():
        ax.plot(traj[:, 0], traj[:, 1], lw=1.2, label=label)
        ax.plot(*traj[0], "ko", ms=3)
    ax.plot(0, 0, "r*", ms=10, label="equilibrium")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="θ (generator)", ylabel="ψ (discriminator)", title=title or method)
    ax.set_aspect("equal")
    ax.legend(fontsize=7, frameon=False, loc="lower left")
