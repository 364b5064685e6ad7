"""A self-scored quiz over the whole question bank (the cheat sheet is ``ganutils.course.cheatsheet``).

- ``Quiz``: the engine (shuffled with a seed, optional topic filter, reveal, self-score);
  ``QuizWidget`` puts it behind ipywidgets buttons; ``run_terminal`` behind a terminal
  (``python -m ganutils quiz [--topic T] [--lang zh|en] [-n N] [--seed S]``), reading the
  user's keys from any text stream, so a test can pipe them in.
- ``show(...)``: the widget in Jupyter, a fixed-seed sample as text in static runs ($GANUTILS_STATIC).
"""

from __future__ import annotations

import html
import random
import sys
import textwrap

from ..config import GanutilsError
from . import bank, interview

LANGS = ("en", "zh")
ALL = "all"


# ----------------------------------------------------------------------------- the engine


def check_topic(topic: str | None) -> str | None:
    """``topic`` if the bank has it (None or "all": every topic), else a GanutilsError listing the topics."""
    if topic is None or topic == ALL:
        return None
    if topic not in bank.topics():
        raise GanutilsError(f"unknown topic {topic!r}: use one of {', '.join(bank.topics())} "
                            "(or leave it out for all)")
    return topic


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise GanutilsError(f"unknown language {lang!r}: use 'en' (English questions) or 'zh' (the seeds' Chinese)")
    return lang


def select(topic: str | None = None, n: int | None = None, seed: int = 0) -> list[dict]:
    """The quiz's questions: the bank (or one topic) shuffled with ``seed``, the first ``n`` (None: all)."""
    topic = check_topic(topic)
    pool = [q for q in bank.load_bank() if topic is None or q["topic"] == topic]
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
    if stdin is None or getattr(stdin, "closed", False):
        raise GanutilsError("standard input is closed, and the quiz reads your answers from it: run it in a terminal, "
                            "or pipe the answers in (e.g. `yes | python -m ganutils quiz`)")
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
        self.topic_box = w.Dropdown(options=[ALL, *bank.topics()], value=topic or ALL, description="topic")
        self.n_box = w.BoundedIntText(value=n or len(bank.load_bank()), min=1, max=len(bank.load_bank()),
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
