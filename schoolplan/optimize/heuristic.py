"""A fast layout heuristic for interactive use: greedy + vertex interchange (Teitz & Bart, 1968).

:func:`solve_heuristic` chooses which ``p`` schools stay open under the same hard rules as the
exact model of :class:`~schoolplan.optimize.LocationModel` (must-keep and must-close lists, a
school teaching grades 7–9 in every town that has one, the grades 1–3 time limit through the
allowed candidate pairs, the same pre-checks and messages), then hands the chosen layout to the
assignment, which is always the exact model's assignment of that layout (same seats, size caps
and total travel): each village group to its nearest open allowed school when that meets every
seat and size cap (:mod:`.fast_assign`, no programme), else the capacitated transport solved on
the village groups around the over-full schools (:mod:`.transport`), and then, because the
search's travel is no longer the layout's, the layout is improved on the capacitated objective
(:mod:`.capacitated`: a search with seat prices, then the best ranked swaps evaluated exactly).
Only when seats bind and ``allow_split`` is off is the exact model run with every school fixed
open or closed. ``model.assign_method`` says which (``nearest_open``, ``transport`` or
``exact``). When the layout's seats cannot take every pupil, the assignment is the
least-shortage one and the pupils without a seat are reported (``heuristic_shortage``).

Search (on pupil travel to the nearest open allowed candidate; seats enter the search only as
a necessary condition: with ``capacitated``, no step leaves the open schools fewer seats in total,
per part, than there are pupils; they are met school by school in the final assignment):

1. **greedy**: from the must-keep schools (and, town by town, the best school teaching grades
   7–9 where a town needs one) add the school that saves most travel until ``p`` are open; or,
   when ``p`` is more than half the allowed schools, start from all and close the school whose
   closing costs least (keeping each town's last junior-teaching school) until ``p`` remain;
2. **interchange**: for every open school, the best swap with a closed one (the saving of each
   swap from the nearest and second-nearest open school of every village group, computed for all
   closed schools at once), applied when it lowers travel; passes repeat until none does (at most
   ``optimise_heuristic_max_passes``).

Step costs, with ``P`` candidate pairs, ``K`` village groups and ``S`` schools: nearest and
second-nearest open school ``O(P)``; each greedy step ``O(P)`` (``min(p, S - p)`` steps); each
interchange candidate ``O(pairs of its villages + S)``, an accepted swap ``O(P + K log K)``.
Candidates are evaluated a chunk of open schools at a time (one chunk x ``S`` matrix; the
first improving swap in order is made, as one school at a time would). When seats bind: the
transport, see :mod:`.transport`; a priced search ``O(P + R log R)`` to re-sort the ``R`` pairs
of the village groups with a seat price, then the interchange; the ranking of the exact swaps
one pass over the schools near a seat price; each exact swap a warm transport.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from schoolplan.catchments import PART_OF_GROUP
from schoolplan.errors import SchoolplanError
from schoolplan.optimize.capacitated import credit_of, improve
from schoolplan.optimize.capacitated import objective as seat_objective
from schoolplan.optimize.fast_assign import assign_layout, layout_problem, write_assignment
from schoolplan.optimize.model import InfeasibleError, LocationModel, ModelInputError, Objective
from schoolplan.optimize.transport import Transport

__all__ = ["optimality_gap", "solve_heuristic"]

logger = logging.getLogger(__name__)

_UNLIMITED = 1e12  # seats of a school whose seats are unknown (finite, so totals subtract)


def optimality_gap(heuristic_cost: float, exact_cost: float) -> float:
    """Relative gap of a heuristic's total travel to the exact optimum (0.004 = 0.4 % worse)."""
    if exact_cost <= 0:
        return 0.0 if heuristic_cost <= exact_cost else float("inf")
    return (heuristic_cost - exact_cost) / exact_cost


class _Search:
    """Arrays of the allowed pairs, sorted by village group then cost, and the open layout."""

    def __init__(self, model: LocationModel, allowed: np.ndarray, extra: np.ndarray | None = None):
        pr = model.pairs[allowed]
        cost = pr["cost"].to_numpy(float) + (0.0 if extra is None else extra)
        order = np.lexsort((cost, pr["k"].to_numpy()))
        self.order = order  # position among the allowed pairs of each pair here
        self.base_cost = pr["cost"].to_numpy(float)[order]  # without ``extra``
        self.k = pr["k"].to_numpy()[order]
        self.j = pr["j"].to_numpy()[order]
        self.cost = cost[order]
        self.n_k = len(model.demand)
        self.n_s = len(model.schools)
        self.w = model.demand["pupils"].to_numpy(float)
        # an uncovered village group costs more than any trip (the exact model forbids it)
        self.penalty = 10.0 * (float(self.cost.max()) if len(self.cost) else 1.0) + 1e5
        self.covered = np.zeros(self.n_k, dtype=bool)
        self.covered[self.k] = True
        # pairs of each village group: k -> positions (sorted by cost)
        self.k_start = np.searchsorted(self.k, np.arange(self.n_k + 1))
        # seats by part (unknown = unlimited) and the pupils of the covered groups by part
        part = model.demand["group"].map(PART_OF_GROUP).to_numpy()
        self.seats = np.column_stack([model.schools[f"seats_{pt}"].fillna(_UNLIMITED)
                                      .to_numpy(float) for pt in ("primary", "junior")])
        self.need = np.array([self.w[self.covered & (part == pt)].sum()
                              for pt in ("primary", "junior")])
        self.capacitated = True
        self.j2 = np.full(self.n_k, -1, dtype=np.int64)  # second-nearest open school (nearest2)

    def reprice(self, extra: np.ndarray) -> _Search:
        """This search with each pair's cost (without an earlier ``extra``) raised by ``extra``
        (in the order of the allowed pairs): only the village groups with a raised pair are
        sorted again, ``O(P + R log R)`` for ``R`` pairs of those groups."""
        new = copy.copy(self)
        cost = self.base_cost + extra[self.order]
        pos = self.pairs_of(np.unique(self.k[extra[self.order] > 0]))
        perm = np.arange(len(cost))
        perm[pos] = pos[np.lexsort((cost[pos], self.k[pos]))]  # within each group's pairs
        new.order, new.j = self.order[perm], self.j[perm]
        new.cost, new.base_cost = cost[perm], self.base_cost[perm]
        new.penalty = 10.0 * (float(new.cost.max()) if len(new.cost) else 1.0) + 1e5
        new.j2 = np.full(self.n_k, -1, dtype=np.int64)
        return new

    def pairs_of(self, groups: np.ndarray) -> np.ndarray:
        """Positions of every pair of the village groups ``groups``: ``O(their pairs)``."""
        lens = self.k_start[groups + 1] - self.k_start[groups]
        return (np.repeat(self.k_start[groups] - np.cumsum(lens) + lens, lens)
                + np.arange(int(lens.sum())))

    def near(self, is_open: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Mask of the nearest and second-nearest open schools of the village groups
        ``groups`` (under this search's costs): ``O(P)``."""
        _, _, j1 = self.nearest2(is_open)
        out = np.zeros(self.n_s, dtype=bool)
        for js in (j1[groups], self.j2[groups]):
            out[js[js >= 0]] = True
        return out

    def seats_ok(self, is_open: np.ndarray, drop: np.ndarray, add: int | None = None) -> np.ndarray:
        """For each school in ``drop`` (mask), whether the open schools' seats in total (after
        closing it, and opening ``add``) still cover the pupils of each part: a necessary
        condition of a capacitated layout, ``O(S)``."""
        if not self.capacitated:
            return np.ones(self.n_s, dtype=bool)
        total = self.seats[is_open].sum(axis=0)
        if add is not None:
            total = total + self.seats[add]
        left = total[None, :] - self.seats
        return drop & np.all(left >= self.need[None, :] - 1e-6, axis=1)

    def nearest2(self, is_open: np.ndarray):
        """Cost of the nearest and second-nearest open school of every village group, and the
        nearest's index (``-1`` when none): ``O(P)``."""
        idx = np.flatnonzero(is_open[self.j])
        kk = self.k[idx]
        first = np.ones(len(idx), dtype=bool)
        first[1:] = kk[1:] != kk[:-1]
        pos = np.flatnonzero(first)
        fk = kk[pos]
        best1 = np.full(self.n_k, self.penalty)
        best2 = np.full(self.n_k, self.penalty)
        j1 = np.full(self.n_k, -1, dtype=np.int64)
        best1[fk] = self.cost[idx[pos]]
        j1[fk] = self.j[idx[pos]]
        nxt = pos + 1
        ok = nxt < len(idx)
        ok[ok] = kk[nxt[ok]] == fk[ok]
        best2[fk[ok]] = self.cost[idx[nxt[ok]]]
        self.j2 = np.full(self.n_k, -1, dtype=np.int64)
        self.j2[fk[ok]] = self.j[idx[nxt[ok]]]
        return best1, best2, j1

    def total(self, best1: np.ndarray) -> float:
        return float((self.w * best1)[self.covered].sum())


Family = tuple[np.ndarray, int]  # school -> group index (-1: none), number of groups


def _families(model: LocationModel, close: set, town_rule: bool,
              keep_one_of: list[list[Any]]) -> list[Family]:
    """The "at least one open school in each group" rules as school -> group arrays: the
    junior-teaching schools of each town that needs one, and the keep-one-of lists (lists that
    share a school go to separate arrays)."""
    n_s = len(model.schools)
    fams: list[list[Any]] = []
    if town_rule:
        needing = [ids for ids in model._needing_towns(close).values() if ids]
        of = np.full(n_s, -1, dtype=np.int64)
        flat = [i for ids in needing for i in ids]
        of[model.schools.index.get_indexer(flat)] = np.repeat(np.arange(len(needing)),
                                                               [len(ids) for ids in needing])
        fams.append([of, len(needing)])
    lists = [[i for i in ids if i not in close] for ids in keep_one_of]
    for ids in lists:
        js = model.schools.index.get_indexer(ids)
        for fam in fams[1 if town_rule else 0:]:
            if (fam[0][js] < 0).all():
                break
        else:
            fam = [np.full(n_s, -1, dtype=np.int64), 0]
            fams.append(fam)
        fam[0][js] = fam[1]
        fam[1] += 1
    return [(f[0], f[1]) for f in fams]


def _last(is_open: np.ndarray, fams: list[Family]) -> np.ndarray:
    """Open schools that are the last open one of a group of any family: ``O(S)`` per family."""
    last = np.zeros(len(is_open), dtype=bool)
    for of, n in fams:
        cnt = np.bincount(of[is_open & (of >= 0)], minlength=max(n, 1))
        last |= (of >= 0) & (cnt[np.maximum(of, 0)] <= 1)
    return last & is_open


def _drop_batch(s: _Search, is_open: np.ndarray, loss: np.ndarray, j1: np.ndarray, room: int,
                fams: list[Family]) -> int:
    """Close, in order of least loss, up to ``max(1, room // 4)`` schools whose losses do not
    interact (no village group has two of them as its nearest and second-nearest open school,
    no two of the same group of a family): the loss of each is then exactly what the
    one-at-a-time greedy step computes, so a batch costs one ``O(P)`` pass instead of one per
    school. Returns the number closed."""
    limit = max(1, room // 4)
    order = np.argsort(loss, kind="stable")
    cands = order[:max(4 * limit, 16)] if limit > 1 else order[:1]
    is_c = np.zeros(s.n_s, dtype=bool)
    is_c[cands] = True
    # pairs of candidates that are some village group's nearest and second-nearest: O(K)
    hit = (j1 >= 0) & (s.j2 >= 0)
    hit[hit] = is_c[j1[hit]] & is_c[s.j2[hit]]
    pair_of: dict[int, set[int]] = {}
    for a, b in set(zip(j1[hit].tolist(), s.j2[hit].tolist(), strict=True)):
        pair_of.setdefault(a, set()).add(b)
        pair_of.setdefault(b, set()).add(a)
    chosen: list[int] = []
    blocked: set[int] = set()
    groups_used: list[set[int]] = [set() for _ in fams]
    total = s.seats[is_open].sum(axis=0)
    for a in cands.tolist():
        if len(chosen) >= limit or not np.isfinite(loss[a]):
            break
        if a in blocked or any(of[a] >= 0 and of[a] in used
                               for (of, _), used in zip(fams, groups_used, strict=True)):
            continue
        if s.capacitated and not np.all(total - s.seats[a] >= s.need - 1e-6):
            continue
        chosen.append(a)
        total = total - s.seats[a]
        blocked |= pair_of.get(a, set())
        for (of, _), used in zip(fams, groups_used, strict=True):
            if of[a] >= 0:
                used.add(int(of[a]))
    is_open[chosen] = False
    return len(chosen)


def _greedy(s: _Search, p: int, keep: np.ndarray, allowed_open: np.ndarray,
            fams: list[Family]) -> np.ndarray:
    n_allowed = int(allowed_open.sum())
    if p > n_allowed / 2:  # drop: start from every allowed school
        is_open = allowed_open.copy()
        while is_open.sum() > p:
            best1, best2, j1 = s.nearest2(is_open)
            hit = j1 >= 0
            loss = np.bincount(j1[hit], weights=(s.w * (best2 - best1))[hit], minlength=s.n_s)
            last = _last(is_open, fams)
            loss[~is_open | keep | last | ~s.seats_ok(is_open, is_open)] = np.inf
            dropped = _drop_batch(s, is_open, loss, j1, int(is_open.sum()) - p, fams)
            if not dropped and s.capacitated:
                # no p schools left this way have the seats in total: search on travel alone
                # (the seats then enter through the transport and its prices, :mod:`.capacitated`)
                s.capacitated = False
            elif not dropped:
                break
        return is_open
    is_open = keep.copy()

    def add_best(mask: np.ndarray) -> bool:
        best1, _, _ = s.nearest2(is_open)
        gain = np.bincount(s.j, weights=s.w[s.k] * np.maximum(best1[s.k] - s.cost, 0.0),
                           minlength=s.n_s)
        gain[~mask | is_open] = -np.inf
        b = int(np.argmax(gain))
        if not np.isfinite(gain[b]):
            return False
        is_open[b] = True
        return True

    for of, n in fams:  # each town that needs one: its best junior-teaching school (clusters alike)
        for t in range(n):
            if not (is_open & (of == t)).any():
                add_best(allowed_open & (of == t))
    while is_open.sum() < p and add_best(allowed_open):
        pass
    return is_open


def _by_nearest(s: _Search, j1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Village groups sorted by their nearest open school, and each school's slice: ``O(K log K)``."""
    order = np.argsort(j1, kind="stable")
    return order, np.searchsorted(j1[order], np.arange(-1, s.n_s + 1))[1:]


_CHUNK = 128  # open schools whose swaps are evaluated together (a chunk x S matrix)


def _swap_deltas(s: _Search, rows: np.ndarray, is_open: np.ndarray, allowed_open: np.ndarray,
                 fams: list[Family], state: dict,
                 credit: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """For each open school of ``rows``, the closed school whose swap with it changes travel
    (plus the seat credit of a priced search) least, and that change (``inf`` where the rules
    forbid every swap)."""
    delta = _delta_matrix(s, rows, is_open, allowed_open, fams, state, credit)
    b = np.argmin(delta, axis=1)
    return b, delta[np.arange(len(rows)), b]


def _delta_matrix(s: _Search, rows: np.ndarray, is_open: np.ndarray, allowed_open: np.ndarray,
                  fams: list[Family], state: dict, credit: np.ndarray | None) -> np.ndarray:
    """The change of travel (plus seat credit) of swapping each open school of ``rows`` with
    each school (``inf`` where the rules forbid it): one ``len(rows) x S`` matrix,
    ``O(pairs of the rows' village groups + len(rows) S)``."""
    best1, best2, g0 = state["best1"], state["best2"], state["g0"]
    order, start = state["by_nearest"]
    n_r, n_s = len(rows), s.n_s
    lens = start[rows + 1] - start[rows]
    at = np.repeat(start[rows] - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    groups = order[at]
    row_of = np.repeat(np.arange(n_r), lens)
    loss = np.bincount(row_of, weights=s.w[groups] * (best2[groups] - best1[groups]),
                       minlength=n_r)
    pos = s.pairs_of(groups)
    row_of_pair = np.repeat(row_of, s.k_start[groups + 1] - s.k_start[groups])
    kk = s.k[pos]
    corr = s.w[kk] * (np.minimum(s.cost[pos] - best2[kk], 0.0)
                      - np.minimum(s.cost[pos] - best1[kk], 0.0))
    delta = np.bincount(row_of_pair * n_s + s.j[pos], weights=corr,
                        minlength=n_r * n_s).reshape(n_r, n_s)
    delta = g0[None, :] + delta + loss[:, None]
    if credit is not None:
        delta += credit[rows][:, None] - credit[None, :]
    delta[:, ~(allowed_open & ~is_open)] = np.inf
    # a town's last junior-teaching school: swap within the town only
    for (of, _), cnt in zip(fams, state["counts"], strict=True):
        last = (of[rows] >= 0) & (cnt[np.maximum(of[rows], 0)] <= 1)
        if last.any():
            sub = delta[last]
            sub[of[None, :] != of[rows[last]][:, None]] = np.inf
            delta[last] = sub
    if s.capacitated:
        total = state["seats"][None, :] - s.seats[rows]  # rows x parts
        ok = np.all(total[:, None, :] + s.seats[None, :, :] >= s.need[None, None, :] - 1e-6,
                    axis=2)
        delta[~ok] = np.inf
    return delta


def _state(s: _Search, is_open: np.ndarray, fams: list[Family]) -> dict:
    """What the swap deltas of a layout need: ``O(P + K log K + S)``, once per accepted swap."""
    best1, best2, j1 = s.nearest2(is_open)
    g0 = np.bincount(s.j, weights=s.w[s.k] * np.minimum(s.cost - best1[s.k], 0.0),
                     minlength=s.n_s)  # travel saved by opening each school
    return {"best1": best1, "best2": best2, "j1": j1, "g0": g0, "now": s.total(best1),
            "by_nearest": _by_nearest(s, j1), "seats": s.seats[is_open].sum(axis=0),
            "counts": [np.bincount(of[is_open & (of >= 0)], minlength=max(n, 1))
                       for of, n in fams]}


def _interchange(s: _Search, is_open: np.ndarray, keep: np.ndarray, allowed_open: np.ndarray,
                 fams: list[Family], max_passes: int,
                 credit: np.ndarray | None = None) -> tuple[np.ndarray, int, int]:
    """Teitz–Bart passes; returns the layout, swaps made and passes run. ``credit`` (per school,
    pupil-cost units) is what keeping a school open is worth beyond its pupils' travel (the
    seat prices times the seats of a priced search, :mod:`.capacitated`)."""
    swaps = passes = 0
    state = _state(s, is_open, fams)
    while passes < max_passes:
        passes += 1
        improved = False
        cands = np.flatnonzero(is_open & ~keep)
        i = 0
        while i < len(cands):  # in order, as one school at a time: the first improving swap
            chunk = cands[i:i + _CHUNK]
            b, d = _swap_deltas(s, chunk, is_open, allowed_open, fams, state, credit)
            hit = np.flatnonzero(d < -1e-9 * max(state["now"], 1.0))
            i += int(hit[0]) + 1 if len(hit) else len(chunk)
            if len(hit):
                a, c = int(chunk[hit[0]]), int(b[hit[0]])
                is_open[a], is_open[c] = False, True
                state = _state(s, is_open, fams)
                swaps += 1
                improved = True
        if not improved:
            break
    return is_open, swaps, passes


def _ranked_swaps(s: _Search, is_open: np.ndarray, keep: np.ndarray, allowed_open: np.ndarray,
                  fams: list[Family], credit: np.ndarray, look: np.ndarray,
                  per_school: int = 1) -> list[tuple[int, int]]:
    """For every open school in ``look`` the swaps with the ``per_school`` closed schools of
    least priced delta, best first (the candidates of the exact swaps, :mod:`.capacitated`):
    one interchange pass over those schools."""
    state = _state(s, is_open, fams)
    rows = np.flatnonzero(is_open & ~keep & look)
    found: list[tuple[float, int, int]] = []
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i:i + _CHUNK]
        delta = _delta_matrix(s, chunk, is_open, allowed_open, fams, state, credit)
        n_b = min(per_school, s.n_s)
        b = np.argpartition(delta, n_b - 1, axis=1)[:, :n_b]
        d = np.take_along_axis(delta, b, axis=1)
        ok = np.isfinite(d)
        found += zip(d[ok].tolist(), np.repeat(chunk[:, None], n_b, axis=1)[ok].tolist(),
                     b[ok].tolist(), strict=True)
    return [(int(a), int(b)) for _, a, b in sorted(found)]


def solve_heuristic(
    model: LocationModel,
    objective: str = "p_median",
    *,
    p: int | None = None,
    must_keep: Iterable[Any] = (),
    must_close: Iterable[Any] = (),
    capacitated: bool = True,
    allow_split: bool = True,
    max_time_g1_3_s: float | None = None,
    junior_school_per_town: bool = True,
    size_caps: bool = True,
    time_limit_s: float = 60.0,
    max_time_s: dict[str, float] | None = None,
    max_added_time_s: float | None = None,
    baseline_time_s: Any = None,
    keep_one_of: Iterable[Iterable[Any]] = (),
) -> LocationModel:
    """Choose ``p`` open schools by greedy + interchange, then assign (see the module).

    ``objective`` is ``"p_median"`` or ``"least_shortage"`` (both need ``p``); the other
    parameters are those of :meth:`LocationModel.solve`. The model's result attributes are set
    as by :meth:`LocationModel.solve`, with ``status`` ``"heuristic"`` (or
    ``"heuristic_shortage"`` when the layout's seats leave pupils without a seat; see
    ``shortage_pupils``) and ``solve_time_s`` covering search and assignment.

    Raises
    ------
    InfeasibleError
        From the same pre-checks as the exact model (towns, ``p``, seats in total ...).
    ModelInputError
        For another objective, a missing ``p`` or unknown school ids.
    """
    if objective not in ("p_median", "least_shortage"):
        raise ModelInputError(f"objective was {objective!r} but the heuristic solves "
                              "'p_median' or 'least_shortage'")
    if p is None or isinstance(p, bool) or int(p) != p or p < 1:
        raise ModelInputError(f"p was {p!r} but the heuristic needs a whole number of schools >= 1")
    p = int(p)
    t0 = time.perf_counter()
    sch = model.schools
    keep_ids, close_ids = list(dict.fromkeys(must_keep)), list(dict.fromkeys(must_close))
    unknown = [i for i in keep_ids + close_ids if i not in sch.index]
    if unknown:
        raise ModelInputError(f"must_keep/must_close name unknown school ids: {unknown[:8]}")
    steer = {"max_time_s": max_time_s, "max_added_time_s": max_added_time_s,
             "baseline_time_s": baseline_time_s, "keep_one_of": keep_one_of}
    opts = model.options(capacitated=capacitated, junior=junior_school_per_town, caps=size_caps,
                         allow_split=allow_split, time_limit_s=time_limit_s,
                         max_time_g1_3_s=max_time_g1_3_s, **steer)
    limit = opts["limit"]
    allowed, exemptions = model._allowed_pairs(opts, set(close_ids))
    reasons = model._precheck(objective, p, keep_ids, close_ids, allowed, limit, opts)
    if reasons:
        raise InfeasibleError(reasons)
    search = _Search(model, allowed)
    search.capacitated = capacitated
    keep = sch.index.isin(keep_ids)
    allowed_open = ~sch.index.isin(close_ids)
    fams = _families(model, set(close_ids), junior_school_per_town, opts["keep_one_of"])
    is_open = _greedy(search, p, keep, allowed_open, fams)
    greedy_cost = search.total(search.nearest2(is_open)[0])
    is_open, swaps, passes = _interchange(search, is_open, keep, allowed_open, fams,
                                          int(model.settings["optimise_heuristic_max_passes"]))
    search_s = time.perf_counter() - t0
    open_ids = sch.index[is_open].tolist()
    closed_ids = sch.index[~is_open].tolist()
    if len(open_ids) != p:
        raise SchoolplanError(f"the heuristic found {len(open_ids)} schools to open for p={p}")
    t1 = time.perf_counter()

    tp, order = layout_problem(model, allowed, capacitated=capacitated, size_caps=size_caps)
    first = assign_layout(tp, is_open, allow_split=allow_split)
    if first is not None:
        got, method = first
        note = ""
        if method == "transport":  # seats bind: improve on the capacitated objective
            max_passes = int(model.settings["optimise_heuristic_max_passes"])

            last: list[tuple[Transport, _Search, np.ndarray]] = []

            def priced(prices: Transport) -> tuple[_Search, np.ndarray]:
                """The search under ``prices`` and each school's seat credit (kept for the
                last transport: the priced round and the ranking share it)."""
                if not last or last[0][0] is not prices:
                    extra = np.zeros(len(order))
                    extra[order] = prices.price
                    last[:] = [(prices, search.reprice(extra), credit_of(tp, prices))]
                return last[0][1], last[0][2]

            def look(ps: _Search, layout: np.ndarray, prices: Transport) -> np.ndarray:
                """The schools a seat price can concern: the priced ones, and the nearest and
                second-nearest open schools of the village groups with pupils at one."""
                at = prices.school_price.sum(axis=0) > 0
                groups = np.unique(tp.k[(prices.share > 1e-9) & at[tp.j]])
                return at | ps.near(layout, groups)

            def priced_search(layout: np.ndarray, prices: Transport) -> np.ndarray:
                ps, credit = priced(prices)
                return _interchange(ps, layout, keep, allowed_open, fams, max_passes,
                                    credit=credit)[0]

            def ranked_swaps(layout: np.ndarray, prices: Transport,
                             deep: bool = False) -> list[tuple[int, int]]:
                ps, credit = priced(prices)
                if deep:  # pupils without a seat: every open school, its 3 best partners
                    return _ranked_swaps(ps, layout, keep, allowed_open, fams, credit,
                                         np.ones(len(layout), dtype=bool), per_school=3)
                return _ranked_swaps(ps, layout, keep, allowed_open, fams, credit,
                                     look(ps, layout, prices))

            better = improve(tp, is_open, got, priced_search=priced_search,
                             ranked_swaps=ranked_swaps,
                             rounds=int(model.settings["optimise_heuristic_seat_rounds"]),
                             exact_swaps=int(model.settings["optimise_heuristic_exact_swaps"]),
                             max_swaps=max_passes,
                             short_swaps=int(model.settings["optimise_heuristic_short_swaps"]))
            is_open, got = better.is_open, better.got
            note = (f"; seats bind: objective {better.start_objective:.6g} -> "
                    f"{seat_objective(tp, got):.6g} ({better.priced_rounds} priced round(s), "
                    f"{better.exact_swaps} of {better.exact_evaluations} exact swap(s))")
            if better.short_evaluations:
                note += (f"; pupils without a seat: {better.short_evaluations} more swap(s) "
                         f"evaluated")
        write_assignment(model, allowed, order, is_open, set(keep_ids), set(close_ids), got,
                         method)
        model.exemptions = exemptions
        model.status = "heuristic_shortage" if got.shortage > 1e-6 else "heuristic"
        model.gap = float("nan")
        model.solve_time_s = time.perf_counter() - t0
        logger.info("heuristic: greedy %.6g, after %d swap(s) in %d pass(es) %.6g; search %.2f s, "
                    "%s assignment and seat steps %.2f s%s", greedy_cost, swaps, passes,
                    model.total_cost, search_s, method, time.perf_counter() - t1, note)
        return model

    def assign(obj: Objective) -> None:
        model.solve(obj, p=p, must_keep=open_ids, must_close=closed_ids, capacitated=capacitated,
                    allow_split=allow_split, max_time_g1_3_s=max_time_g1_3_s,
                    junior_school_per_town=junior_school_per_town, size_caps=size_caps,
                    time_limit_s=time_limit_s, **steer)

    status = "heuristic"
    try:
        assign("least_shortage" if objective == "least_shortage" else "p_median")
    except InfeasibleError:  # this layout's seats are short: place as many pupils as possible
        assign("least_shortage")
        status = "heuristic_shortage"
    model.status = status
    model.assign_method = "exact"
    model.gap = float("nan")  # no bound on the distance to the optimum (see optimality_gap)
    if model.solve_time_s is not None:
        model.solve_time_s += search_s
    logger.info("heuristic: greedy %.6g, after %d swap(s) in %d pass(es) %.6g pupil-cost units; "
                "search %.2f s", greedy_cost, swaps, passes,
                search.total(search.nearest2(is_open)[0]), search_s)
    return model
