"""The capacitated assignment of a fixed layout, solved on the village groups that need it.

Once the open schools are fixed, the exact model's assignment (:meth:`LocationModel.solve` with
every school on must-keep or must-close) is a transport problem over the allowed pairs to open
schools: every village group fully assigned (or, in the least-shortage form, partly left without
a seat at a prohibitive cost per pupil), the pupils of each part within each school's seats of
that part and all pupils within its size cap. :func:`transport` solves it exactly but only on
an **active set** of village groups, the others kept where a start assignment puts them:

1. start: each village group where ``start`` puts it (default: its nearest open school); the
   active set is every village group with pupils at a school whose seats or cap that start
   exceeds (and the groups without any open allowed school, which go without a seat);
2. a linear programme (HiGHS, sparse) over the active groups' pairs only, against the seats
   left by the fixed groups; its duals are each school's **seat price** per pupil;
3. a fixed group is optimal too when every school it uses is one of its cheapest by travel plus
   seat price (complementary slackness); the groups that are not join the active set and step 2
   runs again. When none is left, the combined assignment is an optimum of the whole transport
   (primal feasible, its duals feasible for every pair, complementary slackness on every row).

Costs, with ``P`` allowed pairs to open schools, ``A`` active groups' pairs and ``S`` schools:
the start and each optimality check ``O(P + S)`` (one ``np.minimum.reduceat`` over the pairs
sorted by village group); each programme is the LP over ``A`` columns (in practice a few times
``A``; ``A`` is the pupils around the over-full schools, not the county or prefecture). The
rounds stop when the active set no longer grows (in practice 2-6; after ``max_rounds`` the whole
transport is solved). Warm start (the exact swaps of :mod:`.capacitated`): the assignment and seat
prices of the layout before a swap; a school outside a programme keeps its price, so only the
groups around the two swapped schools are solved again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Transport", "TransportProblem", "loads", "nearest_start", "transport"]

_TOL = 1e-6  # pupils: a seat row is exceeded beyond this
_RC_TOL = 1e-7  # relative: a fixed group is not optimal when it pays more than this over its best


@dataclass
class TransportProblem:
    """The arrays of one layout's transport over the allowed pairs (positions ``0..P-1``).

    ``k``, ``j``, ``cost``: village group, school and cost per pupil of each allowed pair,
    **sorted by village group** (the caller sorts once); ``pupils`` and ``part`` (0 primary,
    1 junior) per village group; ``limits`` a ``(3, S)`` array: primary seats, junior seats and
    size cap of each school (``inf`` where a row does not apply); ``penalty`` the cost per
    pupil left without a seat (the exact model's least-shortage cost)."""

    k: np.ndarray
    j: np.ndarray
    cost: np.ndarray
    pupils: np.ndarray
    part: np.ndarray
    limits: np.ndarray
    penalty: float

    def __post_init__(self) -> None:
        self.n_k = len(self.pupils)
        self.n_s = self.limits.shape[1]
        self.k_start = np.searchsorted(self.k, np.arange(self.n_k + 1))
        self.part_p = self.part[self.k]
        self.w_p = self.pupils[self.k]


@dataclass
class Transport:
    """An optimal assignment of a layout: ``share`` per allowed pair (0 to closed schools),
    ``unplaced`` share per village group, ``price`` per allowed pair (the seat and cap prices of
    its school for its village group's part, per pupil), ``travel`` (pupil-cost units, without
    the unplaced), ``shortage`` (pupils without a seat), ``rounds`` (programmes solved, 0 when
    the start already fits) and ``active`` (village groups in the last programme)."""

    share: np.ndarray
    unplaced: np.ndarray
    price: np.ndarray
    school_price: np.ndarray
    travel: float
    shortage: float
    rounds: int
    active: int


def nearest_start(tp: TransportProblem, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each village group to its nearest open allowed school (ties: the first pair), ``O(P)``;
    the groups without one unplaced."""
    val = np.where(is_open[tp.j], tp.cost, np.inf)
    share = np.zeros(len(tp.k))
    unplaced = np.zeros(tp.n_k)
    best = _group_min(tp, val)
    has = np.isfinite(best)
    first = np.full(tp.n_k, -1, dtype=np.int64)
    hit = np.flatnonzero(np.isfinite(val) & (val <= best[tp.k]))
    # the first hit of each group (hits are sorted by position, hence by group)
    g = tp.k[hit]
    keep = np.ones(len(hit), dtype=bool)
    keep[1:] = g[1:] != g[:-1]
    first[g[keep]] = hit[keep]
    share[first[has]] = 1.0
    unplaced[~has] = 1.0
    return share, unplaced


def _group_min(tp: TransportProblem, val: np.ndarray) -> np.ndarray:
    """Minimum of ``val`` over each village group's pairs (``inf`` for a group without), O(P)."""
    out = np.full(tp.n_k, np.inf)
    nonempty = tp.k_start[:-1] < tp.k_start[1:]
    if len(val):
        out[nonempty] = np.minimum.reduceat(val, tp.k_start[:-1][nonempty])
    return out


def loads(tp: TransportProblem, share: np.ndarray, mask: np.ndarray | bool = True) -> np.ndarray:
    """Pupils per row (primary, junior, all) and school of the pairs in ``mask``: ``O(P)``."""
    out = np.zeros((3, tp.n_s))
    wx = tp.w_p * share * mask
    for r in (0, 1):
        sel = tp.part_p == r
        out[r] = np.bincount(tp.j[sel], weights=wx[sel], minlength=tp.n_s)
    out[2] = out[0] + out[1]
    return out


def transport(tp: TransportProblem, is_open: np.ndarray, *, start: tuple[np.ndarray, np.ndarray]
              | None = None, prices: np.ndarray | None = None, max_rounds: int = 50) -> Transport:
    """The least-travel assignment of the layout ``is_open`` within every seat and cap, pupils
    left without a seat only where the seats cannot take them (see the module).

    ``start`` (shares per pair, unplaced per group) is any assignment (default
    :func:`nearest_start`; shares to closed schools are dropped and their groups solved again);
    ``prices`` (``(3, S)``) the seat prices the start is optimal for, when it came from an
    earlier transport (e.g. of the layout before a swap; a school opened since is priced 0):
    then the groups that prefer a newly opened school are found before the first programme.
    After ``max_rounds`` programmes every group joins the next one (the whole transport)."""
    n_k = tp.n_k
    share, unplaced = nearest_start(tp, is_open) if start is None else (start[0].copy(),
                                                                         start[1].copy())
    live = is_open[tp.j]
    share[~live] = 0.0
    has_live = np.zeros(n_k, dtype=bool)
    has_live[tp.k[live]] = True
    # groups whose start lost its school (closed): active
    placed = np.bincount(tp.k, weights=share, minlength=n_k) + unplaced
    act = np.abs(placed - 1.0) > 1e-9
    over = loads(tp, share, live) > tp.limits + _TOL
    if over.any():
        bad_p = over[tp.part_p, tp.j] | over[2, tp.j]
        act[tp.k[bad_p & (share > 0)]] = True
    # groups without an open allowed school go without a seat (the exact model: no_seat)
    share[~has_live[tp.k]] = 0.0
    unplaced[~has_live] = 1.0
    school_price = (np.zeros((3, tp.n_s)) if prices is None
                    else np.where(is_open[None, :], prices, 0.0))

    def per_pair(sp: np.ndarray) -> np.ndarray:
        return sp[tp.part_p, tp.j] + sp[2, tp.j]

    def violators(price: np.ndarray) -> np.ndarray:
        """Fixed groups not at one of their cheapest schools by travel plus seat price (or
        without a seat while a seat is cheaper than the penalty): ``O(P)``."""
        val = np.where(live, tp.cost + price, np.inf)
        best = np.minimum(_group_min(tp, val), tp.penalty)
        scale = np.maximum(np.abs(best), 1.0) * _RC_TOL
        bad = (share > 1e-9) & ~act[tp.k] & (val > best[tp.k] + scale[tp.k])
        grow = np.zeros(n_k, dtype=bool)
        grow[tp.k[bad]] = True
        grow |= ~act & (unplaced > 1e-9) & (tp.penalty > best + scale)
        return grow & has_live

    price = per_pair(school_price)
    act = (act | violators(price)) & has_live
    unplaced[act] = 0.0
    rounds = 0
    while act.any():
        rounds += 1
        if rounds > max_rounds:
            act = has_live.copy()
        a_pair = live & act[tp.k]
        fixed_load = loads(tp, share, live & ~act[tp.k])
        x, u, lp_price, has_row = _solve(tp, a_pair, act, tp.limits - fixed_load)
        # rows outside the programme keep their price: no active group touches them, their
        # load is the start's, tight where the start's price is positive
        school_price = np.where(has_row, lp_price, school_price)
        share[a_pair] = x
        unplaced[act] = u
        price = per_pair(school_price)
        if rounds > max_rounds:
            break
        grow = violators(price)
        if not grow.any():
            break
        act |= grow
    travel = float((tp.w_p * share * tp.cost).sum())
    return Transport(share=share, unplaced=unplaced, price=price, school_price=school_price,
                     travel=travel, shortage=float((tp.pupils * unplaced).sum()), rounds=rounds,
                     active=int(act.sum()))


def _solve(tp: TransportProblem, a_pair: np.ndarray, act: np.ndarray,
           room: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The programme over the active groups: shares of their pairs, their unplaced shares, the
    seat prices per row and school (``(3, S)``, per pupil, >= 0) and which rows it has."""
    from scipy.optimize import linprog  # here: a slow import (start-up)
    from scipy.sparse import csr_matrix

    pos = np.flatnonzero(a_pair)
    groups = np.flatnonzero(act)
    n_x, n_g = len(pos), len(groups)
    row_of = np.full(tp.n_k, -1)
    row_of[groups] = np.arange(n_g)
    kk, jj = tp.k[pos], tp.j[pos]
    w = tp.w_p[pos]
    c = np.r_[w * tp.cost[pos], tp.pupils[groups] * tp.penalty]
    a_eq = csr_matrix((np.ones(n_x + n_g), (np.r_[row_of[kk], np.arange(n_g)],
                                            np.r_[np.arange(n_x), n_x + np.arange(n_g)])),
                      shape=(n_g, n_x + n_g))
    rows, cols, vals, b, refs = [], [], [], [], []
    n_rows = 0
    for r in range(3):
        sel = np.isfinite(tp.limits[r, jj]) & ((tp.part_p[pos] == r) if r < 2 else True)
        if not sel.any():
            continue
        js = np.unique(jj[sel])
        idx = np.full(tp.n_s, -1)
        idx[js] = n_rows + np.arange(len(js))
        rows.append(idx[jj[sel]])
        cols.append(np.flatnonzero(sel))
        vals.append(w[sel])
        b.append(np.maximum(room[r, js], 0.0))
        refs.append((r, js))
        n_rows += len(js)
    a_ub = (csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n_rows, n_x + n_g)) if n_rows else None)
    res = linprog(c, A_ub=a_ub, b_ub=np.concatenate(b) if n_rows else None, A_eq=a_eq,
                  b_eq=np.ones(n_g), bounds=(0, None), method="highs")
    if res.x is None:  # the unplaced columns make every programme feasible
        raise RuntimeError(f"the transport programme could not be solved: {res.message}")
    prices = np.zeros((3, tp.n_s))
    has_row = np.zeros((3, tp.n_s), dtype=bool)
    for r, js in refs:
        has_row[r, js] = True
    if n_rows:
        marg = np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0)
        start = 0
        for r, js in refs:
            prices[r, js] = marg[start:start + len(js)]
            start += len(js)
    return res.x[:n_x], res.x[n_x:], prices, has_row
