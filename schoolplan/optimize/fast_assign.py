"""The assignment of a fixed layout without the exact model's programme.

Once the open schools are fixed, the exact model's assignment (:meth:`LocationModel.solve` with
every school on must-keep or must-close) is a transport problem: least pupil travel under the
seats of each school part and the size caps. Its unconstrained minimum sends every village group
to its **nearest open allowed candidate**; when that assignment already meets every seat and size
cap it is feasible, hence optimal, and no programme is needed (same total travel; ties between
equally near schools may be broken differently). When a seat or cap binds, the transport is
solved on the village groups around the over-full schools only (:func:`.transport.transport`,
exact for the whole layout); when the seats cannot take every pupil it is the least-shortage
assignment, as the exact model's ``least_shortage`` for the layout.

Cost, with ``P`` allowed candidate pairs and ``S`` schools: :func:`layout_problem` once per
search ``O(P log P)`` (one sort); the nearest open school and the loads ``O(P + S)``; the
transport when seats bind, see :mod:`.transport`; the result tables as
:meth:`LocationModel.solve` writes them ``O(P log P)``.
"""

from __future__ import annotations

import numpy as np

from schoolplan.catchments import PART_OF_GROUP
from schoolplan.optimize.model import LocationModel
from schoolplan.optimize.transport import (
    Transport,
    TransportProblem,
    loads,
    nearest_start,
    transport,
)

__all__ = ["layout_problem", "nearest_open_assignment", "write_assignment"]


def layout_problem(model: LocationModel, allowed: np.ndarray, *, capacitated: bool = True,
                   size_caps: bool = True) -> tuple[TransportProblem, np.ndarray]:
    """The transport arrays of ``model``'s allowed pairs, and the positions (among the allowed
    pairs, in the order of ``model.pairs[allowed]``) of the problem's pairs."""
    sch, dem = model.schools, model.demand
    pos = np.flatnonzero(allowed)
    k = model.pairs["k"].to_numpy()[pos]
    order = np.argsort(k, kind="stable")
    j = model.pairs["j"].to_numpy()[pos][order]
    cost = model.pairs["cost"].to_numpy(float)[pos][order]
    part = (dem["group"].map(PART_OF_GROUP).to_numpy() == "junior").astype(np.int64)
    n_s = len(sch)
    limits = np.full((3, n_s), np.inf)
    if capacitated:
        limits[0] = sch["seats_primary"].to_numpy(float)
        limits[1] = sch["seats_junior"].to_numpy(float)
    if size_caps:
        limits[2] = sch["size_cap"].to_numpy(float)
    limits[~np.isfinite(limits)] = np.inf
    top = float(cost.max()) if len(cost) else 1.0
    tp = TransportProblem(k=k[order], j=j, cost=cost, pupils=dem["pupils"].to_numpy(float),
                          part=part, limits=limits, penalty=10.0 * top + 1e5)
    return tp, order


def fits(tp: TransportProblem, share: np.ndarray) -> bool:
    """Whether an assignment meets every seat and cap row, ``O(P + S)``."""
    return not bool((loads(tp, share) > tp.limits + 1e-6).any())


def write_assignment(model: LocationModel, allowed: np.ndarray, order: np.ndarray,
                     is_open: np.ndarray, keep: set, close: set, got: Transport,
                     method: str) -> None:
    """Write the result attributes of ``model`` as :meth:`LocationModel.solve` does for the
    assignment ``got`` of the layout (``status="optimal"`` for this layout; pupils without a seat
    as the least-shortage model reports them)."""
    n_a = int(allowed.sum())
    share = np.zeros(n_a)
    share[order] = got.share
    ks = np.unique(model.pairs["k"].to_numpy()[allowed])
    x = np.r_[is_open.astype(float), share, got.unplaced[ks]]
    model._reset()
    model._collect(x, allowed, set(keep), set(close), unplaced=True)
    model.status = "optimal"
    model.gap = 0.0
    model.objective_value = model.total_cost
    model.solve_time_s = 0.0
    model.n_variables = model.n_constraints = 0
    model.assign_method = method
    prices = np.zeros(n_a)
    prices[order] = got.price
    model.seat_prices = prices


def assign_layout(tp: TransportProblem, is_open: np.ndarray, *, allow_split: bool = True,
                  start: tuple[np.ndarray, np.ndarray] | None = None,
                  prices: np.ndarray | None = None) -> tuple[Transport, str] | None:
    """The exact assignment of a layout: nearest open school when it fits (``nearest_open``),
    else the transport (``transport``); None when seats bind and ``allow_split`` is off (each
    village group must then go whole to one school: the exact model's programme is needed)."""
    share, unplaced = nearest_start(tp, is_open)
    if fits(tp, share):
        travel = float((tp.w_p * share * tp.cost).sum())
        return Transport(share=share, unplaced=unplaced, price=np.zeros(len(tp.k)),
                         school_price=np.zeros((3, tp.n_s)), travel=travel,
                         shortage=float((tp.pupils * unplaced).sum()), rounds=0,
                         active=0), "nearest_open"
    if not allow_split:
        return None
    return transport(tp, is_open, start=start, prices=prices), "transport"


def nearest_open_assignment(model: LocationModel, allowed: np.ndarray, is_open: np.ndarray,
                            keep: set, close: set, *, capacitated: bool = True,
                            size_caps: bool = True, allow_split: bool = True) -> bool:
    """Assign the layout ``is_open`` exactly as the exact model would (see the module) and write
    the result attributes of ``model``; return False (``model`` untouched) when seats bind and
    ``allow_split`` is off (the exact programme decides then). A village group whose allowed
    schools are all closed, or whose pupils the seats cannot take, is reported without a seat
    (``model.shortage_pupils``), as the exact model's ``least_shortage`` does."""
    tp, order = layout_problem(model, allowed, capacitated=capacitated, size_caps=size_caps)
    got = assign_layout(tp, is_open, allow_split=allow_split)
    if got is None:
        return False
    write_assignment(model, allowed, order, is_open, keep, close, got[0], got[1])
    return True
