"""The bank in two languages: Chinese answers and key points for every entry, the glossary's preferred
terms, real questions in Chinese (the seed wording kept for coverage), quoted measurements in both
languages, interview depth per notebook, and code answers that are tested ganutils functions."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ganutils.course import bank, interview

CJK = re.compile(r"[\u4e00-\u9fff]")
QUOTE = re.compile(r"\{\{\s*(\d\d_[a-z0-9_]+)\s*:\s*([^{}\s]+?)\s*\}\}")
TESTS = Path(__file__).resolve().parent
CHECKPOINT_NOTEBOOKS = ("01_minmax_and_js", "02_first_gan_mnist", "03_mode_collapse", "04_wgan_gp", "05_modern_recipe",
                        "06_vae", "07_conditional_gan", "08_pix2pix", "09_cyclegan", "10_gan_vs_diffusion",
                        "11_super_resolution", "12_evaluation")


@pytest.fixture(scope="module")
def entries():
    return bank.load_bank()


@pytest.fixture(scope="module")
def glossary():
    return bank.load_glossary()


def _course_zh(q) -> list[tuple[str, str]]:
    """The Chinese the course wrote for an entry (the seed's own heading, question_zh_seed, is quoted, not written)."""
    return [("question_zh", q["question_zh"]), ("answer_zh", q["answer_zh"])] + [
        ("key_points_zh", p) for p in q["key_points_zh"]]


def test_every_entry_has_a_chinese_answer_and_key_points_in_both_languages(entries):
    for q in entries:
        assert CJK.search(q["answer_zh"]) and len(q["answer_zh"]) > 80, q["id"]
        assert 2 <= len(q["key_points_en"]) <= 4 and len(q["key_points_zh"]) == len(q["key_points_en"]), q["id"]
        assert all(CJK.search(p) for p in q["key_points_zh"]), q["id"]
        assert all(len(p.split()) <= 40 for p in q["key_points_en"]), q["id"]  # a card, not a paragraph


def test_chinese_questions_are_questions_and_keep_the_seed_wording(entries):
    headings: dict[str, set] = {}
    for occ in bank.load_seed_index():
        headings.setdefault(occ["bank_id"], set()).add(occ["heading"])
    for q in entries:
        text = q["question_zh"].strip()
        assert text.endswith(("？", "?", "。")), (q["id"], text)  # a question, or an instruction ("实现……。")
        if text.endswith("。"):
            assert re.match(r"^(追问：)?(实现|介绍|用代码|解释|计算)", text), (q["id"], text)
        if q["source"] == "seed" and text not in headings[q["id"]]:
            assert q.get("question_zh_seed") in headings[q["id"]], f"{q['id']}: keep one seed heading in question_zh_seed"


def test_the_glossary_has_forty_terms_with_one_preferred_chinese_form(glossary):
    assert len(glossary) >= 40
    zh = [t["zh"] for t in glossary]
    assert len(zh) == len(set(zh)), [z for z, n in Counter(zh).items() if n > 1]
    assert all(CJK.search(t["zh"]) or t["zh"].isascii() for t in glossary)
    for t in glossary:
        assert t["zh"] not in t.get("avoid", []), t


def test_bank_answers_use_the_glossarys_preferred_terms(entries, glossary):
    for t in glossary:
        for bad in t.get("avoid", []):
            hits = [(q["id"], field) for q in entries for field, text in _course_zh(q) if bad in text]
            assert not hits, f"use {t['zh']!r}, not {bad!r}: {hits}"
        if t.get("match"):
            for q in entries:
                if re.search(t["match"], q["answer_en"]):
                    assert t["zh"] in q["answer_zh"], f"{q['id']}: the English says {t['en']!r}, the Chinese lacks {t['zh']!r}"


def test_the_glossary_check_catches_a_variant(entries, glossary):
    term = next(t for t in glossary if t["zh"] == "模式坍塌")
    assert "模式崩溃" in term["avoid"]  # the seeds' variant the issue names


def test_measured_numbers_are_quoted_in_both_languages(entries):
    quoting = 0
    for q in entries:
        en = {(nb, k.replace("/", ".")) for nb, k in QUOTE.findall(q["answer_en"] + " ".join(q["key_points_en"]))}
        zh = {(nb, k.replace("/", ".")) for nb, k in QUOTE.findall(q["answer_zh"] + " ".join(q["key_points_zh"]))}
        assert en == zh, f"{q['id']}: the two languages quote different numbers: {sorted(en ^ zh)}"
        quoting += bool(en)
    assert quoting >= 40, f"only {quoting} answers quote a measured number"


@pytest.mark.parametrize("notebook", CHECKPOINT_NOTEBOOKS)
def test_each_checkpoint_has_four_questions_and_a_follow_up(entries, notebook):
    own = bank.questions_for(notebook)
    assert len(own) >= 4, f"{notebook}: {len(own)} checkpoint question(s)"
    assert any(q.get("follow_up_of") for q in own), f"{notebook}: no follow-up question"


def test_follow_ups_point_at_existing_questions(entries):
    ids = {q["id"] for q in entries}
    for q in entries:
        if q.get("follow_up_of"):
            assert q["follow_up_of"] in ids and q["follow_up_of"] != q["id"], q["id"]


def test_coding_questions_answer_with_tested_ganutils_functions(entries):
    tests_text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    for q in entries:
        if q["topic"] != "coding":
            continue
        assert q.get("code"), f"{q['id']}: a coding question needs a code answer"
        for path, source in interview.code_answers(q):
            assert path.startswith("ganutils.") and ".course." not in path and ".experiments." not in path, path
            assert source.lstrip().startswith(("def ", "class ", "@")), path
            assert re.search(rf"\b{re.escape(path.rsplit('.', 1)[-1])}\b", tests_text), f"{path} is not tested"


def test_corrections_without_a_run_say_explained_not_run(entries):
    for q in entries:
        for c in q.get("seed_correction") or []:
            shown = interview.experiment_text(c)
            assert shown == "explained, not run" if c["experiment"] is None else " § " in shown
