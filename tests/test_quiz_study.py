"""The quiz as a study tool: four-level grading, Leitner progress across sessions, --due/--missed,
the difficulty filter, the reveal (key points first, nothing dropped or repeated), bad progress
files, and the Anki export."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sqlite3
import zipfile

import pytest

from ganutils.__main__ import main
from ganutils.config import GanutilsError
from ganutils.course import anki, bank, interview, quiz
from ganutils.course.progress import Card, Progress

DAY0 = "2026-01-05"


def _run(capsys, monkeypatch, keys: str, *args) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(keys))
    code = main(["quiz", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _asked(out: str) -> list[str]:
    """The ids of the questions a transcript asked, in order (from the "[i/n] topic · difficulty · id" lines)."""
    return re.findall(r"^\[\d+/\d+\] \S+ · difficulty \d · (\S+)$", out, flags=re.M)


# ----------------------------------------------------------------------------- the reveal


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_reveal_starts_with_the_key_points_and_drops_nothing(lang):
    for entry in bank.load_bank():
        text = quiz.answer_text(entry, lang, width=80)
        first = text.splitlines()[0]
        assert first == ("要点：" if lang == "zh" else "Key points:"), entry["id"]
        flat = " ".join(text.split())
        for point in interview.key_points(entry, lang):
            assert " ".join(point.split())[:30] in flat, (entry["id"], point)
        assert " ".join(interview.answer(entry, lang).split())[:40] in flat, entry["id"]
        other = "en" if lang == "zh" else "zh"
        assert flat.count(interview.question(entry, other)) == 1, entry["id"]  # the other language, once
        assert interview.question(entry, lang) not in flat, entry["id"]  # the asked question is not repeated


def test_a_chinese_quiz_prints_each_question_exactly_once(capsys, monkeypatch, tmp_path):
    code, out, _ = _run(capsys, monkeypatch, "\n3\n" * 6, "--lang", "zh", "-n", "6", "--seed", "3",
                        "--progress", str(tmp_path / "p.json"))
    assert code == 0
    for qid in _asked(out):
        entry = bank.get(qid)
        assert " ".join(out.split()).count(interview.question(entry, "zh")) == 1, qid
        assert f"English: {interview.question(entry, 'en')}" in " ".join(out.split())


# ----------------------------------------------------------------------------- grading and scheduling


def test_four_grades_move_the_leitner_box():
    day = dt.date(2026, 1, 5)
    card = Card()
    card.grade("good", day)
    assert (card.box, card.due) == (2, day + dt.timedelta(days=2))
    card.grade("easy", day)
    assert (card.box, card.due) == (4, day + dt.timedelta(days=8))
    card.grade("hard", day)
    assert (card.box, card.due) == (4, day + dt.timedelta(days=4))
    card.grade("again", day)
    assert (card.box, card.due, card.lapses, card.last_grade) == (1, day, 1, "again")
    with pytest.raises(GanutilsError, match="unknown grade"):
        card.grade("perfect", day)


def test_due_works_across_two_runs_with_a_saved_progress_file(capsys, monkeypatch, tmp_path):
    progress = tmp_path / "progress.json"
    common = ["--topic", "wgan", "--seed", "1", "--progress", str(progress)]
    # session 1: three questions graded again, good, easy
    code, out, _ = _run(capsys, monkeypatch, "\n1\n\n3\n\n4\n", "-n", "3", "--today", DAY0, *common)
    first = _asked(out)
    assert code == 0 and len(first) == 3 and progress.exists()
    saved = json.loads(progress.read_text(encoding="utf-8"))
    assert saved["format"] == "ganutils-quiz-progress" and set(saved["cards"]) == set(first)
    again, good, easy = first
    # session 2, same day: only the missed one is due (then the never-graded ones of the topic)
    code, out, _ = _run(capsys, monkeypatch, "q\n", "--due", "--today", DAY0, *common)
    asked = _asked(out)
    assert asked[0] == again and "1 due" in out
    assert good not in asked and easy not in asked
    # session 3, ten days later: the good and the easy ones are due too, oldest due date first
    code, out, _ = _run(capsys, monkeypatch, "q\n", "--due", "-n", "10", "--today", "2026-01-15", *common)
    assert "3 due" in out
    code, out, _ = _run(capsys, monkeypatch, "\n3\n" * 3, "--due", "-n", "3", "--today", "2026-01-15", *common)
    assert set(_asked(out)) == {again, good, easy}


def test_missed_asks_what_was_graded_again_last_time(capsys, monkeypatch, tmp_path):
    progress = tmp_path / "p.json"
    common = ["--topic", "vae", "--seed", "2", "--progress", str(progress), "--today", DAY0]
    _, out, _ = _run(capsys, monkeypatch, "\n1\n\n3\n\n1\n", "-n", "3", *common)
    first = _asked(out)
    _, out, _ = _run(capsys, monkeypatch, "\n3\n\n3\n", "--missed", *common)
    assert _asked(out) == [first[0], first[2]]
    _, out, _ = _run(capsys, monkeypatch, "", "--missed", *common)
    assert "Nothing was missed last time." in out  # both were graded good in the second session


def test_the_difficulty_filter(capsys, monkeypatch, tmp_path):
    q = quiz.Quiz(n=None, seed=0, difficulty="4-5")
    assert len(q) and all(4 <= e["difficulty"] <= 5 for e in q.questions)
    assert {e["difficulty"] for e in quiz.Quiz(seed=0, difficulty=1).questions} == {1}
    with pytest.raises(GanutilsError, match="difficulty"):
        quiz.Quiz(difficulty="6")
    code, out, err = _run(capsys, monkeypatch, "", "--difficulty", "hard", "--progress", str(tmp_path / "p.json"))
    assert code == 2 and err.count("\n") == 1 and "difficulty" in err


def test_grading_needs_a_reveal_and_a_known_grade():
    q = quiz.Quiz(n=2, seed=0)
    with pytest.raises(GanutilsError, match="reveal"):
        q.grade("good")
    q.reveal()
    with pytest.raises(GanutilsError, match="unknown grade"):
        q.grade("so-so")
    q.grade("hard")
    assert q.score == (1, 1) and q.position == 1


# ----------------------------------------------------------------------------- bad progress files


@pytest.mark.parametrize("content", ["{not json", json.dumps({"favourites": [1, 2]}),
                                     json.dumps({"format": "ganutils-quiz-progress", "version": 99, "cards": {}}),
                                     json.dumps({"format": "ganutils-quiz-progress", "version": 1,
                                                 "cards": {"gan-core-idea": {"box": 9}}})])
def test_an_unreadable_progress_file_is_set_aside_and_reported(capsys, monkeypatch, tmp_path, content):
    progress = tmp_path / "progress.json"
    progress.write_text(content, encoding="utf-8")
    code, out, _ = _run(capsys, monkeypatch, "\n3\n", "-n", "1", "--seed", "0", "--progress", str(progress))
    assert code == 0
    notes = [ln for ln in out.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and "unreadable" in notes[0] and "moved it to" in notes[0]
    aside = list(tmp_path.glob("progress.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == content  # kept, never overwritten
    assert json.loads(progress.read_text(encoding="utf-8"))["format"] == "ganutils-quiz-progress"  # a new one


def test_the_default_progress_file_lives_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("GANUTILS_QUIZ_PROGRESS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    assert Progress().path == tmp_path / "ganutils" / "quiz_progress.json"
    monkeypatch.setenv("GANUTILS_QUIZ_PROGRESS", str(tmp_path / "mine.json"))
    assert Progress().path == tmp_path / "mine.json"


# ----------------------------------------------------------------------------- Anki


def test_export_anki_writes_a_deck_with_one_note_per_entry(capsys, monkeypatch, tmp_path):
    path = tmp_path / "gan.apkg"
    code, out, _ = _run(capsys, monkeypatch, "", "--export-anki", str(path))
    assert code == 0 and str(path) in out
    entries = bank.load_bank()
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        rows = con.execute("select flds, tags from notes").fetchall()
    finally:
        con.close()
    assert len(rows) == len(entries)
    by_id = {flds.split("\x1f")[2]: (flds, tags) for flds, tags in rows}
    assert set(by_id) == {e["id"] for e in entries}
    for e in entries:
        front, back, _ = by_id[e["id"]][0].split("\x1f")
        assert interview.flat(e["question_zh"])[:10] in front and "要点" in back and "Key points" in back
        assert f"topic::{e['topic']}" in by_id[e["id"]][1] and "notebook::" in by_id[e["id"]][1]


def test_export_anki_follows_the_filters(tmp_path):
    entries = quiz.select("wgan", None, 0)
    anki.export_anki(tmp_path / "wgan.apkg", entries)
    with zipfile.ZipFile(tmp_path / "wgan.apkg") as z:
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        assert con.execute("select count(*) from notes").fetchone()[0] == len(entries)
    finally:
        con.close()


@pytest.mark.parametrize("where", ["missing/folder/deck.apkg", "deck.txt", "."])
def test_export_anki_to_a_bad_path_is_one_clear_line(capsys, monkeypatch, tmp_path, where):
    target = tmp_path / where if where != "." else tmp_path
    code, out, err = _run(capsys, monkeypatch, "", "--export-anki", str(target))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err and not list(tmp_path.glob("**/*.apkg"))
