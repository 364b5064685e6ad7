"""``make book``: a course run as an offline static site, built by Sphinx + MyST-NB + sphinx-book-theme.

``build(run_dir)`` reads a run folder (``runs/latest`` by default: the executed notebooks,
``metrics.json``, ``summary.md``), writes a Sphinx source tree into ``<run>/.book/src`` and
builds ``<run>/book/index.html``:

- every executed notebook with its outputs: cells tagged ``claim`` (an asserted claim, whose
  leading ``# Claim: ...`` comment is shown as text above it) and ``solution`` are folded; quoted
  numbers are filled in; a notebook that failed says so at its top, and one that did not run gets
  a page saying how to run it;
- the run's summary, with its reference column;
- the question bank by topic, English and Chinese, answers folded, each linked to the notebook
  section (anchor) that demonstrates it;
- the exercises with their solutions folded, when the course has exercises.

Offline for real: MathJax is served from the site (the pinned ``mathjax`` npm package that
``make book`` installs into ``.venv/share/ganutils-book``); no page loads a script, a stylesheet or
a font from the network (``tests/test_book.py`` checks it in Chromium).

(About 480 lines on purpose: the Sphinx source tree it writes — pages, anchors, folded cells, the
served MathJax — is one consistent whole, and splitting it would scatter the links between its pages.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..config import GanutilsError
from . import bank, quotes, reference, runner
from .record import flatten

MATHJAX_ENV = "GANUTILS_MATHJAX"
MATHJAX_VERSION = "3.2.2"  # pinned in tools/book/package.json (+ its lock, with the tarball's sha512)
MATHJAX_BUNDLE = "tex-chtml-full.js"  # TeX in, HTML out, every TeX extension in one file: nothing loaded lazily
MATHJAX_PARTS = (MATHJAX_BUNDLE, "output/chtml/fonts/woff-v2", "ui", "a11y", "input/tex/extensions", "adaptors")
FOLDED = {"claim": "hide-input", "solution": "hide-input"}  # course cell tag -> MyST-NB tag
TOPIC_TITLES = {
    "gan-basics": "GAN basics", "gan-training": "Training GANs", "mode-collapse": "Mode collapse",
    "wgan": "Wasserstein GANs", "vae": "VAEs", "conditional": "Conditional GANs",
    "pix2pix": "Image-to-image translation", "evaluation": "Evaluation", "applications": "Applications",
    "coding": "Coding questions",
}
EXERCISE_HEADING = re.compile(r"\*\*Exercise (?P<id>\d\d-[a-z0-9-]+)\*\*")


@dataclass
class Page:
    stem: str  # course notebook stem, e.g. "03_mode_collapse"
    name: str  # run name: the stem, or stem__params for a sweep
    title: str
    status: str  # ok | failed | timeout | not run
    executed: Path | None  # the executed notebook, when papermill wrote one
    error: str = ""

    @property
    def doc(self) -> str:
        return f"notebooks/{self.name}"


# ----------------------------------------------------------------------------- the run


def mathjax_dir() -> Path:
    """MathJax's ``es5`` folder: $GANUTILS_MATHJAX, else the copy ``make book`` installs into this environment."""
    candidates = [Path(os.environ[MATHJAX_ENV])] if os.environ.get(MATHJAX_ENV) else []
    candidates.append(Path(sys.prefix) / "share" / "ganutils-book" / "node_modules" / "mathjax" / "es5")
    for path in candidates:
        if (path / MATHJAX_BUNDLE).is_file():
            return path
    raise GanutilsError(f"MathJax {MATHJAX_VERSION} is not installed (looked in {', '.join(map(str, candidates))}): "
                        "`make book` installs it with npm, or point $GANUTILS_MATHJAX at a MathJax 3 es5 folder")


def resolve_run(run_dir=None) -> Path:
    """The run folder to render; a missing or empty one is a one-line error saying what to do."""
    if run_dir is None:
        if runner.RUNS_DIR is None:
            raise GanutilsError("no runs/ folder outside the course's repository: give a run folder with --run DIR")
        path, label = runner.RUNS_DIR / "latest", "runs/latest"
    else:
        path = Path(run_dir)
        label = str(path)
    if not path.exists():
        raise GanutilsError(f"no course run at {label}: run `make course` (or `python -m ganutils course --profile smoke`) "
                            "first, or give a run folder with --run DIR")
    if not (path / "metrics.json").is_file():
        raise GanutilsError(f"{label} ({path.resolve()}) has no metrics.json, so no notebook finished there: "
                            "run `make course` again, or give another run folder with --run DIR")
    return path.resolve()


def _title(*paths: Path) -> str:
    for path in paths:
        if path is not None and path.is_file():
            return runner.notebook_title(path)
    return paths[-1].stem if paths and paths[-1] is not None else "?"


def pages_of(run: Path, data: dict) -> list[Page]:
    """One page per notebook run, in course order, plus one for each course notebook the run lacks."""
    course = runner.list_notebooks() if runner.NOTEBOOK_DIR is not None else []
    pages = []
    for r in data.get("runs", []):
        executed = run / r.get("output", f"{r['name']}.ipynb")
        source = runner.NOTEBOOK_DIR / f"{r['notebook']}.ipynb" if runner.NOTEBOOK_DIR is not None else None
        executed = executed if executed.is_file() else None
        pages.append(Page(r["notebook"], r["name"], _title(executed, source), r["status"], executed, r.get("error", "")))
    seen = {p.stem for p in pages}
    pages += [Page(p.stem, p.stem, _title(p), "not run", None) for p in course if p.stem not in seen]
    order = {p.stem: i for i, p in enumerate(course)}
    return sorted(pages, key=lambda p: (order.get(p.stem, len(order)), p.name))


# ----------------------------------------------------------------------------- the Sphinx source

CONF = '''\
# Written by ganutils.course.book for one run; `make book` rewrites it.
project = {title!r}
author = copyright = "the GAN course"
extensions = ["myst_nb", "sphinx_design"]
exclude_patterns = ["**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_show_sourcelink = False
html_context = {{"default_mode": "light"}}  # with no mode stored, the theme logs a console error
html_theme_options = {{"home_page_in_toc": True, "show_toc_level": 2, "use_download_button": True,
                      "use_fullscreen_button": False, "use_repository_button": False}}
# MathJax from this site (the pinned npm package), never from a CDN
mathjax_path = "mathjax/{bundle}"
mathjax3_config = {{"options": {{"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}}}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_ipywidgets_js = {{}}  # the default loads require.js and the widget manager from CDNs
nb_merge_streams = True
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]
'''

CSS = """\
/* ganutils book: a few additions to sphinx-book-theme */
.ganutils-status-failed, .ganutils-status-timeout { color: #b00020; font-weight: bold; }
.ganutils-status-not-run { color: #777; }
abbr[title] { text-decoration: underline dotted; cursor: help; }
section:has(> div.ganutils-question-zh) > h2 { font-size: 1.35rem; margin-top: 2.2rem; }
div.ganutils-question-zh { font-size: 1.1rem; color: #444; }
div.ganutils-claim { border-left: 3px solid #2e7d32; padding-left: 0.6rem; }
"""


def _cell(cell_type: str, source: str, cell_id: str) -> dict:
    return {"cell_type": cell_type, "metadata": {}, "source": source, "id": cell_id}


def claim_text(source: str) -> str:
    """What a ``claim`` cell checks: its leading ``# Claim: ...`` comment, continued by further ``#`` lines."""
    lines, started = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if not started:
            if stripped.lower().startswith("# claim:"):
                lines.append(stripped[len("# claim:"):].strip())
                started = True
            elif stripped and not stripped.startswith("#"):
                break
        elif stripped.startswith("#"):
            lines.append(stripped.lstrip("#").strip())
        else:
            break
    return " ".join(x for x in lines if x)


def _claim_markdown(text: str, profile: str) -> str:
    when = ("asserted in this run" if profile in ("quick", "full")
            else f"asserted by `quick` and `full` runs; a `{profile}` run checks plumbing only")
    return f":::{{container}} ganutils-claim\n**Claim:** {text} <small>(checked by the folded cell below: {when})</small>\n:::\n"


def prepare_notebook(page: Page, dest: Path, sources: list, profile: str = "") -> None:
    """Copy an executed notebook for the book: claims as text with their cells folded, solutions folded,
    quotes filled, exercise anchors, and a warning at the top of a notebook that did not finish."""
    nb = json.loads(page.executed.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] == "code" and "claim" in tags and claim_text(source):
            cells.append(_cell("markdown", _claim_markdown(claim_text(source), profile), f"ganutils-claim-{i}"))
        tags += [folded for tag, folded in FOLDED.items() if tag in tags and folded not in tags]
        if cell["cell_type"] == "markdown":
            ids = EXERCISE_HEADING.findall(source)
            if quotes.find(source):
                source = quotes.render(source, sources, mode="markdown")
            cell["source"] = "".join(f"(exercise-{x})=\n" for x in ids[:1]) + source
        cells.append(cell)
    if page.status != "ok":
        first = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), -1)
        cells.insert(first + 1, _cell("markdown", f":::{{warning}}\nThis notebook **{page.status}** in this run, so it "
                                      f"stops where it failed: {page.error or 'see the run log'}\n:::\n", "ganutils-run-status"))
    nb["cells"] = cells
    nb.setdefault("metadata", {}).pop("widgets", None)  # saved widget state would need the CDN widget manager
    dest.write_text(json.dumps(nb), encoding="utf-8")


def _missing_page(page: Page) -> str:
    why = ("did not run in this run" if page.status == "not run"
           else f"{page.status} in this run before papermill wrote its output ({page.error or 'see the run log'})")
    return textwrap.dedent(f"""\
        # {page.title} (not run)

        :::{{warning}}
        `{page.stem}` {why}. Run it with `python -m ganutils run {page.stem[:2]} --out DIR` (or the whole course with
        `make course`), then `make book` again.
        :::
        """)


def _cell_text(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _index(run: Path, data: dict, pages: list[Page], has_exercises: bool) -> str:
    ok = sum(p.status == "ok" for p in pages)
    seconds = {r["name"]: r.get("seconds", "") for r in data.get("runs", [])}
    lines = [f"# GAN course: run `{run.name}`", "",
             f"Profile **{data.get('profile', '?')}** on **{data.get('device', '?')}**, started {data.get('started', '?')}: "
             f"{ok} of {len(pages)} notebooks ran to the end. Every plot and number in this book was produced by this run; "
             "the [summary](summary) compares each metric with the committed reference run. The book works offline "
             "(open `index.html` from disk); `make book` rebuilds it.", "",
             "| notebook | status | seconds |", "|---|---|---:|"]
    for p in pages:
        status = f'<span class="ganutils-status-{p.status.replace(" ", "-")}">{p.status}</span>'
        lines.append(f"| [{_cell_text(p.title)}]({p.doc}) | {status} | {seconds.get(p.name, '')} |")
    lines += ["", "```{toctree}", ":caption: This run", ":hidden:", "", "summary", "```", "",
              "```{toctree}", ":caption: Notebooks", ":hidden:", ""] + [p.doc for p in pages]
    lines += ["```", "", "```{toctree}", ":caption: Interview study", ":hidden:", "", "bank/index"]
    lines += ["exercises"] if has_exercises else []
    return "\n".join(lines + ["```", ""])


MD_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")


def _summary(run: Path, pages: list[Page], src: Path) -> str:
    """The run's summary.md, its notebook headings linked to their pages, the images it shows copied along."""
    path = run / "summary.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Summary\n\nThis run wrote no summary.md.\n"
    docs = {p.name: p.doc for p in pages}
    out = []
    for line in text.splitlines():
        if line.startswith("# ") and not out:
            line = f"# Summary: {line[2:].strip()}"
        elif line.startswith("## ") and line[3:].strip() in docs:  # "## 03_mode_collapse" -> a link to its page
            line = f"## [{line[3:].strip()}]({docs[line[3:].strip()]})"
        out.append(line)
    for image in MD_IMAGE.findall(text):  # plots beside summary.md (a sweep's, issue 16)
        source = (run / image).resolve()
        if not re.match(r"^[a-z]+:", image) and source.is_file() and run in source.parents:
            (src / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, src / image)
    return "\n".join(out) + "\n"


def _sections(path: Path | None) -> set[str]:
    """The ``## `` headings of a notebook (where a bank link may point)."""
    if path is None:
        return set()
    return {line[3:].strip() for text in quotes.markdown_cells(path) for line in text.splitlines() if line.startswith("## ")}


def _section_link(notebook: str, section: str | None, pages: dict[str, Page], sections: dict[str, set]) -> str:
    """A Markdown link from a page one level down (bank/, exercises) to a notebook section's anchor."""
    from myst_parser.slugs import github_slugify  # the anchor MyST gives a heading (myst_heading_anchors)

    page = pages.get(notebook)
    label = page.title if page else notebook
    where = f" § {_cell_text(section)}" if section else ""
    if page is None:
        return f"{notebook}{where}"
    target = f"../{page.doc}.ipynb" if page.executed else f"../{page.doc}.md"
    if section and section in sections.get(notebook, set()):
        return f"[{_cell_text(label)}{where}]({target}#{github_slugify(section)})"
    return f"[{_cell_text(label)}]({target}){where}"


def _answer_block(q: dict, lang: str, sources: list) -> list[str]:
    """Key points, then the model answer, in ``lang`` (folded), quotes filled in."""
    answer = q.get(f"answer_{lang}")
    if not answer:
        return []
    points = [f"- {quotes.render(' '.join(p.split()), sources, 'markdown', note=False)}" for p in q.get(f"key_points_{lang}") or []]
    head, title = ("**要点**", "答案") if lang == "zh" else ("**Key points**", "Answer")
    lines = [f":::{{dropdown}} {title}"]
    lines += ([head, ""] + points + [""]) if points else []
    lines += [quotes.render(" ".join(answer.split()), sources, "markdown", lang=lang), ":::", ""]
    return lines


def _code_block(q: dict) -> list[str]:
    """The source of the tested ganutils functions a coding question is answered by (folded)."""
    from . import interview

    lines = []
    for path, source in interview.code_answers(q) if q.get("code") else []:
        lines += [f"::::{{dropdown}} Code: `{path}`", "```python", source.rstrip(), "```", "::::", ""]
    return lines


def _bank_pages(src: Path, pages: list[Page], sources: list) -> None:
    entries = bank.load_bank()
    by_stem, sections = {}, {}
    for p in pages:
        if p.stem not in by_stem:
            by_stem[p.stem], sections[p.stem] = p, _sections(p.executed)
    folder = src / "bank"
    folder.mkdir()
    topics = [t for t in bank.TOPICS if any(q["topic"] == t for q in entries)]
    langs = "English and Chinese" if any(q.get("answer_zh") for q in entries) else "English (questions also in Chinese)"
    note = quotes.provenance_note()
    index = ["# Interview question bank", "",
             f"{len(entries)} questions from the interview material, answered in {langs}: key points first, then the "
             "model answer, folded (answer aloud first), each linked to the notebook section that demonstrates it. "
             + (f"{note} Hover a number for its key." if note else
                "No reference run is committed yet: quoted numbers come from this run where it measured them."), "",
             "```{toctree}", ":maxdepth: 1", ""] + topics + ["```", ""]
    (folder / "index.md").write_text("\n".join(index), encoding="utf-8")
    for topic in topics:
        lines = [f"# {TOPIC_TITLES.get(topic, topic)}", ""]
        for q in (q for q in entries if q["topic"] == topic):
            origin = "from the interview material" if q["source"] == "seed" else "added by the course"
            lines += [f"({q['id']})=", f"## {' '.join(q['question_en'].split())}", "",
                      "```{container} ganutils-question-zh", q["question_zh"].strip(), "```", "",
                      f"<small>difficulty {q['difficulty']} · {origin}</small>", ""]
            lines += _answer_block(q, "en", sources) + _answer_block(q, "zh", sources) + _code_block(q)
            if q.get("notebook"):
                lines += ["Shown in " + _section_link(q["notebook"], q.get("section"), by_stem, sections) + ".", ""]
            for c in q.get("seed_correction") or []:
                e = c.get("experiment")
                shown = _section_link(e["notebook"], e["section"], by_stem, sections) if e else "explained, not run"
                lines += [f"- **Seed {c['seed_file'][:3]} says:** {' '.join(c['claim'].split())} "
                          f"**Correction:** {' '.join(c['correction'].split())} (shown by {shown})", ""]
        (folder / f"{topic}.md").write_text("\n".join(lines), encoding="utf-8")


def _solutions(pages: list[Page]) -> dict[str, str]:
    """Exercise id -> the source of its solution cell (tagged ``solution``) in the executed notebooks."""
    found = {}
    for p in pages:
        if p.executed is None:
            continue
        for cell in json.loads(p.executed.read_text(encoding="utf-8"))["cells"]:
            if "solution" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"])
                for ex_id in re.findall(r"solution\(\s*['\"]([^'\"]+)['\"]", source):
                    found.setdefault(ex_id, source)
    return found


def _exercise_page(src: Path, pages: list[Page]) -> bool:
    """The exercises page when the course has exercises (``ganutils.course.exercises``); False when it has none."""
    try:
        from . import exercises  # absent until the exercises land: the book simply has no such page
    except ImportError:
        return False
    listing = exercises.all_exercises()
    if not listing:
        return False
    by_stem = {}
    for p in pages:
        by_stem.setdefault(p.stem, p)
    solutions = _solutions(pages)
    lines = ["# Exercises", "", f"{len(listing)} exercises: implement (checked against the course's tested code; the "
             "checker names the classic bug it recognises), predict then run, derive with a numeric check. Each lives "
             "in its notebook; solutions are folded.", ""]
    for stem in dict.fromkeys(e.notebook for e in listing):
        page = by_stem.get(stem)
        lines += [f"## {_cell_text(page.title if page else stem)}", ""]
        for ex in (e for e in listing if e.notebook == stem):
            ran = page is not None and page.executed is not None and ex.id in solutions
            title = (f"{{ref}}`{ex.id} <exercise-{ex.id}>`" if ran else f"`{ex.id}`")
            lines += [f"**{title}** ({ex.kind}): {' '.join(str(ex.title).split())}", ""]
            if getattr(ex, "known_bugs", None):
                lines += ["Bugs the checker recognises: " + ", ".join(f"`{b}`" for b in ex.known_bugs) + ".", ""]
            if ex.id in solutions:
                explanation = " ".join(str(getattr(ex, "explanation", "") or "").split())
                lines += ["::::{dropdown} Solution", "```python", solutions[ex.id].rstrip(), "```", explanation, "::::", ""]
    (src / "exercises.md").write_text("\n".join(lines), encoding="utf-8")
    return True


def _copy_mathjax(static: Path) -> None:
    es5, dest = mathjax_dir(), static / "mathjax"
    for part in MATHJAX_PARTS:
        if (es5 / part).is_dir():
            shutil.copytree(es5 / part, dest / part)
        elif (es5 / part).is_file():
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(es5 / part, dest / part)


def quote_sources(data: dict | None = None) -> list:
    """Where the book's quoted numbers come from: the reference run, then (for what it lacks) this run, so labelled."""
    sources = quotes.reference_sources()
    if data is not None:
        values = {r["notebook"]: flatten(r.get("metrics", {})) for r in data.get("runs", [])
                  if r.get("status") == "ok" and not r.get("params")}
        prov = reference.provenance_text({"profile": data.get("profile", "?"), "device": data.get("device", "cpu"),
                                          "machine": data.get("machine"), "date": data.get("started", "?")})
        sources.append(quotes.Source(values, prov, "this run"))
    return sources


def write_source(run: Path, src: Path) -> tuple[list[Page], dict]:
    """The Sphinx source tree of ``run``'s book in ``src`` (rewritten from scratch); returns (pages, metrics.json)."""
    data = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    pages = pages_of(run, data)
    shutil.rmtree(src, ignore_errors=True)
    (src / "notebooks").mkdir(parents=True)
    (src / "_static").mkdir()
    _copy_mathjax(src / "_static")
    (src / "_static" / "book.css").write_text(CSS, encoding="utf-8")
    title = f"GAN course · {data.get('profile', '?')} run {run.name}"
    (src / "conf.py").write_text(CONF.format(title=title, bundle=MATHJAX_BUNDLE), encoding="utf-8")
    sources = quote_sources(data)
    for p in pages:
        if p.executed is not None:
            prepare_notebook(p, src / f"{p.doc}.ipynb", sources, data.get("profile", ""))
        else:
            (src / f"{p.doc}.md").write_text(_missing_page(p), encoding="utf-8")
    (src / "summary.md").write_text(_summary(run, pages, src), encoding="utf-8")
    _bank_pages(src, pages, sources)
    has_exercises = _exercise_page(src, pages)
    (src / "index.md").write_text(_index(run, data, pages, has_exercises), encoding="utf-8")
    return pages, data


# ----------------------------------------------------------------------------- building


def build(run_dir=None, quiet: bool = False) -> Path:
    """Render ``run_dir`` (default ``runs/latest``) into ``<run>/book/``; returns the path of its index.html."""
    run = resolve_run(run_dir)
    work = run / ".book"
    src, html, doctrees, log = work / "src", work / "html", work / "doctrees", work / "sphinx.log"
    pages, _ = write_source(run, src)
    for path in (html, doctrees):
        shutil.rmtree(path, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", "-d", str(doctrees), "-w", str(log),
           str(src), str(html)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise GanutilsError(f"the book of {run} did not build (sphinx exit {proc.returncode}): {tail} (log: {log})")
    book = run / "book"
    shutil.rmtree(book, ignore_errors=True)
    html.rename(book)  # the old book stays until the new one is complete
    if not quiet:
        print(status_line(run, pages, book, log), flush=True)
    return book / "index.html"


def status_line(run: Path, pages: list[Page], book: Path, log: Path) -> str:
    """One line: which run, where its book is, and which notebooks failed or did not run, with what to do."""
    bad = [p for p in pages if p.status not in ("ok", "not run")]
    missing = [p for p in pages if p.status == "not run"]
    warnings = sum("WARNING" in line for line in log.read_text(errors="replace").splitlines()) if log.is_file() else 0
    text = f"book of {run}: {book / 'index.html'} ({len(pages) - len(bad) - len(missing)} of {len(pages)} notebooks ran"
    text += f"; {warnings} Sphinx warning(s) in {log})" if warnings else ")"
    if bad or missing:
        parts = [f"failed: {', '.join(f'{p.name} ({p.status})' for p in bad)}"] if bad else []
        parts += [f"not run: {', '.join(p.stem for p in missing)}"] if missing else []
        numbers = " ".join(dict.fromkeys(p.stem[:2] for p in bad + missing))
        logs = "read each failure's log, then " if bad else ""
        text += (f"; {'; '.join(parts)}: the book marks them; {logs}rerun the course (`make course`;"
                 f" `python -m ganutils run {numbers} --out DIR` runs just those) and `make book` again")
    return text
