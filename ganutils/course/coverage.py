"""The coverage table of the question bank: seed file -> questions -> where answered (and which seed
claims are corrected), committed as ``docs/question_coverage.md``.

    python -m ganutils.course.coverage        # rewrite docs/question_coverage.md from the bank
"""

from __future__ import annotations

from pathlib import Path

from ..config import GanutilsError, checkout_dir
from .bank import NOT_DEMONSTRATED, load_bank, load_seed_index


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text) -> str:
    return _flat(text).replace("|", "\\|")


def _link(notebook: str | None, section: str | None) -> str:
    if not notebook:
        return NOT_DEMONSTRATED
    return f"[{notebook} § {_cell(section)}](../notebooks/{notebook}.ipynb)"


def coverage_markdown() -> str:
    """docs/question_coverage.md: seed file -> questions -> where answered (and which seed claims are corrected)."""
    bank = {q["id"]: q for q in load_bank()}
    index = load_seed_index()
    files = sorted({o["seed_file"] for o in index})
    corrections = [(q, c) for q in bank.values() for c in q.get("seed_correction") or []]
    out = [
        "# Question coverage: seed file → questions → where answered",
        "",
        "Generated from `ganutils/course/bank/seed_index.yaml` and `ganutils/course/bank/questions/*.yaml` by",
        "`python -m ganutils.course.coverage`;",
        "`tests/test_bank.py` fails when this file is out of date.",
        f"The five seed files (`../shared/seeds/`) hold {len(index)} question occurrences, answered by "
        f"{sum(q['source'] == 'seed' for q in bank.values())} distinct bank entries; the course adds "
        f"{sum(q['source'] == 'course' for q in bank.values())} more. A *correction* marks a seed answer that is wrong "
        "or misleading; the bank entry states the correction and the experiment that shows it.",
        "",
        "## Summary",
        "",
        "| seed file | occurrences | distinct questions | demonstrated | not demonstrated here "
        "| corrections (with an experiment) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in files + [None]:
        occ = [o for o in index if f is None or o["seed_file"] == f]
        ids = {o["bank_id"] for o in occ}
        qs = [bank[i] for i in ids] if f is not None else list(bank.values())
        cs = [c for q, c in corrections if f is None or c["seed_file"] == f]
        name = f"`{f}`" if f else "**all (incl. course questions)**"
        shown, with_run = sum(q["demonstrated"] for q in qs), sum(c["experiment"] is not None for c in cs)
        out.append(f"| {name} | {len(occ)} | {len(qs)} | {shown} | {len(qs) - shown} | {len(cs)} ({with_run}) |")
    out += ["", "## By notebook", "", "| notebook | questions demonstrated | seed corrections shown by an experiment |",
            "|---|---:|---:|"]
    for nb in sorted({q["notebook"] for q in bank.values() if q["notebook"]} |
                     {c["experiment"]["notebook"] for _, c in corrections if c["experiment"]}):
        n_q = sum(q["notebook"] == nb for q in bank.values())
        n_c = sum(bool(c["experiment"]) and c["experiment"]["notebook"] == nb for _, c in corrections)
        out.append(f"| [{nb}](../notebooks/{nb}.ipynb) | {n_q} | {n_c} |")
    for f in files:
        out += ["", f"## `{f}`", "",
                "| seed question | line | kind | seed heading | bank entry | where answered | seed answer corrected |",
                "|---|---:|---|---|---|---|---|"]
        for o in (o for o in index if o["seed_file"] == f):
            q = bank[o["bank_id"]]
            fixed = [c for c in q.get("seed_correction") or [] if c["seed_file"] == f]
            fix = "; ".join(dict.fromkeys(_link(c["experiment"]["notebook"], c["experiment"]["section"]) if c["experiment"]
                                          else "yes (literature)" for c in fixed))  # each place once
            fix = f"{len(fixed)}: {fix}" if len(fixed) > 1 else fix
            out.append(f"| {o['seed_qid']} | {o['line']} | {o['kind']} | {_cell(o['heading'])} | `{q['id']}`: "
                       f"{_cell(q['question_en'])} | {_link(q['notebook'], q['section'])} | {fix} |")
    out += ["", "## Questions the course adds", "", "| bank entry | where answered |", "|---|---|"]
    for q in bank.values():
        if q["source"] == "course":
            out.append(f"| `{q['id']}`: {_cell(q['question_en'])} | {_link(q['notebook'], q['section'])} |")
    return "\n".join(out) + "\n"


def write_coverage(path=None) -> Path:
    """Rewrite docs/question_coverage.md from the bank."""
    if path is None:
        root = checkout_dir()
        if root is None:
            raise GanutilsError("write_coverage writes docs/question_coverage.md of a clone: pass path=, or run it in the clone")
        path = root / "docs" / "question_coverage.md"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(coverage_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_coverage()}")
