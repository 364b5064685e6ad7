# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 13 · Review: the interview question bank
#
# Every notebook ended with the interview questions it demonstrates. This one puts the whole
# bank in front of you: a quiz over every question (random order, topic and difficulty filters,
# answers hidden until you reveal them, key points first, graded on four levels), then one page of
# the formulas and defaults that come up again and again, each with the notebook it comes from,
# and the glossary of the Chinese terms the answers use.
#
# The bank (`ganutils/bank/questions.yaml`) holds one entry per distinct question of the five
# Chinese interview files in `../shared/seeds/` (the seeds repeat themselves; every occurrence is
# indexed in `seed_index.yaml`), plus a few questions the course adds. Each entry has the
# question in English and in Chinese, key points and an interview-length model answer in both
# languages (measured numbers quoted from the reference run), the notebook
# section that demonstrates it, and, where the seed's own answer is wrong, the correction and the
# experiment that shows it. Questions the course does not demonstrate (diffusion, GigaGAN,
# Real-ESRGAN, GFPGAN, NLP uses, ...) have short answers marked "not demonstrated here".
# `docs/question_coverage.md` lists, for each seed file, every question and where it is answered.
#
# Away from Jupyter, as a study tool: `python -m ganutils quiz [--topic T] [--difficulty 2-4]
# [--lang zh|en] [-n N] [--seed S]` grades each answer again / hard / good / easy and keeps your
# progress between sessions (Leitner boxes, in your data folder); `--due` asks what is due for
# review, `--missed` what you missed last time, and `--export-anki gan.apkg` writes the bank as an
# Anki deck (Chinese and English fronts, key points on the back, topic and notebook tags).

# %% tags=["parameters"]
profile = None  # "smoke" | "quick" | "full"; None: $GANUTILS_PROFILE, else full with CUDA, quick without
device = None  # nothing here trains: the CPU is used
seed = 0  # the quiz's shuffle
topic = None  # None: every topic; or e.g. "gan-basics", "wgan", "vae", "evaluation"
n_questions = 10  # questions per quiz
lang = "en"  # "en" or "zh": the language of the questions (the answers are in English)

# %%
import collections
import math

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import ganutils as gu
from ganutils.course import bank as qbank
from ganutils.course import cheatsheet, quiz

cfg = gu.setup(profile, "cpu" if device is None else device, seed)
topic, lang = quiz.check_topic(topic), quiz.check_lang(lang)  # a typo fails here, with the valid values
bank = qbank.load_bank()  # validated on load: schema, unique ids, every seed occurrence -> an entry
seed_index = qbank.load_seed_index()

# %% [markdown]
# ## Quiz
#
# The bank at a glance: how many questions each topic has, and how many of them a notebook of
# the course demonstrates with an experiment.

# %%
corrections = [c for q in bank for c in q.get("seed_correction") or []]
gu.record("bank/questions", len(bank))
gu.record("bank/seed_occurrences", len(seed_index))
gu.record("bank/seed_files", len({o["seed_file"] for o in seed_index}))
gu.record("bank/demonstrated", sum(q["demonstrated"] for q in bank))
gu.record("bank/seed_corrections", len(corrections))
gu.record("bank/seed_corrections_with_experiment", sum(c["experiment"] is not None for c in corrections))

by_topic = collections.Counter(q["topic"] for q in bank)
shown = collections.Counter(q["topic"] for q in bank if q["demonstrated"])
names = qbank.topics()
fig, ax = plt.subplots(figsize=(8, 3))
ax.bar(names, [shown[t] for t in names], label="demonstrated in a notebook")
ax.bar(names, [by_topic[t] - shown[t] for t in names], bottom=[shown[t] for t in names], label="not demonstrated here")
ax.set_ylabel("questions")
ax.tick_params(axis="x", rotation=35)
ax.legend()
plt.show()

# %% [markdown]
# The bank is complete when every entry has an answer, every seed question points at an entry,
# and every link to a notebook section (the demonstrations and the correction experiments)
# lands on a `## ` heading that exists. The course's tests check the same, so a renamed section
# cannot silently orphan a question:

# %%
unanswered = [q["id"] for q in bank if len(q["answer_en"].split()) < 20]
missing_entries = {o["bank_id"] for o in seed_index} - {q["id"] for q in bank}
broken = qbank.unresolved_links()
gu.record("bank/unresolved_links", len(broken))
print("\n".join(broken) or f"all {len(qbank.links())} links resolve")
assert not unanswered, f"entries without a real answer: {unanswered}"
assert not missing_entries, f"seed questions without a bank entry: {missing_entries}"
assert not broken, f"{len(broken)} bank link(s) point at a missing notebook or section (first: {broken[0]})"
assert all(q["note"] == qbank.NOT_DEMONSTRATED for q in bank if not q["demonstrated"])

# %% [markdown]
# The quiz. Answer each question aloud (as in the interview), then reveal the key points and the
# model answer and grade yourself (again, hard, good, easy); the score by topic at the end says what to reread. Change the topic, the
# number of questions or the seed and press *New quiz*. (In an executed copy of this notebook
# the cell shows a fixed-seed sample of questions instead, each answer folded.)

# %%
session = quiz.show(topic, n_questions, seed, lang)
session

# %% [markdown]
# The widget is a thin layer over `ganutils.course.quiz.Quiz`, which the terminal quiz uses too:

# %%
demo = quiz.Quiz(topic="gan-basics", n=3, seed=seed, lang=lang)
while not demo.done:
    print(demo.question())
    demo.reveal()
    demo.grade("good" if demo.position % 2 == 0 else "again")  # a scripted grading: good, again, good
print(demo.summary())
assert demo.score == (2, 3)
assert [q["id"] for q in demo.questions] == [q["id"] for q in quiz.select("gan-basics", 3, seed)]  # same seed, same order

# %% [markdown]
# ## Cheat sheet
#
# One page to reread before an interview. Where `ganutils` can compute a number (the value of
# the game at its optimum, the Jensen–Shannon divergence of disjoint supports, the two generator
# losses' gradients when D wins, a closed-form KL, the library's own default hyperparameters),
# it is computed here with the same functions the notebooks use, not typed in.

# %%
values = cheatsheet.cheat_sheet_values()
rows = cheatsheet.cheat_sheet_rows(values)
sheet = cheatsheet.cheat_sheet_markdown(rows)
glossary = cheatsheet.glossary_markdown()  # the Chinese terms the bank's answers use, one per English term
display(Markdown(sheet + "\n\n**Glossary** (英中术语对照)\n\n" + glossary))
(gu.run_dir() / "cheat_sheet.md").write_text("# GAN interview cheat sheet\n\n" + sheet + "\n\n## Glossary\n\n" + glossary + "\n",
                                             encoding="utf-8")
for name in ("v_at_optimum", "js_disjoint", "w1_disjoint", "grad_saturating", "grad_non_saturating", "kl_example"):
    gu.record(f"cheat_sheet/{name}", values[name])

# %%
assert abs(values["v_at_optimum"] + math.log(4)) < 1e-6  # V(D*, G) = -log 4 at p_g = p_data
assert abs(values["js_disjoint"] - math.log(2)) < 1e-6  # JS of disjoint supports: log 2, whatever the distance
assert abs(values["w1_disjoint"] - 3.0) < 1e-3  # W1 = 3, the shift between the two uniforms
assert abs(values["grad_saturating"] + values["d_fake"]) < 1e-9  # -D(G(z)): vanishes when D wins
assert abs(values["grad_non_saturating"] + 1 - values["d_fake"]) < 1e-9  # -(1 - D(G(z))): strong when D wins
assert abs(values["kl_example"] - 0.5 * (1 + (4 - math.log(4) - 1))) < 1e-9  # ½Σ(μ² + σ² - log σ² - 1)
assert values["gp_weight"] == 10 and values["gan_lr"] == 2e-4 and values["gan_betas"] == (0.5, 0.999)
cheat_broken = cheatsheet.unresolved_cheat_sheet_links(rows)
assert not cheat_broken, cheat_broken
print(f"{len(rows)} formulas and defaults; a copy is in {gu.run_dir() / 'cheat_sheet.md'}")

# %% [markdown]
# ## Interview checkpoint
#
# This notebook demonstrates no question of its own, so its checkpoint draws a few from the
# whole bank (a different draw with another `seed`).

# %%
gu.interview.checkpoint("13_review", seed=seed)
