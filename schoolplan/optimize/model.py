"""Optimiser (布局优化): which schools stay open, as an exact mixed-integer programme.

Two questions a county bureau asks, both solved exactly by HiGHS through
``scipy.optimize.milp`` (no extra dependency):

* ``p_median``: keep exactly ``p`` schools open (``p`` counts schools, not school parts) and
  send every village's pupils of every grade group to an open school so that total pupil travel
  is least;
* ``min_schools``: open as few schools as possible while every pupil still reaches an allowed
  school; then, among the layouts with that many schools, the one with the least pupil travel;
* ``least_shortage``: when the seats (or the candidates) cannot take every pupil, the layout
  (exactly ``p`` schools, or any number when ``p`` is not given) that leaves the fewest pupils
  without a seat first, then the least travel: each unplaced pupil costs more than any trip
  (10 x the longest candidate cost + 1e5), so no travel saving buys a shortage. Unplaced pupils
  are assignment rows with ``status="no_seat"`` and :attr:`LocationModel.shortage_pupils`.

Pupil travel is pupils x road distance in metres, or pupils x time in seconds for grade groups
whose mode is ``bus`` (as in :mod:`schoolplan.catchments`).

The model (the "pure core", testable with a 3 x 2 matrix) knows villages by grade group, schools
with their level, town, seats per part and size cap, and the candidate pairs of the cost table;
pairs absent from the table (beyond the cut-off or not among a village's k nearest candidates)
do not exist, which keeps the model small (``../shared/RECIPES.md``: ~20 candidates per village
solve to optimal where the full matrix does not).

Variables: ``open[s]`` (binary) for every school and ``share[v, g, s]`` (the share of village
``v``'s grade group ``g`` going to school ``s``, continuous in [0, 1], binary when splits are
not allowed) for every candidate pair. Hard constraints:

* every village and grade group fully assigned, only to open schools (``share <= open``);
* at least one open school teaching grades 7-9 (junior, nine-year, complete) in every town that
  has one among the allowed schools (一乡镇一初中);
* seats per school part (primary: grades 1-6, junior: 7-9) when ``capacitated``; unknown (NaN)
  seats do not limit;
* must-keep (open) and must-close (closed) lists;
* grades 1-3 only to schools within ``max_time_g1_3_s`` (default: setting
  ``walk_limit_g1_3_min``); a village with no school within the limit even with every school
  open cannot be helped by any layout: it is exempt (listed in :attr:`LocationModel.exemptions`,
  its pupils need a bus or boarding);
* school size caps (settings ``school_size_cap``, ``school_size_cap_nine_year``) on the pupils
  assigned.

When the constraints cannot all hold, :class:`InfeasibleError` says which ones and by how much,
from checks before solving (towns without an allowed junior school, villages without an
allowed school, ``p`` against the towns and the must-keep list, seats and caps in total) or,
when those pass, from an elastic re-solve that finds the least violation (seats short at which
schools, pupils that cannot be placed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix, vstack

from schoolplan.catchments import ASSIGNMENT_COLUMNS, PART_OF_GROUP, seats_by_part, serves
from schoolplan.errors import MissingColumnError, SchoolplanError
from schoolplan.optimize import checks as _checks
from schoolplan.optimize import steer as _steer
from schoolplan.settings import Settings

__all__ = ["OBJECTIVES", "InfeasibleError", "LocationModel", "ModelInputError"]

logger = logging.getLogger(__name__)

Objective = Literal["p_median", "min_schools", "least_shortage"]
OBJECTIVES: tuple[str, ...] = ("p_median", "min_schools", "least_shortage")
_JUNIOR_LEVELS = ("junior", "nine_year", "complete")
_GROUP_LABEL = {"g1_3": "grades 1–3", "g4_6": "grades 4–6", "g7_9": "grades 7–9"}
_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}
_LIST_MAX = 8  # objects named in one message before "and N more"


class InfeasibleError(SchoolplanError, ValueError):
    """No layout meets every hard constraint; ``reasons`` lists each constraint that fails."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("no layout meets every constraint:\n"
                         + "\n".join(f"  * {r}" for r in self.reasons))


class ModelInputError(SchoolplanError, ValueError):
    """An input table or a ``solve`` option of the optimiser is invalid."""


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _names(ids: Iterable[Any]) -> str:
    ids = [str(i) for i in ids]
    more = len(ids) - _LIST_MAX
    return ", ".join(ids[:_LIST_MAX]) + (f" and {more} more" if more > 0 else "")


class LocationModel:
    """The school-layout location model (pure core; build it with :meth:`from_costs`).

    Attributes set by :meth:`solve`
    -------------------------------
    open_schools : pandas.DataFrame
        One row per open school, indexed by ``school_id``: ``level``, ``town_code``,
        ``must_keep``, ``pupils`` (assigned, all groups), ``pupils_primary``, ``pupils_junior``,
        ``seats_primary``, ``seats_junior``, ``size_cap``.
    closed_schools : pandas.DataFrame
        The other schools, same columns plus ``reason`` (``must_close`` or ``optimised``).
    assignments : pandas.DataFrame
        :data:`schoolplan.catchments.ASSIGNMENT_COLUMNS` with ``method="optimised"``; a village
        group split over schools has several rows; exempt village groups with no candidate
        school have one row with ``status="no_school_within_cutoff"``.
    exemptions : pandas.DataFrame
        Objects a rule could not apply to, with ``rule``, ``object_id``, ``detail``.
    status : str
        ``optimal`` or ``time_limit`` (a feasible layout, optimality not proven: see ``gap``).
    objective_value : float
        Total pupil travel (``p_median``: pupil-metres, pupil-seconds for bus groups) or the
        number of open schools (``min_schools``).
    total_cost : float
        Total pupil travel of the layout found, whatever the objective.
    shortage_pupils : float
        Pupils left without a seat (``least_shortage``; 0 for the other objectives).
    gap : float
        Relative optimality gap reported by HiGHS (0 when optimal within ``mip_gap``).
    solve_time_s : float
        Wall-clock seconds in the solver (both phases for ``min_schools``).
    n_variables, n_constraints : int
        Size of the last programme solved.
    """

    def __init__(self, demand: pd.DataFrame, schools: pd.DataFrame, pairs: pd.DataFrame,
                 towns: list[Any], settings: Settings):
        self.demand = demand          # demand_id, group, pupils (row k)
        self.schools = schools        # indexed by school_id: level, town_code, seats_*, size_cap
        self.pairs = pairs            # k, j, cost, distance_m, time_s, mode, estimate, status
        self.towns = towns
        self.settings = settings
        self.status: str | None = None
        self.objective_value: float | None = None
        self.total_cost: float | None = None
        self.gap: float | None = None
        self.solve_time_s: float | None = None
        self.n_variables = self.n_constraints = 0
        self._reset()

    def _reset(self) -> None:
        """Clear the results of an earlier solve (a failed solve leaves none behind)."""
        self.status = self.objective_value = self.total_cost = None
        self.gap = self.solve_time_s = None
        self.n_variables = 0
        self.n_constraints = 0
        self.shortage_pupils: float | None = None
        #: how the assignment was found: ``exact`` (HiGHS) or ``nearest_open`` (no seat binds)
        self.assign_method: str | None = None
        #: per allowed pair, the seat price of its school from the last transport (heuristic)
        self.seat_prices: np.ndarray | None = None
        self.open_schools: pd.DataFrame | None = None
        self.closed_schools: pd.DataFrame | None = None
        self.assignments: pd.DataFrame | None = None
        self.exemptions: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (f"LocationModel({len(self.demand)} village groups, {len(self.schools)} schools, "
                f"{len(self.pairs)} candidate pairs, {len(self.towns)} towns, status={self.status})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_costs(
        cls,
        costs: pd.DataFrame,
        demand_groups: pd.DataFrame,
        schools: pd.DataFrame,
        towns: pd.DataFrame | Iterable[Any] | None = None,
        *,
        settings: Settings | None = None,
    ) -> LocationModel:
        """Build the model from the tables of :mod:`schoolplan.catchments`.

        Parameters
        ----------
        costs
            Long candidate costs (:func:`schoolplan.catchments.catchment_costs`): ``from_id``
            (village), ``to_id`` (school), ``group``, ``distance_m`` (m), ``time_s`` (s),
            ``mode``; ``estimate`` and ``status`` are carried into the assignments when present.
        demand_groups
            Pupils by village and grade group (:func:`schoolplan.catchments.demand_by_group`):
            ``demand_id``, ``group``, ``pupils``.
        schools
            ``school_id``, ``level``, ``town_code``; seats per part ``seats_primary``,
            ``seats_junior`` (:func:`schoolplan.catchments.seats_by_part`; NaN = unknown = not
            limiting), else computed from ``seats`` when present, else unlimited.
        towns
            The towns (a frame with ``town_code``, or the codes): each needs an open school
            teaching grades 7-9.
        settings
            Settings in force (size caps, grades 1-3 walking limit); defaults otherwise.
        """
        s = settings or Settings()
        problems = []
        for name, frame, cols in (("costs", costs, ["from_id", "to_id", "group", "distance_m",
                                                    "time_s", "mode"]),
                                  ("demand_groups", demand_groups, ["demand_id", "group", "pupils"]),
                                  ("schools", schools, ["school_id", "level", "town_code"])):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                problems.append(f"{name} has no column {missing} (has {list(frame.columns)})")
        if problems:
            raise MissingColumnError("; ".join(problems))
        sch = schools.drop_duplicates("school_id").set_index("school_id")
        if sch.index.hasnans:
            raise ModelInputError("schools has rows without a school_id")
        sch = sch[["level", "town_code"] + [c for c in ("enrollment", "seats_primary",
                                                        "seats_junior") if c in sch]].copy()
        if "seats_primary" not in sch or "seats_junior" not in sch:
            if "seats" in schools.columns:
                part = seats_by_part(schools.drop_duplicates("school_id"))
                sch["seats_primary"] = part["seats_primary"]
                sch["seats_junior"] = part["seats_junior"]
            else:
                sch["seats_primary"] = sch["seats_junior"] = np.nan
        for col in ("seats_primary", "seats_junior"):
            sch[col] = pd.to_numeric(sch[col], errors="coerce").astype(float)
        sch["size_cap"] = np.where(sch["level"] == "nine_year", s["school_size_cap_nine_year"],
                                   s["school_size_cap"]).astype(float)
        bad_levels = sorted({str(v) for v in sch["level"] if not isinstance(v, str)
                             or not any(serves(v, g) for g in PART_OF_GROUP)})
        if bad_levels:
            raise ModelInputError(f"schools: level {bad_levels} is unknown; expected one of "
                                  "['primary', 'junior', 'nine_year', 'complete', 'teaching_point']")

        dem = demand_groups[["demand_id", "group", "pupils"]].copy()
        bad_groups = sorted(set(dem["group"]) - set(PART_OF_GROUP))
        if bad_groups:
            raise ModelInputError(f"demand_groups: group {bad_groups} is unknown; expected one of "
                                  f"{list(PART_OF_GROUP)}")
        dem["pupils"] = pd.to_numeric(dem["pupils"], errors="coerce").astype(float)
        dem = dem[dem["pupils"] > 0].groupby(["demand_id", "group"], as_index=False, sort=False)[
            "pupils"].sum()

        c = costs.copy()
        unknown = sorted(set(c["to_id"]) - set(sch.index), key=str)
        if unknown:
            raise ModelInputError(f"costs: to_id {_names(unknown)} not in schools.school_id")
        if "estimate" not in c:
            c["estimate"] = False
        if "status" not in c:
            c["status"] = "ok"
        key = pd.MultiIndex.from_frame(dem[["demand_id", "group"]])
        c["k"] = key.get_indexer(pd.MultiIndex.from_frame(c[["from_id", "group"]]))
        c["j"] = sch.index.get_indexer(c["to_id"])
        c = c[c["k"] >= 0]
        level = sch["level"].to_numpy()[c["j"].to_numpy()]
        ok = np.array([serves(lv, g) for lv, g in zip(level, c["group"], strict=True)], dtype=bool)
        c = c[ok]
        c["cost"] = np.where(c["mode"] == "bus", c["time_s"], c["distance_m"]).astype(float)
        bad_cost = c["cost"].isna() | (c["cost"] < 0)
        if bad_cost.any():
            raise ModelInputError(f"costs: {int(bad_cost.sum())} pairs have a missing or negative "
                                  "cost (distance_m, or time_s for bus)")
        c = c.sort_values(["k", "cost"]).drop_duplicates(["k", "j"]).reset_index(drop=True)
        pairs = c[["k", "j", "cost", "distance_m", "time_s", "mode", "estimate", "status"]]
        if towns is None:
            town_list = sorted(sch["town_code"].dropna().unique().tolist(), key=str)
        elif isinstance(towns, pd.DataFrame):
            town_list = towns["town_code"].dropna().tolist()
        else:
            town_list = list(towns)
        return cls(dem.reset_index(drop=True), sch, pairs, town_list, s)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        pupils: Any,
        *,
        group: str = "g4_6",
        school_ids: Iterable[Any] | None = None,
        demand_ids: Iterable[Any] | None = None,
        levels: Iterable[str] | None = None,
        town_codes: Iterable[Any] | None = None,
        seats: Iterable[float] | None = None,
        settings: Settings | None = None,
    ) -> LocationModel:
        """Build a one-group model from a dense villages x schools cost matrix.

        ``cost_matrix[i, j]`` is the cost (metres) from village ``i`` to school ``j``; NaN or
        inf means "not a candidate". ``pupils[i]`` weighs village ``i``. Schools are
        ``nine_year`` without a town unless ``levels``/``town_codes`` say otherwise; ``seats``
        (NaN = unlimited) is the seats of the part that teaches ``group``.
        """
        m = np.asarray(cost_matrix, dtype=float)
        n_v, n_s = m.shape
        d_ids = list(demand_ids) if demand_ids is not None else [f"V{i}" for i in range(n_v)]
        s_ids = list(school_ids) if school_ids is not None else [f"S{j}" for j in range(n_s)]
        i, j = np.nonzero(np.isfinite(m))
        costs = pd.DataFrame({"from_id": np.asarray(d_ids, dtype=object)[i],
                              "to_id": np.asarray(s_ids, dtype=object)[j], "group": group,
                              "distance_m": m[i, j], "time_s": np.nan, "mode": "matrix"})
        groups = pd.DataFrame({"demand_id": d_ids, "group": group,
                               "pupils": np.asarray(pupils, dtype=float)})
        seat_arr = (np.asarray(list(seats), dtype=float) if seats is not None
                    else np.full(n_s, np.nan))
        part = PART_OF_GROUP[group]
        sch = pd.DataFrame({"school_id": s_ids,
                            "level": list(levels) if levels is not None else "nine_year",
                            "town_code": list(town_codes) if town_codes is not None else None,
                            "seats_primary": seat_arr if part == "primary" else np.nan,
                            "seats_junior": seat_arr if part == "junior" else np.nan})
        towns = sorted(pd.unique(sch["town_code"].dropna()).tolist(), key=str)
        return cls.from_costs(costs, groups, sch, towns, settings=settings)

    # ------------------------------------------------------------------ solving
    def solve(
        self,
        objective: Objective = "p_median",
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
        mip_gap: float = 1e-4,
        max_time_s: Mapping[str, float] | None = None,
        max_added_time_s: float | None = None,
        baseline_time_s: pd.Series | None = None,
        keep_one_of: Iterable[Iterable[Any]] = (),
    ) -> LocationModel:
        """Choose the open schools and the assignment; results go to the attributes.

        Parameters
        ----------
        objective
            ``"p_median"`` (least pupil travel with exactly ``p`` open schools) or
            ``"min_schools"`` (fewest open schools, then least travel among those).
        p
            Number of open schools (``p_median`` only).
        must_keep, must_close
            School ids that must stay open / must close.
        capacitated
            Respect the seats of each school part (NaN seats do not limit).
        allow_split
            Allow a village's grade group to be split between schools (else whole groups).
        max_time_g1_3_s
            Longest trip for grades 1-3, seconds; default the setting ``walk_limit_g1_3_min``
            x 60; ``numpy.inf`` switches the rule off.
        junior_school_per_town
            Keep at least one school teaching grades 7-9 open in every town that has one.
        size_caps
            Cap the pupils assigned to each school at its size cap.
        time_limit_s, mip_gap
            HiGHS time limit (s) and relative optimality gap.
        max_time_s
            Longest trip per grade group, seconds (``{"g1_3": 2400, "g4_6": 3600}``); a value
            here for ``g1_3`` replaces ``max_time_g1_3_s`` (:mod:`.steer`).
        max_added_time_s, baseline_time_s
            Longest trip added to a pupil's trip of today: ``baseline_time_s`` is today's trip
            in seconds by ``(demand_id, group)`` (:func:`.steer.baseline_by_group`).
        keep_one_of
            Lists of school ids; each list keeps at least one school open (the cluster preset).

        Returns
        -------
        LocationModel
            ``self``, with the result attributes set.

        Raises
        ------
        InfeasibleError
            Listing every constraint that cannot be met, with numbers.
        ModelInputError
            For an unknown objective, a missing or invalid ``p``, or unknown school ids.
        """
        if objective not in OBJECTIVES:
            raise ModelInputError(f"objective was {objective!r} but is expected to be one of "
                                  f"{list(OBJECTIVES)}")
        if objective == "p_median" or (objective == "least_shortage" and p is not None):
            if p is None or isinstance(p, bool) or int(p) != p or p < 1:
                raise ModelInputError(f"p was {p!r} but objective='p_median' needs a whole number "
                                      "of schools >= 1")
            p = int(p)
        elif p is not None:
            raise ModelInputError("p is only used with objective='p_median' or 'least_shortage'")
        self._reset()
        keep, close = list(dict.fromkeys(must_keep)), list(dict.fromkeys(must_close))
        unknown = [i for i in keep + close if i not in self.schools.index]
        if unknown:
            raise ModelInputError(f"must_keep/must_close name unknown school ids: {_names(unknown)}")
        opts = self.options(capacitated=capacitated, junior=junior_school_per_town,
                            caps=size_caps, allow_split=allow_split, time_limit_s=time_limit_s,
                            mip_gap=mip_gap, max_time_g1_3_s=max_time_g1_3_s,
                            max_time_s=max_time_s, max_added_time_s=max_added_time_s,
                            baseline_time_s=baseline_time_s, keep_one_of=keep_one_of)
        limit = opts["limit"]
        allowed, exemptions = self._allowed_pairs(opts, set(close))
        self.exemptions = exemptions
        reasons = self._precheck(objective, p, keep, close, allowed, limit, opts)
        if reasons:
            raise InfeasibleError(reasons)
        prob = self._build(objective, p, keep, close, allowed, opts)
        res, elapsed = self._run(prob, opts)
        self.solve_time_s = elapsed
        if res.status == 2 or (res.x is None and res.status != 1):
            if res.status != 2:
                raise SchoolplanError(f"the layout programme could not be solved: {res.message}")
            raise InfeasibleError(self._diagnose(objective, p, keep, close, allowed, opts))
        if res.x is None:
            raise SchoolplanError(f"no feasible layout found within time_limit_s={time_limit_s} "
                               f"({res.message}); raise the time limit")
        status, gap = _STATUS.get(res.status, "error"), float(res.mip_gap or 0.0)
        value = float(res.fun)
        if objective == "min_schools":
            n_open = round(float(res.x[: len(self.schools)].sum()))
            prob2 = self._build("p_median", n_open, keep, close, allowed, opts)
            res2, elapsed2 = self._run(prob2, opts)
            self.solve_time_s += elapsed2
            if res2.x is not None:  # the phase-1 layout is a fallback
                res, prob = res2, prob2
                if res2.status != 0:
                    status = _STATUS.get(res2.status, "error")
            value = float(n_open)
        self.status, self.gap, self.objective_value = status, gap, value
        self.n_variables, self.n_constraints = prob["n_variables"], prob["n_constraints"]
        self._collect(res.x, allowed, set(keep), set(close),
                      unplaced=objective == "least_shortage")
        self.assign_method = "exact"
        logger.info("optimiser %s: %s, objective %.6g, gap %.2g, %.2f s", objective, status,
                    value, gap, self.solve_time_s)
        return self

    # ------------------------------------------------------------------ internals
    def options(self, *, capacitated: bool = True, junior: bool = True, caps: bool = True,
                allow_split: bool = True, time_limit_s: float = 60.0, mip_gap: float = 1e-4,
                max_time_g1_3_s: float | None = None, max_time_s: Mapping[str, float] | None = None,
                max_added_time_s: float | None = None, baseline_time_s: pd.Series | None = None,
                keep_one_of: Iterable[Iterable[Any]] = ()) -> dict:
        """The options of one solve as the internals use them (limits per grade group, today's
        trip per village group row, the keep-one-of lists checked against the schools)."""
        limit = (self.settings["walk_limit_g1_3_min"] * 60.0 if max_time_g1_3_s is None
                 else float(max_time_g1_3_s))
        limits = {"g1_3": limit, **{str(g): float(v) for g, v in (max_time_s or {}).items()}}
        bad = sorted(set(limits) - set(PART_OF_GROUP))
        if bad:
            raise ModelInputError(f"max_time_s: grade group {bad} is unknown; expected one of "
                                  f"{list(PART_OF_GROUP)}")
        baseline_k = None
        if max_added_time_s is not None:
            if baseline_time_s is None:
                raise ModelInputError("max_added_time_s needs baseline_time_s (today's trips)")
            key = pd.MultiIndex.from_frame(self.demand[["demand_id", "group"]])
            baseline_k = pd.Series(baseline_time_s).reindex(key).to_numpy(float)
        lists = [list(dict.fromkeys(ids)) for ids in keep_one_of]
        unknown = [i for ids in lists for i in ids if i not in self.schools.index]
        if unknown:
            raise ModelInputError(f"keep_one_of names unknown school ids: {_names(unknown)}")
        return {"capacitated": capacitated, "junior": junior, "caps": caps,
                "allow_split": allow_split, "time_limit_s": time_limit_s, "mip_gap": mip_gap,
                "limit": limits["g1_3"], "limits": limits, "added": max_added_time_s,
                "baseline_k": baseline_k, "keep_one_of": [ids for ids in lists if ids]}

    def _allowed_pairs(self, opts: dict, close: set) -> tuple[np.ndarray, pd.DataFrame]:
        """Mask of usable pairs, and the village groups/towns a rule cannot apply to
        (:func:`.steer.allowed_pairs`)."""
        return _steer.allowed_pairs(self, opts["limits"], close, opts["added"], opts["baseline_k"])

    def _needing_towns(self, close: set) -> dict[Any, list[Any]]:
        """Towns with a junior-teaching school -> their allowed junior-teaching schools."""
        sch = self.schools
        junior = sch[sch["level"].isin(_JUNIOR_LEVELS)]
        by_town: dict[Any, list[Any]] = {}
        for sid, town in zip(junior.index, junior["town_code"], strict=True):  # O(S)
            by_town.setdefault(town, []).append(sid)
        return {town: [i for i in by_town[town] if i not in close]
                for town in self.towns if by_town.get(town)}

    def _precheck(self, objective, p, keep, close, allowed, limit, opts) -> list[str]:
        """Reasons the constraints cannot hold, found before solving (:func:`.checks.precheck`)."""
        return _checks.precheck(self, objective, p, keep, close, allowed, limit, opts)

    def _build(self, objective, p, keep, close, allowed, opts, *, elastic: bool = False) -> dict:
        """Sparse matrices of the programme: columns ``[open (schools), share (pairs)]``."""
        sch, dem = self.schools, self.demand
        pr = self.pairs[allowed]
        n_s, n_x = len(sch), len(pr)
        k = pr["k"].to_numpy()
        j = pr["j"].to_numpy()
        pupils = dem["pupils"].to_numpy()
        xcol = n_s + np.arange(n_x)
        blocks: list[tuple[str, csr_matrix, np.ndarray, np.ndarray, Any]] = []
        # every assignable village group fully assigned
        ks = np.unique(k)
        row_of_k = np.full(len(dem), -1)
        row_of_k[ks] = np.arange(len(ks))
        a = coo_matrix((np.ones(n_x), (row_of_k[k], xcol)), shape=(len(ks), n_s + n_x))
        blocks.append(("assign", a.tocsr(), np.ones(len(ks)), np.ones(len(ks)), ks))
        # share <= open
        r = np.arange(n_x)
        a = coo_matrix((np.r_[np.ones(n_x), -np.ones(n_x)], (np.r_[r, r], np.r_[xcol, j])),
                       shape=(n_x, n_s + n_x))
        blocks.append(("link", a.tocsr(), np.full(n_x, -np.inf), np.zeros(n_x), None))
        if p is not None and objective != "min_schools":
            a = csr_matrix((np.ones(n_s), (np.zeros(n_s, int), np.arange(n_s))), shape=(1, n_s + n_x))
            blocks.append(("p", a, np.array([p]), np.array([p]), None))
        if opts["junior"]:
            needing = [(t, ids) for t, ids in self._needing_towns(set(close)).items() if ids]
            if needing:
                rr = np.concatenate([[i] * len(ids) for i, (_, ids) in enumerate(needing)])
                cc = sch.index.get_indexer([s for _, ids in needing for s in ids])
                a = coo_matrix((np.ones(len(cc)), (rr, cc)), shape=(len(needing), n_s + n_x))
                blocks.append(("town", a.tocsr(), np.ones(len(needing)),
                               np.full(len(needing), np.inf), [t for t, _ in needing]))
        lists = [[i for i in ids if i not in set(close)] for ids in opts.get("keep_one_of", [])]
        if lists:
            rr = np.concatenate([[i] * len(ids) for i, ids in enumerate(lists)])
            cc = sch.index.get_indexer([s for ids in lists for s in ids])
            a = coo_matrix((np.ones(len(cc)), (rr, cc)), shape=(len(lists), n_s + n_x))
            blocks.append(("keep_one_of", a.tocsr(), np.ones(len(lists)),
                           np.full(len(lists), np.inf), None))
        load = pupils[k]
        if opts["capacitated"]:
            part = dem["group"].map(PART_OF_GROUP).to_numpy()[k]
            for pt in ("primary", "junior"):
                seats = sch[f"seats_{pt}"].to_numpy(float)
                sel = (part == pt) & np.isfinite(seats[j])
                if sel.any():
                    js = np.unique(j[sel])
                    row = np.full(n_s, -1)
                    row[js] = np.arange(len(js))
                    a = coo_matrix((np.r_[load[sel], -seats[js]],
                                    (np.r_[row[j[sel]], np.arange(len(js))],
                                     np.r_[xcol[sel], js])), shape=(len(js), n_s + n_x))
                    blocks.append((f"seats_{pt}", a.tocsr(), np.full(len(js), -np.inf),
                                   np.zeros(len(js)), js))
        if opts["caps"]:
            cap = sch["size_cap"].to_numpy(float)
            js = np.unique(j)
            if len(js):
                row = np.full(n_s, -1)
                row[js] = np.arange(len(js))
                a = coo_matrix((np.r_[load, -cap[js]], (np.r_[row[j], np.arange(len(js))],
                                                        np.r_[xcol, js])),
                               shape=(len(js), n_s + n_x))
                blocks.append(("size_cap", a.tocsr(), np.full(len(js), -np.inf),
                               np.zeros(len(js)), js))
        lb = np.zeros(n_s + n_x)
        ub = np.ones(n_s + n_x)
        lb[sch.index.get_indexer(list(keep))] = 1.0
        ub[sch.index.get_indexer(list(close))] = 0.0
        integrality = np.r_[np.ones(n_s), np.full(n_x, 0.0 if opts["allow_split"] else 1.0)]
        if objective in ("p_median", "least_shortage"):
            c = np.r_[np.zeros(n_s), load * pr["cost"].to_numpy()]
        else:
            c = np.r_[np.ones(n_s), np.zeros(n_x)]
        slack_of: list[tuple[str, int, int]] = []
        if objective == "least_shortage":  # one "unplaced share" column per village group
            n_col = n_s + n_x + len(ks)
            extra = csr_matrix((np.ones(len(ks)), (np.arange(len(ks)), n_s + n_x + np.arange(len(ks)))),
                               shape=(len(ks), n_col))
            wide = [(name, csr_matrix((a.data, a.indices, a.indptr), shape=(a.shape[0], n_col)),
                     lo, hi, ref) for name, a, lo, hi, ref in blocks]
            blocks = [(n_, (a + extra).tocsr() if n_ == "assign" else a, lo, hi, ref)
                      for n_, a, lo, hi, ref in wide]
            top = float(pr["cost"].max()) if n_x else 1.0
            c = np.r_[c, pupils[ks] * (10.0 * top + 1e5)]
            lb, ub = np.r_[lb, np.zeros(len(ks))], np.r_[ub, np.ones(len(ks))]
            integrality = np.r_[integrality, np.zeros(len(ks))]
            slack_of.append(("unplaced", n_s + n_x, len(ks)))
        if elastic:  # one slack column per row of the families that can be short
            mats = []
            n_col = n_s + n_x
            c_extra, signs = [], []
            for name, a, _lo, _hi, _ in blocks:
                if name in ("assign", "town", "keep_one_of") or name.startswith(("seats", "size_cap")):
                    sign = 1.0 if name in ("assign", "town", "keep_one_of") else -1.0
                    slack_of.append((name, n_col, a.shape[0]))
                    weight = {"assign": 2.0 * pupils[ks], "town": np.full(a.shape[0], 1e3 * (
                        pupils.sum() + 1)), "keep_one_of": np.full(a.shape[0], 1e3 * (
                        pupils.sum() + 1))}.get(name, np.ones(a.shape[0]))
                    c_extra.append(weight)
                    signs.append(sign)
                    n_col += a.shape[0]
            n_extra = n_col - n_s - n_x
            new_blocks = []
            for name, a, lo, hi, ref in blocks:
                a = csr_matrix((a.data, a.indices, a.indptr), shape=(a.shape[0], n_col))
                for (sname, start, n), sign in zip(slack_of, signs, strict=True):
                    if sname == name:
                        s = coo_matrix((np.full(n, sign), (np.arange(n), start + np.arange(n))),
                                       shape=(n, n_col))
                        a = (a + s).tocsr()
                new_blocks.append((name, a, lo, hi, ref))
            blocks = new_blocks
            mats = [np.concatenate(c_extra)] if c_extra else []
            c = np.r_[np.zeros(n_s + n_x), *mats]  # least violation only
            lb = np.r_[lb, np.zeros(n_extra)]
            ub = np.r_[ub, np.full(n_extra, np.inf)]
            integrality = np.r_[integrality, np.zeros(n_extra)]
        a_all = vstack([b[1] for b in blocks]).tocsr()
        return {"c": c, "A": a_all, "lo": np.concatenate([b[2] for b in blocks]),
                "hi": np.concatenate([b[3] for b in blocks]), "lb": lb, "ub": ub,
                "integrality": integrality, "blocks": blocks, "slack_of": slack_of,
                "n_variables": len(c), "n_constraints": a_all.shape[0], "pairs": pr}

    def _run(self, prob: dict, opts: dict):
        from scipy.optimize import LinearConstraint, milp  # here: a slow import (start-up)

        t0 = time.perf_counter()
        res = milp(prob["c"], constraints=[LinearConstraint(prob["A"], prob["lo"], prob["hi"])],
                   integrality=prob["integrality"], bounds=(prob["lb"], prob["ub"]),
                   options={"time_limit": float(opts["time_limit_s"]),
                            "mip_rel_gap": float(opts["mip_gap"]), "disp": False})
        return res, time.perf_counter() - t0

    def _diagnose(self, objective, p, keep, close, allowed, opts) -> list[str]:
        """Why the programme is infeasible, with numbers (:func:`.checks.diagnose`)."""
        return _checks.diagnose(self, objective, p, keep, close, allowed, opts)

    def _collect(self, x: np.ndarray, allowed: np.ndarray, keep: set, close: set, *,
                 unplaced: bool = False) -> None:
        sch, dem = self.schools, self.demand
        n_s = len(sch)
        is_open = x[:n_s] > 0.5
        pr = self.pairs[allowed].reset_index(drop=True)
        share = x[n_s:n_s + len(pr)]
        take = share > 1e-6
        sel = pr[take]
        k = sel["k"].to_numpy()
        out = pd.DataFrame({
            "demand_id": dem["demand_id"].to_numpy()[k], "group": dem["group"].to_numpy()[k],
            "school_id": sch.index.to_numpy()[sel["j"].to_numpy()],
            "pupils": (dem["pupils"].to_numpy()[k] * share[take]).round(3),
            "distance_m": sel["distance_m"].to_numpy(), "time_s": sel["time_s"].to_numpy(),
            "mode": sel["mode"].to_numpy(), "estimate": sel["estimate"].to_numpy(),
            "status": sel["status"].to_numpy()})
        ks = np.unique(pr["k"].to_numpy())
        u = x[n_s + len(pr):n_s + len(pr) + len(ks)] if unplaced else np.zeros(len(ks))
        short = dem.iloc[ks[u > 1e-6]].assign(pupils=dem["pupils"].to_numpy()[ks[u > 1e-6]]
                                              * u[u > 1e-6])
        self.shortage_pupils = float(short["pupils"].sum())
        out = pd.concat([out, short.assign(school_id=None, distance_m=np.nan, time_s=np.nan,
                                           mode=None, estimate=None, status="no_seat")],
                        ignore_index=True) if len(short) else out
        none = dem[~np.isin(np.arange(len(dem)), pr["k"].to_numpy())]
        if len(none):
            out = pd.concat([out, none.assign(school_id=None, distance_m=np.nan, time_s=np.nan,
                                              mode=None, estimate=None,
                                              status="no_school_within_cutoff")],
                            ignore_index=True)
        out["level"] = out["group"].map(PART_OF_GROUP)
        out["method"] = "optimised"
        self.assignments = out[ASSIGNMENT_COLUMNS].sort_values(
            ["demand_id", "group", "school_id"]).reset_index(drop=True)
        got = out[out["school_id"].notna()]
        by_part = got.pivot_table(index="school_id", columns="level", values="pupils",
                                  aggfunc="sum").reindex(columns=["primary", "junior"])
        table = sch[["level", "town_code", "seats_primary", "seats_junior", "size_cap"]].copy()
        table["must_keep"] = table.index.isin(list(keep))
        table["pupils_primary"] = by_part["primary"].reindex(table.index).fillna(0.0).round(3)
        table["pupils_junior"] = by_part["junior"].reindex(table.index).fillna(0.0).round(3)
        table["pupils"] = table["pupils_primary"] + table["pupils_junior"]
        cols = ["level", "town_code", "must_keep", "pupils", "pupils_primary", "pupils_junior",
                "seats_primary", "seats_junior", "size_cap"]
        self.open_schools = table.loc[is_open, cols]
        closed = table.loc[~is_open, cols].copy()
        closed["reason"] = np.where(closed.index.isin(list(close)), "must_close", "optimised")
        self.closed_schools = closed
        self.total_cost = float((dem["pupils"].to_numpy()[pr["k"].to_numpy()] * share
                                 * pr["cost"].to_numpy()).sum())
