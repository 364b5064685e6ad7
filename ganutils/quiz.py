"""Review tools over the whole question bank: a self-scored quiz and a one-page cheat sheet.

- ``Quiz``: the engine (shuffled with a seed, optional topic filter, reveal, self-score);
  ``QuizWidget`` puts it behind ipywidgets buttons; ``run_terminal`` behind a terminal
  (``python -m ganutils quiz [--topic T] [--lang zh|en] [-n N] [--seed S]``), reading the
  user's keys from any text stream, so a test can pipe them in.
- ``show(...)``: the widget in Jupyter, a fixed-seed sample as text in static runs ($GANUTILS_STATIC).
- ``cheat_sheet_rows()`` / ``cheat_sheet_markdown()``: formulas and defaults, each with the
  notebook section it comes from; the numbers that ganutils can compute (log 4, the loss
  gradients, the KL closed form, the library's default hyperparameters) are computed, not typed.
"""

from __future__ import annotations

import html
import inspect
import math
import random
import sys
import textwrap
from dataclasses import dataclass

from . import interview
from .config import GanutilsError

LANGS = ("en", "zh")
ALL = "all"


# ----------------------------------------------------------------------------- the engine


def check_topic(topic: str | None) -> str | None:
    """``topic`` if the bank has it (None or "all": every topic), else a GanutilsError listing the topics."""
    if topic is None or topic == ALL:
        return None
    if topic not in interview.topics():
        raise GanutilsError(f"unknown topic {topic!r}: use one of {', '.join(interview.topics())} "
                            "(or leave it out for all)")
    return topic


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise GanutilsError(f"unknown language {lang!r}: use 'en' (English questions) or 'zh' (the seeds' Chinese)")
    return lang


def select(topic: str | None = None, n: int | None = None, seed: int = 0) -> list[dict]:
    """The quiz's questions: the bank (or one topic) shuffled with ``seed``, the first ``n`` (None: all)."""
    topic = check_topic(topic)
    pool = [q for q in interview.load_bank() if topic is None or q["topic"] == topic]
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise GanutilsError(f"n must be a positive whole number of questions, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GanutilsError(f"seed must be a whole number, got {seed!r}")
    random.Random(seed).shuffle(pool)
    return pool if n is None else pool[:n]


def question_text(entry: dict, lang: str = "en") -> str:
    return " ".join((entry["question_zh"] if lang == "zh" else entry["question_en"]).split())


def answer_text(entry: dict, lang: str = "en", width: int = 100) -> str:
    """The revealed part: (in zh mode) the English question, the model answer, where it is shown, corrections."""
    lines = [f"English: {question_text(entry, 'en')}"] if lang == "zh" else []
    return "\n".join(lines + interview.entry_text(entry, width=width).splitlines()[2:])


class Quiz:
    """A self-scored quiz: ``question()``, then ``reveal()``, then ``mark(True/False)``, until ``done``."""

    def __init__(self, topic: str | None = None, n: int | None = None, seed: int = 0, lang: str = "en"):
        self.topic, self.lang, self.seed = check_topic(topic), check_lang(lang), seed
        self.questions = select(self.topic, n, seed)
        self.position, self.revealed, self.marks = 0, False, []

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def done(self) -> bool:
        return self.position >= len(self.questions)

    @property
    def current(self) -> dict:
        if self.done:
            raise GanutilsError("the quiz is over: start a new Quiz(...) for more questions")
        return self.questions[self.position]

    def question(self) -> str:
        return question_text(self.current, self.lang)

    def reveal(self) -> str:
        self.revealed = True
        return answer_text(self.current, self.lang)

    def mark(self, correct: bool) -> None:
        """Self-score the current question and move on (the answer must have been revealed)."""
        if not self.revealed:
            raise GanutilsError("reveal the answer before scoring the question: call quiz.reveal() first")
        self.marks.append((self.current, bool(correct)))
        self.position, self.revealed = self.position + 1, False

    @property
    def score(self) -> tuple[int, int]:
        """(right, answered)."""
        return sum(ok for _, ok in self.marks), len(self.marks)

    def by_topic(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for q, ok in self.marks:
            right, asked = out.get(q["topic"], (0, 0))
            out[q["topic"]] = (right + ok, asked + 1)
        return out

    def summary(self) -> str:
        right, answered = self.score
        if not answered:
            return "Score: no question answered."
        lines = [f"Score: {right}/{answered} ({100 * right / answered:.0f}%)"
                 + (f", {len(self) - answered} question(s) not reached" if answered < len(self) else "")]
        lines += [f"  {topic:14s} {r}/{a}" for topic, (r, a) in sorted(self.by_topic().items())]
        missed = [q["id"] for q, ok in self.marks if not ok]
        if missed:
            lines.append("To review: " + ", ".join(missed))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- terminal


def run_terminal(topic: str | None = None, lang: str = "en", n: int | None = 10, seed: int | None = None,
                 stdin=None, stdout=None) -> Quiz:
    """The terminal quiz: Enter reveals, y/n self-scores, q (or the end of input) stops; prints the score."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if seed is None:
        seed = random.SystemRandom().randrange(10**6)
    quiz = Quiz(topic, n, seed, lang)

    def say(text=""):
        print(text, file=stdout, flush=True)

    def ask(prompt):
        print(prompt, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not getattr(stdin, "isatty", lambda: False)():
            print(file=stdout)  # piped keys are not echoed: end the prompt's line ourselves
        if not line:  # end of input: stop like q
            return "q"
        return line.strip().lower()

    say(f"Quiz: {len(quiz)} question(s), topic {topic or ALL}, seed {seed} (repeat it with --seed {seed}).")
    say("Answer aloud, press Enter to see the model answer, then score yourself y/n; q quits.")
    try:
        while not quiz.done:
            q = quiz.current
            say(f"\n[{quiz.position + 1}/{len(quiz)}] {q['topic']} · difficulty {q['difficulty']}")
            say(textwrap.fill(quiz.question(), 100, break_on_hyphens=False))
            if ask("(Enter: reveal the answer) ") == "q":
                break
            say(quiz.reveal())
            key = ask("Did you get it right? [y/n/q] ")
            while key not in ("y", "n", "q", "yes", "no"):
                key = ask("Please answer y, n or q: ")
            if key == "q":
                break
            quiz.mark(key.startswith("y"))
    except KeyboardInterrupt:  # Ctrl-C ends the quiz with its score, not a traceback
        say()
    say("\n" + quiz.summary())
    return quiz


# ----------------------------------------------------------------------------- Jupyter


class QuizWidget:
    """The quiz behind buttons: topic, seed and length, then Reveal and I got it / I missed it."""

    def __init__(self, topic: str | None = None, n: int | None = 10, seed: int = 0, lang: str = "en"):
        import ipywidgets as w

        check_topic(topic)
        self.topic_box = w.Dropdown(options=[ALL, *interview.topics()], value=topic or ALL, description="topic")
        self.n_box = w.BoundedIntText(value=n or len(interview.load_bank()), min=1, max=len(interview.load_bank()),
                                      description="questions")
        self.seed_box = w.IntText(value=seed, description="seed")
        self.lang_box = w.ToggleButtons(options=list(LANGS), value=check_lang(lang), description="language")
        self.new_button = w.Button(description="New quiz", button_style="primary")
        self.progress = w.HTML()
        self.question_html = w.HTML()
        self.reveal_button = w.Button(description="Reveal the answer")
        self.answer_html = w.HTML(layout=w.Layout(display="none"))
        self.right_button = w.Button(description="I got it", button_style="success", disabled=True)
        self.wrong_button = w.Button(description="I missed it", button_style="danger", disabled=True)
        self.new_button.on_click(lambda _: self.restart())
        self.reveal_button.on_click(lambda _: self.reveal())
        self.right_button.on_click(lambda _: self.mark(True))
        self.wrong_button.on_click(lambda _: self.mark(False))
        self.box = w.VBox([w.HBox([self.topic_box, self.n_box]), w.HBox([self.seed_box, self.lang_box, self.new_button]),
                           self.progress, self.question_html, self.reveal_button, self.answer_html,
                           w.HBox([self.right_button, self.wrong_button])])
        self.restart()

    def restart(self) -> None:
        topic = None if self.topic_box.value == ALL else self.topic_box.value
        self.quiz = Quiz(topic, self.n_box.value, self.seed_box.value, self.lang_box.value)
        self._render()

    def reveal(self) -> None:
        if not self.quiz.done:
            self.quiz.reveal()
            self._render()

    def mark(self, correct: bool) -> None:
        if not self.quiz.done and self.quiz.revealed:
            self.quiz.mark(correct)
            self._render()

    def _render(self) -> None:
        quiz = self.quiz
        right, answered = quiz.score
        self.progress.value = f"<b>Question {min(quiz.position + 1, len(quiz))}/{len(quiz)}</b> · score {right}/{answered}"
        if quiz.done:
            self.question_html.value = "<pre>" + html.escape(quiz.summary()) + "</pre>"
            self.answer_html.layout.display = "none"
            self.reveal_button.disabled = self.right_button.disabled = self.wrong_button.disabled = True
            return
        q = quiz.current
        other = q["question_en"] if quiz.lang == "zh" else q["question_zh"]
        self.question_html.value = (f"<p><small>{html.escape(q['topic'])} · difficulty {q['difficulty']}</small><br>"
                                    f"<b>{html.escape(quiz.question())}</b></p>")
        self.answer_html.value = (f"<p style='color:#666'>{html.escape(' '.join(other.split()))}</p>"
                                  + interview.answer_html(q))
        self.answer_html.layout.display = "block" if quiz.revealed else "none"
        self.reveal_button.disabled = quiz.revealed
        self.right_button.disabled = self.wrong_button.disabled = not quiz.revealed

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


class StaticSample:
    """What a static run shows instead of the widget: ``n`` questions drawn with ``seed``, answers folded."""

    def __init__(self, topic: str | None = None, n: int | None = 10, seed: int = 0):
        self.topic, self.seed = check_topic(topic), seed
        self.entries = select(self.topic, n, seed)

    def text(self) -> str:
        head = (f"Quiz sample: {len(self.entries)} question(s) of topic {self.topic or ALL}, seed {self.seed} "
                "(in Jupyter this cell is an interactive quiz).")
        return head + "\n\n" + "\n\n".join(interview.entry_text(q, i) for i, q in enumerate(self.entries, 1))

    def html(self) -> str:
        head = (f"<p><em>Quiz sample: {len(self.entries)} question(s) of topic {html.escape(self.topic or ALL)}, "
                f"seed {self.seed}; click a question for its answer "
                "(in Jupyter this cell is an interactive quiz).</em></p>")
        return head + "\n".join(interview.entry_html(q, i) for i, q in enumerate(self.entries, 1))

    def _ipython_display_(self):
        from IPython.display import display

        display({"text/plain": self.text(), "text/html": self.html()}, raw=True)

    def __repr__(self) -> str:
        return self.text()


def show(topic: str | None = None, n: int | None = 10, seed: int = 0, lang: str = "en"):
    """The quiz for a notebook cell: ``QuizWidget`` in Jupyter, ``StaticSample`` in static runs."""
    check_lang(lang)
    return StaticSample(topic, n, seed) if interview.static_mode() else QuizWidget(topic, n, seed, lang)


# ----------------------------------------------------------------------------- cheat sheet


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

    from . import divergences as dv
    from . import gan, gradient_penalty, losses, vae

    xs = np.linspace(-6.0, 6.0, 24001)
    p = dv.gaussian_pdf(xs, 0.0, 1.0)
    a, b = dv.uniform_pdf(xs, -2.0, -1.0), dv.uniform_pdf(xs, 1.0, 2.0)  # disjoint supports, 3 apart
    d_fake = 0.01  # D confidently rejects the fakes, as early in training
    logit = torch.tensor([math.log(d_fake / (1 - d_fake))], dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.g_loss_saturating(logit), logit)
    (g_ns,) = torch.autograd.grad(losses.g_loss_non_saturating(logit), logit)
    mu, logvar = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0, math.log(4.0)]], dtype=torch.float64)
    defaults = inspect.signature(gan.GAN.__init__).parameters
    return {
        "v_at_optimum": dv.value_function(dv.optimal_discriminator(p, p), p, p, xs),  # -log 4
        "js_disjoint": dv.js_divergence(a, b, xs),  # log 2
        "w1_disjoint": dv.wasserstein1(a, b, xs),  # 3
        "d_fake": d_fake,
        "grad_saturating": g_sat.item(),  # -D(G(z))
        "grad_non_saturating": g_ns.item(),  # -(1 - D(G(z)))
        "kl_example": vae.kl_standard_normal(mu, logvar).item(),  # mu = (1, 0), sigma^2 = (1, 4)
        "gan_lr": defaults["lr_g"].default,
        "gan_betas": tuple(defaults["betas"].default),
        "gp_weight": inspect.signature(gradient_penalty.gradient_penalty).parameters["weight"].default,
    }


def cheat_sheet_rows(values: dict | None = None) -> list[CheatRow]:
    """Formulas and defaults, each with the notebook section that derives or measures it."""
    v = cheat_sheet_values() if values is None else values
    nb01, nb02, nb03, nb04, nb05, nb07, nb08 = ("01_minmax_and_js", "02_first_gan_mnist", "03_mode_collapse", "04_wgan_gp",
                                                "05_vae", "07_pix2pix", "08_evaluation")
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
        CheatRow("vae", "ELBO", r"$\log p(x)\ge\mathbb{E}_{q(z\mid x)}[\log p(x\mid z)]-\mathrm{KL}(q(z\mid x)\Vert p(z))$",
                 nb05, "The ELBO"),
        CheatRow("vae", "KL to N(0, I), closed form", kl_formula, nb05, "The ELBO",
                 f"μ = (1, 0), σ² = (1, 4): {v['kl_example']:.4f}"),
        CheatRow("vae", "reparameterisation", r"$z=\mu+\sigma\odot\epsilon$, $\epsilon\sim\mathcal{N}(0,I)$",
                 nb05, "The reparameterisation trick"),
        CheatRow("vae", "β-VAE",
                 r"$\mathbb{E}_q[-\log p(x\mid z)]+\beta\,\mathrm{KL}(q(z\mid x)\Vert p(z))$, $\beta>1$ disentangles, blurs",
                 nb05, "The beta sweep"),
        CheatRow("pix2pix", "pix2pix objective",
                 r"$G^*=\arg\min_G\max_D\,\mathcal{L}_\mathrm{cGAN}(G,D)+\lambda\,\mathbb{E}\Vert y-G(x,z)\Vert_1$, "
                 r"$\lambda=100$",
                 nb07, "L1 vs cGAN vs L1 + cGAN"),
        CheatRow("pix2pix", "PatchGAN", "70×70 receptive field (C64-C128-C256-C512, 4×4 convs)",
                 nb07, "PatchGAN and its receptive field"),
        CheatRow("evaluation", "Fréchet distance",
                 r"$\Vert\mu_r-\mu_g\Vert^2+\mathrm{Tr}(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2})$ (biased: fix N)",
                 nb08, "Frechet distance on a small classifier"),
        CheatRow("evaluation", "precision / recall", "k-NN manifolds, k = 3 (Kynkäänniemi et al. 2019)",
                 nb08, "Precision and recall"),
        CheatRow("evaluation", "digit coverage", "classes with ≥ 2% of the samples classified at ≥ 0.9 confidence",
                 nb08, "Digit coverage"),
        CheatRow("defaults", "DCGAN", "Adam lr 2e-4, β = (0.5, 0.999), batch 128, z 100-d, init N(0, 0.02)",
                 nb02, "DCGAN", f"ganutils GAN default: lr {v['gan_lr']:g}, betas {v['gan_betas']}"),
        CheatRow("defaults", "WGAN-GP", "λ = 10, n_critic = 5, Adam lr 1e-4, β = (0, 0.9), no BatchNorm in the critic",
                 nb04, "WGAN-GP"),
        CheatRow("defaults", "WGAN (clipping)", "clip c = 0.01, RMSProp lr 5e-5, n_critic = 5", nb04, "WGAN-GP"),
        CheatRow("defaults", "TTUR", "separate learning rates, D's larger (e.g. D 4e-4, G 1e-4); decided by a sweep",
                 nb03, "Learning rates for G and D (TTUR)"),
        CheatRow("defaults", "label smoothing", "one-sided: real target 0.9, fake target stays 0",
                 nb02, "Tricks, each an ablation"),
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
    sections = interview.notebook_sections(notebooks_dir)
    out = []
    for r in rows:
        problem = interview.link_problem(r.notebook, r.section, sections)
        if problem:
            out.append(f"cheat sheet '{r.item}' ({r.notebook} § {r.section}): {problem}")
    return out
