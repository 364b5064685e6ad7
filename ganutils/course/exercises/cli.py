"""``python -m ganutils exercises [--json] [--notebook NN]`` and ``python -m ganutils student OUT_DIR``."""

from __future__ import annotations

import json

from ganutils.config import GanutilsError

from . import all_exercises, catalogue_json


def _select(notebook: str | None) -> list:
    exercises = all_exercises()
    if notebook:
        key = str(notebook).strip()
        exercises = [e for e in exercises if e.notebook == key or e.notebook[:2] == key.zfill(2)[:2] and key.isdigit()]
        if not exercises:
            known = sorted({e.notebook for e in all_exercises()})
            raise GanutilsError(f"no exercises for notebook {notebook!r}: use one of {', '.join(known)} (or its number)")
    return exercises


def list_exercises(as_json: bool = False, notebook: str | None = None) -> int:
    exercises = _select(notebook)
    if as_json:
        ids = {e.id for e in exercises}
        print(json.dumps([row for row in catalogue_json() if row["id"] in ids], indent=1, ensure_ascii=False))
        return 0
    current = None
    for e in exercises:
        if e.notebook != current:
            current = e.notebook
            print(f"\n{current}")
        print(f"  {e.id:32s} {e.kind:9s} {e.title}")
        if e.known_bugs:
            print(f"  {'':32s} {'':9s} recognises: {', '.join(e.known_bugs)}")
    names = {b for e in exercises for b in e.known_bugs}
    print(f"\n{len(exercises)} exercises in {len({e.notebook for e in exercises})} notebooks; {len(names)} distinct known bugs "
          "and slips.")
    return 0


def student(out_dir: str) -> int:
    from .student import write_student_edition

    written = write_student_edition(out_dir)
    print(f"student edition: {len(written)} notebooks without solutions in {out_dir}/notebooks (see {out_dir}/README.md)")
    return 0
