"""Choosing which schools stay open: an exact location model (p-median, fewest schools, least
shortage) under the policy constraints of the other modules (:class:`LocationModel`).

As in spopt's ``locate``: the maths works on a cost matrix (:meth:`LocationModel.from_cost_matrix`,
testable with a 3 x 2 array), the GIS adapter builds it from the scenario's travel costs
(:meth:`LocationModel.from_costs`), and ``solve()`` checks the solver's status and raises with
numbers when the constraints cannot all hold. :func:`solve_heuristic` (greedy + interchange,
Teitz & Bart) finds a layout in a fraction of the time under the same rules, for interactive use.
:mod:`.steer` holds the rules a planner steers with (time caps per grade group, added travel,
presets) and :func:`tradeoff_table` the schools-open against travel table.
"""

from schoolplan.optimize import steer
from schoolplan.optimize.heuristic import optimality_gap, solve_heuristic
from schoolplan.optimize.model import OBJECTIVES, InfeasibleError, LocationModel, ModelInputError
from schoolplan.optimize.tradeoff import TRADEOFF_COLUMNS, layout_travel, tradeoff_table

__all__ = ["OBJECTIVES", "TRADEOFF_COLUMNS", "InfeasibleError", "LocationModel", "ModelInputError",
           "layout_travel", "optimality_gap", "solve_heuristic", "steer", "tradeoff_table"]
