"""The interview quiz over the whole question bank, as a study tool (the cheat sheet is ``cheatsheet``).

- ``Quiz``: the engine. Questions are drawn from the bank (optionally one topic and a difficulty
  range), shuffled with a seed, in one of three modes: ``all``; ``due`` (questions whose review is
  due, then ones never graded: spaced repetition, ``ganutils.course.progress``); ``missed`` (graded
  "again" last time). Each question is revealed key points first, then graded on four levels
  (again / hard / good / easy), which moves its Leitner box when a ``Progress`` is attached.
- ``run_terminal``: the engine behind a terminal, reading keys from any text stream so a test can
  pipe them in: ``python -m ganutils quiz [--topic T] [--difficulty 2-4] [--due | --missed]
  [--lang zh|en] [-n N] [--seed S] [--progress FILE] [--export-anki FILE.apkg]``.
- ``QuizWidget`` puts it behind ipywidgets buttons; ``show(...)`` is the widget in Jupyter and a
  fixed-seed sample as text in static runs ($GANUTILS_STATIC).
"""

from __future__ import annotations

import html
import random
import re
import sys
import textwrap

from ..config import GanutilsError
from . import bank, interview, quotes
from .progress import GRADES, Progress, parse_day

LANGS = ("en", "zh")
MODES = ("all", "due", "missed")
ALL = "all"
KEYS = {"1": "again", "2": "hard", "3": "good", "4": "easy", "a": "again", "h": "hard", "g": "good", "e": "easy",
        "again": "again", "hard": "hard", "good": "good", "easy": "easy", "n": "again", "no": "again", "y": "good",
        "yes": "good"}  # y/n from the old two-level quiz still work


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
        raise GanutilsError(f"unknown language {lang!r}: use 'en' (English) or 'zh' (Chinese)")
    return lang


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise GanutilsError(f"unknown quiz mode {mode!r}: use one of {', '.join(MODES)}")
    return mode


def parse_difficulty(spec) -> tuple[int, int] | None:
    """None (every difficulty), 3 / "3" (exactly 3) or "2-4" (2 to 4) -> (low, high)."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, tuple) and len(spec) == 2:
        low, high = spec
    else:
        m = re.fullmatch(r"\s*([1-5])\s*(?:-\s*([1-5])\s*)?", str(spec))
        if not m:
            raise GanutilsError(f"difficulty {spec!r} is not a level 1-5 or a range such as 2-4")
        low, high = int(m[1]), int(m[2] or m[1])
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 5):
        raise GanutilsError(f"difficulty {spec!r} must be a level 1-5 or a range low-high within 1-5")
    return low, high


def select(topic: str | None = None, n: int | None = None, seed: int = 0, *, difficulty=None, mode: str = "all",
           progress: Progress | None = None, today=None) -> list[dict]:
    """The quiz's questions, in order.

    The bank (or one topic, within ``difficulty``) shuffled with ``seed``; ``mode="due"`` keeps the
    questions whose review is due (oldest due date first) followed by the ones never graded,
    ``mode="missed"`` those graded "again" last time; then the first ``n`` (None: all).
    """
    topic, mode, levels = check_topic(topic), check_mode(mode), parse_difficulty(difficulty)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise GanutilsError(f"n must be a positive whole number of questions, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GanutilsError(f"seed must be a whole number, got {seed!r}")
    if mode != "all" and progress is None:
        raise GanutilsError(f"mode {mode!r} needs the saved progress: pass progress=Progress.load()")
    pool = [q for q in bank.load_bank() if (topic is None or q["topic"] == topic)
            and (levels is None or levels[0] <= q["difficulty"] <= levels[1])]
    random.Random(seed).shuffle(pool)
    if mode == "due":
        day = parse_day(today) if today is not None else None
        due = sorted((q for q in pool if progress.is_due(q["id"], day)), key=lambda q: progress.cards[q["id"]].due)
        pool = due + [q for q in pool if not progress.seen(q["id"])]
    elif mode == "missed":
        pool = [q for q in pool if progress.missed(q["id"])]
    return pool if n is None else pool[:n]


def question_text(entry: dict, lang: str = "en") -> str:
    return interview.question(entry, lang)


def answer_text(entry: dict, lang: str = "en", width: int = 100) -> str:
    """The revealed part, built from the entry's fields (never by slicing a rendering of the question).

    Key points first, then the full answer, both in ``lang``; the question in the other language;
    the code of the tested ganutils functions for coding questions; where the course shows it; the
    seed corrections and the run (or "explained, not run") that backs each.
    """
    check_lang(lang)
    wrap = lambda text, indent="  ": textwrap.wrap(interview.flat(text), width, initial_indent=indent,  # noqa: E731
                                                   subsequent_indent=indent, break_on_hyphens=False)
    zh = lang == "zh"
    lines = ["要点：" if zh else "Key points:"]
    for point in interview.key_points(entry, lang):
        lines += textwrap.wrap(point, width, initial_indent="  - ", subsequent_indent="    ", break_on_hyphens=False)
    lines += ["", "详解：" if zh else "Answer:"] + wrap(interview.answer(entry, lang))
    other = "en" if zh else "zh"
    lines += ["", ("English: " if zh else "中文：") + interview.question(entry, other)]
    for path, source in interview.code_answers(entry):
        lines += ["", f"{'代码' if zh else 'Code'}: {path}"] + ["  " + ln for ln in source.rstrip().splitlines()]
    lines += ["", f"{'课程演示' if zh else 'Shown in'}: {interview.where_text(entry)}"]
    note = quotes.provenance_note(entry.get(f"answer_{lang}") or "", lang)
    lines += [note] if note else []
    for c in entry.get("seed_correction") or []:
        lines += wrap(f"Seed {c['seed_file'][:3]} says: {c['claim']} Correction: {c['correction']} "
                      f"Shown by: {interview.experiment_text(c)}.")
    return "\n".join(lines)


class Quiz:
    """A self-graded quiz: ``question()``, then ``reveal()``, then ``grade("again"|"hard"|"good"|"easy")``."""

    def __init__(self, topic: str | None = None, n: int | None = None, seed: int = 0, lang: str = "en", *,
                 difficulty=None, mode: str = "all", progress: Progress | None = None, today=None):
        self.topic, self.lang, self.seed, self.mode = check_topic(topic), check_lang(lang), seed, check_mode(mode)
        self.difficulty, self.progress = parse_difficulty(difficulty), progress
        self.today = parse_day(today) if today is not None else None
        self.questions = select(self.topic, n, seed, difficulty=self.difficulty, mode=mode, progress=progress,
                                today=self.today)
        self.position, self.revealed, self.grades = 0, False, []

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

    def grade(self, grade: str) -> None:
        """Grade the current question (after revealing it), update its box when progress is kept, move on."""
        if grade not in GRADES:
            raise GanutilsError(f"unknown grade {grade!r}: use one of {', '.join(GRADES)}")
        if not self.revealed:
            raise GanutilsError("reveal the answer before scoring the question: call quiz.reveal() first")
        if self.progress is not None:
            self.progress.grade(self.current["id"], grade, self.today)
        self.grades.append((self.current, grade))
        self.position, self.revealed = self.position + 1, False

    def mark(self, correct: bool) -> None:
        """The two-level grading of earlier versions: right is "good", wrong is "again"."""
        self.grade("good" if correct else "again")

    @property
    def marks(self) -> list[tuple[dict, bool]]:
        return [(q, g != "again") for q, g in self.grades]

    @property
    def score(self) -> tuple[int, int]:
        """(not "again", graded)."""
        return sum(g != "again" for _, g in self.grades), len(self.grades)

    def by_topic(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for q, g in self.grades:
            right, asked = out.get(q["topic"], (0, 0))
            out[q["topic"]] = (right + (g != "again"), asked + 1)
        return out

    def summary(self) -> str:
        right, answered = self.score
        if not answered:
            return "Score: no question answered."
        lines = [f"Score: {right}/{answered} ({100 * right / answered:.0f}%)"
                 + (f", {len(self) - answered} question(s) not reached" if answered < len(self) else "")]
        lines.append("Grades: " + ", ".join(f"{g} {sum(grade == g for _, grade in self.grades)}" for g in GRADES))
        lines += [f"  {topic:14s} {r}/{a}" for topic, (r, a) in sorted(self.by_topic().items())]
        missed = [q["id"] for q, g in self.grades if g == "again"]
        if missed:
            lines.append("To review: " + ", ".join(missed) + " (python -m ganutils quiz --missed asks them again)")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- terminal


def run_terminal(topic: str | None = None, lang: str = "en", n: int | None = 10, seed: int | None = None, *,
                 difficulty=None, mode: str = "all", progress_path=None, keep_progress: bool = True, today=None,
                 stdin=None, stdout=None) -> Quiz:
    """The terminal quiz: Enter reveals, 1-4 grades (again/hard/good/easy), q (or end of input) stops.

    With ``keep_progress`` (the default) grades are saved after every question to the progress file
    (``progress_path``, default the user's data folder), so ``--due`` and ``--missed`` work in the
    next session; an unreadable progress file is set aside and reported in one line.
    """
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if stdin is None or getattr(stdin, "closed", False):
        raise GanutilsError("standard input is closed, and the quiz reads your answers from it: run it in a terminal, "
                            "or pipe the answers in (e.g. `yes 3 | python -m ganutils quiz`)")
    if seed is None:
        seed = random.SystemRandom().randrange(10**6)

    def say(text=""):
        print(text, file=stdout, flush=True)

    progress = Progress.load(progress_path) if keep_progress or mode != "all" else None
    if progress is not None and progress.notice:
        say(f"note: {progress.notice}")
    quiz = Quiz(topic, n, seed, lang, difficulty=difficulty, mode=mode, progress=progress, today=today)

    def ask(prompt):
        print(prompt, end="", file=stdout, flush=True)
        line = stdin.readline() if stdin is not None else ""  # no standard input at all: stop like q
        if not getattr(stdin, "isatty", lambda: False)():
            print(file=stdout)  # piped keys are not echoed: end the prompt's line ourselves
        if not line:  # end of input: stop like q
            return "q"
        return line.strip().lower()

    levels = f"{quiz.difficulty[0]}-{quiz.difficulty[1]}" if quiz.difficulty else "1-5"
    say(f"Quiz ({mode}): {len(quiz)} question(s), topic {topic or ALL}, difficulty {levels}, seed {seed} "
        f"(repeat it with --seed {seed}).")
    if progress is not None:
        ids = [q["id"] for q in bank.load_bank()]
        c = progress.counts(ids, quiz.today)
        say(f"Progress in {progress.path}: {c['due']} due, {c['new']} never graded, {c['missed']} missed last time.")
    if not len(quiz):
        say({"due": "Nothing is due: come back later, or run without --due.",
             "missed": "Nothing was missed last time.", "all": "No question matches the filters."}[mode])
        return quiz
    say("Answer aloud, press Enter to see the key points and the model answer, then grade yourself: "
        "1 again, 2 hard, 3 good, 4 easy; q quits.")
    try:
        while not quiz.done:
            q = quiz.current
            say(f"\n[{quiz.position + 1}/{len(quiz)}] {q['topic']} · difficulty {q['difficulty']} · {q['id']}")
            say(textwrap.fill(quiz.question(), 100, break_on_hyphens=False))
            if ask("(Enter: reveal the answer) ") == "q":
                break
            say(quiz.reveal())
            key = ask("Grade: 1 again, 2 hard, 3 good, 4 easy [1-4/q] ")
            while key != "q" and key not in KEYS:
                key = ask("Please answer 1, 2, 3, 4 (again, hard, good, easy) or q: ")
            if key == "q":
                break
            quiz.grade(KEYS[key])
            if progress is not None:
                progress.save()
    except KeyboardInterrupt:  # Ctrl-C ends the quiz with its score, not a traceback
        say()
    say("\n" + quiz.summary())
    if progress is not None and quiz.grades:
        say(f"Progress saved to {progress.path}.")
    return quiz


# ----------------------------------------------------------------------------- Jupyter


class QuizWidget:
    """The quiz behind buttons: topic, seed and length, then Reveal and four grade buttons (kept in memory)."""

    def __init__(self, topic: str | None = None, n: int | None = 10, seed: int = 0, lang: str = "en", *,
                 difficulty=None, progress: Progress | None = None):
        import ipywidgets as w

        check_topic(topic)
        self.difficulty, self.store = parse_difficulty(difficulty), progress
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
        styles = {"again": "danger", "hard": "warning", "good": "success", "easy": "info"}
        self.grade_buttons = {g: w.Button(description=g, button_style=styles[g], disabled=True) for g in GRADES}
        self.right_button, self.wrong_button = self.grade_buttons["good"], self.grade_buttons["again"]  # the two-level names
        self.new_button.on_click(lambda _: self.restart())
        self.reveal_button.on_click(lambda _: self.reveal())
        for g, button in self.grade_buttons.items():
            button.on_click(lambda _, g=g: self.grade(g))
        self.box = w.VBox([w.HBox([self.topic_box, self.n_box]), w.HBox([self.seed_box, self.lang_box, self.new_button]),
                           self.progress, self.question_html, self.reveal_button, self.answer_html,
                           w.HBox(list(self.grade_buttons.values()))])
        self.restart()

    def restart(self) -> None:
        topic = None if self.topic_box.value == ALL else self.topic_box.value
        self.quiz = Quiz(topic, self.n_box.value, self.seed_box.value, self.lang_box.value,
                         difficulty=self.difficulty, progress=self.store)
        self._render()

    def reveal(self) -> None:
        if not self.quiz.done:
            self.quiz.reveal()
            self._render()

    def grade(self, grade: str) -> None:
        if not self.quiz.done and self.quiz.revealed:
            self.quiz.grade(grade)
            self._render()

    def mark(self, correct: bool) -> None:
        self.grade("good" if correct else "again")

    def _render(self) -> None:
        quiz = self.quiz
        right, answered = quiz.score
        self.progress.value = f"<b>Question {min(quiz.position + 1, len(quiz))}/{len(quiz)}</b> · score {right}/{answered}"
        if quiz.done:
            self.question_html.value = "<pre>" + html.escape(quiz.summary()) + "</pre>"
            self.answer_html.layout.display = "none"
            self.reveal_button.disabled = True
            for button in self.grade_buttons.values():
                button.disabled = True
            return
        q = quiz.current
        self.question_html.value = (f"<p><small>{html.escape(q['topic'])} · difficulty {q['difficulty']}</small><br>"
                                    f"<b>{html.escape(quiz.question())}</b></p>")
        other = "en" if quiz.lang == "zh" else "zh"
        self.answer_html.value = (f"<p style='color:#666'>{html.escape(interview.question(q, other))}</p>"
                                  + interview.answer_html(q, quiz.lang))
        self.answer_html.layout.display = "block" if quiz.revealed else "none"
        self.reveal_button.disabled = quiz.revealed
        for button in self.grade_buttons.values():
            button.disabled = not quiz.revealed

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
