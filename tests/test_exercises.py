"""The exercise checker: every classic bug is recognised by name, every reference passes, bad input gets one line."""

import contextlib
import copy
import dataclasses
import io
import json
import math
import signal
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganutils import losses
from ganutils.config import GanutilsError
from ganutils.course import exercises, interview
from ganutils.course.exercises import checker, core
from ganutils.course.exercises.catalogue import conditional_gan, pix2pix, wgan_gp
from ganutils.losses import spectral_norm as sn
from ganutils.nets import ConditionalMLPDiscriminator, MLPCritic
from ganutils.training import GAN, Pix2Pix

pytestmark = pytest.mark.usefixtures("one_thread")

ALL = exercises.all_exercises()
IMPLEMENT = [e for e in ALL if e.kind == "implement"]
BUGS = [pytest.param(e, bug, i, id=f"{e.id}:{bug.name}:{i}") for e in ALL for bug in e.bugs for i in range(len(bug.impls))]


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with stdout captured; returns (result, printed text)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        out = fn(*args, **kwargs)
    return out, buffer.getvalue()


# ----------------------------------------------------------------------------- the catalogue


def test_the_catalogue_covers_the_course():
    rows = exercises.catalogue_json()
    notebooks = {r["notebook"] for r in rows}
    assert len(rows) >= 30 and len(notebooks) >= 7
    assert {"implement", "predict", "derive"} == {r["kind"] for r in rows}
    for nb in notebooks:
        assert 3 <= sum(r["notebook"] == nb for r in rows) <= 5, nb
    code_bugs = {b for r in rows if r["kind"] == "implement" for b in r["known_bugs"]}
    assert len(code_bugs) >= 25, "at least 25 distinct bugs that real GAN code shipped"
    for row in rows:
        assert set(row) >= {"id", "notebook", "kind", "known_bugs"} and row["id"].startswith(row["notebook"][:2])


def test_every_known_bug_is_tested_here():
    """The parametrised test below feeds every bug (and every equivalent spelling of it) to its exercise."""
    assert sum(len(b.impls) for e in ALL for b in e.bugs) == len(BUGS) > 60


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_the_reference_passes(exercise):
    if exercise.kind == "implement":
        result = exercise.check(exercise.reference)
        assert result.status == "passed", result.message
        for variant in exercise.variants:
            assert all(exercise.check(f).status == "passed" for f in variant.impls), variant.name
    elif exercise.kind == "derive":
        assert exercise.check(exercise.truth()).status == "passed"
    else:
        assert exercise.reveal(exercise.expected, exercise.expected).status == "held"


@pytest.mark.parametrize("exercise, bug, i", BUGS)
def test_each_classic_bug_is_recognised_by_name(exercise, bug, i):
    if exercise.kind == "implement":
        result = exercise.check(bug.impls[i])
    elif exercise.kind == "derive":
        result = exercise.check(bug.impl())
    else:
        result = exercise.reveal(bug.impl, exercise.expected)
    assert result.bug == bug.name, result.message
    assert f"`{bug.name}`" in result.message and not result.passed


# ----------------------------------------------------------------------------- bad input: one clear line each


def ns_loss(logits):
    return F.softplus(-logits).mean()


NS = exercises.get("01-non-saturating-loss")


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer, status, words", [
    (None, "not attempted", "not attempted yet"),
    (stub, "not attempted", "not attempted yet"),
    (lambda logits: 1 / 0, "error", "raised ZeroDivisionError: division by zero on 16 random logits"),
    (lambda logits: F.softplus(-logits), "error", "has shape (16,); expected ()"),
    (lambda logits: ns_loss(logits).double(), "error", "dtype torch.float64; expected torch.float32"),
    (lambda logits: ns_loss(logits).to("meta"), "error", "on device meta; expected cpu"),
    (lambda logits: ns_loss(logits) * float("nan"), "error", "NaN or inf"),
    (lambda logits: 1.1 * ns_loss(logits), "wrong", "expected 1.433, got 1.576"),
    (lambda logits: ns_loss(logits).item(), "wrong", "no gradient flows"),
    (lambda logits: None, "error", "None (did the function forget to `return`?)"),
    ("softplus", "error", "expected a function"),
])
def test_bad_answers_get_one_clear_line(answer, status, words):
    result = NS.check(answer)
    assert result.status == status and words in result.message, result.message
    assert "Traceback" not in result.message and len(result.message) < 400


def test_an_exception_names_the_learners_line():
    def mine(fake_logits):
        loss = fake_logits.softplus()  # no such method
        return loss

    result = NS.check(mine)
    assert result.status == "error" and "AttributeError" in result.message and "fake_logits.softplus()" in result.message


def test_a_function_that_runs_too_long_is_stopped():
    fast = dataclasses.replace(NS, limit=0.3)

    def slow(logits):
        time.sleep(30)

    tic = time.perf_counter()
    result = fast.check(slow)
    assert time.perf_counter() - tic < 5
    assert result.status == "error" and "ran longer than 0.3 s on 16 random logits and was stopped" in result.message


def test_the_time_limit_keeps_an_outer_timer():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        with checker.time_limit(0.5):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 1.0 < remaining <= 2.0, "the outer timer is re-armed with its remaining time"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_checking_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    np.random.seed(123)
    expected_t, expected_n = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    exercises.get("04-gradient-penalty").check(wgan_gp._gp_reference)
    assert torch.equal(torch.rand(3), expected_t) and np.array_equal(np.random.rand(3), expected_n)


def test_a_correct_answer_written_differently_passes():
    def gp(critic, real, fake, weight=10.0):
        eps = torch.rand(real.size(0), 1, 1, 1) if real.dim() == 4 else torch.rand(real.size(0), 1)
        x = eps * real + (1 - eps) * fake
        x.requires_grad_(True)
        g = torch.autograd.grad(critic(x), x, grad_outputs=torch.ones(len(x)), create_graph=True)[0]
        return weight * (g.view(len(g), -1).pow(2).sum(1).sqrt() - 1).pow(2).mean()

    assert exercises.get("04-gradient-penalty").check(gp).status == "passed"
    assert exercises.get("08-receptive-field").check(lambda layers: _backwards_rf(layers)).status == "passed"


def _backwards_rf(layers):
    r = 1
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


def test_derive_and_predict_answers_are_validated():
    derive = exercises.get("01-saturating-gradient")
    assert derive.check("minus one").status == "error" and "a tuple of two numbers" in derive.check("x").message
    assert derive.check((1.0,)).status == "error"
    assert derive.check((0.3, 0.3)).status == "wrong" and "-0.01" not in derive.check((0.3, 0.3)).message
    predict = exercises.get("03-predict-latent-size")
    assert predict.check("maybe").status == "error" and predict.check("YES").status == "predicted"
    assert predict.reveal(None, "no").status == "not attempted"
    assert predict.reveal("yes", "no", supported=False).message.count("too short to support") == 1


def test_an_exercise_definition_is_validated():
    with pytest.raises(core.ExerciseError, match="must look like"):
        core.register(core.Derive(id="4-x", notebook="04_wgan_gp", title="t", task="t", explanation="e", truth=lambda: 1.0))
    with pytest.raises(core.ExerciseError, match="registered twice"):
        core.register(dataclasses.replace(exercises.get("04-predict-lambda")))


# ----------------------------------------------------------------------------- the session a notebook uses


def test_a_session_returns_the_learners_function_once_it_passes():
    ex = exercises.session("01_minmax_and_js")
    fn, printed = quiet(ex.check, "01-non-saturating-loss", ns_loss)
    assert fn is ns_loss and printed.startswith("✓ 01-non-saturating-loss: passed")
    fn, printed = quiet(ex.check, "01-non-saturating-loss", stub)
    assert fn is NS.reference and "not attempted yet" in printed
    assert quiet(ex.check, "01-value-at-optimum", -math.log(2))[0] is None, "a derive check returns nothing to display"
    progress = exercises.progress("01_minmax_and_js")
    assert (progress.attempted, progress.passed) == (1, 1) and "01-value-at-optimum" in progress.text()


def test_solutions_true_checks_the_solution_and_the_learners_answer():
    ex = exercises.session("02_first_gan_mnist", solutions=True)
    ex.solution("02-label-smoothing")(lambda r, f: losses.d_loss_bce(r, f, real_label=0.9))
    fn, printed = quiet(ex.check, "02-label-smoothing", stub)
    assert "passed" in printed and "yours: not attempted" in printed and fn is not stub
    ex.solution("02-generator-loss")(lambda G, D, z: losses.g_loss_saturating(D(G(z))))
    with pytest.raises(GanutilsError, match="fails its own check"):
        quiet(ex.check, "02-generator-loss", stub)
    _, printed = quiet(ex.predict, "02-predict-d-only", None)
    assert "'fall towards 0'" in printed and "expected outcome" in printed
    _, printed = quiet(ex.check, "02-equilibrium-losses", None)  # no solution registered: the learner's answer only
    assert "has no solution" in printed


def test_the_student_edition_ignores_solutions_true():
    ex, printed = quiet(exercises.session, "03_mode_collapse", True, "student")
    assert not ex.solutions and "no effect in the student edition" in printed


def test_sessions_refuse_unknown_notebooks_and_ids():
    with pytest.raises(GanutilsError, match="has no exercises"):
        exercises.session("00_setup_and_tour")
    ex = exercises.session("04_wgan_gp")
    with pytest.raises(GanutilsError, match="did you mean 04-gradient-penalty"):
        ex.check("04-gradient-penalt", stub)
    with pytest.raises(GanutilsError, match="belongs to notebook 01_minmax_and_js"):
        ex.check("01-optimal-discriminator", stub)
    with pytest.raises(GanutilsError, match="predict exercise"):
        ex.check("04-predict-lambda", "0.1")


def test_the_interview_checkpoint_shows_the_progress():
    ex = exercises.session("12_evaluation")
    quiet(ex.check, "12-fd-of-gaussians", 3.0)
    text = interview.checkpoint("12_evaluation").text()
    assert text.startswith("Exercises in 12_evaluation: 1 of 5 attempted, 1 passed in this kernel.")
    assert "<pre>Exercises in 12_evaluation" in interview.checkpoint("12_evaluation").html()


def test_explain_prints_the_reference_with_its_explanation():
    text = exercises.explain("04-gradient-penalty")
    assert "create_graph=True" in text and "def gradient_penalty" in text


# ----------------------------------------------------------------------------- the references are the library's


def test_power_iteration_converges_to_the_largest_singular_value():
    W, u = torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), torch.ones(6)
    for _ in range(200):
        u, v, sigma = wgan_gp.power_iteration_step(W, u)
    assert abs(sigma.item() - sn.largest_singular_value(W)) < 1e-4
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 6, bias=False))
    with torch.no_grad():
        layer.parametrizations.weight.original.copy_(W)
        for _ in range(50):
            layer(torch.zeros(1, 4))  # torch's own power iteration, one step per forward in training mode
    assert torch.allclose(layer.weight * sigma, W, atol=1e-4), "torch's spectral_norm divides by the same σ"


def test_the_projection_reference_is_the_library_discriminator():
    torch.manual_seed(0)
    D = ConditionalMLPDiscriminator(mode="projection", hidden=16, depth=2, in_shape=(1, 4, 4))
    nn.init.normal_(D.embed.weight)
    x, labels = torch.randn(5, 1, 4, 4), torch.tensor([0, 3, 3, 9, 1])
    phi = D.body(x.flatten(1))
    expected = conditional_gan.projection_logit(phi, D.head(phi).squeeze(1), D.embed.weight, labels)
    assert torch.allclose(D(x, labels), expected, atol=1e-6)


def test_the_pix2pix_reference_is_what_pix2pix_trains_g_with():
    torch.manual_seed(0)
    G = nn.Conv2d(3, 3, 1)
    D = nn.Sequential(nn.Conv2d(6, 1, 3, padding=1))
    seen = []

    class PairD(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = D

        def forward(self, y, x):
            out = self.net(torch.cat([x, y], 1))
            seen.append(out)
            return out

    model = Pix2Pix(G, PairD(), loss="l1+cgan", lam=100.0)
    x, y = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1
    fake = G(x).detach()
    out = model.step(lambda: (x, y))
    expected = pix2pix.pix2pix_generator_loss(seen[-1], fake, y, lam=100.0)
    assert torch.allclose(out["g_loss"], expected, atol=1e-5)


def test_the_critic_step_reference_is_the_library_update():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), MLPCritic((2,), hidden=8, depth=2)
    real, z = torch.randn(8, 2), torch.randn(8, 2)
    mine = copy.deepcopy(D)
    wgan_gp._critic_step_reference(G, mine, torch.optim.RMSprop(mine.parameters(), lr=5e-5), real, z, clip=0.01)
    model = GAN(G, D, z_dim=2, loss="wasserstein", optimizer="rmsprop", lr_d=5e-5, clip_value=0.01)
    model.update_d(real, G(z).detach())
    assert all(torch.allclose(a, b) for a, b in zip(mine.parameters(), model.D.parameters()))


# ----------------------------------------------------------------------------- the command line


def test_the_exercises_command_lists_json(capsys):
    from ganutils.__main__ import main

    assert main(["exercises", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(ALL) and all(set(r) >= {"id", "notebook", "kind", "known_bugs"} for r in rows)
    assert main(["exercises", "--notebook", "04"]) == 0
    assert "04-gradient-penalty" in capsys.readouterr().out
    assert main(["exercises", "--notebook", "05"]) == 2
