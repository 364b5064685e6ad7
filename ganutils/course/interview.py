"""The interview checkpoint that ends every notebook, from the question bank (``ganutils.course.bank``).

``checkpoint(notebook)`` is the last cell of every notebook. In Jupyter each answer hides behind a
button (ipywidgets); with $GANUTILS_STATIC set (the runner and the tests set it), or without
ipywidgets or a kernel, it renders as text plus HTML with the answers folded in <details>.
A notebook with no questions of its own (00 setup, 13 review) gets a fixed-seed sample of the
whole bank instead.
"""

from __future__ import annotations

import functools
import html
import importlib
import inspect
import random
import re
import textwrap
from pathlib import Path

from ..config import GanutilsError, checkout_dir
from . import quotes
from .bank import NOT_DEMONSTRATED, REVIEW_NOTEBOOK, links, load_bank, questions_for
from .display import static_display

SAMPLE_SIZE = 5  # questions shown by a notebook that has none of its own


def static_mode() -> bool:
    """True when widgets cannot be shown: $GANUTILS_STATIC set, no IPython kernel, or no ipywidgets."""
    if static_display():
        return True
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "Terminal" in type(shell).__name__:
            return True
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


# ----------------------------------------------------------------------------- rendering


EXPLAINED = "explained, not run"
_QUOTE = re.compile(r"\{\{\s*(?P<notebook>\d\d_[a-z0-9_]+)\s*:\s*(?P<key>[^{}\s]+?)\s*\}\}")


def flat(text: str) -> str:
    return " ".join(str(text).split())


_flat = flat  # the old private name


def render_quotes(text: str, mode: str = "text") -> str:
    """``text`` with every measured-number quote ``{{NN_name:key}}`` filled in from the reference run.

    Delegates to ``ganutils.course.quotes`` (values of the committed reference run, with their
    provenance); where no reference run is available a quote shows as "[NN_name:key]".
    """
    try:
        from . import quotes
    except ImportError:
        quotes = None
    if quotes is not None and hasattr(quotes, "render_reference"):
        return quotes.render_reference(text, mode=mode)
    return _QUOTE.sub(lambda m: f"[{m['notebook']}:{m['key']}]", text)


def question(entry: dict, lang: str = "en") -> str:
    return flat(entry["question_zh"] if lang == "zh" else entry["question_en"])


def key_points(entry: dict, lang: str = "en", mode: str = "text") -> list[str]:
    """The entry's key points (2-4 short lines) in ``lang``, quotes filled in."""
    esc = html.escape if mode == "html" else str
    return [render_quotes(esc(flat(p)), mode) for p in entry[f"key_points_{lang}"]]


def answer(entry: dict, lang: str = "en", mode: str = "text") -> str:
    """The full model answer in ``lang``, quotes filled in."""
    esc = html.escape if mode == "html" else str
    return render_quotes(esc(flat(entry[f"answer_{lang}"])), mode)


def code_answers(entry: dict) -> list[tuple[str, str]]:
    """(dotted path, source) of each tested ganutils function a coding question answers with."""
    out = []
    for path in entry.get("code") or []:
        out.append((path, inspect.getsource(resolve(path))))
    return out


def resolve(path: str):
    """The object named by a dotted path such as 'ganutils.training.gan.GAN.d_step'."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise GanutilsError(f"code path {path!r} does not name an importable ganutils object")


def where_text(entry: dict) -> str:
    """"01_minmax_and_js § The min-max objective", or "not demonstrated here"."""
    return f"{entry['notebook']} § {entry['section']}" if entry.get("notebook") else NOT_DEMONSTRATED


def experiment_text(c: dict) -> str:
    """Where a seed correction is shown by a run, or "explained, not run"."""
    e = c.get("experiment")
    return f"{e['notebook']} § {e['section']}" if e else EXPLAINED


_experiment_text = experiment_text


def entry_text(entry: dict, number: int | None = None, width: int = 100, answer: bool = True) -> str:
    """One question as plain text: English and Chinese question; key points and answer in both languages;
    where it is shown; the code answer; corrections."""
    label = f"Q{number}. " if number is not None else ""
    lines = textwrap.wrap(f"{label}{flat(entry['question_en'])}  [{entry['topic']}, difficulty {entry['difficulty']}]",
                          width, subsequent_indent="    ", break_on_hyphens=False)
    lines += textwrap.wrap(flat(entry["question_zh"]), width, initial_indent="    ", subsequent_indent="    ")
    if answer:
        wrap = functools.partial(textwrap.wrap, width=width, initial_indent="    ", subsequent_indent="    ",
                                 break_on_hyphens=False)  # "cross-entropy" stays one word in copied text
        bullet = functools.partial(textwrap.wrap, width=width, initial_indent="    - ", subsequent_indent="      ",
                                   break_on_hyphens=False)
        for lang, head, body in (("en", "Key points:", "Answer: "), ("zh", "要点：", "详解：")):
            lines.append(f"    {head}")
            for point in key_points(entry, lang):
                lines += bullet(point)
            lines += wrap(body + globals()["answer"](entry, lang))
        lines.append(f"    Shown in: {where_text(entry)}")
        for path, _ in code_answers(entry):
            lines.append(f"    Code answer: {path}")
        for c in entry.get("seed_correction") or []:
            lines += wrap(f"Seed {c['seed_file'][:3]} says: {flat(c['claim'])} Correction: {flat(c['correction'])} "
                          f"Shown by: {experiment_text(c)}.")
    return "\n".join(lines)


def question_html(entry: dict, number: int | None = None) -> str:
    """The question line: English, the Chinese beside it, topic and difficulty."""
    esc = html.escape
    label = f"<b>Q{number}.</b> " if number is not None else ""
    return (f"{label}{esc(flat(entry['question_en']))} <span style='color:#666'>{esc(flat(entry['question_zh']))}</span>"
            f" <small style='color:#888'>[{esc(entry['topic'])}, difficulty {entry['difficulty']}]</small>")


def entry_html(entry: dict, number: int | None = None) -> str:
    """One question as HTML, the answer folded in a <details> element (hidden until clicked, no kernel needed)."""
    return f"<details><summary>{question_html(entry, number)}</summary>{answer_html(entry)}</details>"


def answer_html(entry: dict, lang: str | None = None) -> str:
    """The answer block: key points first, then the model answer, in ``lang`` (None: English, then Chinese
    folded), where it is shown, the code answer and any seed corrections."""
    esc = html.escape

    def block(lg):
        points = "".join(f"<li>{p}</li>" for p in key_points(entry, lg, "html"))  # key_points escapes, then fills quotes
        head = "要点" if lg == "zh" else "Key points"
        return f"<p><b>{head}</b></p><ul>{points}</ul><p>{answer(entry, lg, 'html')}</p>"

    if lang is None:
        parts = [block("en"), f"<div lang='zh' style='border-top:1px dotted #bbb;margin-top:4px'>{block('zh')}</div>"]
    else:
        parts = [block(lang)]
    parts.append(f"<p><em>Shown in: {esc(where_text(entry))}</em></p>")
    for path, source in code_answers(entry):
        parts.append(f"<p><b>Code answer:</b> <code>{esc(path)}</code></p><pre style='font-size:85%'>{esc(source)}</pre>")
    for c in entry.get("seed_correction") or []:
        parts.append(f"<p style='border-left:3px solid #c60;padding-left:6px'><b>Seed {esc(c['seed_file'][:3])} says:</b> "
                     f"{esc(flat(c['claim']))}<br><b>Correction:</b> {esc(flat(c['correction']))}<br>"
                     f"<em>Shown by: {esc(experiment_text(c))}</em></p>")
    return "".join(parts)


class Checkpoint:
    """A notebook's interview questions: widgets in Jupyter, text + folded HTML in executed notebooks."""

    def __init__(self, notebook: str, entries: list[dict], header: str = ""):
        self.notebook, self.entries, self.header = notebook, list(entries), header
        self.exercises = _exercise_progress(notebook)

    def _provenance(self) -> str:
        """Where the measured numbers quoted in these answers come from, once for the whole checkpoint."""
        quoted = " ".join(q.get(f) or "" for q in self.entries for f in ("answer_en", "answer_zh"))
        return quotes.provenance_note(quoted) if quotes.find(quoted) else ""

    def text(self) -> str:
        title = f"Interview checkpoint: {self.notebook} ({len(self.entries)} question{'s' * (len(self.entries) != 1)})"
        body = "\n\n".join(entry_text(q, i) for i, q in enumerate(self.entries, 1))
        return "\n".join(filter(None, [self.exercises, title, _flat(self.header), self._provenance()])) + "\n\n" + body

    def html(self) -> str:
        progress = f"<pre>{html.escape(self.exercises)}</pre>" if self.exercises else ""
        intro = f"<p><em>{html.escape(_flat(self.header))}</em></p>" if self.header else ""
        if self._provenance():
            intro += f"<p><small>{html.escape(self._provenance())}</small></p>"
        hint = "<p><small>Answer aloud first, then click a question to reveal the model answer.</small></p>"
        return progress + intro + hint + "\n".join(entry_html(q, i) for i, q in enumerate(self.entries, 1))

    def widget(self):
        """A VBox: each question with a "Show answer" toggle, plus one toggle for all answers."""
        import ipywidgets as w

        rows, toggles = [], []
        for i, q in enumerate(self.entries, 1):
            question = w.HTML(question_html(q, i))
            answer = w.HTML(answer_html(q), layout=w.Layout(display="none", margin="0 0 0 2em"))
            toggle = w.ToggleButton(description="Show answer", layout=w.Layout(width="9em"))

            def flip(change, answer=answer, toggle=toggle):
                answer.layout.display = "block" if change["new"] else "none"
                toggle.description = "Hide answer" if change["new"] else "Show answer"

            toggle.observe(flip, names="value")
            toggles.append(toggle)
            rows.append(w.VBox([question, toggle, answer]))
        show_all = w.ToggleButton(description="Show all answers", layout=w.Layout(width="12em"))
        show_all.observe(lambda change: [setattr(t, "value", change["new"]) for t in toggles], names="value")
        intro = w.HTML(f"<p><em>{html.escape(_flat(self.header))}</em></p>") if self.header else w.HTML("")
        progress = w.HTML(f"<pre>{html.escape(self.exercises)}</pre>") if self.exercises else w.HTML("")
        return w.VBox([progress, intro, show_all, *rows])

    def _ipython_display_(self):
        from IPython.display import display

        if static_mode():
            display({"text/plain": self.text(), "text/html": self.html()}, raw=True)
        else:
            display(self.widget())

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def _exercise_progress(notebook: str) -> str:
    """The exercises attempted and passed in this kernel (``ganutils.course.exercises``), or "" without a session."""
    from . import exercises

    progress = exercises.progress(notebook)
    return progress.text() if progress else ""


def _course_notebooks() -> set[str]:
    root = checkout_dir()
    stems = {p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")} if root is not None else set()
    return stems | {nb for _, _, nb, _ in links()} | {REVIEW_NOTEBOOK}


def checkpoint(notebook: str, n: int = SAMPLE_SIZE, seed: int = 0) -> Checkpoint:
    """The interview checkpoint for ``notebook``, the last cell of every notebook.

    A course notebook that demonstrates no question of its own (00's tour, 13's review) shows
    ``n`` questions drawn from the whole bank with ``seed`` instead, and says so.
    """
    stem = Path(str(notebook)).stem
    own = questions_for(stem)
    if own:
        return Checkpoint(stem, own)
    known = _course_notebooks()
    if stem not in known:
        raise GanutilsError(f"{notebook!r} is not a course notebook: use a stem such as "
                            f"{', '.join(repr(k) for k in sorted(known)[:3])}, ...")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GanutilsError(f"n must be a positive whole number of questions, got {n!r}")
    bank = list(load_bank())
    sample = random.Random(seed).sample(bank, min(n, len(bank)))
    header = (f"{stem} demonstrates no question of its own: here are {len(sample)} of the bank's {len(bank)} questions, "
              f"drawn with seed {seed}. Run `python -m ganutils quiz` (or notebook 13's quiz) for all of them.")
    return Checkpoint(stem, sample, header)
