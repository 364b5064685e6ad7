"""Exercises and their checks: implement, predict-then-run, derive.

An *implement* exercise holds the tested reference (a ganutils function, adapted to the
exercise's signature), a few random and edge-case inputs, and the classic bugs, each as a
buggy implementation. Checking runs the learner's function and the reference on every input;
when they disagree, every known bug runs on the same inputs, and the bug whose results the
learner's reproduce is named. So a bug is recognised by what it *does*, not by how it is
spelled, and each message says what is wrong and how to fix it.

A *derive* exercise compares a number (or a tuple of numbers) with a value computed by the
library (a quadrature, autograd, a Monte Carlo estimate), and names the classic slips.
A *predict* exercise records a choice before the cell that measures it and compares it with
what the run measured.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from . import checker
from .checker import Raised, TimedOut

KINDS = ("implement", "predict", "derive")
ID_PATTERN = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$")
BUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NOT_ATTEMPTED = "not attempted"
MARKS = {"passed": "✓", "held": "✓", "bug": "✗", "wrong": "✗", "error": "✗", "did not hold": "✗",
         NOT_ATTEMPTED: "·", "predicted": "?"}


class ExerciseError(Exception):
    """A mistake in an exercise *definition* (the course's bug, not the learner's)."""


@dataclass(frozen=True)
class Bug:
    """A classic mistake: its name, what to say, and how it behaves.

    ``impl``: for implement exercises one buggy implementation (or a tuple of equivalent ones);
    for derive exercises a function returning the wrong answer; for predict exercises the wrong choice.
    ``shipped``: where code (or a claim) like this appeared.
    """

    name: str
    message: str
    impl: object = None
    shipped: str = ""

    @property
    def impls(self) -> tuple:
        return self.impl if isinstance(self.impl, tuple) else (self.impl,)


@dataclass
class Result:
    """The outcome of one check. ``status``: passed, bug, wrong, error, not attempted, predicted, held, did not hold."""

    exercise: str
    status: str
    message: str
    bug: str | None = None

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "held")

    @property
    def attempted(self) -> bool:
        return self.status != NOT_ATTEMPTED

    def line(self, width: int = 110) -> str:
        text = f"{MARKS.get(self.status, '?')} {self.exercise}: {self.message}"
        return textwrap.fill(text, width=width, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)

    def __str__(self) -> str:
        return self.line()


@dataclass(frozen=True)
class Case:
    """One input of an implement exercise. ``make()`` builds fresh arguments (a tuple, or (tuple, dict)) every call."""

    label: str
    make: Callable
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Exercise:
    id: str
    notebook: str
    title: str
    task: str
    explanation: str
    bugs: tuple = ()
    kind: ClassVar[str] = ""

    @property
    def known_bugs(self) -> list[str]:
        return [b.name for b in self.bugs]

    def as_dict(self) -> dict:
        return {"id": self.id, "notebook": self.notebook, "kind": self.kind, "title": self.title,
                "known_bugs": self.known_bugs}

    def _result(self, status: str, message: str, bug: str | None = None) -> Result:
        return Result(self.id, status, message, bug)

    def not_attempted(self, how: str) -> Result:
        return self._result(NOT_ATTEMPTED, f"not attempted yet ({how}); the notebook goes on with the tested ganutils version.")

    def validate(self) -> None:
        if not ID_PATTERN.match(self.id):
            raise ExerciseError(f"exercise id {self.id!r} must look like '04-gradient-penalty'")
        if self.notebook[:2] != self.id[:2]:
            raise ExerciseError(f"exercise {self.id} must start with its notebook's number ({self.notebook})")
        names = [b.name for b in self.bugs]
        if len(set(names)) != len(names) or not all(BUG_PATTERN.match(n) for n in names):
            raise ExerciseError(f"exercise {self.id}: bug names must be unique kebab-case words, got {names}")
        for attr in ("title", "task", "explanation"):
            if not getattr(self, attr).strip():
                raise ExerciseError(f"exercise {self.id} needs a {attr}")


# ----------------------------------------------------------------------------- implement

_KNOWN: dict = {}  # (exercise id, id of the reference or bug function, case index) -> (function, observation)


@dataclass(frozen=True, eq=False)
class Implement(Exercise):
    """The learner writes a function; it is compared with ``reference`` on ``cases()``.

    ``observe(output, *args, **kwargs)`` turns one call's output into a dict of things to compare
    (default ``{"output": output}``); it may run ``backward()`` or inspect modules passed as
    arguments. The key "output" is checked for kind, shape, dtype and device first.
    ``variants`` are accepted alternatives (a pass, with their message as a note).
    ``describe`` names observation keys in messages (e.g. "g_has_grad": "G's parameters get a gradient").
    """

    reference: Callable = None
    cases: Callable = None
    library: tuple = ()  # the ganutils functions ``reference`` adapts, shown by ``explain`` beside it
    observe: Callable | None = None
    variants: tuple = ()
    describe: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6
    limit: float = 10.0
    kind: ClassVar[str] = "implement"

    def validate(self) -> None:
        super().validate()
        if not callable(self.reference) or not callable(self.cases):
            raise ExerciseError(f"exercise {self.id} needs a reference function and a cases() builder")
        for bug in self.bugs + self.variants:
            if not all(callable(f) for f in bug.impls):
                raise ExerciseError(f"exercise {self.id}: bug {bug.name} needs a buggy implementation")

    # -- running one candidate on one case
    def run_case(self, fn, case: Case):
        """The observation dict of ``fn`` on ``case``, or a Raised / TimedOut."""
        with checker.isolated_rng(10_000 + case.seed):
            made = case.make()
        args, kwargs = made if (isinstance(made, tuple) and len(made) == 2 and isinstance(made[1], dict)) else (made, {})
        try:
            out = checker.call(fn, tuple(args), dict(kwargs), case.seed, self.limit)
        except checker.TimeLimitExceeded:
            return TimedOut(self.limit)
        except Exception as err:  # the learner's exception, reported in one line
            return Raised.from_exception(err)
        try:
            with checker.isolated_rng(20_000 + case.seed), checker.quiet_numerics(), checker.time_limit(self.limit):
                observed = self.observe(out, *args, **kwargs) if self.observe else {"output": out}
        except checker.TimeLimitExceeded:
            return TimedOut(self.limit)
        except Exception as err:  # e.g. backward() on an output of the wrong kind: reported after the structure check
            return {"output": out, "_unusable": f"{type(err).__name__}: {str(err).strip()[:150]}"}
        return observed

    def observations(self, fn) -> list:
        return [self.run_case(fn, case) for case in self.cases()]

    def _known(self, fn, i: int, case: Case):
        """The observation of the reference or of a known bug on case ``i``: deterministic, so computed once."""
        key = (self.id, id(fn), i)
        if key not in _KNOWN:
            _KNOWN[key] = (fn, self.run_case(fn, case))  # keeps fn alive, so its id stays unique
        return _KNOWN[key][1]

    def _matches(self, fn, cases, mine) -> bool:
        for i, (case, got) in enumerate(zip(cases, mine)):
            other = self._known(fn, i, case)
            if isinstance(got, TimedOut) or isinstance(other, TimedOut):
                return False
            if not checker.same(other, got, self.rtol, self.atol):
                return False
        return True

    def _problem(self, case: Case, expected, got) -> tuple[str, str] | None:
        """(status, message) for the first way ``got`` differs from ``expected`` on ``case``, or None."""
        where = f"on {case.label}"
        if isinstance(expected, (Raised, TimedOut)):
            raise ExerciseError(f"the reference of {self.id} failed {where}: {expected}")
        if isinstance(got, TimedOut):
            return "error", (f"ran longer than {got.limit:g} s {where} and was stopped (the reference takes milliseconds): "
                             "look for a Python loop over samples or pixels that one tensor operation could replace.")
        if isinstance(got, Raised):
            return "error", f"your function {got.describe()} {where}."
        if "output" in expected:
            problem = checker.structure_problem(expected["output"], got.get("output"))
            if problem:
                return "error", f"{where}, {problem}."
        if "_unusable" in got:
            return "error", f"{where}, your output could not be used like the reference's ({got['_unusable']})."
        if set(got) != set(expected):
            return "error", f"{where}, the output could not be inspected like the reference's."
        for key, value in expected.items():
            if checker.non_finite(got[key]) and not checker.non_finite(value):
                what = "your output" if key == "output" else self.describe.get(key, key)
                return "error", f"{where}, {what} contains NaN or inf where the reference's is finite."
        for key, value in expected.items():
            if not checker.same(value, got[key], self.rtol, self.atol):
                what = "your output" if key == "output" else self.describe.get(key, key)
                detail = checker.largest_difference(value, got[key])
                if checker.holds_none(got[key]) and not checker.holds_none(value):
                    detail = "None: no gradient flows (was the result detached, or computed with .item() or NumPy?)"
                return "wrong", (f"{where}, {what} differs from the reference: expected {checker.summary(value)}, "
                                 f"got {checker.summary(got[key])}" + (f"; {detail}" if detail else "") + ".")
        return None

    def check(self, fn) -> Result:
        if fn is None:
            return self.not_attempted("the function is still None")
        if not callable(fn):
            return self._result("error", f"expected a function (def ...), got {checker.describe(fn)}.")
        cases = self.cases()
        mine = []
        for i, case in enumerate(cases):
            got = self.run_case(fn, case)
            if i == 0 and isinstance(got, Raised) and got.type == "NotImplementedError":
                return self.not_attempted("it still raises NotImplementedError")
            if isinstance(got, TimedOut):
                return self._result("error", self._problem(case, {}, got)[1])
            mine.append(got)
        expected = [self._known(self.reference, i, case) for i, case in enumerate(cases)]
        problems = [self._problem(case, e, got) for case, e, got in zip(cases, expected, mine)]
        first = next((p for p in problems if p), None)
        if first is None:
            return self._result("passed", f"passed on {len(cases)} inputs ({'; '.join(c.label for c in cases)}).")
        for variant in self.variants:
            if any(self._matches(f, cases, mine) for f in variant.impls):
                return self._result("passed", f"passed on {len(cases)} inputs. Note: {variant.message}")
        for bug in self.bugs:
            if any(self._matches(f, cases, mine) for f in bug.impls):
                return self._result("bug", f"that is the classic bug `{bug.name}`: {bug.message}", bug.name)
        status, message = first
        return self._result(status, message)


# ----------------------------------------------------------------------------- derive


def _numbers(x):
    """A number or a tuple of numbers as floats, or None if ``x`` is neither."""
    if checker.is_real_number(x) or (hasattr(x, "shape") and getattr(x, "shape", None) == () and not isinstance(x, str)):
        try:
            return (float(x),)
        except (TypeError, ValueError):
            return None
    if isinstance(x, (tuple, list)) and x and all(checker.is_real_number(v) or isinstance(v, float) for v in x):
        return tuple(float(v) for v in x)
    return None


@dataclass(frozen=True, eq=False)
class Derive(Exercise):
    """The learner derives a number (or a tuple); ``truth()`` computes it numerically with the library."""

    truth: Callable = None
    answer_format: str = "a number"
    hint: str = ""
    tolerance: float = 1e-3
    kind: ClassVar[str] = "derive"

    def validate(self) -> None:
        super().validate()
        if not callable(self.truth):
            raise ExerciseError(f"derive exercise {self.id} needs truth()")
        for bug in self.bugs:
            if not callable(bug.impl):
                raise ExerciseError(f"derive exercise {self.id}: mistake {bug.name} needs a function giving the wrong value")

    def _close(self, a, b) -> bool:
        def one(x, y):
            if not (math.isfinite(x) and math.isfinite(y)):
                return x == y
            return abs(x - y) <= self.tolerance * max(1.0, abs(y))

        return len(a) == len(b) and all(one(x, y) for x, y in zip(a, b))

    def check(self, answer) -> Result:
        if answer is None or answer is Ellipsis:
            return self.not_attempted("the answer is still None")
        got = _numbers(answer)
        truth = _numbers(self.truth())
        if got is None or len(got) != len(truth):
            return self._result("error", f"expected {self.answer_format}; got {checker.describe(answer)}.")
        if self._close(got, truth):
            shown = ", ".join(f"{v:.4g}" for v in truth)
            return self._result("passed", f"right: {shown} (the library's numeric check gives the same).")
        for bug in self.bugs:
            wrong = _numbers(bug.impl())
            if wrong is not None and self._close(got, wrong):
                return self._result("bug", f"that is the classic slip `{bug.name}`: {bug.message}", bug.name)
        mine = ", ".join(f"{v:.4g}" for v in got)
        return self._result("wrong", f"not quite: you gave {mine}. {self.hint}".strip())


# ----------------------------------------------------------------------------- predict


@dataclass(frozen=True, eq=False)
class Predict(Exercise):
    """The learner picks one of ``choices`` before the measuring cell; ``reveal`` compares it with the run.

    ``expected`` is the outcome the course's claim (asserted in `quick`) predicts; ``bugs`` are
    misconceptions, each with the choice it leads to (``impl``) and what to say at the reveal.
    """

    choices: tuple = ()
    expected: str = ""
    kind: ClassVar[str] = "predict"

    def validate(self) -> None:
        super().validate()
        if self.expected not in self.choices or len(self.choices) < 2:
            raise ExerciseError(f"predict exercise {self.id}: expected {self.expected!r} must be one of >= 2 choices {self.choices}")
        for bug in self.bugs:
            if bug.impl not in self.choices:
                raise ExerciseError(f"predict exercise {self.id}: misconception {bug.name} must name a choice, got {bug.impl!r}")

    def normalise(self, choice):
        if isinstance(choice, str):
            for c in self.choices:
                if choice.strip().lower() == c.lower():
                    return c
        return None

    def check(self, prediction) -> Result:
        if prediction is None:
            return self.not_attempted("prediction is still None")
        choice = self.normalise(prediction)
        if choice is None:
            return self._result("error", f"your prediction must be one of {', '.join(repr(c) for c in self.choices)}; "
                                         f"got {prediction!r}.")
        return self._result("predicted", f"prediction recorded: {choice!r}. Run the experiment; the cell after it compares.")

    def reveal(self, prediction, observed: str, detail: str = "", supported: bool = True) -> Result:
        observed_choice = self.normalise(observed)
        if observed_choice is None:
            raise ExerciseError(f"{self.id}: the notebook measured {observed!r}, which is not one of {self.choices}")
        measured = f"this run measured {observed_choice!r}" + (f" ({detail})" if detail else "")
        caveat = "" if supported else " (this profile's run is too short to support the claim; `quick` asserts it.)"
        if prediction is None:
            return self._result(NOT_ATTEMPTED, f"no prediction recorded; {measured}.{caveat} {self.explanation}")
        choice = self.normalise(prediction)
        if choice is None:
            return self._result("error", f"your prediction {prediction!r} is not one of {self.choices}; {measured}.")
        misconception = next((b for b in self.bugs if b.impl == choice), None)
        if choice == observed_choice:
            return self._result("held", f"you predicted {choice!r} and {measured}: it held.{caveat} {self.explanation}")
        note = f" That is the misconception `{misconception.name}`: {misconception.message}" if misconception else ""
        return self._result("did not hold", f"you predicted {choice!r}, but {measured}.{caveat}{note} {self.explanation}",
                            misconception.name if misconception else None)


# ----------------------------------------------------------------------------- registry

REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.kind not in KINDS:
        raise ExerciseError(f"unknown exercise kind {exercise.kind!r}")
    exercise.validate()
    if exercise.id in REGISTRY and REGISTRY[exercise.id] is not exercise:
        raise ExerciseError(f"exercise id {exercise.id} is registered twice")
    REGISTRY[exercise.id] = exercise
    return exercise
