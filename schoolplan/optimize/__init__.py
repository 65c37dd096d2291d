"""Choosing which schools stay open: an exact location model (p-median, fewest schools, least
shortage) under the policy constraints of the other modules (:class:`LocationModel`).

As in spopt's ``locate``: the maths works on a cost matrix (:meth:`LocationModel.from_cost_matrix`,
testable with a 3 x 2 array), the GIS adapter builds it from the scenario's travel costs
(:meth:`LocationModel.from_costs`), and ``solve()`` checks the solver's status and raises with
numbers when the constraints cannot all hold. :func:`solve_heuristic` (greedy + interchange,
Teitz & Bart) finds a layout in a fraction of the time under the same rules, for interactive use.
"""

from schoolplan.optimize.heuristic import optimality_gap, solve_heuristic
from schoolplan.optimize.model import OBJECTIVES, InfeasibleError, LocationModel, ModelInputError

__all__ = ["OBJECTIVES", "InfeasibleError", "LocationModel", "ModelInputError", "optimality_gap",
           "solve_heuristic"]
