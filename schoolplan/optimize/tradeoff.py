"""The trade-off table (issue 14 item 5): for each number of open schools, from the fewest that
meet the constraints to every school allowed to open, the travel of each grade group.

* the **end points** are the exact model's: the fewest schools (``min_schools``, then least travel
  among those layouts) and every allowed school open (``p_median`` with ``p`` = the schools
  allowed to open);
* **in between**, ``p_median`` layouts by the heuristic (:func:`solve_heuristic`, the default;
  ``between="exact"`` for the exact model, slower); the ``method`` column says which;
* at most ``optimise_tradeoff_max_points`` rows (setting): the numbers of schools in between are
  spread evenly when there are more.

Every row is solved under the same rules (seats, caps, a school teaching grades 7–9 per town,
time caps per grade group, added travel, must-keep/close, keep-one-of lists) as the other solves.

Columns (:data:`TRADEOFF_COLUMNS`): ``schools_open``, ``schools_closed``, ``method``, ``status``,
``total_cost`` (pupil-metres, pupil-seconds for bus groups), ``pupils_without_seat``, and per grade
group ``g``: ``mean_time_min_g``, ``p95_time_min_g``, ``mean_distance_m_g``, ``p95_distance_m_g``
(pupil-weighted, over the pupils with a school).

Cost: two exact solves and up to ``max_points - 2`` heuristic solves (each O(P log P) in the
candidate pairs P plus its search).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from schoolplan.catchments import GRADE_GROUPS
from schoolplan.diagnosis import weighted_quantile
from schoolplan.optimize.heuristic import solve_heuristic
from schoolplan.optimize.model import InfeasibleError, LocationModel, ModelInputError

__all__ = ["TRADEOFF_COLUMNS", "layout_travel", "tradeoff_table"]

TRADEOFF_COLUMNS = ["schools_open", "schools_closed", "method", "status", "total_cost",
                    "pupils_without_seat"] + [
    f"{stat}_{what}_{g}" for g in GRADE_GROUPS
    for stat, what in (("mean", "time_min"), ("p95", "time_min"), ("mean", "distance_m"),
                       ("p95", "distance_m"))]


def layout_travel(model: LocationModel) -> dict[str, Any]:
    """The travel figures of the model's last solve, one trade-off row (without the method)."""
    a = model.assignments
    assert a is not None and model.open_schools is not None and model.closed_schools is not None
    row: dict[str, Any] = {"schools_open": len(model.open_schools),
                           "schools_closed": len(model.closed_schools), "status": model.status,
                           "total_cost": round(float(model.total_cost or 0.0), 1),
                           "pupils_without_seat": round(float(model.shortage_pupils or 0.0), 1)}
    got = a[a["school_id"].notna()]
    for g in GRADE_GROUPS:
        sub = got[got["group"] == g]
        w = sub["pupils"].to_numpy(float)
        for what, values in (("time_min", sub["time_s"].to_numpy(float) / 60.0),
                             ("distance_m", sub["distance_m"].to_numpy(float))):
            ok = np.isfinite(values) & (w > 0)
            row[f"mean_{what}_{g}"] = (round(float(np.sum(values[ok] * w[ok]) / w[ok].sum()), 1)
                                       if ok.any() else None)
            q = weighted_quantile(values, w, 0.95)
            row[f"p95_{what}_{g}"] = round(q, 1) if np.isfinite(q) else None
    return row


def _spread(lo: int, hi: int, max_points: int) -> list[int]:
    """The numbers of schools between ``lo`` and ``hi`` (exclusive), at most ``max_points - 2``."""
    inner = list(range(lo + 1, hi))
    room = max(max_points - 2, 0)
    if len(inner) <= room:
        return inner
    return sorted({round(float(v)) for v in np.linspace(lo, hi, room + 2)[1:-1]} - {lo, hi})


def tradeoff_table(model: LocationModel, *, between: str = "heuristic",
                   max_points: int | None = None, **solve_options: Any) -> pd.DataFrame:
    """The trade-off table of ``model`` under ``solve_options`` (those of
    :meth:`LocationModel.solve` but ``objective`` and ``p``); see the module.

    Raises
    ------
    InfeasibleError
        When not even every allowed school open meets the constraints.
    ModelInputError
        For ``between`` other than ``"heuristic"`` or ``"exact"``, or ``objective``/``p`` given.
    """
    if between not in ("heuristic", "exact"):
        raise ModelInputError(f"between was {between!r} but is expected to be 'heuristic' or 'exact'")
    if "objective" in solve_options or "p" in solve_options:
        raise ModelInputError("tradeoff_table chooses the objective and p itself")
    points = int(max_points if max_points is not None
                 else model.settings["optimise_tradeoff_max_points"])
    close = set(solve_options.get("must_close", ()))
    n_max = len(model.schools) - len(close & set(model.schools.index))
    rows = []
    model.solve("min_schools", **solve_options)
    rows.append({**layout_travel(model), "method": "exact"})
    n_min = rows[0]["schools_open"]
    heuristic_options = {k: v for k, v in solve_options.items() if k != "mip_gap"}
    for p in _spread(n_min, n_max, points):
        try:
            if between == "exact":
                model.solve("p_median", p=p, **solve_options)
            else:
                solve_heuristic(model, p=p, **heuristic_options)
        except InfeasibleError:
            continue
        rows.append({**layout_travel(model), "method": between})
    if n_max > n_min:
        model.solve("p_median", p=n_max, **solve_options)
        rows.append({**layout_travel(model), "method": "exact"})
    return pd.DataFrame(rows, columns=TRADEOFF_COLUMNS)
