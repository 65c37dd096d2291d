"""Scenario actions on a school layout: close, merge, to_satellite, new_school (and the planning
actions planet_satellite and optimise, delegated to :mod:`schoolplan.layouts` and
:mod:`schoolplan.optimize`).

A scenario file lists them under ``actions:``; they apply in order to the schools as the ledger
has them, and the result is evaluated on the travel costs computed once for the scenario (only a
new school needs a shortest-path run of its own)::

    actions:
      - close: [3715990031, 3715990032]
      - merge: {school: 3715990020, into: 3715990016}
      - to_satellite: [3715990021]           # keeps grades 1-3 only
      - new_school: {id: N1, name: 新城小学, level: primary, lon: 116.12, lat: 36.49, seats: 1080}
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan import consolidation, coords
from schoolplan import layouts as _layouts
from schoolplan import optimize as opt
from schoolplan.diagnosis import diagnose, open_costs, today_assignment
from schoolplan.errors import Problems, ScenarioError
from schoolplan.io import fill_seats
from schoolplan.io.towns import link_to_towns
from schoolplan.rules import small_tier
from schoolplan.schema import Base, Result, parse_level
from schoolplan.travel import network_mode

__all__ = ["ACTIONS", "apply_actions", "check_action", "run_actions"]

logger = logging.getLogger(__name__)

ACTIONS = ("close", "merge", "to_satellite", "new_school", "planet_satellite", "optimise")


def _kind(action: Any) -> tuple[str, Any]:
    if not isinstance(action, dict) or len(action) != 1:
        raise ScenarioError(f"an action must be a mapping with one key ({', '.join(ACTIONS)}), "
                            f"got {action!r}")
    kind, arg = next(iter(action.items()))
    if kind not in ACTIONS:
        raise ScenarioError(f"action '{kind}' is not known; use one of {', '.join(ACTIONS)}")
    return kind, arg


def check_action(action: Any) -> list[str]:
    """Problems with the shape of one action (ids are checked when the inputs are read)."""
    try:
        kind, arg = _kind(action)
    except ScenarioError as exc:
        return [str(exc)]
    errs = []
    if kind in ("close", "to_satellite") and not isinstance(arg, (list, str, int)):
        errs.append(f"{kind}: give a school id or a list of ids")
    if kind == "merge" and not (isinstance(arg, dict) and {"school", "into"} <= set(arg)):
        errs.append("merge: give {school: <id>, into: <id>}")
    if kind == "new_school":
        need = {"id", "level", "lon", "lat"}
        if not isinstance(arg, dict) or not need <= set(arg):
            errs.append(f"new_school: needs {sorted(need)} (and seats or classes, name, town_code)")
        elif parse_level(arg["level"]) is None:
            errs.append(f"new_school: level {arg['level']!r} is not known")
    if kind in ("planet_satellite", "optimise") and arg is not None and not isinstance(arg, dict):
        errs.append(f"{kind}: give a mapping of options (or nothing for the defaults)")
    return errs


def _ids(arg: Any) -> list[str]:
    items = arg if isinstance(arg, list) else [arg]
    return [str(i).strip() for i in items]


def _check_known(ids: list[str], schools: pd.DataFrame, where: str) -> None:
    unknown = [i for i in ids if i not in set(schools["school_id"])]
    if unknown:
        raise ScenarioError(f"{where}: school id(s) {unknown} are not in the schools input")


def apply_actions(base: Base, schools: gpd.GeoDataFrame, actions: list[Any],
                  extras: dict | None = None):
    """Apply ``actions`` in order; return the new schools state, extra costs, merges and a log.
    ``extras`` (a dict), when given, receives the optimiser's trade-off table (``tradeoff``)."""
    schools = schools.copy()
    merge_into: dict[str, str] = {}
    extra: list[pd.DataFrame] = []
    log: list[dict[str, Any]] = []
    layouts = None
    for n, action in enumerate(actions, 1):
        kind, arg = _kind(action)
        where = f"actions[{n}] {kind}"
        logger.info("action %d: %s", n, kind)
        if kind == "close":
            ids = _ids(arg)
            _check_known(ids, schools, where)
            schools.loc[schools["school_id"].isin(ids), "status"] = "closed"
            log.append({"step": n, "action": kind, "schools": ";".join(ids), "detail": ""})
        elif kind == "merge":
            school, into = str(arg["school"]), str(arg["into"])
            _check_known([school, into], schools, where)
            if (schools.loc[schools["school_id"] == into, "status"] == "closed").any():
                raise ScenarioError(f"{where}: cannot merge into {into}, which is closed")
            schools.loc[schools["school_id"] == school, "status"] = "closed"
            merge_into[school] = into
            log.append({"step": n, "action": kind, "schools": school, "detail": f"into {into}"})
        elif kind == "to_satellite":
            ids = _ids(arg)
            _check_known(ids, schools, where)
            sel = schools["school_id"].isin(ids)
            schools.loc[sel, "status"] = "satellite"
            schools.loc[sel, "level"] = "teaching_point"
            log.append({"step": n, "action": kind, "schools": ";".join(ids),
                        "detail": "grades 1-3 only"})
        elif kind == "new_school":
            row, costs = _new_school(base, schools, arg, where)
            schools = pd.concat([schools, row])
            extra.append(costs)
            log.append({"step": n, "action": kind, "schools": row["school_id"].iloc[0],
                        "detail": f"{row['level'].iloc[0]}, {row['seats'].iloc[0]:.0f} seats"})
        elif kind == "planet_satellite":
            schools, merges, layouts = _layouts.apply_planet_satellite(base, schools, arg or {})
            merge_into.update(merges)
            log.append({"step": n, "action": kind, "schools": "",
                        "detail": f"{len(layouts)} towns laid out"})
        elif kind == "optimise":
            schools, detail, closed_ids = _optimise(base, schools, arg or {}, where, extras)
            log.append({"step": n, "action": kind, "schools": ";".join(closed_ids), "detail": detail})
    extra_costs = pd.concat(extra, ignore_index=True) if extra else None
    return schools, extra_costs, merge_into, pd.DataFrame(log, columns=["step", "action", "schools", "detail"]), layouts


def run_actions(base: Base, schools: gpd.GeoDataFrame, actions: list[Any], *,
                with_candidates: bool = True) -> Result:
    """Apply the actions and diagnose the resulting layout (and, unless ``with_candidates`` is
    False, list its consolidation candidates)."""
    extras: dict[str, Any] = {}
    state, extra_costs, merge_into, log, layouts = apply_actions(base, schools, actions, extras)
    _check_schools_left(base, schools, state)
    logger.info("catchments, seat warnings, rules and balance")
    result = diagnose(base, state, extra_costs=extra_costs, merge_into=merge_into)
    result.actions = log
    result.tradeoff = extras.get("tradeoff")
    if layouts is not None:
        layouts = _layouts.layout_table(layouts, result)
        _layouts.count_layout(result, layouts)
    result.layouts = layouts
    if with_candidates:
        logger.info("consolidation candidates")
        result.candidates = consolidation.candidates(base, result)
    return result


_PART_WORDS = {"primary": ("primary school", "小学"), "junior": ("junior middle school", "初中")}


def _check_schools_left(base: Base, before: gpd.GeoDataFrame, state: gpd.GeoDataFrame) -> None:
    """Stop with a clear message when the actions close every school, or every school that
    teaches the grades of a part (primary, junior) the villages have pupils for (issue 16,
    item 1): nothing could be diagnosed, or those pupils would have no school at all."""
    still = state[state["status"] != "closed"]
    if still.empty:
        raise ScenarioError(
            f"the actions close every school ({len(before)}): nothing is left to diagnose. "
            "Keep at least one school open. / 方案的措施关闭了所有学校（"
            f"{len(before)} 所），无法诊断。请至少保留一所学校。")
    groups = base.groups
    if groups is None or groups.empty:
        return
    pupils = groups.groupby("group")["pupils"].sum()
    for part, (en, zh) in _PART_WORDS.items():
        needed = [g for g, p in ca.PART_OF_GROUP.items() if p == part and pupils.get(g, 0) > 0]
        for group in needed:
            had = before["level"].map(lambda lv, g=group: isinstance(lv, str) and ca.serves(lv, g))
            has = still["level"].map(lambda lv, g=group: isinstance(lv, str) and ca.serves(lv, g))
            if had.any() and not has.any():
                shut = before.loc[had.to_numpy(), "school_id"].astype(str).tolist()
                shown = ", ".join(shut[:10]) + (", …" if len(shut) > 10 else "")
                raise ScenarioError(
                    f"the actions close every {en} ({len(shut)}: {shown}): the villages' "
                    f"{pupils.get(group, 0):.0f} pupils of grades {group[1:].replace('_', '-')} "
                    "would have no school. Keep one open, make one a satellite, or add a "
                    f"new_school. / 方案的措施关闭了所有{zh}（{len(shut)} 所：{shown}），村庄"
                    f"{group[1:].replace('_', '-')} 年级的 {pupils.get(group, 0):.0f} 名学生将无学校"
                    "可上。请至少保留一所，或改为教学点，或新增学校（new_school）。")


def _new_school(base: Base, schools: gpd.GeoDataFrame, arg: dict, where: str):
    """The row and the travel costs of a new school."""
    sid = str(arg["id"])
    if sid in set(schools["school_id"]):
        raise ScenarioError(f"{where}: id {sid} is already used by a school")
    level = parse_level(arg["level"])
    if level is None:
        raise ScenarioError(f"{where}: level {arg['level']!r} is not known")
    system = coords.parse_coordinate_system(arg.get("coordinate_system"))[0]
    if system not in coords.NAMED_SYSTEMS:
        raise ScenarioError(f"{where}: coordinate_system must be one of {coords.NAMED_SYSTEMS}")
    lon, lat = coords.to_wgs84(float(arg["lon"]), float(arg["lat"]), system)
    row = pd.DataFrame([{
        "school_id": sid, "name": str(arg.get("name", sid)), "level": level,
        "town_code": str(arg["town_code"]) if arg.get("town_code") else None,
        "town": arg.get("town"), "enrollment": 0.0,
        "classes": float(arg["classes"]) if arg.get("classes") is not None else np.nan,
        "teachers": np.nan, "seats": float(arg["seats"]) if arg.get("seats") is not None else np.nan,
        "area_type": arg.get("area_type"), "lon": float(lon[0]), "lat": float(lat[0]),
        "status": "new", "level_before": None,
    }], index=[f"new:{sid}"])
    fill_seats(row, base.settings)
    row = gpd.GeoDataFrame(row, geometry=gpd.points_from_xy(row["lon"], row["lat"]), crs=4326)
    problems = Problems()
    row.attrs["file"] = where
    row = link_to_towns(row, base.inputs.towns, problems=problems, id_column="school_id",
                        what_en="new school", what_zh="新建学校")
    if problems.errors:
        raise ScenarioError(f"{where}: " + "; ".join(p.message_en for p in problems.errors))
    if not np.isfinite(row["seats"].iloc[0]):
        raise ScenarioError(f"{where}: give seats or classes for the new school")
    costs = []
    if base.groups is not None:
        for group in ca.GRADE_GROUPS:
            if level is None or not ca.serves(level, group):
                continue
            net = base.networks.get(network_mode(base.settings[f"travel_mode_{group}"]))
            costs.append(ca.catchment_costs(net, base.inputs.demand, row,
                                            base.groups[base.groups["group"] == group], k=None,
                                            settings=base.settings))
    return row, (pd.concat(costs, ignore_index=True) if costs else None)


_OPTIMISE_KEYS = {"objective", "p", "must_keep", "must_close", "capacitated", "allow_split",
                  "walk_limit_g1_3", "junior_school_per_town", "size_caps", "time_limit_s",
                  "close_only", "method", "max_time_min", "max_added_time_min", "preset",
                  "close_only_under", "tradeoff", "tradeoff_between"}
_PRESETS = ("close_only_under", "keep_one_per_cluster")


def _steering(base: Base, schools: gpd.GeoDataFrame, open_now: pd.DataFrame, options: dict,
              where: str) -> dict[str, Any]:
    """Solve options from the steering keys (issue 14 item 5; :mod:`schoolplan.optimize.steer`):
    ``max_time_min`` ({grade group: minutes}), ``max_added_time_min`` (against today's assignment,
    the layout before this action), ``preset`` (``close_only_under``, ``keep_one_per_cluster``) and
    ``close_only_under`` (pupils). Returns ``max_time_s``, ``max_added_time_s``,
    ``baseline_time_s``, ``keep_one_of`` and the extra ``must_keep``."""
    s = base.settings
    out: dict[str, Any] = {"must_keep": []}
    caps = options.get("max_time_min") or {}
    if not isinstance(caps, dict) or any(g not in ca.GRADE_GROUPS for g in caps):
        raise ScenarioError(f"{where}: max_time_min must map grade groups {list(ca.GRADE_GROUPS)} "
                            f"to minutes, got {caps!r}")
    try:
        out["max_time_s"] = {g: float(v) * 60.0 for g, v in caps.items()}
        added = options.get("max_added_time_min")
        out["max_added_time_s"] = None if added is None else float(added) * 60.0
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: max_time_min and max_added_time_min are minutes "
                            "(numbers)") from None
    presets = options.get("preset") or []
    presets = [presets] if isinstance(presets, str) else list(presets)
    unknown = [x for x in presets if x not in _PRESETS]
    if unknown:
        raise ScenarioError(f"{where}: preset {unknown} is not known; use {list(_PRESETS)}")
    under = options.get("close_only_under")
    if under is None and "close_only_under" in presets:
        under = s["optimise_close_only_under"]
    if under is not None:
        if isinstance(under, bool) or not isinstance(under, (int, float)) or under <= 0:
            raise ScenarioError(f"{where}: close_only_under is a number of pupils, got {under!r}")
        out["must_keep"] = opt.steer.close_under(open_now, float(under))
    need_today = out["max_added_time_s"] is not None or "keep_one_per_cluster" in presets
    today = today_assignment(diagnose(base, schools)) if need_today else None
    if out["max_added_time_s"] is not None and today is not None:
        out["baseline_time_s"] = opt.steer.baseline_by_group(today)
    out["keep_one_of"] = []
    if "keep_one_per_cluster" in presets and today is not None:
        dem = base.inputs.demand
        assert dem is not None  # today's assignment exists only with villages
        crs = coords.metric_crs_for(dem["lon"].to_numpy(float), dem["lat"].to_numpy(float))
        xy = gpd.GeoSeries(gpd.points_from_xy(dem["lon"], dem["lat"]), crs=4326).to_crs(crs)
        villages = pd.DataFrame({"x": xy.x.to_numpy(), "y": xy.y.to_numpy(),
                                 "town_code": dem["town_code"].to_numpy()},
                                index=dem["demand_id"].to_numpy())
        clusters = opt.steer.village_clusters(villages, s["optimise_cluster_link_m"])
        out["keep_one_of"] = opt.steer.cluster_keep_lists(clusters, today,
                                                          set(open_now["school_id"]))
    return out


def _optimise(base: Base, schools: gpd.GeoDataFrame, options: dict, where: str,
              extras: dict | None = None):
    """Close the schools the optimiser leaves out (:mod:`schoolplan.optimize`)."""
    unknown = set(options) - _OPTIMISE_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown option(s) {sorted(unknown)}; "
                            f"known: {sorted(_OPTIMISE_KEYS)}")
    if base.costs is None:
        raise ScenarioError(f"{where}: optimising needs demand points (villages)")
    open_now = schools[schools["status"] != "closed"]
    seats = ca.seats_by_part(open_now)
    table = pd.DataFrame(open_now[["school_id", "level", "town_code", "enrollment", "seats"]]).merge(
        seats, left_on="school_id", right_index=True, how="left")
    model = opt.LocationModel.from_costs(open_costs(base.costs, schools), base.groups, table,
                                         base.inputs.towns, settings=base.settings)
    objective = options.get("objective", "p_median")
    walk = options.get("walk_limit_g1_3", True)
    must_keep = [str(i) for i in options.get("must_keep", [])]
    close_only = options.get("close_only", "any")
    if close_only not in ("any", "small"):
        raise ScenarioError(f"{where}: close_only was {close_only!r} but is expected to be "
                            "'any' or 'small' (only small rural schools may close)")
    if close_only == "small":
        tiers = small_tier(open_now, base.settings)
        must_keep += open_now.loc[tiers == "", "school_id"].tolist()
    method = options.get("method", "exact")
    if method not in ("exact", "heuristic"):
        raise ScenarioError(f"{where}: method was {method!r} but is expected to be 'exact' or "
                            "'heuristic' (greedy + interchange, for interactive use)")
    steer = _steering(base, schools, open_now, options, where)
    must_keep += steer.pop("must_keep")
    solve = model.solve if method == "exact" else partial(opt.solve_heuristic, model)
    common = {"must_keep": sorted(set(must_keep)),
              "must_close": [str(i) for i in options.get("must_close", [])],
              "capacitated": bool(options.get("capacitated", True)),
              "allow_split": bool(options.get("allow_split", True)),
              "max_time_g1_3_s": None if walk else np.inf,
              "junior_school_per_town": bool(options.get("junior_school_per_town", True)),
              "size_caps": bool(options.get("size_caps", True)),
              "time_limit_s": float(options.get("time_limit_s", 60)), **steer}
    if not walk and "g1_3" in steer["max_time_s"]:
        raise ScenarioError(f"{where}: walk_limit_g1_3 is off but max_time_min sets g1_3")
    table = None
    try:
        if options.get("tradeoff"):
            table = opt.tradeoff_table(model, between=options.get("tradeoff_between", "heuristic"),
                                       **common)
        solve(objective, p=options.get("p"), **common)
    except (opt.InfeasibleError, opt.ModelInputError) as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    if extras is not None and table is not None:
        extras["tradeoff"] = table
    kept = model.open_schools
    if kept is None:  # solve() sets it or raises
        raise ScenarioError(f"{where}: the optimiser returned no solution (status {model.status})")
    closed = sorted(set(open_now["school_id"]) - set(kept.index.astype(str)))
    schools = schools.copy()
    schools.loc[schools["school_id"].isin(closed), "status"] = "closed"
    detail = (f"{objective}: {len(kept)} open, {len(closed)} closed; status "
              f"{model.status}, gap {model.gap:.2%}, {model.solve_time_s:.1f} s, "
              f"{model.n_variables:,} variables")
    return schools, detail, closed
