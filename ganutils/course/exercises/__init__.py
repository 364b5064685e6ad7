"""Exercises in the notebooks, checked by code that recognises the classic GAN bugs.

    from ganutils.course import exercises
    exercise = exercises.session("04_wgan_gp", solutions)
    gradient_penalty = exercise.check("04-gradient-penalty", my_gradient_penalty)

Course machinery: the library never imports it. ``python -m ganutils exercises [--json]`` lists them.
"""

from . import catalogue  # noqa: F401  (registers every exercise)
from .core import KINDS, REGISTRY, Bug, Case, Derive, Exercise, Implement, Predict, Result
from .session import Progress, Session, explain, for_notebook, get, progress, session


def all_exercises() -> list[Exercise]:
    """Every exercise, in notebook order."""
    return sorted(REGISTRY.values(), key=lambda e: (e.notebook, list(REGISTRY).index(e.id)))


def catalogue_json() -> list[dict]:
    """What `python -m ganutils exercises --json` prints: id, notebook, kind, title, known_bugs."""
    return [e.as_dict() for e in all_exercises()]


__all__ = ["KINDS", "REGISTRY", "Bug", "Case", "Derive", "Exercise", "Implement", "Predict", "Progress", "Result",
           "Session", "all_exercises", "catalogue_json", "explain", "for_notebook", "get", "progress", "session"]
