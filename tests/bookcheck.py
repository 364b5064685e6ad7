"""Checks of a built book: static (links, no remote assets) and in headless Chromium (console, math, images).

Used by tests/test_book.py; free of pytest, so a whole book can be checked by hand (CI's GPU workflow
does): ``python tests/bookcheck.py runs/latest/book``.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                 "--disable-dev-shm-usage"]
REMOTE = re.compile(r"^(https?:)?//", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)|@import\s+['\"]([^'\"]+)['\"]")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.assets = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.assets.append((tag, a["src"]))
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "prefetch", "manifest")):
                self.assets.append((f"link[{rel}]", a["href"]))


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def html_pages(book: Path) -> list[Path]:
    return sorted(p for p in Path(book).rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(book).parts))


def static_problems(book: Path) -> list[str]:
    """Broken internal links or anchors, missing local assets, and any asset loaded from the network."""
    book = Path(book)
    problems, parsed = [], {}

    def get(path: Path) -> _Page:
        if path not in parsed:
            parsed[path] = parse(path)
        return parsed[path]

    for page_path in html_pages(book):
        page = get(page_path)
        rel = page_path.relative_to(book)
        for tag, url in page.assets:
            if REMOTE.match(url):
                problems.append(f"{rel}: <{tag}> loads {url} from the network")
            elif not url.startswith("data:"):
                target = (page_path.parent / unquote(urlsplit(url).path)).resolve()
                if not target.exists():
                    problems.append(f"{rel}: <{tag}> points at missing {url}")
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto") or href.startswith("//"):
                continue  # a link the reader may follow; nothing is fetched by loading the page
            if parts.scheme:
                problems.append(f"{rel}: link with scheme {parts.scheme!r}: {href}")
                continue
            target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{rel}: link to missing {href}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in get(target).ids:
                problems.append(f"{rel}: link to {href}: no element with id {parts.fragment!r} there")
    for css in Path(book).rglob("*.css"):
        for m in CSS_URL.finditer(css.read_text(encoding="utf-8", errors="replace")):
            url = m.group(1) or m.group(2)
            if REMOTE.match(url):
                problems.append(f"{css.relative_to(book)}: loads {url} from the network")
    return problems


PAGE_STATE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const maths = Array.from(document.querySelectorAll('.math'));
  const untypeset = maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
  const merrors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent);
  const imgs = Array.from(document.querySelectorAll('img'));
  const broken = [];
  for (const img of imgs) {
    try { await img.decode(); } catch (e) { broken.push(img.getAttribute('src').slice(0, 100)); continue; }
    if (!img.naturalWidth) broken.push(img.getAttribute('src').slice(0, 100));
  }
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .highlight, mjx-container, mjx-assistive-mml').forEach(e => e.remove());
  const text = clone.textContent;
  const raw = [];
  for (const pat of ['$$', '\\\\(', '\\\\[', '\\\\begin{']) { const i = text.indexOf(pat); if (i >= 0) raw.push(text.slice(Math.max(0, i - 40), i + 60)); }
  return {maths: maths.length, typeset: document.querySelectorAll('mjx-container').length, untypeset, merrors,
          images: imgs.length, broken, raw, mathjax: !!window.MathJax};
}"""


def browse(book: Path, pages: list[Path] | None = None, timeout_ms: int = 60_000) -> tuple[list[str], dict]:
    """Open every page in headless Chromium, every non-file request blocked; returns (problems, totals)."""
    from playwright.sync_api import sync_playwright

    book = Path(book).resolve()
    pages = [Path(p).resolve() for p in (pages or html_pages(book))]
    problems, totals = [], {"pages": 0, "maths": 0, "typeset": 0, "images": 0}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            blocked: list[str] = []

            def only_local(route):
                url = route.request.url
                if url.startswith("file://") or url.startswith("data:") or url.startswith("blob:"):
                    route.continue_()
                else:
                    blocked.append(url)
                    route.abort()

            context.route("**/*", only_local)
            for path in pages:
                rel = path.relative_to(book)
                events: list[str] = []
                page = context.new_page()
                page.on("console", lambda m, ev=events: ev.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e, ev=events: ev.append(f"page error: {e}"))
                page.on("requestfailed", lambda r, ev=events: ev.append(f"request failed: {r.url} ({r.failure})"))
                before = len(blocked)
                page.goto(path.as_uri(), wait_until="load", timeout=timeout_ms)
                state = page.evaluate(PAGE_STATE_JS)
                page.wait_for_timeout(50)  # late console messages
                page.close()
                totals["pages"] += 1
                for k in ("maths", "typeset", "images"):
                    totals[k] += state[k]
                problems += [f"{rel}: {e}" for e in events]
                problems += [f"{rel}: blocked a network request to {u}" for u in blocked[before:]]
                if state["untypeset"]:
                    problems.append(f"{rel}: {len(state['untypeset'])} math element(s) not typeset, e.g. {state['untypeset'][0]!r}")
                if state["merrors"]:
                    problems.append(f"{rel}: MathJax error(s): {state['merrors'][:3]}")
                if state["broken"]:
                    problems.append(f"{rel}: image(s) that do not decode: {state['broken'][:3]}")
                if state["raw"]:
                    problems.append(f"{rel}: raw TeX left in the text: {state['raw'][:2]}")
        finally:
            browser.close()
    return problems, totals


def main(argv: list[str]) -> int:
    """Check a whole book: static checks always, the browser when Debian's Chromium and Playwright are there."""
    book = Path(argv[0]) if argv else Path("runs/latest/book")
    if not (book / "index.html").is_file():
        print(f"no book at {book}: build it with `make book`")
        return 2
    problems = static_problems(book)
    print(f"static: {len(html_pages(book))} pages, {len(problems)} problem(s)")
    try:
        import playwright.sync_api  # noqa: F401
        browser_ok = CHROMIUM.exists()
    except ImportError:
        browser_ok = False
    if browser_ok:
        found, totals = browse(book)
        problems += found
        print(f"browser: {totals['pages']} pages, {totals['typeset']}/{totals['maths']} math elements typeset, "
              f"{totals['images']} images, {len(found)} problem(s)")
    else:
        print(f"browser check skipped: needs {CHROMIUM} (apt-get install -y chromium) and the playwright package")
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
