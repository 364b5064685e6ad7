"""Measured numbers quoted by key: ``{{NN_name:metric_key}}`` in bank answers, the README and notebook prose.

A quote names a notebook and a key of the metrics it records: the key as ``summary.md`` shows it
(the name given to ``gu.record``, nested dict keys joined with "."; "/" and "." are
interchangeable). Rendering (book, checkpoint, quiz) replaces it with the value measured by the
committed reference run (``reference/<profile>-<device>/metrics.json``, see
``ganutils.course.reference``), 3 significant digits, integers as integers, and says where the
number comes from ("quick, CPU, 2 cores, 2026-11-30"). A key nobody measured shows as
"[NN_name:key: not measured]", never as a made-up number.

In a file read without rendering (README.md on GitHub, a notebook in Jupyter) a quote is kept
*pre-rendered*: the value, then the quote inside an HTML comment, which both hide:
``7.63<!--{{03_mode_collapse:ring/vanilla/modes_mean}}-->``. ``refresh_file`` rewrites the value
from the reference (``python -m ganutils quotes --refresh``, which ``python -m ganutils reference``
runs), and ``tests/test_quotes.py`` fails when a shown value and the reference disagree, or when a
quoted key is no longer recorded by its notebook.
"""

from __future__ import annotations

import ast
import functools
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

QUOTE = re.compile(r"\{\{\s*(?P<notebook>\d\d_[a-z0-9_]+)\s*:\s*(?P<key>[^{}\s]+?)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{[^{}]*\}\}")
PRERENDERED = re.compile(r"(?P<value>[^\s<>()\[\]{}`*|]*)<!--\s*(?P<quote>\{\{[^{}]*\}\})\s*-->")
MODES = ("text", "markdown", "html")
ZH_LABELS = {"the reference run": "参考运行", "this run": "本次运行"}
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)  # Markdown code: quotes shown there are examples, left alone


def _in_code(text: str):
    """A predicate: whether a position of ``text`` lies inside Markdown code (a fenced block or an inline span)."""
    spans = [m.span() for m in CODE.finditer(text)]
    return lambda pos: any(a <= pos < b for a, b in spans)


def _matches(pattern: re.Pattern, text: str) -> list[re.Match]:
    inside = _in_code(text)
    return [m for m in pattern.finditer(text) if not inside(m.start("quote") if "quote" in pattern.groupindex else m.start())]


@dataclass(frozen=True)
class Quote:
    notebook: str
    key: str
    text: str  # the whole "{{...}}"


def find(text: str) -> list[Quote]:
    """Every quote in ``text``, in order (bare or pre-rendered)."""
    return [Quote(m["notebook"], m["key"], m[0]) for m in _matches(QUOTE, text or "")]


def malformed(text: str) -> list[str]:
    """``{{...}}`` that look like quotes but do not parse as ``{{NN_name:key}}``."""
    return [m[0] for m in _matches(ANY_BRACES, text or "") if not QUOTE.fullmatch(m[0])]


def normal_key(key: str) -> str:
    """The form keys are compared in: "ring/vanilla/modes_mean" and "ring.vanilla.modes_mean" are one key."""
    return key.replace("/", ".")


def format_value(value) -> str:
    """3 significant digits; integers (and floats that are whole numbers) as integers; lists item by item."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


_MISSING = object()


@dataclass
class Source:
    """Where quoted values come from: flattened metrics by notebook stem, and a provenance line."""

    values: dict  # notebook stem -> {key: value}
    provenance: str  # "quick, CPU, 2 cores, 2026-11-30"
    label: str = "the reference run"

    def __post_init__(self):
        self.values = {nb: {normal_key(k): v for k, v in metrics.items()} for nb, metrics in self.values.items()}

    def lookup(self, notebook: str, key: str):
        return self.values.get(notebook, {}).get(normal_key(key), _MISSING)


@functools.lru_cache(maxsize=1)
def _reference_source() -> Source | None:
    from .reference import for_quotes  # the committed reference (quick on CPU first)

    ref = for_quotes()
    return Source(ref.central_values(), ref.text) if ref is not None else None


def reference_sources() -> list[Source]:
    """The committed reference run as a quote source ([] when none is committed yet); read once per process."""
    source = _reference_source()
    return [source] if source is not None else []


def _sources(sources) -> list[Source]:
    if sources is None:
        return reference_sources()
    return [sources] if isinstance(sources, Source) else list(sources)


def render(text: str, sources: list[Source] | Source | None = None, mode: str = "text", note: bool = True,
           escape: bool = True, lang: str = "en") -> str:
    """``text`` with every quote replaced by its value from the first source that has it.

    ``sources``: default the committed reference run. ``mode``: "text" (the value), "markdown"
    (MyST: the value in an ``{abbr}`` role whose tooltip names the key and the run) or "html" (an
    ``<abbr>``; the rest of ``text`` is escaped unless ``escape=False``). When any quote was filled and
    ``note`` is true, one sentence (in ``lang``: "en" or "zh") naming where the numbers come from is appended.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    sources = _sources(sources)
    text = text or ""
    esc = html.escape if mode == "html" and escape else str
    if "{{" not in text:
        return esc(text)
    text = _sub(PRERENDERED, lambda m: m["quote"] if find(m["quote"]) else m[0], text)  # the shown value is refilled
    used: list[Source] = []

    def fill(notebook: str, key: str) -> str:
        for source in sources:
            value = source.lookup(notebook, key)
            if value is not _MISSING:
                if source not in used:
                    used.append(source)
                shown, title = format_value(value), f"{notebook}:{key}, {source.label}: {source.provenance}"
                if mode == "markdown":
                    return "{abbr}`" + shown.replace("`", "'") + " (" + title.replace("`", "'") + ")`"
                if mode == "html":
                    return f'<abbr title="{html.escape(title)}">{html.escape(shown)}</abbr>'
                return shown
        missing = f"[{notebook}:{key}: not measured]"
        return html.escape(missing) if mode == "html" else missing

    out, last = [], 0
    for m in _matches(QUOTE, text):
        out.append(esc(text[last:m.start()]))
        out.append(fill(m["notebook"], m["key"]))
        last = m.end()
    out.append(esc(text[last:]))
    result = "".join(out)
    if used and note:
        if lang == "zh":
            runs = [f"{ZH_LABELS.get(s.label, s.label)}（{s.provenance}）" for s in used]
        else:
            runs = [f"{s.label} ({s.provenance})" for s in used]
        sentence = ("实测数字来自" + "；".join(runs) + "。") if lang == "zh" else "Numbers measured by " + "; ".join(runs) + "."
        if mode == "markdown":
            result = result.rstrip() + f" *({sentence})*"
        elif mode == "html":
            result = result.rstrip() + f' <small class="ganutils-provenance">({html.escape(sentence)})</small>'
        else:
            result = result.rstrip() + f" ({sentence})"
    return result


def _sub(pattern: re.Pattern, repl, text: str) -> str:
    """``pattern.sub(repl, text)`` outside Markdown code."""
    out, last = [], 0
    for m in _matches(pattern, text):
        out += [text[last:m.start()], repl(m)]
        last = m.end()
    return "".join(out + [text[last:]])


def render_reference(text: str, mode: str = "text") -> str:
    """The checkpoint's and the quiz's entry point: quotes in ``text`` (already escaped for ``mode``) filled from the
    committed reference run, without the provenance sentence (``provenance_note`` says it once per answer)."""
    return render(text, None, mode, note=False, escape=False)


def provenance_note(text: str = "", lang: str = "en") -> str:
    """"Measured numbers: reference run (quick, CPU, 2 cores, 2026-11-30)." when ``text`` quotes any (or when
    ``text`` is empty and a reference exists); "" otherwise."""
    sources = reference_sources()
    if not sources or (text and not find(text)):
        return ""
    if lang == "zh":
        return f"实测数字来自参考运行（{sources[0].provenance}）。"
    return f"Measured numbers: reference run ({sources[0].provenance})."


# ----------------------------------------------------------------------------- pre-rendered quotes in files


def prerendered(text: str) -> list[tuple[str, Quote]]:
    """(shown value, quote) for every pre-rendered quote ``VALUE<!--{{NN_name:key}}-->`` in ``text``."""
    out = []
    for m in _matches(PRERENDERED, text or ""):
        found = find(m["quote"])
        if found:
            out.append((m["value"], found[0]))
    return out


def shown_value(quote: Quote, sources=None) -> str:
    """What a pre-rendered quote should show: the formatted value, or "?" when no source has it."""
    for source in _sources(sources):
        value = source.lookup(quote.notebook, quote.key)
        if value is not _MISSING:
            return format_value(value)
    return "?"


def refresh_text(text: str, sources=None) -> str:
    """``text`` with every pre-rendered value replaced by the current one (default source: the reference)."""
    sources = _sources(sources)

    def fill(m: re.Match) -> str:
        found = find(m["quote"])
        if not found:
            return m[0]
        return f"{shown_value(found[0], sources)}<!--{found[0].text}-->"

    return _sub(PRERENDERED, fill, text)


def refresh_file(path, sources=None) -> bool:
    """Rewrite the pre-rendered values of a Markdown file, a notebook's text twin or an .ipynb; True if it changed.

    Values are numbers, so the same substitution is safe inside an .ipynb's JSON strings and keeps a
    notebook and its text twin in agreement.
    """
    from ..io import atomic_write_text

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = refresh_text(text, sources)
    if new != text:
        atomic_write_text(path, new)
    return new != text


def quoted_files(repo: Path) -> list[Path]:
    """The files read raw that may hold pre-rendered quotes: README.md and the notebooks (both twins)."""
    repo = Path(repo)
    files = [repo / "README.md"] + sorted((repo / "notebooks").glob("[0-9][0-9]_*.py"))
    files += sorted((repo / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [f for f in files if f.exists()]


# ----------------------------------------------------------------------------- what notebooks record (static)


def _cells(path, kind: str) -> list[str]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == kind]


def markdown_cells(path) -> list[str]:
    """The Markdown cells of a notebook (.ipynb), as text."""
    return _cells(path, "markdown")


def recorded_names(path) -> list:
    """The names a notebook passes to ``gu.record`` / ``record``, read from its code without running it.

    A string literal is returned as is; an f-string becomes a compiled pattern whose fields match anything.
    """
    names = []
    for source in _cells(path, "code"):
        clean = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        try:
            tree = ast.parse(clean)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            f = node.func
            if not ((isinstance(f, ast.Attribute) and f.attr == "record") or (isinstance(f, ast.Name) and f.id == "record")):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                parts = [re.escape(normal_key(v.value)) if isinstance(v, ast.Constant) else ".+?" for v in arg.values]
                names.append(re.compile("".join(parts)))
    return names


def statically_recorded(key: str, names: list) -> bool:
    """Whether ``key`` is one of ``names`` or nested under one (``ring.vanilla.modes_mean`` under ``ring``)."""
    key = normal_key(key)
    prefixes = [key] + [key[:i] for i, ch in enumerate(key) if ch == "."]
    for name in names:
        if isinstance(name, str):
            name = normal_key(name)
            if key == name or key.startswith(name + "."):
                return True
        elif any(name.fullmatch(p) for p in prefixes):
            return True
    return False
