"""How the course shows interactive things: live widgets in JupyterLab, plain text/images in executed notebooks."""

from __future__ import annotations

from ..config import env_flag

STATIC_ENV = "GANUTILS_STATIC"


def static_display() -> bool:
    """True when widgets should be rendered as plain images/text ($GANUTILS_STATIC, set by the runner and the tests)."""
    return env_flag(STATIC_ENV)
