"""The assignment of a fixed layout without a linear programme, when seats do not bind.

Once the open schools are fixed, the exact model's assignment (:meth:`LocationModel.solve` with
every school on must-keep or must-close) is a transport problem: least pupil travel under the
seats of each school part and the size caps. Its unconstrained minimum sends every village group
to its **nearest open allowed candidate**; when that assignment already meets every seat and size
cap it is feasible, hence optimal, and the linear programme is not needed (same total travel; ties
between equally near schools may be broken differently). Only when a seat or cap binds (or a
village group has no open allowed candidate) does the caller fall back to the exact programme.

Cost, with ``P`` allowed candidate pairs and ``S`` schools: one sort of the open pairs
``O(P log P)``, the loads ``O(P + S)``; the result tables as :meth:`LocationModel.solve` writes
them ``O(P log P)``.
"""

from __future__ import annotations

import numpy as np

from schoolplan.catchments import PART_OF_GROUP
from schoolplan.optimize.model import LocationModel

__all__ = ["nearest_open_assignment"]


def nearest_open_assignment(model: LocationModel, allowed: np.ndarray, is_open: np.ndarray,
                            keep: set, close: set, *, capacitated: bool = True,
                            size_caps: bool = True, allow_split: bool = True) -> bool:
    """Assign every village group to its nearest open allowed school and, when that meets the
    seats (``capacitated``) and size caps (``size_caps``), write the result attributes of
    ``model`` as :meth:`LocationModel.solve` does (``status="optimal"`` for this layout) and
    return True. Return False (``model`` untouched) when a seat or cap binds or a village group
    has no open allowed candidate: the exact programme is needed then."""
    sch, dem = model.schools, model.demand
    n_s = len(sch)
    pos = np.flatnonzero(allowed)
    k_all = model.pairs["k"].to_numpy()[pos]
    j_all = model.pairs["j"].to_numpy()[pos]
    cost = model.pairs["cost"].to_numpy(float)[pos]
    has_allowed = np.zeros(len(dem), bool)
    has_allowed[k_all] = True
    live = np.flatnonzero(is_open[j_all])
    order = live[np.lexsort((cost[live], k_all[live]))]
    kk = k_all[order]
    first = np.ones(len(order), bool)
    first[1:] = kk[1:] != kk[:-1]
    chosen = order[first]  # positions among the allowed pairs, one per covered village group
    covered = np.zeros(len(dem), bool)
    covered[k_all[chosen]] = True
    if (has_allowed & ~covered).any():
        return False
    pupils = dem["pupils"].to_numpy(float)
    k_c, j_c = k_all[chosen], j_all[chosen]
    load = pupils[k_c]
    part_k = dem["group"].map(PART_OF_GROUP).to_numpy()
    binds = False
    if capacitated:
        part = part_k[k_c]
        for pt in ("primary", "junior"):
            seats = sch[f"seats_{pt}"].to_numpy(float)
            used = np.bincount(j_c[part == pt], weights=load[part == pt], minlength=n_s)
            binds |= bool(np.any(np.isfinite(seats) & (used > seats + 1e-6)))
    if size_caps:
        used = np.bincount(j_c, weights=load, minlength=n_s)
        binds |= bool(np.any(used > sch["size_cap"].to_numpy(float) + 1e-6))
    x = np.zeros(n_s + len(pos))
    x[:n_s] = is_open.astype(float)
    method, prices = "nearest_open", None
    if binds:
        if not allow_split:
            return False
        got = _transport(model, k_all, j_all, cost, is_open, pupils, part_k, capacitated,
                         size_caps)
        if got is None:
            return False
        x[n_s:], prices = got
        method = "transport"
    else:
        x[n_s + chosen] = 1.0
    model._reset()
    model._collect(x, allowed, set(keep), set(close))
    model.status = "optimal"
    model.gap = 0.0
    model.objective_value = model.total_cost
    model.solve_time_s = 0.0
    model.n_variables = model.n_constraints = 0
    model.assign_method = method
    model.seat_prices = prices
    return True


def _transport(model: LocationModel, k: np.ndarray, j: np.ndarray, cost: np.ndarray,
               is_open: np.ndarray, pupils: np.ndarray, part_k: np.ndarray, capacitated: bool,
               size_caps: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """The capacitated transport of the fixed layout as a linear programme over the pairs to open
    schools only (no open/closed variables, no linking rows): the shares and, per allowed pair, the
    seat price of its school (the dual of its binding seat and cap rows, cost per pupil), or None
    when the seats cannot take every pupil (the caller's exact model then reports the shortage)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    sch = model.schools
    n_s, n_k = len(sch), len(model.demand)
    live = np.flatnonzero(is_open[j])
    kl, jl = k[live], j[live]
    n = len(live)
    rows_k = np.unique(kl)
    row_of = np.full(n_k, -1)
    row_of[rows_k] = np.arange(len(rows_k))
    a_eq = coo_matrix((np.ones(n), (row_of[kl], np.arange(n))), shape=(len(rows_k), n))
    blocks, ub = [], []
    w = pupils[kl]
    part_all = part_k[k]
    caps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # live rows, limit, pairs it prices
    if capacitated:
        for pt in ("primary", "junior"):
            seats = sch[f"seats_{pt}"].to_numpy(float)
            caps.append(((part_k[kl] == pt) & np.isfinite(seats[jl]), seats, part_all == pt))
    if size_caps:
        caps.append((np.ones(n, dtype=bool), sch["size_cap"].to_numpy(float),
                     np.ones(len(k), dtype=bool)))
    kept = []
    for sel, limit, applies in caps:
        if sel.any():
            blocks.append(coo_matrix((w[sel], (jl[sel], np.flatnonzero(sel))), shape=(n_s, n)))
            ub.append(np.where(np.isfinite(limit), limit, 1e18))
            kept.append(applies)
    res = linprog(w * cost[live], A_ub=vstack(blocks).tocsr() if blocks else None,
                  b_ub=np.concatenate(ub) if ub else None, A_eq=a_eq.tocsr(),
                  b_eq=np.ones(len(rows_k)), bounds=(0, 1), method="highs")
    if res.status != 0 or res.x is None:
        return None
    share = np.zeros(len(k))
    share[live] = res.x
    price = np.zeros(len(k))  # per pupil: the duals of the seat and cap rows of the pair's school
    marg = np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0) if blocks else None
    for b, applies in enumerate(kept):
        assert marg is not None
        price += np.where(applies, marg[b * n_s:(b + 1) * n_s][j], 0.0)
    return share, price
