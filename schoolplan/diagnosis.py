"""The diagnosis of a school layout: catchments, seat warnings, rules, travel figures, balance.

:func:`diagnose` evaluates one state of the schools (which are open, which teach only grades 1–3,
which are new) on travel costs computed once (:class:`Base`), so scenarios and consolidation
checks re-evaluate without a new shortest-path run. It never reads files.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from schoolplan import balance
from schoolplan import catchments as ca
from schoolplan import projection as pj
from schoolplan import rules as _rules
from schoolplan.errors import ScenarioError
from schoolplan.schema import BALANCE_COLUMNS, Base, Result
from schoolplan.settings import Settings

__all__ = ["diagnose", "open_costs", "travel_figures", "weighted_quantile"]

STATUSES = ("open", "closed", "satellite", "new")


def open_costs(costs: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Cost rows of schools that are open (not ``closed``) and teach the row's grade group
    (a satellite teaches grades 1–3 only)."""
    state = schools[schools["status"] != "closed"].set_index("school_id")["level"]
    lv = costs["to_id"].map(state)
    ok = lv.notna()
    ok[ok] = [ca.serves(level, group) for level, group in zip(lv[ok], costs.loc[ok, "group"], strict=True)]
    return costs[ok.to_numpy(bool)]


def _restrict_to_town(costs: pd.DataFrame, demand: pd.DataFrame, schools: pd.DataFrame,
                      k: int) -> pd.DataFrame:
    town_d = demand.set_index("demand_id")["town_code"]
    town_s = schools.set_index("school_id")["town_code"]
    same = costs["from_id"].map(town_d).to_numpy() == costs["to_id"].map(town_s).to_numpy()
    c = costs[same]
    key = np.where(c["mode"] == "bus", c["time_s"], c["distance_m"])
    return c.assign(_k=key).sort_values(["from_id", "group", "_k"]).groupby(
        ["from_id", "group"]).head(k).drop(columns="_k")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` with ``weights`` (pupils); NaN when empty."""
    v, w = np.asarray(values, float), np.asarray(weights, float)
    ok = np.isfinite(v) & (w > 0)
    if not ok.any():
        return float("nan")
    order = np.argsort(v[ok])
    v, w = v[ok][order], w[ok][order]
    cum = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(cum, q, side="left").clip(max=len(v) - 1)])


def travel_figures(nearest: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """Per grade group: pupil-weighted mean, median, 95th percentile and maximum road distance
    and time; pupils beyond 30/40/60 minutes; pupils needing a school bus (beyond the trip
    limits of 2.5 km for grades 1–3, 5 km for 4–9) or boarding (grades 4–9 beyond
    ``boarding_beyond_km``); pupils without any school within the cut-off."""
    out: dict[str, Any] = {}
    limits = [settings["walk_limit_g1_3_min"], *settings["walk_limit_extra_min"]]
    for group in ca.GRADE_GROUPS:
        g = nearest[nearest["group"] == group]
        has = g["school_id"].notna()
        p = g["pupils"].to_numpy(float)
        d, t = g["distance_m"].to_numpy(float), g["time_s"].to_numpy(float)
        total = float(p.sum())
        fig: dict[str, Any] = {"pupils": round(total, 1),
                               "pupils_without_school": round(float(p[~has.to_numpy()].sum()), 1)}
        w = np.where(has, p, 0)
        for name, arr in (("distance_m", d), ("time_min", t / 60.0)):
            fig[f"mean_{name}"] = round(float(np.nansum(arr * w) / w.sum()), 1) if w.sum() else None
            fig[f"median_{name}"] = round(weighted_quantile(arr, w, 0.5), 1)
            fig[f"p95_{name}"] = round(weighted_quantile(arr, w, 0.95), 1)
            fig[f"max_{name}"] = round(float(np.nanmax(arr)), 1) if has.any() else None
        for lim in limits:
            fig[f"pupils_over_{lim:g}_min"] = round(float(p[(t / 60 > lim) | ~has.to_numpy()].sum()), 1)
        trip_km = settings["trip_limit_lower_grades_km" if group == "g1_3" else "trip_limit_upper_grades_km"]
        fig["pupils_needing_bus"] = round(float(p[d > trip_km * 1000].sum()), 1)
        fig["pupils_needing_boarding"] = (round(float(p[d > settings["boarding_beyond_km"] * 1000].sum()), 1)
                                          if group != "g1_3" else 0.0)
        out[group] = fig
    return out


def diagnose(base: Base, schools: gpd.GeoDataFrame, *, extra_costs: pd.DataFrame | None = None,
             merge_into: dict[str, str] | None = None, label: str | None = None) -> Result:
    """Evaluate one state of the schools on the base's travel costs.

    Parameters
    ----------
    base
        From :func:`schoolplan.scenario.prepare`.
    schools
        Every school with ``status`` (``open``, ``closed``, ``satellite``, ``new``); a
        satellite's ``level`` is ``teaching_point`` (grades 1–3) and ``level_before`` keeps its
        own.
    extra_costs
        Costs of new schools (same columns as ``base.costs``).
    merge_into
        Closed school -> the school its pupils are sent to (``merge`` actions): the villages the
        closed school served go there (for the grade groups it teaches) instead of their next
        nearest school. A value ``(school, groups)`` limits this to those grade groups (a
        satellite sends only grades 4–6 to its planet).
    """
    settings, inputs = base.settings, base.inputs
    schools = schools.copy()
    is_open = schools["status"] != "closed"
    open_s = schools[is_open]
    schools["small_tier"] = ""
    schools.loc[is_open, "small_tier"] = _rules.small_tier(open_s, settings)
    size_cols, size_viol = _rules.size_checks(open_s, settings)
    schools = schools.join(size_cols)
    counts_by_town, jm_viol = _rules.junior_middle_per_town(open_s, inputs.towns)
    towns = inputs.towns.copy()
    key = "town_code" if towns["town_code"].notna().all() else "town"
    towns["junior_middle_schools"] = counts_by_town["junior_middle_schools"].values
    towns["junior_middle_rule_ok"] = counts_by_town["junior_middle_rule_ok"].values
    towns["schools"] = towns[key].map(open_s.groupby(key).size()).fillna(0).astype(int)
    towns["enrollment"] = towns[key].map(open_s.groupby(key)["enrollment"].sum()).fillna(0)
    towns["small_schools"] = towns[key].map(
        schools[schools["small_tier"] != ""].groupby(key).size()).fillna(0).astype(int)
    violation_parts = [jm_viol, size_viol, _rules.rural_school_size(open_s, settings)]
    indicators: dict[str, Any] = {}
    assignments = shortage = areas = None
    demand = inputs.demand
    if base.costs is not None and demand is not None and len(demand):
        for col in ("pupils_primary", "pupils_junior"):
            towns[col] = towns[key].map(demand.groupby(key)[col].sum()).fillna(0)
        groups = base.groups
        all_costs = base.costs if extra_costs is None else pd.concat([base.costs, extra_costs],
                                                                      ignore_index=True)
        costs = open_costs(all_costs, schools)
        free = None
        if settings["catchment_within_town"]:
            free = ca.assign_nearest(costs, groups)
            costs = _restrict_to_town(costs, demand, schools, settings["catchment_candidates"])
        nearest = ca.assign_nearest(costs, groups)
        if merge_into:
            nearest = _apply_merges(nearest, base, all_costs, schools, merge_into)
        if free is not None:
            nearest = nearest.merge(
                free[["demand_id", "group", "school_id", "distance_m"]].rename(
                    columns={"school_id": "nearest_any_town", "distance_m": "nearest_any_town_m"}),
                on=["demand_id", "group"], how="left")
            nearest["extra_distance_m_town_rule"] = (nearest["distance_m"]
                                                     - nearest["nearest_any_town_m"]).clip(lower=0)
        seats = ca.seats_by_part(schools[is_open])
        capacitated, shortage = ca.assign_capacitated(
            costs, groups, seats, allow_split=settings["catchment_allow_split"])
        assignments = pd.concat([nearest, capacitated], ignore_index=True)
        areas = pd.concat([ca.catchment_areas(demand, nearest, inputs.towns, group=g)
                           for g in ("g1_3", "g7_9")], ignore_index=True)
        areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=4326)
        seat_cols, seat_viol = _rules.seat_warnings(schools, nearest, seats, settings)
        seat_cols.loc[~is_open, ["utilisation", "seat_warning"]] = [np.nan, "closed"]
        schools = schools.join(seat_cols)
        if getattr(inputs, "history", None) is not None:
            schools = schools.join(_warning_years(base, schools, nearest))
        travel = nearest[nearest["school_id"].notna()].assign(
            _pd=lambda d: d["pupils"] * d["distance_m"], _pt=lambda d: d["pupils"] * d["time_s"])
        agg = travel.groupby("school_id").agg(p=("pupils", "sum"), d=("_pd", "sum"),
                                              t=("_pt", "sum"), tmax=("time_s", "max"))
        schools["mean_distance_m"] = schools["school_id"].map((agg["d"] / agg["p"]).round(0))
        schools["mean_time_s"] = schools["school_id"].map((agg["t"] / agg["p"]).round(0))
        schools["max_time_s"] = schools["school_id"].map(agg["tmax"].round(0))
        walk_summary, walk_viol = _rules.walk_time_g1_3(nearest, demand, settings)
        indicators["walk_time_g1_3"] = walk_summary
        indicators["travel"] = travel_figures(nearest, settings)
        indicators["service_radius"] = _rules.service_radius_coverage(nearest, demand, settings)
        if "extra_distance_m_town_rule" in nearest:
            hit = nearest[nearest["extra_distance_m_town_rule"] > 1.0]
            indicators["within_town"] = {
                "pupils_with_extra_travel": round(float(hit["pupils"].sum()), 1),
                "villages": int(hit["demand_id"].nunique()),
                "mean_extra_m": round(float((hit["pupils"] * hit["extra_distance_m_town_rule"]).sum()
                                            / hit["pupils"].sum()), 0) if len(hit) else 0.0,
                "max_extra_m": round(float(hit["extra_distance_m_town_rule"].max()), 0) if len(hit) else 0.0,
            }
        indicators["seat_shortage"] = {
            lvl: round(float(shortage.loc[shortage["level"] == lvl, "pupils_unassigned"].sum()), 1)
            for lvl in ("primary", "junior")}
        violation_parts += [seat_viol, walk_viol]
    balance_tables = _balance(schools[is_open], settings)
    if balance_tables is not None:
        violation_parts.append(balance_tables[3])
        indicators["balance"] = {
            "schools_meeting_standard": int((balance_tables[0]["meets_standard"] == True).sum()),  # noqa: E712
            "schools_judged": int(balance_tables[0]["meets_standard"].notna().sum()),
            "cv_over_limit": [f"{r.level}/{r.indicator}" for r in balance_tables[1].itertuples()
                              if r.ok is False],
        }
    violations = _violations(violation_parts, settings)
    counts = _counts(schools, towns, violations, inputs, settings)
    return Result(
        scenario=base.scenario, settings=settings, inputs=inputs, schools=schools, towns=towns,
        violations=violations, created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        distance_method=base.distance_method, counts=counts, assignments=assignments,
        shortage=shortage, catchments=areas, indicators=indicators,
        balance=None if balance_tables is None else balance_tables[0],
        balance_cv=None if balance_tables is None else balance_tables[1],
        balance_contributors=None if balance_tables is None else balance_tables[2],
        networks=dict(base.networks),
    )


def _warning_years(base: Base, schools: pd.DataFrame, nearest: pd.DataFrame) -> pd.DataFrame:
    """The first year each school's catchment demand reaches the yellow and the red band, over
    the projection horizon (the villages keep their nearest school; their children change by
    year as :func:`schoolplan.projection.project_demand` scales them)."""
    settings, inputs = base.settings, base.inputs
    demand = cast(pd.DataFrame, inputs.demand)  # called only for runs with demand and history
    history = cast(pd.DataFrame, inputs.history)
    cols = {c: f"{c}_base" if f"{c}_base" in demand else c for c in ("pupils_primary", "pupils_junior")}
    today = demand.assign(pupils_primary=demand[cols["pupils_primary"]],
                          pupils_junior=demand[cols["pupils_junior"]])
    proj = inputs.projection if inputs.projection is not None else pj.cohort_projection(
        history, births=inputs.births, schools=inputs.schools,
        horizon=settings["projection_horizon_years"], settings=settings)
    base_year = int(history["year"].max())
    years = sorted(y for y in proj["year"].unique() if y >= base_year)
    share = nearest[nearest["school_id"].notna()]
    base_pupils = ca.demand_by_group(today, settings).set_index(["demand_id", "group"])["pupils"]
    share = share.assign(part=share["level"], base=[base_pupils.get((v, g), 0.0) for v, g in
                                                    zip(share["demand_id"], share["group"], strict=True)])
    seat_total = schools.set_index("school_id")["seats"].astype(float)
    first: dict[str, dict[Any, int]] = {"first_yellow_year": {}, "first_red_year": {}}
    for year in years:
        d = pj.project_demand(today, proj, year=year, births=inputs.births, settings=settings) \
            if year != base_year else today
        factor = {}
        for part, col in (("primary", "pupils_primary"), ("junior", "pupils_junior")):
            f = (d.set_index("demand_id")[col] / today.set_index("demand_id")[col].replace(0, np.nan)).fillna(0)
            factor[part] = f
        p = share["base"] * [factor[lv].get(v, 0.0) for lv, v in zip(share["part"], share["demand_id"], strict=True)]
        load = p.groupby(share["school_id"]).sum()
        util = load / seat_total.reindex(load.index).where(lambda x: x > 0)
        for sid, u in util.items():
            if np.isfinite(u):
                if u >= settings["seat_warning_yellow"]:
                    first["first_yellow_year"].setdefault(sid, year)
                if u >= settings["seat_warning_red"]:
                    first["first_red_year"].setdefault(sid, year)
    out = pd.DataFrame(index=schools.index)
    for col, got in first.items():
        out[col] = schools["school_id"].map(got).astype("Int64")
    return out


def _apply_merges(nearest, base, all_costs, schools, merge_into):
    """Send the villages a merged school served to the school it merges into."""
    before = schools.assign(status="open", level=schools["level_before"].fillna(schools["level"]))
    full = ca.assign_nearest(open_costs(all_costs, before), base.groups)
    served = full.set_index(["demand_id", "group"])["school_id"]
    level = schools.set_index("school_id")["level"]
    still_open = schools[schools["status"] != "closed"].set_index("school_id")["level"]
    by_pair = all_costs.set_index(["from_id", "group", "to_id"])
    out = nearest.copy()
    for i, r in out.iterrows():
        was = served.get((r["demand_id"], r["group"]))
        target = merge_into.get(was) if was is not None else None
        if isinstance(target, tuple):  # (school, grade groups it takes): planet-satellite merges
            target, only = target
            if r["group"] not in only:
                continue
        if target is None or not ca.serves(level.get(target, ""), r["group"]):
            continue
        if was in still_open.index and ca.serves(still_open[was], r["group"]):
            continue  # a satellite keeps its grades 1-3
        key = (r["demand_id"], r["group"], target)
        if key not in by_pair.index:
            continue  # beyond the cut-off: keep the nearest open school
        c = by_pair.loc[key]
        c = c.iloc[0] if isinstance(c, pd.DataFrame) else c
        out.loc[i, ["school_id", "distance_m", "time_s", "status"]] = [target, c["distance_m"],
                                                                        c["time_s"], "merged"]
    return out


def _violations(parts: list[pd.DataFrame], settings: Settings) -> pd.DataFrame:
    nonempty = [v for v in parts if len(v)]
    violations = (pd.concat(nonempty, ignore_index=True) if nonempty
                  else pd.DataFrame(columns=_rules.VIOLATION_COLUMNS))
    disabled = {r.strip() for r in settings["rules_disabled"].split(",") if r.strip()}
    known = set(_rules.RULES) | {"balance_cv", "balance_school"}
    unknown = disabled - known
    if unknown:
        raise ScenarioError(f"rules_disabled names unknown rule(s) {sorted(unknown)}; "
                            f"known: {sorted(known)}")
    return violations[~violations["rule_id"].isin(disabled)].reset_index(drop=True)


def _counts(schools, towns, violations, inputs, settings) -> dict[str, Any]:
    tiers = sorted(settings["small_school_tiers"])
    open_s = schools[schools["status"] != "closed"]
    counts = {
        "schools": len(open_s),
        "schools_closed": int((schools["status"] == "closed").sum()),
        "schools_by_status": {str(k): int(v) for k, v in schools["status"].value_counts().sort_index().items()},
        "schools_by_level": {str(k): int(v) for k, v in open_s["level"].value_counts().sort_index().items()},
        "small_schools_by_tier": {f"lt{t}": int((open_s["enrollment"] < t)
                                                [open_s["small_tier"] != ""].sum()) for t in tiers},
        "towns": len(towns),
        "towns_without_junior_middle_school": int((~towns["junior_middle_rule_ok"]).sum()),
        "demand_points": 0 if inputs.demand is None else len(inputs.demand),
        "violations": {str(k): int(v) for k, v in violations["rule_id"].value_counts().items()},
        "warnings": len(inputs.problems.warnings),
    }
    if "seat_warning" in schools:
        counts["seat_warnings"] = {str(k): int(v) for k, v in
                                   open_s["seat_warning"].value_counts().sort_index().items()}
    return counts


def _balance(schools: pd.DataFrame, settings: Settings):
    """The 优质均衡 panel when the ledger has any of its columns, else ``None``."""
    if not any(c in schools and schools[c].notna().any() for c in BALANCE_COLUMNS):
        return None
    ind = balance.school_indicators(schools, settings)
    cv = balance.cv_panel(ind, settings)
    contrib = balance.cv_contributors(ind)
    rule = _rules.Rule("balance_cv", ("cv_limit_primary", "cv_limit_junior"),
                       "教督〔2017〕6号", "校际差异系数超限", "coefficient of variation above the limit")
    rows = []
    for r in cv.itertuples():
        if r.ok is False:
            lvl_zh = "小学" if r.level == "primary" else "初中"
            name_zh = balance.INDICATOR_NAMES.get(r.indicator, (r.indicator, r.indicator))[0]
            rows.append([rule.rule_id, "county", f"{r.level}/{r.indicator}", f"{lvl_zh}{name_zh}", r.cv, r.limit,
                         f"{lvl_zh}“{name_zh}”校际差异系数 {r.cv:.3f}，超过 {r.limit:.2f}",
                         f"{r.level} {r.indicator}: CV {r.cv:.3f} above {r.limit:.2f}", rule.source])
    for r in ind[ind["meets_standard"] == False].itertuples():  # noqa: E712
        rows.append(["balance_school", "school", r.school_id, r.name, r.indicators_met,
                     settings["balance_min_met"],
                     f"{r.name}（{'小学' if r.level == 'primary' else '初中'}部分）7项资源指标仅 "
                     f"{r.indicators_met} 项达标",
                     f"{r.name} ({r.level} part) meets only {r.indicators_met} of 7 resource standards",
                     rule.source])
    return ind, cv, contrib, pd.DataFrame(rows, columns=_rules.VIOLATION_COLUMNS)
