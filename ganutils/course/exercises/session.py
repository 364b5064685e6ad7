"""A notebook's exercise session: what the learner calls, and the progress kept in this kernel.

    exercise = exercises.session("04_wgan_gp", solutions)    # once, after the setup cell
    gradient_penalty = exercise.check("04-gradient-penalty", my_gradient_penalty)   # implement / derive
    exercise.predict("04-predict-lambda", None)               # before the measuring cell
    exercise.reveal("04-predict-lambda", observed="0.1")      # after it

``check`` prints one line and returns the learner's function once it passes, the tested
ganutils reference until then, so the notebook always goes on. With ``solutions=True`` the
notebook's hidden solution cells register their solutions (``@exercise.solution(id)``); ``check``
then reports the learner's own answer *and* runs the solution, which must pass (a failing
solution stops the notebook: that is how `make test` proves every check accepts a right answer).
"""

from __future__ import annotations

import inspect

from ganutils.config import GanutilsError
from . import core

_SESSIONS: dict[str, "Session"] = {}
EDITIONS = ("course", "student")


def get(exercise_id: str) -> core.Exercise:
    """The exercise ``exercise_id``, or a clear error naming the closest ids."""
    from . import catalogue  # noqa: F401  (registers every exercise)

    if exercise_id not in core.REGISTRY:
        import difflib

        close = difflib.get_close_matches(str(exercise_id), list(core.REGISTRY), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "`python -m ganutils exercises` lists them"
        raise GanutilsError(f"no exercise {exercise_id!r}: {hint}")
    return core.REGISTRY[exercise_id]


def for_notebook(notebook: str) -> list[core.Exercise]:
    from . import catalogue  # noqa: F401

    return [e for e in core.REGISTRY.values() if e.notebook == notebook]


class Session:
    """The exercises of one notebook in this kernel: results, predictions, registered solutions."""

    def __init__(self, notebook: str, solutions: bool = False, edition: str = "course"):
        if not for_notebook(notebook):
            known = sorted({e.notebook for e in core.REGISTRY.values()})
            raise GanutilsError(f"notebook {notebook!r} has no exercises: use one of {', '.join(known)}")
        if not isinstance(solutions, bool):
            raise GanutilsError(f"solutions must be True or False, got {solutions!r}: e.g. -p solutions True")
        if edition not in EDITIONS:
            raise GanutilsError(f"edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
        if solutions and edition == "student":
            print("solutions=True has no effect in the student edition: it has no solutions; your own answers are checked.")
            solutions = False
        self.notebook, self.solutions, self.edition = notebook, solutions, edition
        self.results: dict[str, core.Result] = {}
        self.predictions: dict[str, object] = {}
        self._solutions: dict[str, object] = {}

    # -- helpers
    def _exercise(self, exercise_id: str, kind: str | None = None) -> core.Exercise:
        exercise = get(exercise_id)
        if exercise.notebook != self.notebook:
            raise GanutilsError(f"exercise {exercise_id} belongs to notebook {exercise.notebook}, not {self.notebook}")
        if kind and exercise.kind != kind:
            call = "check" if kind == "predict" else "predict"
            raise GanutilsError(f"{exercise_id} is a {exercise.kind} exercise: use exercise.{call}()")
        return exercise

    def _show(self, result: core.Result) -> core.Result:
        self.results[result.exercise] = result
        print(result.line())
        return result

    def solution(self, exercise_id: str):
        """Decorator for a hidden solution cell: registers the function (implement) or the function returning the answer (derive)."""
        self._exercise(exercise_id)

        def register(fn):
            self._solutions[exercise_id] = fn
            return fn

        return register

    # -- implement and derive
    def check(self, exercise_id: str, answer):
        """Check ``answer`` (a function, or a number for a derive exercise); print one line; return what to use next."""
        exercise = self._exercise(exercise_id)
        if exercise.kind == "predict":
            raise GanutilsError(f"{exercise_id} is a predict exercise: call exercise.predict({exercise_id!r}, your_choice) "
                                "before the experiment and exercise.reveal(...) after it")
        mine = exercise.check(answer)
        if not self.solutions:
            self._show(mine)
            return self._use(exercise, answer, mine)
        solution = self._solutions.get(exercise_id)
        if solution is None:
            print(f"{mine.line()}\n  (solutions=True, but this edition has no solution for {exercise_id}: "
                  "it checked your answer only)")
            self.results[exercise_id] = mine
            return self._use(exercise, answer, mine)
        value = solution() if exercise.kind == "derive" else solution
        result = exercise.check(value)
        if not result.passed:
            raise GanutilsError(f"the notebook's solution of {exercise_id} fails its own check: {result.message}")
        self._show(core.Result(exercise_id, result.status, f"{result.message} [the solution, plugged in by solutions=True; "
                                                           f"yours: {mine.status}]"))
        return self._use(exercise, value, result)

    @staticmethod
    def _use(exercise, answer, result):
        """Implement: the function the notebook goes on with. Derive: None (a returned number would display the answer)."""
        if exercise.kind == "implement":
            return answer if result.passed else exercise.reference
        return None

    # -- predict
    def predict(self, exercise_id: str, prediction):
        """Record a prediction before the measuring cell (``None``: not attempted; solutions=True uses the expected outcome)."""
        exercise = self._exercise(exercise_id, "predict")
        if prediction is None and self.solutions:
            prediction = exercise.expected
            result = exercise.check(prediction)
            result = core.Result(exercise_id, result.status, f"{result.message} [the course's expected outcome: solutions=True]")
        else:
            result = exercise.check(prediction)
        self.predictions[exercise_id] = exercise.normalise(prediction) if result.status == "predicted" else None
        self._show(result)

    def reveal(self, exercise_id: str, observed: str, detail: str = "", supported: bool = True) -> None:
        """Compare the recorded prediction with ``observed`` (computed by the notebook from this run).

        ``supported``: whether this profile's run is long enough for the course's claim (False adds a caveat).
        """
        exercise = self._exercise(exercise_id, "predict")
        self._show(exercise.reveal(self.predictions.get(exercise_id), observed, detail, supported))

    # -- progress
    def progress(self) -> "Progress":
        return Progress(self.notebook, self.results)


class Progress:
    """Which of a notebook's exercises were attempted and passed in this kernel."""

    def __init__(self, notebook: str, results: dict):
        self.notebook, self.results = notebook, dict(results)
        self.exercises = for_notebook(notebook)

    @property
    def attempted(self) -> int:
        return sum(r.attempted for r in self.results.values())

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results.values())

    def text(self) -> str:
        lines = [f"Exercises in {self.notebook}: {self.attempted} of {len(self.exercises)} attempted, "
                 f"{self.passed} passed in this kernel."]
        for e in self.exercises:
            r = self.results.get(e.id)
            status = r.status if r else "not run"
            lines.append(f"  {core.MARKS.get(status, '·')} {e.id:32s} {e.kind:9s} {status}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()


def session(notebook: str, solutions: bool = False, edition: str = "course") -> Session:
    """Start (or restart) the exercise session of ``notebook`` in this kernel (``edition="student"``: no solutions)."""
    _SESSIONS[notebook] = Session(notebook, solutions, edition)
    return _SESSIONS[notebook]


def progress(notebook: str) -> Progress | None:
    """The progress of ``notebook``'s exercises in this kernel, or None if no session was started."""
    s = _SESSIONS.get(notebook)
    return s.progress() if s else None


def explain(exercise_id: str) -> str:
    """The exercise's explanation and the source of the tested reference it is checked against."""
    exercise = get(exercise_id)
    text = f"{exercise.id} ({exercise.kind}): {exercise.title}\n\n{exercise.explanation}"
    for fn in (getattr(exercise, "reference", None), *getattr(exercise, "library", ())):
        if fn is None:
            continue
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        text += f"\n\n{fn.__module__}.{fn.__qualname__}:\n\n{source}"
    return text
