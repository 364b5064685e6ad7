"""A one-page cheat sheet: formulas and defaults, each with the notebook section it comes from.

The numbers that ganutils can compute (log 4, the loss gradients, the KL closed form, the library's
default hyperparameters) are computed, not typed.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from . import bank


@dataclass(frozen=True)
class CheatRow:
    topic: str
    item: str
    formula: str  # Markdown with inline LaTeX
    notebook: str
    section: str
    value: str = ""  # a number computed by ganutils, filled in by cheat_sheet_rows()


def cheat_sheet_values() -> dict:
    """The cheat sheet's numbers, computed with the course's own functions (float64 where it matters)."""
    import numpy as np
    import torch

    from ..losses import adversarial as losses
    from ..losses.elbo import kl_standard_normal
    from ..losses.gradient_penalty import gradient_penalty
    from ..metrics import divergences as dv
    from ..training import cyclegan
    from ..training.diffusion import linear_schedule
    from ..training.ema import horizon
    from ..training.gan import GAN

    xs = np.linspace(-6.0, 6.0, 24001)
    p = dv.gaussian_pdf(xs, 0.0, 1.0)
    a, b = dv.uniform_pdf(xs, -2.0, -1.0), dv.uniform_pdf(xs, 1.0, 2.0)  # disjoint supports, 3 apart
    d_fake = 0.01  # D confidently rejects the fakes, as early in training
    logit = torch.tensor([math.log(d_fake / (1 - d_fake))], dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.g_loss_saturating(logit), logit)
    (g_ns,) = torch.autograd.grad(losses.g_loss_non_saturating(logit), logit)
    mu, logvar = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0, math.log(4.0)]], dtype=torch.float64)
    defaults = inspect.signature(GAN.__init__).parameters
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    (f_prime,) = torch.autograd.grad(torch.nn.functional.logsigmoid(t), t)
    return {
        "v_at_optimum": dv.value_function(dv.optimal_discriminator(p, p), p, p, xs),  # -log 4
        "js_disjoint": dv.js_divergence(a, b, xs),  # log 2
        "w1_disjoint": dv.wasserstein1(a, b, xs),  # 3
        "d_fake": d_fake,
        "grad_saturating": g_sat.item(),  # -D(G(z))
        "grad_non_saturating": g_ns.item(),  # -(1 - D(G(z)))
        "kl_example": kl_standard_normal(mu, logvar).item(),  # mu = (1, 0), sigma^2 = (1, 4)
        "gan_lr": defaults["lr_g"].default,
        "gan_betas": tuple(defaults["betas"].default),
        "gp_weight": inspect.signature(gradient_penalty).parameters["weight"].default,
        "dirac_f_prime": f_prime.item(),  # f(t) = -log(1 + e^-t) = log sigmoid(t), the Dirac-GAN's f for the GAN
        "ema_horizon": horizon(0.999),
        "cycle_lambda": cyclegan.PAPER_LAMBDA,
        "identity_weight": cyclegan.PAPER_IDENTITY,
        "pool_size": cyclegan.PAPER_POOL_SIZE,
        "ddpm_alpha_bar_T": linear_schedule(1000).alpha_bar[-1].item(),  # Ho et al.'s schedule: about 4e-5
    }


def cheat_sheet_rows(values: dict | None = None) -> list[CheatRow]:
    """Formulas and defaults, each with the notebook section that derives or measures it."""
    v = cheat_sheet_values() if values is None else values
    nb01, nb02, nb03, nb04, nb06, nb08, nb12 = ("01_minmax_and_js", "02_first_gan_mnist", "03_mode_collapse", "04_wgan_gp",
                                                "06_vae", "08_pix2pix", "12_evaluation")
    nb05 = "05_modern_recipe"
    nb09, nb10, nb11 = "09_cyclegan", "10_gan_vs_diffusion", "11_super_resolution"
    kl_formula = r"$\tfrac12\sum_j(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$"
    return [
        CheatRow("objective", "GAN value function",
                 r"$\min_G\max_D V=\mathbb{E}_{x}[\log D(x)]+\mathbb{E}_{z}[\log(1-D(G(z)))]$",
                 nb01, "The min-max objective"),
        CheatRow("objective", "optimal discriminator", r"$D^*(x)=\dfrac{p_\mathrm{data}(x)}{p_\mathrm{data}(x)+p_g(x)}$",
                 nb01, "The optimal discriminator", "D* = 1/2 everywhere at p_g = p_data"),
        CheatRow("objective", "value at D*", r"$V(D^*,G)=2\,\mathrm{JS}(p_\mathrm{data}\Vert p_g)-\log 4$",
                 nb01, "V(D*, G) = 2 JS - log 4", f"minimum −log 4 = {v['v_at_optimum']:.4f}"),
        CheatRow("objective", "JS vs W1, disjoint supports",
                 r"$\mathrm{JS}\in[0,\log 2]$; $W_1=\inf_\gamma\mathbb{E}\Vert x-y\Vert$",
                 nb01, "Disjoint supports: JS is stuck, Wasserstein moves",
                 f"U[−2,−1] vs U[1,2]: JS = {v['js_disjoint']:.4f} (log 2), W1 = {v['w1_disjoint']:.3f}"),
        CheatRow("objective", "non-saturating G loss",
                 r"$-\mathbb{E}_z\log D(G(z))$ (not $\mathbb{E}\log(1-D(G(z)))$)", nb01,
                 "Saturating vs non-saturating generator loss",
                 f"d/dlogit at D = {v['d_fake']}: saturating {v['grad_saturating']:.3f}, "
                 f"non-saturating {v['grad_non_saturating']:.3f}"),
        CheatRow("wgan", "WGAN critic and G losses",
                 r"$L_f=\mathbb{E}f(G(z))-\mathbb{E}f(x)$, $L_G=-\mathbb{E}f(G(z))$, $f$ 1-Lipschitz",
                 nb04, "Wasserstein-1 vs JS"),
        CheatRow("wgan", "gradient penalty",
                 r"$\lambda\,\mathbb{E}_{\hat x}(\Vert\nabla_{\hat x}f(\hat x)\Vert_2-1)^2$, "
                 r"$\hat x=\epsilon x+(1-\epsilon)G(z)$", nb04, "WGAN-GP", f"ganutils default λ = {v['gp_weight']:g}"),
        CheatRow("wgan", "spectral normalisation", r"$W/\sigma_{\max}(W)$ per layer, one power iteration per step",
                 nb04, "Spectral normalisation"),
        CheatRow("recipe", "Dirac-GAN at equilibrium",
                 r"$J=\begin{pmatrix}0&-f'(0)\\ f'(0)&0\end{pmatrix}$, eigenvalues $\pm i f'(0)$: GD circles or spirals out",
                 nb05, "Why GAN training circles: the Dirac-GAN", f"GAN: f'(0) = {v['dirac_f_prime']:g}"),
        CheatRow("recipe", "R1 penalty",
                 r"$\tfrac{\gamma}{2}\mathbb{E}_{x\sim p_\mathrm{data}}\Vert\nabla_x D(x)\Vert^2$ (zero-centred, real data only); "
                 r"Dirac-GAN eigenvalues $-\gamma/2\pm\sqrt{\gamma^2/4-f'(0)^2}$, fastest at $\gamma=2f'(0)$",
                 nb05, "What makes it converge: R1 and instance noise (and why WGAN-GP does not)"),
        CheatRow("recipe", "hinge loss",
                 r"$L_D=\mathbb{E}\max(0,1-D(x))+\mathbb{E}\max(0,1+D(G(z)))$, $L_G=-\mathbb{E}\,D(G(z))$ (with SN in D)",
                 nb05, "The recipe on images"),
        CheatRow("recipe", "EMA of G", r"$\theta_\mathrm{ema}\leftarrow\beta\,\theta_\mathrm{ema}+(1-\beta)\,\theta$ "
                 "after each G step; sample from the average (ProGAN β = 0.999, BigGAN 0.9999)", nb05, "The recipe on images",
                 f"β = 0.999 averages about {v['ema_horizon']:,.0f} steps"),
        CheatRow("recipe", "DiffAugment", "the same differentiable T on reals and fakes, in D's and G's updates "
                 "(colour, translation 1/8, cutout 1/2); never the reals only", nb05, "A discriminator that overfits"),
        CheatRow("vae", "ELBO", r"$\log p(x)\ge\mathbb{E}_{q(z\mid x)}[\log p(x\mid z)]-\mathrm{KL}(q(z\mid x)\Vert p(z))$",
                 nb06, "The ELBO"),
        CheatRow("vae", "KL to N(0, I), closed form", kl_formula, nb06, "The ELBO",
                 f"μ = (1, 0), σ² = (1, 4): {v['kl_example']:.4f}"),
        CheatRow("vae", "reparameterisation", r"$z=\mu+\sigma\odot\epsilon$, $\epsilon\sim\mathcal{N}(0,I)$",
                 nb06, "The reparameterisation trick"),
        CheatRow("vae", "β-VAE",
                 r"$\mathbb{E}_q[-\log p(x\mid z)]+\beta\,\mathrm{KL}(q(z\mid x)\Vert p(z))$, $\beta>1$ disentangles, blurs",
                 nb06, "The beta sweep"),
        CheatRow("pix2pix", "pix2pix objective",
                 r"$G^*=\arg\min_G\max_D\,\mathcal{L}_\mathrm{cGAN}(G,D)+\lambda\,\mathbb{E}\Vert y-G(x,z)\Vert_1$, "
                 r"$\lambda=100$",
                 nb08, "L1 vs cGAN vs L1 + cGAN"),
        CheatRow("pix2pix", "PatchGAN", "70×70 receptive field (C64-C128-C256-C512, 4×4 convs)",
                 nb08, "PatchGAN and its receptive field"),
        CheatRow("cyclegan", "cycle consistency",
                 r"$\mathcal{L}_\mathrm{cyc}=\mathbb{E}_x\Vert F(G(x))-x\Vert_1+\mathbb{E}_y\Vert G(F(y))-y\Vert_1$ "
                 r"(Zhu et al. 2017, Eq. 2); adversarial terms least-squares (Sec. 4)",
                 nb09, "The objective", f"ganutils default λ = {v['cycle_lambda']:g} (Sec. 4)"),
        CheatRow("cyclegan", "identity loss and image pool",
                 r"$\mathbb{E}_y\Vert G(y)-y\Vert_1+\mathbb{E}_x\Vert F(x)-x\Vert_1$; D sees fakes from a history of "
                 "past generated images", nb09, "The image pool",
                 f"identity weight {v['identity_weight']:g} = 0.5 λ (Appendix 7.1), pool of {v['pool_size']} images (Sec. 4)"),
        CheatRow("evaluation", "Fréchet distance",
                 r"$\Vert\mu_r-\mu_g\Vert^2+\mathrm{Tr}(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2})$ (biased: fix N)",
                 nb12, "Frechet distance on a small classifier"),
        CheatRow("evaluation", "precision / recall", "k-NN manifolds, k = 3 (Kynkäänniemi et al. 2019)",
                 nb12, "Precision and recall"),
        CheatRow("evaluation", "digit coverage", "classes with ≥ 2% of the samples classified at ≥ 0.9 confidence",
                 nb12, "Digit coverage"),
        CheatRow("defaults", "DCGAN", "Adam lr 2e-4, β = (0.5, 0.999), batch 128, z 100-d, init N(0, 0.02)",
                 nb02, "DCGAN", f"ganutils GAN default: lr {v['gan_lr']:g}, betas {v['gan_betas']}"),
        CheatRow("defaults", "WGAN-GP", "λ = 10, n_critic = 5, Adam lr 1e-4, β = (0, 0.9), no BatchNorm in the critic",
                 nb04, "WGAN-GP"),
        CheatRow("defaults", "WGAN (clipping)", "clip c = 0.01, RMSProp lr 5e-5, n_critic = 5", nb04, "WGAN-GP"),
        CheatRow("defaults", "TTUR", "separate learning rates, D's larger (e.g. D 4e-4, G 1e-4); decided by a sweep",
                 nb03, "Learning rates for G and D (TTUR)"),
        CheatRow("defaults", "label smoothing", "one-sided: real target 0.9, fake target stays 0",
                 nb02, "Tricks, each an ablation"),
        CheatRow("diffusion", "DDPM forward process",
                 r"$q(x_t\mid x_0)=\mathcal N(\sqrt{\bar\alpha_t}\,x_0,(1-\bar\alpha_t)I)$, $\bar\alpha_t=\prod_{s\le t}(1-\beta_s)$",
                 nb10, "The forward process, in closed form",
                 f"T = 1000, β 1e-4 → 0.02: ᾱ_T = {v['ddpm_alpha_bar_T']:.1e}"),
        CheatRow("diffusion", "DDPM loss (L_simple)",
                 r"$\mathbb{E}_{t,x_0,\varepsilon}\Vert\varepsilon-\varepsilon_\theta(\sqrt{\bar\alpha_t}x_0+\sqrt{1-\bar\alpha_t}\,\varepsilon,t)\Vert^2$",
                 nb10, "Training: predict the noise"),
        CheatRow("diffusion", "DDIM step (η = 0)",
                 r"$x_s=\sqrt{\bar\alpha_s}\,\hat x_0+\sqrt{1-\bar\alpha_s}\,\varepsilon_\theta(x_t,t)$, one network evaluation per step",
                 nb10, "Sampling: Algorithm 2, and DDIM"),
        CheatRow("defaults", "Real-ESRGAN", "L1 : perceptual : GAN = 1 : 1 : 0.1, Adam lr 1e-4, β = (0.9, 0.99); blur, resize, "
                 "noise, JPEG applied twice", nb11, "Real-ESRGAN: train on the degradations the inputs really have"),
    ]


def cheat_sheet_markdown(rows: list[CheatRow] | None = None) -> str:
    """The cheat sheet as one Markdown table."""
    rows = cheat_sheet_rows() if rows is None else rows
    out = ["| | formula or default | computed by ganutils | from |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| **{r.item}** | {r.formula} | {r.value} | {r.notebook} § {r.section} |")
    return "\n".join(out)


def unresolved_cheat_sheet_links(rows: list[CheatRow] | None = None, notebooks_dir=None) -> list[str]:
    """One line per cheat-sheet row whose notebook section does not exist."""
    rows = cheat_sheet_rows() if rows is None else rows
    sections = bank.notebook_sections(notebooks_dir)
    out = []
    for r in rows:
        problem = bank.link_problem(r.notebook, r.section, sections)
        if problem:
            out.append(f"cheat sheet '{r.item}' ({r.notebook} § {r.section}): {problem}")
    return out


def glossary_markdown() -> str:
    """The bank's glossary as one Markdown table: English term, the Chinese term the answers use, a note."""
    out = ["| English | 中文 | note |", "|---|---|---|"]
    for t in bank.load_glossary():
        out.append(f"| {t['en']} | {t['zh']} | {t.get('note', '')} |")
    return "\n".join(out)
