"""The question bank as an Anki deck: ``python -m ganutils quiz --export-anki FILE.apkg``.

One note per bank entry (genanki). Front: the Chinese question above the English one. Back: the
key points in both languages, then where the course shows it. Tags: ``topic::<topic>``,
``notebook::<stem>`` (or ``notebook::none``) and ``difficulty::<1-5>``, so a learner can filter in
Anki. The note's GUID is derived from the entry id and the deck and model ids are fixed, so
re-importing an updated deck updates the cards instead of duplicating them (and keeps their
review history). Measured numbers quoted in the key points are filled in from the reference run.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from ..config import GanutilsError
from . import bank, interview

DECK_ID = 1_812_472_316  # fixed: Anki matches decks and note types by id
MODEL_ID = 1_812_472_317
DECK_NAME = "GAN course · interview questions (zh/en)"

CSS = """
.card { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
        font-size: 18px; text-align: left; color: #222; background: #fff; }
.zh { font-size: 20px; }
.en { color: #555; margin-top: .4em; }
.meta { color: #888; font-size: 13px; margin-top: .8em; }
ul { padding-left: 1.2em; }
"""


def _model():
    import genanki

    return genanki.Model(
        MODEL_ID, "ganutils interview card (zh/en)",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Id"}],
        templates=[{"name": "Question", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
        css=CSS, sort_field_index=2)


def front_html(entry: dict) -> str:
    esc = html.escape
    return (f"<div class=zh>{esc(interview.flat(entry['question_zh']))}</div>"
            f"<div class=en>{esc(interview.flat(entry['question_en']))}</div>")


def back_html(entry: dict) -> str:
    esc = html.escape
    parts = []
    for lang, label in (("zh", "要点"), ("en", "Key points")):
        items = "".join(f"<li>{esc(p)}</li>" for p in interview.key_points(entry, lang))
        parts.append(f"<div class={lang}><b>{label}</b><ul>{items}</ul></div>")
    parts.append(f"<div class=meta>{esc(interview.where_text(entry))} · {esc(entry['topic'])} · "
                 f"difficulty {entry['difficulty']} · {esc(entry['id'])}</div>")
    return "".join(parts)


def tags(entry: dict) -> list[str]:
    return [f"topic::{entry['topic']}", f"notebook::{entry.get('notebook') or 'none'}",
            f"difficulty::{entry['difficulty']}"]


def build_deck(entries):
    """A genanki Deck with one note per entry."""
    import genanki

    model, deck = _model(), genanki.Deck(DECK_ID, DECK_NAME)
    for entry in entries:
        deck.add_note(genanki.Note(model=model, fields=[front_html(entry), back_html(entry), entry["id"]],
                                   tags=tags(entry), guid=genanki.guid_for("ganutils-bank", entry["id"])))
    return deck


def export_anki(path, entries=None) -> Path:
    """Write the deck to ``path`` (.apkg) atomically; an unwritable path is one GanutilsError line."""
    import genanki

    path = Path(path).expanduser()
    if path.suffix != ".apkg":
        raise GanutilsError(f"the Anki deck must be a .apkg file, got {str(path)!r}: e.g. --export-anki gan_interview.apkg")
    entries = list(bank.load_bank() if entries is None else entries)
    if not entries:
        raise GanutilsError("no question matches the filters: nothing to export")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise GanutilsError(f"cannot write the Anki deck to {path}: folder {folder} does not exist")
    if path.is_dir():
        raise GanutilsError(f"cannot write the Anki deck to {path}: it is a folder; give a file name ending in .apkg")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
    except OSError as err:
        raise GanutilsError(f"cannot write the Anki deck to {path}: {err.strerror or err} "
                            "(choose a writable folder)") from None
    try:
        genanki.Package(build_deck(entries)).write_to_file(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise GanutilsError(f"cannot write the Anki deck to {path}: {err.strerror or err}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
