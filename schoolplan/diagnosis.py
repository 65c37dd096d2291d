"""The diagnosis of a school layout: catchments, seat warnings, rules, travel figures, balance.

:func:`diagnose` evaluates one state of the schools (which are open, which teach only grades 1–3,
which are new) on travel costs computed once (:class:`Base`), so scenarios and consolidation
checks re-evaluate without a new shortest-path run. It never reads files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from schoolplan import balance
from schoolplan import calibration as cal_
from schoolplan import catchments as ca
from schoolplan import projection as pj
from schoolplan import rules as _rules
from schoolplan.counties import county_checks
from schoolplan.errors import ScenarioError
from schoolplan.forked import Aside
from schoolplan.schema import BALANCE_COLUMNS, LEVEL_GRADES, Base, Result
from schoolplan.settings import Settings
from schoolplan.travel import resolve_workers

__all__ = ["SEAT_WARNING_COLUMNS", "diagnose", "open_costs", "seat_warning_table", "today_assignment",
           "travel_figures", "weighted_quantile"]

STATUSES = ("open", "closed", "satellite", "new")


def open_costs(costs: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Cost rows of schools that are open (not ``closed``) and teach the row's grade group
    (a satellite teaches grades 1–3 only)."""
    state = schools[schools["status"] != "closed"].set_index("school_id")["level"]
    lv = costs["to_id"].map(state)
    ok = lv.notna().to_numpy(bool).copy()
    if ok.any():  # ca.serves once per (level, group) pair, not per row: O(rows)
        pairs = pd.MultiIndex.from_arrays([lv[ok].astype(str).to_numpy(), costs["group"][ok].astype(str).to_numpy()])
        codes, uniques = pd.factorize(pairs)
        ok[ok] = np.array([ca.serves(level, group) for level, group in uniques], bool)[codes]
    return costs[ok]


def _restrict_to_town(costs: pd.DataFrame, demand: pd.DataFrame, schools: pd.DataFrame,
                      k: int) -> pd.DataFrame:
    town_d = demand.set_index("demand_id")["town_code"]
    town_s = schools.set_index("school_id")["town_code"]
    same = costs["from_id"].map(town_d).to_numpy() == costs["to_id"].map(town_s).to_numpy()
    c = costs[same]
    key = np.where(c["mode"] == "bus", c["time_s"], c["distance_m"])
    return c.assign(_k=key).sort_values(["from_id", "group", "_k"]).groupby(
        ["from_id", "group"]).head(k).drop(columns="_k")


def _within_town_costs(costs: pd.DataFrame, groups: pd.DataFrame, demand: pd.DataFrame,
                       open_s: pd.DataFrame, seats: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cost rows the capacitated assignment may use with ``capacitated_within_town``: a
    village's pupils go to schools of their own town, except where the town lacks seats of that
    level (its villages' pupils of the part above the open seats of the town's schools teaching
    it; a town with no such school lacks them all): those villages may also use another town's
    school. Returns the rows and, per town and part, the pupils, seats and shortfall. O(E + V)."""
    town_d = demand.set_index("demand_id")["town_code"]
    town_s = open_s.set_index("school_id")["town_code"]
    part_g = groups["group"].map(ca.PART_OF_GROUP)
    need = groups.assign(town_code=groups["demand_id"].map(town_d), part=part_g).groupby(
        ["town_code", "part"])["pupils"].sum()
    rows = []
    for part in ("primary", "junior"):
        teach = open_s[open_s["level"].map(lambda lv, pt=part: any(
            ca.serves(lv, g) for g, p in ca.PART_OF_GROUP.items() if p == pt)).astype(bool)]
        cap = seats[f"seats_{part}"].reindex(teach["school_id"]).to_numpy(float)
        have = pd.Series(np.where(np.isfinite(cap), cap, np.inf), index=teach["town_code"].to_numpy()
                         ).groupby(level=0).sum()
        mine = need[need.index.get_level_values("part") == part]
        for (town, _), pupils in mine.items():
            s_town = float(have.get(town, 0.0))
            rows.append({"town_code": town, "part": part, "pupils": float(pupils), "seats": s_town,
                         "short": max(float(pupils) - s_town, 0.0)})
    report = pd.DataFrame(rows, columns=["town_code", "part", "pupils", "seats", "short"])
    short = set(zip(report.loc[report["short"] > 1e-6, "town_code"],
                    report.loc[report["short"] > 1e-6, "part"], strict=True))
    vt = costs["from_id"].map(town_d).to_numpy()
    same = vt == costs["to_id"].map(town_s).to_numpy()
    part_c = costs["group"].map(ca.PART_OF_GROUP).to_numpy()
    may_cross = np.array([(t, p) in short for t, p in zip(vt, part_c, strict=True)], dtype=bool) \
        | pd.isna(vt)
    return costs[same | may_cross], report


def _crossing_report(capacitated: pd.DataFrame, demand: pd.DataFrame, schools: pd.DataFrame,
                     towns: pd.DataFrame) -> dict[str, Any]:
    """What the capacitated assignment sends to another town's school, and the towns short of
    seats that allowed it."""
    town_d = demand.set_index("demand_id")["town_code"]
    town_s = schools.set_index("school_id")["town_code"]
    got = capacitated[capacitated["school_id"].notna()]
    crossed = got[got["demand_id"].map(town_d).to_numpy() != got["school_id"].map(town_s).to_numpy()]
    short = towns[towns["short"] > 1e-6]
    out: dict[str, Any] = {"pupils_crossing_town": round(float(crossed["pupils"].sum()), 1),
                           "villages_crossing_town": int(crossed["demand_id"].nunique())}
    for part in ("primary", "junior"):  # town code -> pupils beyond the town's seats of the part
        mine = short[short["part"] == part]
        out[f"{part}_short_by_town"] = {str(t): round(float(v), 1)
                                        for t, v in zip(mine["town_code"], mine["short"], strict=True)}
    return out


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

    With ``workers`` > 1 and at least ``fork_diagnosis_min_rows`` cost rows, the capacitated
    assignment and the catchment areas run in forked processes meanwhile
    (:class:`schoolplan.forked.Aside`); the result is the same.
    """
    with contextlib.ExitStack() as stack:  # a process started aside dies with an error here
        return _diagnose(base, schools, extra_costs, merge_into, stack)


def _diagnose(base: Base, schools: gpd.GeoDataFrame, extra_costs: pd.DataFrame | None,
              merge_into: dict[str, str] | None, stack: contextlib.ExitStack) -> Result:
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
    assignments = shortage = areas = warn_table = areas_job = None
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
        # the capacitated assignment (HiGHS, seconds at prefecture scale) needs only the costs
        # and seats: it runs in a forked process while the flows below are computed, and the
        # catchment areas (shapely) while the rules are checked
        aside_workers = (resolve_workers(None, settings=settings)
                         if len(costs) >= settings["fork_diagnosis_min_rows"] else 1)
        seats = ca.seats_by_part(schools[is_open])
        cap_costs, crossing = costs, None
        if settings["capacitated_within_town"]:
            cap_costs, crossing = _within_town_costs(costs, groups, demand, schools[is_open], seats)
        capacitated_job = stack.enter_context(Aside(
            ca.assign_capacitated, cap_costs, groups, seats,
            allow_split=settings["catchment_allow_split"], workers=aside_workers))
        nearest = ca.assign_nearest(costs, groups)
        if merge_into:
            nearest = _apply_merges(nearest, base, all_costs, schools, merge_into)
        calibrated = None
        if settings["assignment_method"] == "calibrated":
            cal = _calibration(base)
            calibrated = cal_.flows_for_state(cal, costs, groups, schools, merge_into=merge_into,
                                              settings=settings)
            indicators["calibration"] = cal.summary
        today = nearest if calibrated is None else calibrated
        if free is not None:
            nearest = nearest.merge(
                free[["demand_id", "group", "school_id", "distance_m"]].rename(
                    columns={"school_id": "nearest_any_town", "distance_m": "nearest_any_town_m"}),
                on=["demand_id", "group"], how="left")
            nearest["extra_distance_m_town_rule"] = (nearest["distance_m"]
                                                     - nearest["nearest_any_town_m"]).clip(lower=0)
        uncalibrated = nearest
        if calibrated is None:
            today = nearest
        capacitated, shortage = capacitated_job.result()
        if crossing is not None:
            indicators["capacitated_within_town"] = _crossing_report(capacitated, demand, schools, crossing)
        nearest = today
        assignments = pd.concat([x for x in (calibrated, uncalibrated, capacitated) if x is not None],
                                ignore_index=True)
        main = (today.sort_values("pupils", ascending=False, kind="mergesort")
                .drop_duplicates(["demand_id", "group"]))
        areas_job = stack.enter_context(Aside(_catchment_areas, demand, main, inputs.towns,
                                              workers=aside_workers))  # joined below
        seat_cols, seat_viol = _rules.seat_warnings(schools, nearest, seats, settings)
        seat_cols.loc[~is_open, ["utilisation", "seat_warning"]] = [np.nan, "closed"]
        schools = schools.join(seat_cols)
        schools = schools.join(_model_vs_ledger(schools, today, settings))
        year0 = today
        if inputs.history is not None:  # the table scales the base year's flows year by year
            g0 = _base_year_groups(base)
            if calibrated is not None:
                year0 = cal_.flows_for_state(_calibration(base), costs, g0, schools, merge_into=merge_into,
                                             settings=settings)
            else:
                p0 = g0.set_index(["demand_id", "group"])["pupils"]
                year0 = today.assign(pupils=pd.MultiIndex.from_frame(today[["demand_id", "group"]]).map(
                    lambda k: p0.get(k, 0.0)).to_numpy(float))
        warn_table = seat_warning_table(base, schools, year0)
        first = warn_table.groupby("school_id")[["first_yellow_year", "first_red_year"]].min()
        if inputs.history is not None:
            for col in ("first_yellow_year", "first_red_year"):
                schools[col] = schools["school_id"].map(first[col]).astype("Int64")
        travel = nearest[nearest["school_id"].notna()].assign(
            _pd=lambda d: d["pupils"] * d["distance_m"], _pt=lambda d: d["pupils"] * d["time_s"])
        agg = travel.groupby("school_id").agg(p=("pupils", "sum"), d=("_pd", "sum"),
                                              t=("_pt", "sum"), tmax=("time_s", "max"))
        schools["mean_distance_m"] = schools["school_id"].map((agg["d"] / agg["p"]).round(0))
        schools["mean_time_s"] = schools["school_id"].map((agg["t"] / agg["p"]).round(0))
        schools["max_time_s"] = schools["school_id"].map(agg["tmax"].round(0))
        walk_summary, walk_viol = _rules.walk_time_g1_3(uncalibrated, demand, settings, trips=today)
        indicators["walk_time_g1_3"] = walk_summary
        indicators["travel"] = travel_figures(nearest, settings)
        indicators["service_radius"] = _rules.service_radius_coverage(nearest, demand, settings)
        if "extra_distance_m_town_rule" in uncalibrated:  # the rule's cost on nearest-school travel
            hit = uncalibrated[uncalibrated["extra_distance_m_town_rule"] > 1.0]
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
    if areas_job is not None:
        areas = areas_job.result()
    found = _violations(violation_parts, settings)
    is_alert = found["rule_id"].isin(_rules.ALERT_RULES)
    violations = found[~is_alert].reset_index(drop=True)
    alerts = found[is_alert].reset_index(drop=True)
    counts = _counts(schools, towns, violations, inputs, settings)
    counts["alerts"] = {str(k): int(v) for k, v in alerts["rule_id"].value_counts().items()}
    return Result(
        scenario=base.scenario, settings=settings, inputs=inputs, schools=schools, towns=towns,
        violations=violations, alerts=alerts, created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        distance_method=base.distance_method, counts=counts, assignments=assignments,
        shortage=shortage, catchments=areas, indicators=indicators,
        balance=None if balance_tables is None else balance_tables[0],
        balance_cv=None if balance_tables is None else balance_tables[1],
        balance_contributors=None if balance_tables is None else balance_tables[2],
        networks=dict(base.networks), seat_warnings=warn_table,
        calibration=_calibration(base).fit if "calibration" in indicators else None,
        counties=county_checks(schools, settings=settings),
    )


#: Columns of :func:`seat_warning_table` before the per-year columns.
SEAT_WARNING_COLUMNS = ["school_id", "name", "town", "level", "part", "part_zh", "seats",
                        "intake_places", "intake_source", "first_yellow_year", "first_red_year"]
_PART_ZH = {("primary", False): "小学", ("primary", True): "小学部",
            ("junior", False): "初中", ("junior", True): "初中部"}


def today_assignment(result: Result) -> pd.DataFrame | None:
    """The assignment a result's diagnosis used: ``calibrated`` rows when the calibration ran,
    else the (uncalibrated) ``nearest`` rows; ``None`` without travel."""
    a = result.assignments
    if a is None:
        return None
    method = "calibrated" if (a["method"] == "calibrated").any() else "nearest"
    return a[a["method"] == method]


def _catchment_areas(demand: pd.DataFrame, main: pd.DataFrame, towns: gpd.GeoDataFrame
                     ) -> gpd.GeoDataFrame:
    """The catchment areas of grades 1-3 and 7-9 of today's main school of each village."""
    areas = pd.concat([ca.catchment_areas(demand, main, towns, group=g) for g in ("g1_3", "g7_9")],
                      ignore_index=True)
    return gpd.GeoDataFrame(areas, geometry="geometry", crs=4326)


def _calibration(base: Base) -> cal_.Calibration:
    """Today's calibration of the base (every school of the ledger open), once per base."""
    key = "calibration_costs"
    if key not in base.cache:
        today = base.inputs.schools.assign(status="open")
        costs = open_costs(base.costs, today)
        if base.settings["catchment_within_town"]:
            costs = _restrict_to_town(costs, base.inputs.demand, today,
                                      base.settings["catchment_candidates"])
        base.cache[key] = costs
        fresh = True
    else:
        fresh = False
    cal = cal_.calibrate(base, base.cache[key])
    if fresh:
        band = base.settings["calibration_band"]
        off = cal.fit[~cal.fit["within_band"]]
        if len(off):
            names = base.inputs.schools.set_index("school_id")["name"]
            listed = "、".join(f"{names.get(r.school_id, r.school_id)} {r.ratio:.2f}"
                              for r in off.head(20).itertuples())
            base.inputs.problems.warning(
                "calibration_band", "calibration", ids=sorted(set(off["school_id"])),
                en=f"{off['school_id'].nunique()} school(s) keep modelled pupils more than "
                   f"{band:.0%} from their ledger enrolment after calibration ({listed})",
                zh=f"校准后仍有 {off['school_id'].nunique()} 所学校的模型学生数与台账相差超过 {band:.0%}（{listed}）",
                fix_en="check the school's enrolment and the villages around it, or give observed origins (生源)",
                fix_zh="请核对该校在校生数及周边村庄人数，或提供生源数据")
    return cal


def _model_vs_ledger(schools: pd.DataFrame, today: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Modelled pupils of each school (its villages' children under the assignment in force)
    against its ledger enrolment: ``modelled_pupils``, ``ledger_enrollment``, ``model_ratio``,
    ``model_within_band``."""
    got = today[today["school_id"].notna()].groupby("school_id")["pupils"].sum()
    ledger = (schools["enrollment_ledger"] if "enrollment_ledger" in schools else schools["enrollment"]).astype(float)
    out = pd.DataFrame(index=schools.index)
    out["modelled_pupils"] = schools["school_id"].map(got).fillna(0.0).round(1)
    out["ledger_enrollment"] = ledger
    out["model_ratio"] = (out["modelled_pupils"] / ledger.where(ledger > 0)).round(3)
    closed = (schools["status"] == "closed").to_numpy()
    out.loc[closed, "model_ratio"] = np.nan
    within = ((out["model_ratio"] - 1).abs() <= settings["calibration_band"]).astype(object)
    out["model_within_band"] = within.where(out["model_ratio"].notna(), None)
    return out


def _base_year_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """The villages' children in the base year (``pupils_*_base`` when a ``year:`` scenario
    projected them)."""
    cols = {c: demand[f"{c}_base"] if f"{c}_base" in demand else demand[c]
            for c in ("pupils_primary", "pupils_junior")}
    return demand.assign(**cols)


def _base_year_groups(base: Base) -> pd.DataFrame:
    return ca.demand_by_group(_base_year_demand(base.inputs.demand), base.settings)


def _year_factors(base: Base) -> dict[int, dict[str, pd.Series]]:
    """Per projection year, each village's children as a multiple of its children in the base
    year, by part; ``{}`` without a history."""
    inputs, settings = base.inputs, base.settings
    if inputs.history is None or inputs.demand is None:
        return {}
    key = "seat_warning_year_factors"
    if key in base.cache:
        return base.cache[key]
    start = _base_year_demand(inputs.demand)
    base_year = int(inputs.history["year"].max())
    horizon = max(settings["projection_horizon_years"], (base.scenario.year or base_year) - base_year)
    proj = pj.cohort_projection(inputs.history, births=inputs.births, schools=inputs.schools,
                                horizon=horizon, settings=settings)
    out: dict[int, dict[str, pd.Series]] = {}
    for year in sorted(int(y) for y in proj["year"].unique() if y >= base_year):
        d = start if year == base_year else pj.project_demand(start, proj, year=year, births=inputs.births,
                                                              settings=settings)
        out[year] = {}
        for part, col in (("primary", "pupils_primary"), ("junior", "pupils_junior")):
            now = start.set_index("demand_id")[col].astype(float)
            out[year][part] = (d.set_index("demand_id")[col].astype(float) / now.replace(0, np.nan)).fillna(0.0)
    base.cache[key] = out
    return out


def seat_warning_table(base: Base, schools: pd.DataFrame, today: pd.DataFrame) -> pd.DataFrame:
    """学位预警 per open school, 学段 (part) and year, as a bureau publishes it.

    A nine-year school has a 小学部 and a 初中部 row, a complete middle school an 初中部 row.
    Per year ``Y`` (the base year of the history and every projection year; one column
    ``today`` without a history):

    ``today``: the flows of the base year's children under the state's assignment.

    * ``entry_Y``: the entry cohort (一年级 / 七年级) of the school's villages, a third of their
      grades 1–3 (7–9) children, scaled by each village's projected change from the base
      year; ``entry_util_Y`` against ``intake_places``: the ledger's intake places of the entry
      grade (一年级学位 / 七年级学位 / 招生计划) when given, else entry classes x class size (the
      part's classes over its grades), else its seats over its grades (``intake_source``);
    * ``whole_Y``: all the part's pupils; ``whole_util_Y`` against the part's seats;
    * ``warning_Y``: ``red`` / ``yellow`` (settings ``seat_warning_red``/``_yellow``) on the
      larger of the two, ``ok``, or ``unknown`` without seats.

    ``first_yellow_year`` and ``first_red_year``: the first year at yellow or above, at red.
    A 预警 (warning), not a 违规 (breach).
    """
    settings = base.settings
    yellow, red = settings["seat_warning_yellow"], settings["seat_warning_red"]
    open_s = schools[schools["status"] != "closed"]
    seats = ca.seats_by_part(open_s)
    factors = _year_factors(base)
    years: list[Any] = list(factors) or ["today"]
    flows = today[today["school_id"].notna()]
    # the pupils of every (school, part) per year summed once for all schools, as arrays
    # (``O(flows)``): a scan of every flow per school made this table quadratic (223 s of a
    # prefecture run), pandas look-ups per school made it 6 s (issue 15)
    part_of = flows["group"].map({"g1_3": "primary", "g4_6": "primary", "g7_9": "junior"})
    entry_flow = flows["group"].isin(("g1_3", "g7_9")).to_numpy()
    keys = pd.MultiIndex.from_arrays([flows["school_id"].to_numpy(), part_of.to_numpy()])
    pupils = flows["pupils"].to_numpy(float)
    whole_of: dict[Any, dict] = {}
    entry_of: dict[Any, dict] = {}
    for y in years:
        w = pupils
        if y in factors:
            f = np.where(part_of.to_numpy() == "junior",
                         flows["demand_id"].map(factors[y]["junior"]).to_numpy(float),
                         flows["demand_id"].map(factors[y]["primary"]).to_numpy(float))
            w = pupils * np.where(np.isnan(f), 1.0, f)
        whole_of[y] = pd.Series(w, index=keys).groupby(level=[0, 1], sort=False).sum().to_dict()
        entry_of[y] = pd.Series(w[entry_flow], index=keys[entry_flow]).groupby(
            level=[0, 1], sort=False).sum().to_dict() if entry_flow.any() else {}
    seat_rows = seats.to_dict("index")
    rows = []
    cols = list(open_s.columns)
    for rec_s in open_s.itertuples(index=False, name=None):
        sch = dict(zip(cols, rec_s, strict=True))
        sid, level = sch["school_id"], sch["level"]
        grades = LEVEL_GRADES.get(level, ())
        split = level in ("nine_year", "complete")
        srow = seat_rows.get(sid)
        share = float(srow["junior_share"]) if srow is not None else 0.0
        for part, first_g in (("primary", 1), ("junior", 7)):
            part_grades = [g for g in grades if (g <= 6 if part == "primary" else 7 <= g <= 9)]
            if first_g not in part_grades:
                continue
            seat_part = float(srow[f"seats_{part}"]) if srow is not None else np.nan
            cls = float(sch["classes"]) if "classes" in sch and pd.notna(sch["classes"]) else np.nan
            cls_part = cls * (share if part == "junior" else 1 - share)
            size = settings["class_size_junior" if part == "junior" else
                            "class_size_teaching_point" if level == "teaching_point" else "class_size_primary"]
            planned = pd.to_numeric(sch.get(f"intake_{part}"), errors="coerce")
            if pd.notna(planned) and planned > 0:  # the ledger's intake places (招生计划)
                intake, intake_source = float(planned), "ledger"
            elif np.isfinite(cls_part) and cls_part > 0:
                intake, intake_source = round(cls_part / len(part_grades)) * size, "classes x class size"
            else:
                intake, intake_source = seat_part / len(part_grades), "seats / grades"
            rec: dict[str, Any] = {"school_id": sid, "name": sch["name"], "town": sch.get("town"),
                                   "level": level, "part": part, "part_zh": _PART_ZH[(part, split)],
                                   "seats": seat_part, "intake_places": intake,
                                   "intake_source": intake_source,
                                   "first_yellow_year": None, "first_red_year": None}
            for y in years:
                whole = float(whole_of[y].get((sid, part), 0.0))
                entry = float(entry_of[y].get((sid, part), 0.0)) / 3.0
                eu = entry / intake if np.isfinite(intake) and intake > 0 else np.nan
                wu = whole / seat_part if np.isfinite(seat_part) and seat_part > 0 else np.nan
                u = np.nanmax([eu, wu]) if np.isfinite([eu, wu]).any() else np.nan
                band = "unknown" if not np.isfinite(u) else "red" if u >= red else "yellow" if u >= yellow else "ok"
                rec.update({f"entry_{y}": round(entry, 1), f"entry_util_{y}": round(eu, 3),
                            f"whole_{y}": round(whole, 1), f"whole_util_{y}": round(wu, 3),
                            f"warning_{y}": band})
                if y != "today" and band in ("yellow", "red") and rec["first_yellow_year"] is None:
                    rec["first_yellow_year"] = y
                if y != "today" and band == "red" and rec["first_red_year"] is None:
                    rec["first_red_year"] = y
            rows.append(rec)
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=SEAT_WARNING_COLUMNS)
    for col in ("first_yellow_year", "first_red_year"):
        out[col] = out[col].astype("Int64")
    out.attrs["years"] = years
    return out


def _apply_merges(nearest, base, all_costs, schools, merge_into):
    """Send the villages a merged school served to the school it merges into.

    ``O(rows + cost rows)``: the target of each row from dicts, its trip from one join with the
    costs (a look-up per row of a MultiIndex and a ``.loc`` write per row took seconds at
    prefecture scale)."""
    before = schools.assign(status="open", level=schools["level_before"].fillna(schools["level"]))
    full = ca.assign_nearest(open_costs(all_costs, before), base.groups)
    served = dict(zip(zip(full["demand_id"], full["group"], strict=True), full["school_id"], strict=True))
    level = dict(zip(schools["school_id"], schools["level"], strict=True))
    open_s = schools[schools["status"] != "closed"]
    still_open = dict(zip(open_s["school_id"], open_s["level"], strict=True))
    out = nearest.copy()
    targets: list[Any] = []
    for d, g in zip(out["demand_id"], out["group"], strict=True):
        was = served.get((d, g))
        target = merge_into.get(was) if was is not None else None
        if isinstance(target, tuple):  # (school, grade groups it takes): planet-satellite merges
            target, only = target
            if g not in only:
                target = None
        if target is not None and not ca.serves(level.get(target, ""), g):
            target = None
        if target is not None and was in still_open and ca.serves(still_open[was], g):
            target = None  # a satellite keeps its grades 1-3
        targets.append(target)
    want = pd.DataFrame({"from_id": out["demand_id"].to_numpy(), "group": out["group"].to_numpy(),
                         "to_id": np.array(targets, dtype=object), "_row": np.arange(len(out))})
    want = want[want["to_id"].notna()]
    if not len(want):
        return out
    trips = all_costs[["from_id", "group", "to_id", "distance_m", "time_s"]].drop_duplicates(
        ["from_id", "group", "to_id"])  # the first row of a pair, as before
    hit = want.astype({"to_id": trips["to_id"].dtype}).merge(trips, on=["from_id", "group", "to_id"])
    # a pair beyond the cut-off has no cost row: the village keeps its nearest open school
    rows = out.index[hit["_row"].to_numpy()]
    out.loc[rows, "school_id"] = hit["to_id"].to_numpy()
    out.loc[rows, "distance_m"] = hit["distance_m"].to_numpy()
    out.loc[rows, "time_s"] = hit["time_s"].to_numpy()
    out.loc[rows, "status"] = "merged"
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
