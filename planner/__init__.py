"""planner: school-layout planning for Chinese prefectures and counties.

Public modules: :mod:`planner.settings`, :mod:`planner.schema`, :mod:`planner.coords`,
:mod:`planner.io`, :mod:`planner.towns`, :mod:`planner.rules`, :mod:`planner.scenario`,
:mod:`planner.maps`, :mod:`planner.report`. The most used functions are re-exported here.
"""

import logging

__version__ = "0.1.0"

from planner.errors import (  # noqa: E402
    CoordinateSystemError,
    InputValidationError,
    PlannerError,
)
from planner.io import read_demand, read_schools, read_towns  # noqa: E402
from planner.scenario import evaluate, load_scenario  # noqa: E402
from planner.settings import Settings  # noqa: E402

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "PlannerError",
    "InputValidationError",
    "CoordinateSystemError",
    "Settings",
    "read_schools",
    "read_towns",
    "read_demand",
    "load_scenario",
    "evaluate",
]
