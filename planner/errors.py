"""The exception hierarchy of planner.

Every error the tool raises on purpose is a :class:`PlannerError`. Subclasses also inherit the
builtin exception a Python user would expect (``KeyError`` for a missing column, ``ValueError``
for bad values), following r5py's ``util/exceptions.py``.

Input validation collects *every* problem of an input before raising one
:class:`InputValidationError` that lists them all (see :mod:`planner._validate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from planner._validate import Problem

__all__ = [
    "PlannerError",
    "InputValidationError",
    "MissingColumnError",
    "CoordinateSystemError",
    "ScenarioError",
    "SettingsError",
    "NetworkError",
    "UnreadableFileError",
]


class PlannerError(Exception):
    """Base class of every error raised by planner on purpose."""


class InputValidationError(PlannerError, ValueError):
    """One or more inputs have problems; ``problems`` lists every one of them.

    The message is the full report (file, row as seen in Excel, column, value, fix) so that a user
    sees all problems at once instead of fixing them one run at a time.
    """

    def __init__(self, problems: list[Problem], *, lang: str = "en"):
        self.problems = list(problems)
        from planner._validate import format_problems

        super().__init__(format_problems(self.problems, lang=lang))


class MissingColumnError(PlannerError, KeyError):
    """A required column is absent; the message lists the aliases that were looked for."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CoordinateSystemError(PlannerError, ValueError):
    """A coordinate system is unknown, missing, or does not fit the data."""


class ScenarioError(PlannerError, ValueError):
    """A scenario file is malformed (unknown keys, wrong types, missing inputs)."""


class SettingsError(PlannerError, ValueError):
    """A setting name is unknown or its value has the wrong type or range."""


class NetworkError(PlannerError, ValueError):
    """A road network cannot be read or built, or a point cannot be joined to it."""


class UnreadableFileError(PlannerError, OSError):
    """A file does not exist, has an unsupported format, or cannot be decoded."""
