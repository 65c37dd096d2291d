"""Catchments (划片): which school the children of every village go to, by grade group.

Demand is split into three grade groups, each with its own travel mode (settings
``travel_mode_g1_3`` …) and the schools that teach those grades:

========  ======================================  ==========================
group     grades                                  schools
========  ======================================  ==========================
``g1_3``  1–3 (primary demand x share setting)    primary, nine-year, teaching point
``g4_6``  4–6                                     primary, nine-year
``g7_9``  7–9 (junior demand)                     junior, nine-year, complete
========  ======================================  ==========================

Two assignments:

* **nearest** (就近入学): every village and grade group to its nearest school by road;
* **capacitated**: pupils assigned so that no school exceeds its seats while total pupil travel
  is least (a min-cost assignment solved exactly with HiGHS through ``scipy.optimize.milp``;
  villages are split between schools only when ``catchment_allow_split`` is on). Pupils for whom
  seats are short in total are reported by village instead of failing.

With ``catchment_within_town`` pupils only go to schools of their own town.

Seats of a school are shared by its grade groups: a nine-year school's seats are split between
its primary and junior parts by its enrolment by grade (else 6/9 and 3/9), a complete middle
school's junior part by its grade 7–9 enrolment (else half).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from schoolplan import coords, travel
from schoolplan import network as _net
from schoolplan.errors import SchoolplanError
from schoolplan.schema import GRADE_COLUMNS, LEVEL_GRADES
from schoolplan.settings import Settings

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "GRADE_GROUPS",
    "PART_OF_GROUP",
    "assign_capacitated",
    "assign_nearest",
    "catchment_areas",
    "catchment_costs",
    "demand_by_group",
    "seats_by_part",
    "serves",
    "shared_costs",
]

logger = logging.getLogger(__name__)

GRADE_GROUPS: dict[str, tuple[int, ...]] = {"g1_3": (1, 2, 3), "g4_6": (4, 5, 6), "g7_9": (7, 8, 9)}
PART_OF_GROUP = {"g1_3": "primary", "g4_6": "primary", "g7_9": "junior"}
ASSIGNMENT_COLUMNS = ["demand_id", "level", "group", "school_id", "pupils", "distance_m", "time_s",
                      "mode", "method", "estimate", "status"]


def serves(level: str, group: str) -> bool:
    """True when a school of ``level`` teaches every grade of ``group``."""
    return set(GRADE_GROUPS[group]) <= set(LEVEL_GRADES.get(level, ()))


def demand_by_group(demand: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Children by village and grade group (long): ``demand_id``, ``town_code``, ``group``, ``pupils``.

    Uses ``pupils_g1_3``/``pupils_g4_6`` columns when the demand has them, else splits
    ``pupils_primary`` by ``share_g1_3_of_primary``; ``g7_9`` is ``pupils_junior``.
    """
    s = settings or Settings()
    share = s["share_g1_3_of_primary"]
    prim = demand["pupils_primary"].astype(float)
    g13 = demand["pupils_g1_3"].astype(float) if "pupils_g1_3" in demand else prim * share
    g46 = demand["pupils_g4_6"].astype(float) if "pupils_g4_6" in demand else prim - g13
    frames = []
    for group, values in (("g1_3", g13), ("g4_6", g46), ("g7_9", demand["pupils_junior"].astype(float))):
        frames.append(pd.DataFrame({"demand_id": demand["demand_id"].values,
                                    "town_code": demand["town_code"].values,
                                    "group": group, "pupils": values.values}))
    out = pd.concat(frames, ignore_index=True)
    return out[out["pupils"] > 0].reset_index(drop=True)


def seats_by_part(schools: pd.DataFrame) -> pd.DataFrame:
    """Seats of each school's primary (grades 1–6) and junior (7–9) part; NaN = unknown.

    Indexed by ``school_id`` with ``seats_primary``, ``seats_junior`` and ``junior_share``. The
    junior share of a nine-year or twelve-year school is its grade 7–9 pupils over its grade 1–9
    pupils when the ledger gives pupils by grade, else 3/9; of a complete middle school (grades
    7–12) its grade 7–9 pupils over its enrolment, else 0.5. Schools teaching none of grades 1–9
    (senior high, special education, kindergarten) have no primary or junior seats. O(n), arrays.
    """
    level = schools["level"].astype(str).to_numpy()
    seats = pd.to_numeric(schools["seats"], errors="coerce").to_numpy(float)
    enr = pd.to_numeric(schools["enrollment"], errors="coerce").fillna(0.0).to_numpy(float)
    grades = [c for c in GRADE_COLUMNS if c in schools]
    if len(grades) == 9:
        g = schools[grades].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        known = np.isfinite(g).any(axis=1)  # a ledger without pupils by grade has them all blank
        g79 = np.where(known, np.nansum(g[:, 6:9], axis=1), np.nan)
        g19 = np.where(known, np.nansum(g, axis=1), np.nan)
    else:
        g79 = g19 = np.full(len(schools), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_grades = np.where(np.isfinite(g79) & (g19 > 0), g79 / g19, 3 / 9)
        complete = np.where(np.isfinite(g79) & (g79 > 0) & (enr > 0), g79 / enr, 0.5)
    share = np.select([np.isin(level, ["primary", "teaching_point"]), level == "junior",
                       np.isin(level, ["nine_year", "twelve_year"]), level == "complete"],
                      [0.0, 1.0, by_grades, complete], default=np.nan)
    teaches = np.isfinite(share)
    share = np.where(teaches, share, 0.0)
    primary = np.where(teaches, seats * (1 - share), 0.0)
    junior = np.where(teaches, seats * share, 0.0)
    return pd.DataFrame({"seats_primary": primary, "seats_junior": junior, "junior_share": share},
                        index=pd.Index(schools["school_id"].to_numpy(), name="school_id"))


def _cost_column(mode: str) -> str:
    return "time_s" if mode == "bus" else "distance_m"


def catchment_costs(
    network: Any,
    demand: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    groups: pd.DataFrame,
    *,
    k: int | str | None = "setting",
    settings: Settings | None = None,
    workers: int | None = 1,
) -> pd.DataFrame:
    """Candidate (village, grade group, school) travel costs, long format.

    For each grade group: the ``k`` (default ``catchment_candidates``; ``None`` = all) nearest
    schools that teach it within ``catchment_cutoff_m``, by road on ``network``, or straight
    line x circuity when ``network`` is ``None``. Grade groups whose modes share a network and a
    cost (walking, cycling: distance) share one shortest-path pass (:func:`shared_costs`).
    """
    return shared_costs(network, demand, schools, groups, k=k, settings=settings,
                        workers=workers)[0]


def _eligible(levels: pd.Series, group: str) -> np.ndarray:
    return levels.map(lambda lv: isinstance(lv, str) and serves(lv, group)).to_numpy(bool)


def shared_costs(
    network: Any,
    demand: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    groups: pd.DataFrame,
    *,
    k: int | str | None = "setting",
    settings: Settings | None = None,
    workers: int | None = 1,
    school_pairs_k: int | None = None,
    use_cache: bool | None = None,
    snapped: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Village-school costs by grade group and (optionally) school-to-school costs, sharing
    one shortest-path pass per kind of cost on ``network``.

    Walking and cycling modes are shortest paths by length, so every grade group using one of
    them and the school-to-school walk (``walk_g4_9``, the ``school_pairs_k`` nearest other
    schools within ``catchment_cutoff_m``; :mod:`schoolplan.consolidation` reads it) come from
    one pass whose sources are the schools' nodes (or the villages', when fewer); a ``bus``
    group (fastest paths) gets a pass of its own. Points are snapped once (``snapped``: the
    located villages and schools already snapped to ``network``, e.g. by the validation report).

    Step costs: snapping ``O((V + S) log N)`` (KD-tree); each pass as
    :func:`schoolplan.travel.pair_costs`; per group a linear filter, an ``O(P log P)`` sort of
    its ``P`` pairs and the ``k`` cut. Without a network, straight-line costs per group
    (``O(V x S)``, as :func:`schoolplan.travel.straight_line_costs`).

    Returns
    -------
    costs, school_costs
        ``costs`` as :func:`catchment_costs`; ``school_costs``: a :func:`travel_costs` table
        from every located school to its ``school_pairs_k`` nearest located schools (itself
        included), or ``None`` when ``school_pairs_k`` is ``None`` or there is no network.
    """
    s = settings or Settings()
    k_n: int | None = int(s["catchment_candidates"]) if k == "setting" else (
        None if k is None else int(k))
    cutoff = s["catchment_cutoff_m"]
    located_d = demand[np.isfinite(demand["lon"])]
    located_all = schools[np.isfinite(schools["lon"])]
    located_s = located_all[located_all["level"].notna()]
    group_ids = {g: set(groups.loc[groups["group"] == g, "demand_id"]) for g in GRADE_GROUPS}
    empty = pd.DataFrame(columns=["from_id", "to_id", "distance_m", "time_s", "mode", "group"])
    if network is None:
        frames = []
        for group in GRADE_GROUPS:
            eligible = located_s[_eligible(located_s["level"], group)]
            if not group_ids[group] or eligible.empty:
                continue
            origins = located_d[located_d["demand_id"].isin(group_ids[group])]
            costs = travel.travel_costs(None, origins, eligible, mode=s[f"travel_mode_{group}"],
                                        origin_id="demand_id", destination_id="school_id",
                                        cutoff_m=cutoff, k=k_n, settings=s)
            frames.append(costs.assign(group=group))
        return (pd.concat(frames, ignore_index=True) if frames else empty), None
    if snapped is not None:
        d_pts, s_pts = snapped
    else:
        d_pts = _net.snap(network, located_d, id_column="demand_id", settings=s)
        s_pts = _net.snap(network, located_all, id_column="school_id", settings=s)
    levels = located_all.set_index("school_id")["level"].reindex(s_pts.index)
    # origins: villages, then (for the school-to-school walk) the schools themselves
    with_schools = school_pairs_k is not None
    origins = pd.concat([d_pts, s_pts]) if with_schools else d_pts
    is_village = np.arange(len(origins)) < len(d_pts)
    passes: dict[str, travel.PairCosts] = {}

    def pass_for(mode: travel.TravelMode) -> travel.PairCosts:
        kind = "bus" if mode == "bus" else "length"
        if kind not in passes:
            first: travel.TravelMode = "bus" if kind == "bus" else mode
            passes[kind] = travel.pair_costs(network, origins, s_pts, mode=first, cutoff_m=cutoff,
                                             settings=s, workers=workers, use_cache=use_cache)
        return passes[kind].retimed(mode, settings=s) if kind == "length" else passes[kind]

    frames = []
    d_index = d_pts.index.to_numpy()
    for group in GRADE_GROUPS:
        eligible = _eligible(levels, group)
        if not group_ids[group] or not eligible.any():
            continue
        in_group = np.zeros(len(origins), dtype=bool)
        in_group[:len(d_pts)] = pd.Index(d_index).isin(list(group_ids[group]))
        mode = s[f"travel_mode_{group}"]
        sub = pass_for(mode).select(in_group & is_village, eligible)
        frames.append(sub.long(cutoff_m=cutoff, k=k_n).assign(group=group))
    costs = pd.concat(frames, ignore_index=True) if frames else empty
    school_costs = None
    if with_schools:
        walk = pass_for("walk_g4_9").select(~is_village, np.ones(len(s_pts), dtype=bool))
        school_costs = walk.long(cutoff_m=cutoff, k=school_pairs_k)
    return costs, school_costs


def _rows(groups: pd.DataFrame, method: str) -> pd.DataFrame:
    out = groups[["demand_id", "group", "pupils"]].copy()
    out["level"] = out["group"].map(PART_OF_GROUP)
    out["method"] = method
    return out


def assign_nearest(costs: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Every village and grade group to its nearest candidate school (就近入学).

    Villages with no candidate within the cut-off get no school and ``status``
    ``no_school_within_cutoff`` (they are listed, not dropped).
    """
    base = _rows(groups, "nearest")
    if costs.empty:
        best = pd.DataFrame(columns=["from_id", "group", "to_id", "distance_m", "time_s", "mode",
                                     "estimate", "status"])
    else:
        key = np.where(costs["mode"] == "bus", costs["time_s"], costs["distance_m"])
        best = (costs.assign(_key=key).sort_values(["from_id", "group", "_key"])
                .drop_duplicates(["from_id", "group"]))
    out = base.merge(best.rename(columns={"from_id": "demand_id", "to_id": "school_id"})
                     [["demand_id", "group", "school_id", "distance_m", "time_s", "mode",
                       "estimate", "status"]], on=["demand_id", "group"], how="left")
    out["status"] = out["status"].where(out["school_id"].notna(), "no_school_within_cutoff")
    return out[ASSIGNMENT_COLUMNS]


def assign_capacitated(
    costs: pd.DataFrame,
    groups: pd.DataFrame,
    seats: pd.DataFrame,
    *,
    allow_split: bool = True,
    time_limit_s: float = 120.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assign pupils so no school exceeds its seats, minimising total pupil travel.

    The cost of a pupil is road distance (time for ``bus``). Each village's grade group is
    assigned in full, split over schools when ``allow_split``, or left (partly) unassigned only
    where seats within the candidates are short; schools with unknown seats are not limited.
    Solved exactly by HiGHS (``scipy.optimize.milp``).

    Returns
    -------
    assignments, shortage
        ``assignments`` in :data:`ASSIGNMENT_COLUMNS` (a village may have several rows when
        split); ``shortage``: one row per village and grade group with unassigned pupils
        (``demand_id``, ``group``, ``level``, ``pupils_unassigned``).
    """
    # scipy.optimize here, not at the top: it costs about a second of start-up (issue 15)
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import coo_matrix

    g = groups.reset_index(drop=True)
    gkey = pd.MultiIndex.from_frame(g[["demand_id", "group"]])
    c = costs.copy()
    c["gi"] = gkey.get_indexer(pd.MultiIndex.from_frame(c[["from_id", "group"]]))
    c = c[c["gi"] >= 0].reset_index(drop=True)
    cost = np.where(c["mode"] == "bus", c["time_s"], c["distance_m"]).astype(float)
    pupils = g["pupils"].to_numpy(float)
    n_pairs, n_groups = len(c), len(g)
    big = 10.0 * (float(np.nanmax(cost)) if n_pairs else 1.0) + 1e5  # cost of an unassigned pupil
    objective = np.concatenate([pupils[c["gi"]] * cost, pupils * big])
    # every village group fully assigned (or unassigned)
    rows = np.concatenate([c["gi"].to_numpy(), np.arange(n_groups)])
    cols = np.arange(n_pairs + n_groups)
    a_eq = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_groups, n_pairs + n_groups))
    constraints = [LinearConstraint(a_eq.tocsr(), 1.0, 1.0)]
    # seats of each school part
    is_primary = (c["group"].map(PART_OF_GROUP) == "primary").to_numpy()
    cap = np.where(is_primary, seats["seats_primary"].reindex(c["to_id"]).to_numpy(float),
                   seats["seats_junior"].reindex(c["to_id"]).to_numpy(float))
    limited = np.isfinite(cap)
    if limited.any():
        keys = c["to_id"].astype(str).to_numpy()[limited] + np.where(is_primary[limited], "|p", "|j")
        codes, uniq = pd.factorize(keys)
        a_cap = coo_matrix((pupils[c["gi"].to_numpy()[limited]], (codes, np.flatnonzero(limited))),
                           shape=(len(uniq), n_pairs + n_groups))
        ub = np.zeros(len(uniq))
        ub[codes] = cap[limited]
        constraints.append(LinearConstraint(a_cap.tocsr(), -np.inf, ub))
    integrality = np.zeros(n_pairs + n_groups) if allow_split else np.ones(n_pairs + n_groups)
    res = milp(objective, constraints=constraints, integrality=integrality,
               bounds=(0, 1), options={"time_limit": time_limit_s})
    if res.x is None:
        raise SchoolplanError(f"capacitated assignment could not be solved: {res.message}")
    x = res.x[:n_pairs]
    u = res.x[n_pairs:]
    take = x > 1e-6
    sel = c[take]
    out = pd.DataFrame({
        "demand_id": sel["from_id"].values, "group": sel["group"].values,
        "school_id": sel["to_id"].values, "pupils": (pupils[sel["gi"]] * x[take]).round(3),
        "distance_m": sel["distance_m"].values, "time_s": sel["time_s"].values,
        "mode": sel["mode"].values, "estimate": sel["estimate"].values,
        "status": sel["status"].values,
    })
    out["level"] = out["group"].map(PART_OF_GROUP)
    out["method"] = "capacitated"
    short = g.assign(pupils_unassigned=(pupils * u).round(3))
    short = short[short["pupils_unassigned"] > 1e-6]
    short = short.assign(level=short["group"].map(PART_OF_GROUP))[
        ["demand_id", "group", "level", "pupils_unassigned"]].reset_index(drop=True)
    if len(short):
        unassigned = short.assign(school_id=None, pupils=short["pupils_unassigned"], method="capacitated",
                                  distance_m=np.nan, time_s=np.nan, mode=None, estimate=None,
                                  status="no_seat")
        out = pd.concat([out, unassigned[ASSIGNMENT_COLUMNS]], ignore_index=True)
    return out[ASSIGNMENT_COLUMNS], short


def catchment_areas(
    demand: gpd.GeoDataFrame,
    nearest: pd.DataFrame,
    towns: gpd.GeoDataFrame,
    *,
    group: str,
) -> gpd.GeoDataFrame:
    """Catchment polygons of one grade group: Voronoi cells of the villages, dissolved by the
    school each village's children go to (nearest assignment), clipped to the towns.

    Method (stated in the output's ``method`` column): the cells are straight-line Voronoi
    cells of the demand points, so a cell boundary lies half-way between two villages; the
    assignment that groups them is by road.
    """
    pts = demand[np.isfinite(demand["lon"])][["demand_id", "geometry"]]
    a = nearest[(nearest["group"] == group) & nearest["school_id"].notna()][["demand_id", "school_id"]]
    pts = pts.merge(a, on="demand_id")
    empty = gpd.GeoDataFrame({"school_id": [], "group": [], "villages": [], "method": []},
                             geometry=[], crs=4326)
    if len(pts) < 2:
        return empty
    metric = coords.metric_crs_for(pts.geometry.x, pts.geometry.y)
    pm = pts.to_crs(metric)
    if towns.attrs.get("geometry_kind") == "polygon":
        frame = shapely.union_all(towns.to_crs(metric).geometry.values)
    else:
        frame = shapely.convex_hull(shapely.union_all(pm.geometry.values)).buffer(1000)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(pm.geometry.values)), extend_to=frame)
    cells = gpd.GeoDataFrame(geometry=list(cells.geoms), crs=metric)
    joined = gpd.sjoin(cells, pm, predicate="contains", how="inner")
    joined["geometry"] = joined.geometry.intersection(frame)
    out = joined.dissolve(by="school_id", aggfunc={"demand_id": "count"}).reset_index()
    out = out.rename(columns={"demand_id": "villages"})
    out["group"] = group
    out["method"] = "Voronoi cells of villages grouped by nearest school by road, clipped to towns"
    return out[["school_id", "group", "villages", "method", "geometry"]].to_crs(4326)
