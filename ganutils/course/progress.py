"""Spaced repetition for the interview quiz: Leitner boxes, saved between sessions.

Every question the learner grades gets a *box* (1-5) and a *due date*. The grade moves it:

| grade | meaning | box | due again |
|---|---|---|---|
| again | missed it | back to 1 | today (the next ``--due`` run asks it again) |
| hard | got it, with effort | stays | after half the box's interval (at least 1 day) |
| good | got it | +1 | after the new box's interval |
| easy | knew it cold | +2 | after the new box's interval |

Intervals per box: 1, 2, 4, 8, 16 days (Leitner's doubling schedule). ``--missed`` asks the questions
whose last grade was "again".

The file (JSON, written atomically) lives in the user's data folder, not in the checkout:
``$GANUTILS_QUIZ_PROGRESS`` if set, else ``$XDG_DATA_HOME/ganutils/quiz_progress.json``
(``~/.local/share`` on Linux, ``~/Library/Application Support`` on macOS, ``%APPDATA%`` on Windows).
A file that is not a readable progress file of this format is *set aside* (renamed to
``<name>.unreadable-<time>``) and reported in one line, never silently overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config import GanutilsError
from ..io import atomic_write_json

FORMAT = "ganutils-quiz-progress"
VERSION = 1
GRADES = ("again", "hard", "good", "easy")
INTERVALS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}  # days until due, per Leitner box
MAX_BOX = max(INTERVALS)
PATH_ENV = "GANUTILS_QUIZ_PROGRESS"


def default_path() -> Path:
    """Where the quiz keeps its progress: $GANUTILS_QUIZ_PROGRESS, else the user's data folder."""
    if os.environ.get(PATH_ENV):
        return Path(os.environ[PATH_ENV]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "ganutils" / "quiz_progress.json"


def check_grade(grade: str) -> str:
    if grade not in GRADES:
        raise GanutilsError(f"unknown grade {grade!r}: use one of {', '.join(GRADES)}")
    return grade


def parse_day(value) -> dt.date:
    """A date from a date, a datetime or an ISO string 'YYYY-MM-DD' (one clear error otherwise)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise GanutilsError(f"not a date: {value!r}: write it as YYYY-MM-DD, e.g. 2026-12-01") from None


@dataclass
class Card:
    """What the quiz remembers about one question."""

    box: int = 1
    due: dt.date | None = None  # None: never graded
    last_grade: str | None = None
    reviews: int = 0
    lapses: int = 0  # how many times graded "again"
    history: list = field(default_factory=list)  # [["YYYY-MM-DD", grade], ...]

    def grade(self, grade: str, today: dt.date) -> None:
        """Move the card according to ``grade`` (see the module docstring)."""
        check_grade(grade)
        if grade == "again":
            self.box, self.due = 1, today
            self.lapses += 1
        elif grade == "hard":
            self.due = today + dt.timedelta(days=max(1, INTERVALS[self.box] // 2))
        else:
            self.box = min(MAX_BOX, self.box + (1 if grade == "good" else 2))
            self.due = today + dt.timedelta(days=INTERVALS[self.box])
        self.last_grade = grade
        self.reviews += 1
        self.history.append([today.isoformat(), grade])

    def is_due(self, today: dt.date) -> bool:
        return self.due is not None and self.due <= today

    def to_json(self) -> dict:
        return {"box": self.box, "due": self.due.isoformat() if self.due else None, "last_grade": self.last_grade,
                "reviews": self.reviews, "lapses": self.lapses, "history": self.history}

    @classmethod
    def from_json(cls, obj) -> "Card":
        if not isinstance(obj, dict):
            raise ValueError("a card is not a mapping")
        box, due, last = obj.get("box", 1), obj.get("due"), obj.get("last_grade")
        if isinstance(box, bool) or not isinstance(box, int) or box not in INTERVALS:
            raise ValueError(f"box {box!r} is not one of 1-{MAX_BOX}")
        if last is not None and last not in GRADES:
            raise ValueError(f"last_grade {last!r} is not a grade")
        history = obj.get("history", [])
        if not isinstance(history, list):
            raise ValueError("history is not a list")
        return cls(box=box, due=dt.date.fromisoformat(due) if due is not None else None, last_grade=last,
                   reviews=int(obj.get("reviews", 0)), lapses=int(obj.get("lapses", 0)), history=list(history))


class Progress:
    """The learner's cards by question id, loaded from and saved to one JSON file.

    ``notice`` holds the one-line report when the file on disk could not be used (it was renamed
    and the quiz starts from empty progress): the caller shows it.
    """

    def __init__(self, path=None, cards: dict[str, Card] | None = None):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.cards: dict[str, Card] = dict(cards or {})
        self.notice: str | None = None

    # -------------------------------------------------------------- reading and writing
    @classmethod
    def load(cls, path=None) -> "Progress":
        """The progress in ``path`` (default: the user's data folder); empty if there is none yet.

        A file that cannot be read as this format (broken JSON, another program's file, a newer
        version) is renamed to ``<name>.unreadable-<time>`` and reported in ``notice``.
        """
        progress = cls(path)
        if not progress.path.exists():
            return progress
        try:
            obj = json.loads(progress.path.read_text(encoding="utf-8"))
            if not isinstance(obj, dict) or obj.get("format") != FORMAT:
                raise ValueError(f"it is not a {FORMAT} file")
            if obj.get("version") != VERSION:
                raise ValueError(f"it has version {obj.get('version')!r}, this ganutils reads version {VERSION}")
            cards = obj.get("cards")
            if not isinstance(cards, dict):
                raise ValueError("its 'cards' is not a mapping")
            progress.cards = {str(qid): Card.from_json(card) for qid, card in cards.items()}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as err:
            moved = progress._set_aside()
            progress.cards = {}
            progress.notice = (f"quiz progress file {progress.path} is unreadable ({_reason(err)}): "
                               f"moved it to {moved.name} and started a new one")
        return progress

    def _set_aside(self) -> Path:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.unreadable-{stamp}-{n}")
        try:
            self.path.rename(target)
        except OSError as err:
            raise GanutilsError(f"quiz progress file {self.path} is unreadable and could not be moved aside ({err}): "
                                "move or delete it yourself, or pass --progress with another file") from None
        return target

    def save(self) -> Path:
        """Write the progress atomically (a crash never leaves half a file)."""
        obj = {"format": FORMAT, "version": VERSION,
               "cards": {qid: card.to_json() for qid, card in sorted(self.cards.items())}}
        try:
            return atomic_write_json(self.path, obj, indent=1, ensure_ascii=False)
        except OSError as err:
            raise GanutilsError(f"cannot save the quiz progress to {self.path} ({err.strerror or err}): "
                                f"set ${PATH_ENV} or pass --progress with a writable file") from None

    # -------------------------------------------------------------- scheduling
    def card(self, qid: str) -> Card:
        return self.cards.setdefault(qid, Card())

    def grade(self, qid: str, grade: str, today=None) -> Card:
        card = self.card(qid)
        card.grade(grade, parse_day(today or dt.date.today()))
        return card

    def seen(self, qid: str) -> bool:
        return qid in self.cards and self.cards[qid].due is not None

    def is_due(self, qid: str, today=None) -> bool:
        return qid in self.cards and self.cards[qid].is_due(parse_day(today or dt.date.today()))

    def missed(self, qid: str) -> bool:
        return qid in self.cards and self.cards[qid].last_grade == "again"

    def counts(self, ids, today=None) -> dict[str, int]:
        """How many of ``ids`` are due, new (never graded), missed last time, and in each box."""
        today = parse_day(today or dt.date.today())
        out = {"due": 0, "new": 0, "missed": 0, **{f"box {b}": 0 for b in INTERVALS}}
        for qid in ids:
            if not self.seen(qid):
                out["new"] += 1
                continue
            card = self.cards[qid]
            out["due"] += card.is_due(today)
            out["missed"] += card.last_grade == "again"
            out[f"box {card.box}"] += 1
        return out


def _reason(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON: {err.msg} at line {err.lineno}"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(err) or type(err).__name__
