"""schoolplan: school-layout planning for Chinese prefectures and counties.

Floors, from the bottom: :mod:`~schoolplan.settings` and :mod:`~schoolplan.errors`;
:mod:`~schoolplan.schema` (the data model and the typed records) and :mod:`~schoolplan.coords`;
:mod:`~schoolplan.io` and :mod:`~schoolplan.network` (inputs in); :mod:`~schoolplan.travel`;
the diagnosis (:mod:`~schoolplan.catchments`, :mod:`~schoolplan.rules`,
:mod:`~schoolplan.balance`, :mod:`~schoolplan.projection`, :mod:`~schoolplan.diagnosis`); the
planning questions (:mod:`~schoolplan.consolidation`, :mod:`~schoolplan.layouts`,
:mod:`~schoolplan.optimize`, :mod:`~schoolplan.siting`); :mod:`~schoolplan.scenario`;
:mod:`~schoolplan.outputs`; :mod:`~schoolplan.demo` and :mod:`~schoolplan.cli`. Each floor
imports only floors below it (checked by import-linter in the test suite).

The most used functions are re-exported here and imported on first use, so that
``import schoolplan`` (and the command line's ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_EXPORTS = {
    "SchoolplanError": "schoolplan.errors",
    "InputValidationError": "schoolplan.errors",
    "CoordinateSystemError": "schoolplan.errors",
    "Settings": "schoolplan.settings",
    "read_schools": "schoolplan.io",
    "read_towns": "schoolplan.io",
    "read_demand": "schoolplan.io",
    "load_scenario": "schoolplan.scenario",
    "evaluate": "schoolplan.scenario",
}

__all__ = [
    "CoordinateSystemError",
    "InputValidationError",
    "SchoolplanError",
    "Settings",
    "__version__",
    "evaluate",
    "load_scenario",
    "read_demand",
    "read_schools",
    "read_towns",
]

if TYPE_CHECKING:  # pragma: no cover
    from schoolplan.errors import CoordinateSystemError, InputValidationError, SchoolplanError
    from schoolplan.io import read_demand, read_schools, read_towns
    from schoolplan.scenario import evaluate, load_scenario
    from schoolplan.settings import Settings


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'schoolplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
