"""Reference runs committed as data, and the "is my run normal?" column of every summary.

``reference/<profile>-<device>/`` holds the ``metrics.json`` and ``summary.md`` of a complete
course run, plus ``provenance.json`` (machine, date, commit, command) and a README saying how it
was made. One command makes it; nobody edits it by hand::

    python -m ganutils reference --profile quick               # runs the whole course, then writes reference/quick-cpu/
    python -m ganutils reference --profile quick --seeds 0,1,2 # one course run per seed: the spread is the yardstick
    python -m ganutils reference --from runs/20261130-101500   # a complete run made elsewhere (the GPU workflow's artifact)

Every run's ``summary.md`` then shows each metric beside the reference value for the same
profile and, when the reference has several seeds, where the run falls in their range; quotes
(``ganutils.course.quotes``) read their numbers from here.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..config import GanutilsError, checkout_dir
from .record import flatten

REPO_DIR = checkout_dir()  # None for an installed wheel: references live in the course's repository
REFERENCE_DIR = REPO_DIR / "reference" if REPO_DIR is not None else None
DEVICE_NAMES = {"cpu": "CPU", "cuda": "GPU", "mps": "Apple GPU"}
QUOTE_PREFERENCE = ("quick-cpu", "full-cuda")  # what quotes read: what a learner can reproduce first


# ----------------------------------------------------------------------------- machine and provenance


def machine() -> dict:
    """What runs the notebooks: device, its name, cores, platform, library versions (written into metrics.json)."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    info = {"device": device, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "cpu": _cpu_name(),
            "platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__}
    if device == "cuda":
        info.update(gpu=torch.cuda.get_device_name(0), gpus=torch.cuda.device_count())
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(repo: Path | None = REPO_DIR) -> tuple[str, bool]:
    """(HEAD commit, whether tracked files have uncommitted changes); ("unknown", False) outside git."""
    try:
        run = lambda *args: subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,  # noqa: E731
                                           check=True, timeout=30).stdout.strip()
        return run("rev-parse", "HEAD"), bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def provenance_text(prov: dict) -> str:
    """"quick, CPU, 2 cores, 2026-11-30" or "full, GPU (NVIDIA H200), 2026-12-01"."""
    m = prov.get("machine") or {}
    device = m.get("device") or prov.get("device", "cpu")
    parts = [prov.get("profile", "?")]
    if device == "cuda":
        parts.append(f"GPU ({m['gpu']})" if m.get("gpu") else "GPU")
    else:
        parts.append(DEVICE_NAMES.get(device, device))
        if m.get("cores"):
            parts.append(f"{m['cores']} cores")
    parts.append(str(prov.get("date", "?"))[:10])
    return ", ".join(parts)


# ----------------------------------------------------------------------------- loading


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class Reference:
    """A committed reference run: per notebook, the flattened metrics of each of its (seed) runs."""

    path: Path
    profile: str
    device: str
    provenance: dict
    runs: dict = field(default_factory=dict)  # notebook stem -> [flat metrics of each ok run]

    @property
    def text(self) -> str:
        return provenance_text(self.provenance)

    @property
    def n_seeds(self) -> int:
        return max((len(v) for v in self.runs.values()), default=0)

    def values(self, notebook: str, key: str) -> list:
        """The reference's values of ``key`` for ``notebook``, one per seed run; [] when it does not record it."""
        return [flat[key] for flat in self.runs.get(notebook, []) if key in flat]

    def central_values(self) -> dict:
        """notebook -> {key: value}: the value quotes show (with several seeds, the mean of numbers, else the first)."""
        out = {}
        for notebook, runs in self.runs.items():
            keys = dict.fromkeys(k for flat in runs for k in flat)
            out[notebook] = {k: _central([f[k] for f in runs if k in f]) for k in keys}
        return out


def _central(values: list):
    if len(values) > 1 and all(_is_number(v) for v in values):
        return sum(values) / len(values)
    return values[0]


def load(path: Path) -> Reference:
    """Read ``reference/<profile>-<device>/``; a damaged one is a one-line error."""
    path = Path(path)
    try:
        data = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        prov = json.loads((path / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GanutilsError(f"reference run {path} is unreadable ({type(err).__name__}): regenerate it with "
                            "`python -m ganutils reference --profile PROFILE`, or restore it from git") from None
    runs: dict[str, list] = {}
    for r in data.get("runs", []):
        if r.get("status") == "ok":
            runs.setdefault(r["notebook"], []).append(flatten(r.get("metrics", {})))
    return Reference(path, data.get("profile", prov.get("profile", "?")), data.get("device", "cpu"), prov, runs)


def available(root: Path | None = None) -> list[str]:
    """Names of the committed reference runs ("quick-cpu", ...)."""
    root = REFERENCE_DIR if root is None else Path(root)
    if root is None or not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / "metrics.json").exists())


def find(profile: str, device: str | None = None, root: Path | None = None) -> Reference | None:
    """The reference for ``profile``: on ``device`` when there is one, else on another device; None if none."""
    root = REFERENCE_DIR if root is None else Path(root)
    names = available(root)
    ordered = [f"{profile}-{device}"] if device and f"{profile}-{device}" in names else []
    ordered += [n for n in names if n.startswith(f"{profile}-") and n not in ordered]
    return load(root / ordered[0]) if ordered else None


def for_quotes(root: Path | None = None) -> Reference | None:
    """The reference quotes read: quick on CPU (what every learner can reproduce), else full on GPU, else another
    non-smoke one (a smoke run trains for seconds: its numbers are never quoted as measurements); None if none."""
    root = REFERENCE_DIR if root is None else Path(root)
    names = available(root)
    order = [n for n in QUOTE_PREFERENCE if n in names] + [n for n in names if n not in QUOTE_PREFERENCE
                                                             and not n.startswith("smoke-")]
    return load(root / order[0]) if order else None


# ----------------------------------------------------------------------------- the reference column


def format_value(v) -> str:
    """A metric value as summary tables show it: 4 significant digits, at most 8 items of a list."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(format_value(x) for x in v[:8]) + (", ..." if len(v) > 8 else "") + "]"
    return str(v)


def compare(value, ref_values: list) -> tuple[str, str]:
    """(reference cell, verdict cell) for one metric: the reference value and how ``value`` relates to it."""
    if not ref_values:
        return "—", "not in reference"
    if len(ref_values) == 1:
        ref = ref_values[0]
        if value == "" or value is None:
            return format_value(ref), ""
        if _is_number(value) and _is_number(ref):
            if value == ref or f"{value:.3g}" == f"{ref:.3g}":
                return format_value(ref), "same"
            if ref == 0:
                return format_value(ref), f"{value - ref:+.3g}"
            return format_value(ref), f"{(value - ref) / abs(ref):+.0%}"
        return format_value(ref), "same" if value == ref else "differs"
    if all(_is_number(v) for v in ref_values):
        lo, hi, mean = min(ref_values), max(ref_values), sum(ref_values) / len(ref_values)
        cell = f"{mean:.4g} [{lo:.4g}, {hi:.4g}] ({len(ref_values)} seeds)"
        if not _is_number(value):
            return cell, ""
        width = hi - lo
        if lo <= value <= hi:
            return cell, "within the seeds' range"
        side, gap = ("below", lo - value) if value < lo else ("above", value - hi)
        return cell, f"{side} the range by {gap:.3g}" + (f" ({gap / width:.1f}× its width)" if width else "")
    shown = list(dict.fromkeys(format_value(v) for v in ref_values))
    if value == "" or value is None:
        return " / ".join(shown), ""
    return " / ".join(shown), "same as a seed" if format_value(value) in shown else "differs"


def header_lines(ref: Reference | None, profile: str, device: str, root: Path | None = None) -> list[str]:
    """The sentence at the top of summary.md saying what the reference column compares against, or why none."""
    if ref is None:
        have = ", ".join(available(root)) or "none yet"
        return [f"No reference run for profile `{profile}` to compare with (committed: {have}); one is made by "
                f"`python -m ganutils reference --profile {profile}`.", ""]
    where = os.path.relpath(ref.path, REPO_DIR) if REPO_DIR is not None else str(ref.path)
    other = "" if ref.device == device else f"; no `{profile}` reference on `{device}`, so it is compared with `{ref.device}`"
    seeds = f", {ref.n_seeds} seeds" if ref.n_seeds > 1 else ""
    return [f"Reference column: `{where}` ({ref.text}{seeds}{other}). A metric far from the reference is worth a look "
            "in the notebook's executed cells and its log.", ""]


def notebook_table(notebook: str, names: list[str], flats: list[dict], labels: list[str],
                   ref: Reference | None) -> list[str]:
    """The per-notebook metric table of summary.md; with ``ref``, the reference columns."""
    if len(flats) == 1:
        if ref is None:
            return ["| metric | value |", "|---|---:|"] + [f"| {n} | {format_value(flats[0][n])} |" for n in names]
        rows = ["| metric | value | reference | vs reference |", "|---|---:|---:|---|"]
        for n in names:
            cell, verdict = compare(flats[0][n], ref.values(notebook, n))
            rows.append(f"| {n} | {format_value(flats[0][n])} | {cell} | {verdict} |")
        return rows
    rows = ["| metric | " + " | ".join(labels) + " |" + (" reference |" if ref else ""),
            "|---|" + "---:|" * len(flats) + ("---:|" if ref else "")]
    for n in names:
        row = f"| {n} | " + " | ".join(format_value(f.get(n, "")) for f in flats) + " |"
        if ref is not None:
            row += f" {compare('', ref.values(notebook, n))[0]} |"
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- making a reference


def _check_complete(data: dict, run_dir: Path, notebooks: list[str]) -> None:
    runs = data.get("runs", [])
    bad = [r for r in runs if r.get("status") != "ok"]
    ran = {r["notebook"] for r in runs}
    missing = [n for n in notebooks if n not in ran]
    if bad or missing:
        what = [f"{r['name']} {r['status']}" for r in bad] + [f"{n} not run" for n in missing]
        raise GanutilsError(f"{run_dir} is not a complete course run ({'; '.join(what)}): a reference needs every "
                            "notebook ok; rerun the course (or the failed notebooks into the same folder) and try again")


def write(run_dir, command: str, root: Path | None = None, notebooks: list[str] | None = None) -> Path:
    """Copy a complete run into ``<root>/<profile>-<device>/`` with its provenance; returns that folder."""
    root = REFERENCE_DIR if root is None else Path(root)
    if root is None:
        raise GanutilsError("reference runs live in the course's repository: run this from a checkout")
    run_dir = Path(run_dir)
    try:
        data = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GanutilsError(f"{run_dir} has no readable metrics.json: give a folder written by "
                            "`python -m ganutils course`") from None
    if notebooks is None:
        from .runner import list_notebooks

        notebooks = [p.stem for p in list_notebooks()]
    _check_complete(data, run_dir, notebooks)
    profile, device = data["profile"], data.get("device", "cpu")
    commit, dirty = git_commit()
    seeds = sorted({r["params"]["seed"] for r in data["runs"] if "seed" in (r.get("params") or {})})
    prov = {"profile": profile, "device": device, "date": data.get("started") or datetime.now().isoformat(timespec="seconds"),
            "commit": commit, "uncommitted_changes": dirty, "command": command, "seeds": seeds or None,
            "machine": data.get("machine") or {"device": device, "note": "the run did not record its machine"},
            "notebooks": sorted({r["notebook"] for r in data["runs"]}),
            "seconds": round(sum(r.get("seconds", 0) for r in data["runs"]), 1)}
    name = f"{profile}-{device}"
    tmp, old, dest = root / f".{name}.tmp", root / f".{name}.old", root / name
    for p in (tmp, old):
        shutil.rmtree(p, ignore_errors=True)
    tmp.mkdir(parents=True)
    for run in data["runs"]:  # paths of this machine's run folder mean nothing in the repository
        run.pop("log", None)
    (tmp / "metrics.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (tmp / "provenance.json").write_text(json.dumps(prov, indent=1) + "\n", encoding="utf-8")
    shutil.copy(run_dir / "summary.md", tmp / "summary.md")
    (tmp / "README.md").write_text(
        f"# Reference run: {provenance_text(prov)}\n\n"
        f"Made by `{command}` at commit `{commit[:12]}`{' (with uncommitted changes)' if dirty else ''}, "
        f"{len(prov['notebooks'])} notebooks, {prov['seconds']:.0f} s in all. Generated: do not edit these files by hand; "
        "rerun the command (see the README's \"Is my run normal?\").\n", encoding="utf-8")
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


def make(profile: str | None = None, seeds: list[int] | None = None, from_run=None, timeout: int | None = None,
         argv: list[str] | None = None, root: Path | None = None, repo: Path | None = None,
         notebooks: list[str] | None = None) -> Path:
    """``python -m ganutils reference``: run the course (or take ``from_run``), write the reference, refresh quotes.

    ``root`` (default ``reference/``), ``repo`` (whose README and notebooks get their quotes refreshed) and
    ``notebooks`` (what a complete run must hold) are for tests.
    """
    from . import quotes, runner

    repo = REPO_DIR if repo is None else Path(repo)

    command = "python -m ganutils " + " ".join(shlex.quote(a) for a in (argv or ["reference"]))
    if from_run is None:
        out = runner.RUNS_DIR / f"reference-{datetime.now():%Y%m%d-%H%M%S}"
        params = [f"seed={','.join(str(s) for s in seeds)}"] if seeds else None
        runner.run([p.stem for p in runner.list_notebooks()], out=out, profile=profile, params=params,
                   timeout=timeout, title="reference")
        from_run = out
    else:
        data = json.loads((Path(from_run) / "metrics.json").read_text()) if (Path(from_run) / "metrics.json").exists() else {}
        if profile is not None and data.get("profile") not in (None, profile):
            raise GanutilsError(f"{from_run} is a {data.get('profile')!r} run, not {profile!r}: drop --profile or give "
                                f"a {profile} run")
    dest = write(from_run, command, root, notebooks)
    print(f"reference written: {dest} ({provenance_text(json.loads((dest / 'provenance.json').read_text()))})", flush=True)
    quotes._reference_source.cache_clear()
    ref = for_quotes(dest.parent)
    sources = [quotes.Source(ref.central_values(), ref.text)] if ref is not None else []
    changed = [p for p in quotes.quoted_files(repo) if quotes.refresh_file(p, sources)]
    if changed:
        print("quoted numbers refreshed in: " + ", ".join(os.path.relpath(p, repo) for p in changed), flush=True)
    print(f"commit {os.path.relpath(dest, repo)}/ (and any refreshed file) together", flush=True)
    return dest
