"""The quiz engine, its terminal and widget front ends, the CLI, and the cheat sheet."""

import io
import math
import re
import subprocess
import sys

import pytest

from ganutils.__main__ import main
from ganutils.config import GanutilsError, checkout_dir
from ganutils.course import bank as qbank
from ganutils.course import cheatsheet, quiz

REPO_DIR = checkout_dir()


@pytest.fixture(autouse=True)
def _progress_in_tmp(tmp_path, monkeypatch):
    """The quiz keeps progress in the user's data folder: tests keep theirs in a temporary one."""
    monkeypatch.setenv("GANUTILS_QUIZ_PROGRESS", str(tmp_path / "quiz_progress.json"))

# ----------------------------------------------------------------------------- engine


def ids(entries):
    return [q["id"] for q in entries]


def test_the_order_is_random_but_reproducible_with_a_seed():
    assert ids(quiz.select(seed=3)) == ids(quiz.select(seed=3))
    assert ids(quiz.select(seed=3)) != ids(quiz.select(seed=4))
    assert sorted(ids(quiz.select(seed=3))) == sorted(ids(qbank.load_bank()))  # a permutation of the whole bank
    assert ids(quiz.select(n=5, seed=3)) == ids(quiz.select(seed=3))[:5]


def test_the_topic_filter():
    wgan = quiz.select("wgan", seed=0)
    assert wgan and all(q["topic"] == "wgan" for q in wgan)
    assert len(wgan) == sum(q["topic"] == "wgan" for q in qbank.load_bank())
    assert len(quiz.select("all", seed=0)) == len(qbank.load_bank())


@pytest.mark.parametrize("kwargs, message", [
    ({"topic": "gan"}, "unknown topic 'gan': use one of gan-basics"),
    ({"n": 0}, "n must be a positive whole number"),
    ({"n": 2.5}, "n must be a positive whole number"),
    ({"seed": "x"}, "seed must be a whole number"),
])
def test_bad_quiz_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(GanutilsError, match=message) as err:
        quiz.select(**kwargs)
    assert "\n" not in str(err.value)
    with pytest.raises(GanutilsError, match="unknown language 'fr'"):
        quiz.Quiz(lang="fr")


def test_reveal_then_self_score_until_done():
    q = quiz.Quiz(topic="vae", n=3, seed=1)
    assert len(q) == 3 and not q.done and q.score == (0, 0)
    assert q.question() == " ".join(q.current["question_en"].split())
    with pytest.raises(GanutilsError, match="reveal the answer before scoring"):
        q.mark(True)
    assert "Answer:" in q.reveal() and q.revealed
    q.mark(True)
    q.reveal()
    q.mark(False)
    assert q.score == (1, 2) and q.position == 2 and not q.revealed
    assert "Score: 1/2 (50%), 1 question(s) not reached" in q.summary()
    q.reveal()
    q.mark(True)
    assert q.done and q.score == (2, 3) and q.by_topic() == {"vae": (2, 3)}
    assert f"To review: {q.marks[1][0]['id']}" in q.summary()
    with pytest.raises(GanutilsError, match="the quiz is over"):
        q.question()


def test_chinese_questions_with_the_english_revealed():
    q = quiz.Quiz(n=1, seed=0, lang="zh")
    assert q.question() == " ".join(q.current["question_zh"].split())
    shown = q.reveal()
    assert shown.startswith("要点：")  # key points first, in Chinese; the English question further down
    assert "English: " + " ".join(q.current["question_en"].split()) in " ".join(shown.split())


# ----------------------------------------------------------------------------- terminal


def run(keys, **kwargs):
    out = io.StringIO()
    result = quiz.run_terminal(stdin=io.StringIO(keys), stdout=out, **kwargs)
    return result, out.getvalue()


def test_terminal_quiz_reads_keys_from_any_stream():
    result, out = run("\ny\n\nn\n\nyes\n", topic="gan-basics", n=3, seed=2)
    assert result.score == (2, 3) and "Score: 2/3 (67%)" in out
    for q in result.questions:
        assert " ".join(q["question_en"].split())[:60] in " ".join(out.split())
    assert "seed 2 (repeat it with --seed 2)" in out


def test_terminal_quiz_stops_on_q_or_at_the_end_of_input_and_reprompts_on_other_keys():
    result, out = run("\nmaybe\ny\nq\n", n=5, seed=0)
    assert result.score == (1, 1) and "Please answer 1, 2, 3, 4" in out and "4 question(s) not reached" in out
    result, out = run("\n", n=5, seed=0)  # input ends before the self-score
    assert result.score == (0, 0) and "no question answered" in out


def test_a_terminal_quiz_without_seed_picks_and_prints_one():
    result, out = run("", n=2)
    assert f"--seed {result.seed}" in out


CLI = [sys.executable, "-m", "ganutils", "quiz"]


def test_the_cli_quiz_with_piped_answers():
    proc = subprocess.run(CLI + ["--topic", "wgan", "-n", "2", "--seed", "5", "--lang", "zh"], input="\ny\n\nn\n",
                          capture_output=True, text=True, cwd=REPO_DIR, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Score: 1/2 (50%)" in proc.stdout
    first = quiz.select("wgan", 2, 5)[0]
    assert " ".join(first["question_zh"].split()) in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--topic", "gans"], "error: unknown topic 'gans': use one of"),
    (["--lang", "fr"], "error: unknown language 'fr'"),
    (["-n", "0"], "error: n must be a positive whole number"),
])
def test_the_cli_refuses_bad_arguments_in_one_line(args, message, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["quiz", *args]) == 2  # in-process: one subprocess above is enough to cover the real entry point
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_the_cli_quiz_in_process(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\nn\n\nn\n"))
    assert main(["quiz", "-n", "2", "--seed", "0"]) == 0
    assert "Score: 0/2 (0%)" in capsys.readouterr().out


# ----------------------------------------------------------------------------- Jupyter


def test_the_widget_reveals_scores_and_restarts():
    w = quiz.QuizWidget(topic="wgan", n=3, seed=0)
    assert w.answer_html.layout.display == "none" and w.right_button.disabled
    w.right_button.click()  # scoring before revealing does nothing
    assert w.quiz.score == (0, 0)
    w.reveal_button.click()
    assert w.answer_html.layout.display == "block" and not w.right_button.disabled and w.reveal_button.disabled
    w.right_button.click()
    for button in (w.wrong_button, w.right_button):
        w.reveal_button.click()
        button.click()
    assert w.quiz.done and w.quiz.score == (2, 3) and "Score: 2/3" in w.question_html.value
    w.topic_box.value, w.n_box.value, w.seed_box.value = "vae", 4, 7
    w.new_button.click()
    assert ids(w.quiz.questions) == ids(quiz.select("vae", 4, 7)) and w.quiz.score == (0, 0)
    assert "Question 1/4" in w.progress.value


def test_show_is_static_in_executed_notebooks(monkeypatch):
    monkeypatch.setenv("GANUTILS_STATIC", "1")
    sample = quiz.show(n=4, seed=1)
    assert isinstance(sample, quiz.StaticSample) and ids(sample.entries) == ids(quiz.select(None, 4, 1))
    text = " ".join(sample.text().split())
    assert all(" ".join(q["question_en"].split()) in text for q in sample.entries)
    assert sample.html().count("<details>") == 4
    monkeypatch.setenv("GANUTILS_STATIC", "0")
    monkeypatch.setattr("IPython.get_ipython", lambda: type("ZMQInteractiveShell", (), {})())
    assert isinstance(quiz.show(n=2), quiz.QuizWidget)


# ----------------------------------------------------------------------------- cheat sheet


def test_the_cheat_sheet_numbers_are_the_identities_they_claim():
    v = cheatsheet.cheat_sheet_values()
    assert v["v_at_optimum"] == pytest.approx(-math.log(4), abs=1e-6)
    assert v["js_disjoint"] == pytest.approx(math.log(2), abs=1e-6)
    assert v["w1_disjoint"] == pytest.approx(3.0, abs=1e-3)
    assert v["grad_saturating"] == pytest.approx(-v["d_fake"]) and v["grad_non_saturating"] == pytest.approx(v["d_fake"] - 1)
    assert v["kl_example"] == pytest.approx(0.5 * (1 + 4 - math.log(4) - 1))
    assert v["gp_weight"] == 10 and v["gan_lr"] == 2e-4 and v["gan_betas"] == (0.5, 0.999)
    assert v["dirac_f_prime"] == pytest.approx(0.5) and v["ema_horizon"] == pytest.approx(1000)
    assert v["ddpm_alpha_bar_T"] == pytest.approx(4.04e-5, rel=0.05)  # Ho et al. (2020): T = 1000, beta 1e-4 -> 0.02
    assert (v["cycle_lambda"], v["identity_weight"], v["pool_size"]) == (10, 5, 50)  # Zhu et al. (2017), Sec. 4, App. 7.1


def test_the_cheat_sheet_is_one_table_with_a_source_per_row():
    rows = cheatsheet.cheat_sheet_rows()
    table = cheatsheet.cheat_sheet_markdown(rows).splitlines()
    assert len(table) == len(rows) + 2
    for line, row in zip(table[2:], rows):
        assert len(re.split(r"(?<!\\)\|", line)) == 6, line  # four cells: no pipe inside a formula
        assert line.endswith(f"| {row.notebook} § {row.section} |")
    items = " ".join(r.item + " " + r.formula for r in rows)
    for needed in ("value function", "optimal discriminator", "JS", "non-saturating", "gradient penalty", "WGAN critic",
                   "ELBO", "KL", "β-VAE", "pix2pix", "\\lambda=100", "DCGAN", "n_critic = 5", "TTUR", "0.9",
                   "R1", "hinge", "EMA", "DiffAugment", "cycle consistency", "identity loss"):
        assert needed in items, needed


def test_every_cheat_sheet_row_comes_from_an_existing_section():
    broken = cheatsheet.unresolved_cheat_sheet_links()
    assert not broken, "\n".join(broken)
