"""行星-卫星 planet–satellite layouts of a town's primary schools (聊城 2022: "行星（中心校）-卫星
（保留的附设校）… 在镇域内 … 1-3年级在'卫星'学校就近入学，4-6年级在'行星'学校就读").

In each town one **planet** (the central school) teaches grades 1–6; **satellites** (retained
village schools, 附设校 — counted as primaries, not 教学点) teach grades 1–3 near home and send
grades 4–6 to the planet. The automatic proposal, per town:

1. towns: the rural towns (``town_type`` in ``planet_satellite_town_types``: 镇, 乡) unless the
   scenario names towns (a 街道 only when named); without a ``town_type`` column, every town;
2. the planet is the user's choice (``planets: {town_code: school_id}``), else by
   ``planet_rule``: ``central`` (default: the town's 中心校, from the ledger's 中心校 column or a
   name matching ``central_school_pattern``, see :func:`schoolplan.rules.central_schools`; the
   largest school teaching grades 1–6 when the town has none, and the table says so in
   ``planet_rule_used``), ``largest`` or ``nearest_seat`` (nearest the town seat point);
3. schools that are not small (no small-school tier), nine-year schools and the user's ``keep``
   list stay as they are;
4. the other primary schools and teaching points of the town are first all closed into the
   planet; then, one at a time, the school that brings most grade 1–3 pupils back under
   ``walk_limit_g1_3_min`` (pupils who walk within the limit today and would not after) is kept as
   a **satellite**, until no pupil is newly over the limit; the rest close (their receiver is the
   planet). The user's ``satellites`` and ``close`` lists override;
5. a satellite keeps grades 1–3 only: its seats, classes and enrolment are cut to grades 1–3
   (the ledger's grade 1–3 enrolment where given, else half; seats and classes by 3 of 6).

Grades 1–3 then go to the nearest satellite or planet, grades 4–6 of closed schools and
satellites to the planet (step 4 tests walking times to the nearest school, a geometric test).
:func:`layout_table` reads today's assignment of the laid-out state
(:func:`schoolplan.diagnosis.today_assignment`: the calibrated flows by default, the uncalibrated
nearest-school rows with ``assignment_method: nearest``) and reports per town the planet, satellites and closed
schools, the pupils arriving at the planet and the classes they need at 45 per class, the seats
left and the **seat gap** (pupils beyond the planet's seats: a shortfall of the layout), boarding
places and canteen seats needed there against the ledger's 寄宿床位 and 食堂座位, and travel, bus and
boarding needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan.diagnosis import open_costs, today_assignment
from schoolplan.errors import ScenarioError
from schoolplan.rules import central_schools, small_tier
from schoolplan.schema import Base, Result
from schoolplan.settings import Settings

__all__ = ["LAYOUT_COLUMNS", "apply_planet_satellite", "count_layout", "layout_table"]

LAYOUT_COLUMNS = [
    "town_code", "town", "planet_id", "planet", "planet_rule_used", "satellites", "closed", "kept",
    "satellite_ids", "closed_ids",
    "g4_6_pupils_at_planet", "primary_pupils_at_planet", "planet_seats_primary",
    "classes_needed_at_planet", "seats_left_at_planet", "planet_seat_gap", "g1_3_over_limit",
    "g4_6_mean_distance_m", "g4_6_max_distance_m", "g4_6_pupils_needing_bus",
    "g4_6_pupils_needing_boarding", "boarding_needed_at_planet", "boarding_beds_at_planet",
    "canteen_needed_at_planet", "canteen_seats_at_planet",
]

_PRIMARY_LEVELS = ("primary", "nine_year", "teaching_point")
_RULES = ("central", "largest", "nearest_seat")


def _choose_planet(town_schools: pd.DataFrame, town: pd.Series, rule: str,
                   settings: Settings) -> tuple[str | None, str]:
    """The planet of a town and the rule that chose it."""
    full = town_schools[town_schools["level"].isin(["primary", "nine_year"])]
    if full.empty:
        return None, ""
    if rule == "central":
        central = full[central_schools(full, settings).to_numpy(bool)]
        if len(central):
            best = central.sort_values(["level", "enrollment", "school_id"], ascending=[False, False, True])
            return str(best.iloc[0]["school_id"]), "central"
        rule = "largest"
        used = "largest (no 中心校)"
    else:
        used = rule
    if rule == "nearest_seat" and np.isfinite(town.get("lon", np.nan)):
        d = np.hypot(full["lon"] - town["lon"], (full["lat"] - town["lat"]))
        return str(full.loc[d.idxmin(), "school_id"]), used
    return str(full.sort_values(["enrollment", "school_id"], ascending=[False, True])
               .iloc[0]["school_id"]), used


def _cut_to_grades_1_3(schools: pd.DataFrame, sel: pd.Series) -> None:
    """Seats, classes and enrolment of satellites cut to grades 1–3, in place."""
    g13 = [c for c in ("enrollment_g1", "enrollment_g2", "enrollment_g3") if c in schools]
    for i in schools.index[sel]:
        level = schools.at[i, "level"]
        grades = 9 if level == "nine_year" else 3 if level == "teaching_point" else 6
        if grades == 3:
            continue
        share = 3 / grades
        enr = schools.at[i, "enrollment"]
        if len(g13) == 3 and all(pd.notna(schools.at[i, c]) for c in g13):
            schools.at[i, "enrollment"] = float(sum(schools.at[i, c] for c in g13))
        elif pd.notna(enr):
            schools.at[i, "enrollment"] = float(enr) * share
        for c in ("seats", "classes"):
            v = schools.at[i, c]
            if pd.notna(v):
                schools.at[i, c] = math.ceil(float(v) * share - 1e-9) if c == "classes" else float(v) * share


def apply_planet_satellite(base: Base, schools: pd.DataFrame, options: dict[str, Any]):
    """Lay out the chosen towns; return (schools, merges, layout table skeleton)."""
    if base.costs is None:
        raise ScenarioError("planet_satellite needs demand points (villages) to lay out towns")
    opts = dict(options or {})
    unknown = set(opts) - {"towns", "planet_rule", "planets", "satellites", "keep", "close"}
    if unknown:
        raise ScenarioError(f"planet_satellite: unknown option(s) {sorted(unknown)}")
    rule = opts.get("planet_rule", "central")
    if rule not in _RULES:
        raise ScenarioError(f"planet_satellite: planet_rule was {rule!r} but is expected to be one of "
                            f"{list(_RULES)}")
    settings = base.settings
    towns = base.inputs.towns
    chosen = opts.get("towns")
    if chosen in (None, "rural"):
        types = {t.strip() for t in settings["planet_satellite_town_types"].split(",") if t.strip()}
        codes = (list(towns.loc[towns["town_type"].isin(types), "town_code"]) if "town_type" in towns
                 else list(towns["town_code"]))
    elif chosen == "all":
        codes = list(towns["town_code"])
    else:
        codes = [str(c) for c in (chosen if isinstance(chosen, list) else [chosen])]
    missing = sorted(set(codes) - set(towns["town_code"]))
    if missing:
        raise ScenarioError(f"planet_satellite: town code(s) {missing} are not in the towns input")
    planets = {str(k): str(v) for k, v in (opts.get("planets") or {}).items()}
    force_sat = {str(i) for i in opts.get("satellites") or []}
    keep = {str(i) for i in opts.get("keep") or []}
    force_close = {str(i) for i in opts.get("close") or []}
    ids = set(schools["school_id"])
    bad = sorted((set(planets.values()) | force_sat | keep | force_close) - ids)
    if bad:
        raise ScenarioError(f"planet_satellite: school id(s) {bad} are not in the schools input")

    schools = schools.copy()
    tiers = small_tier(schools, settings)
    limit_s = settings["walk_limit_g1_3_min"] * 60
    merges: dict[str, Any] = {}
    rows = []
    assert base.groups is not None  # with costs come the grade groups
    g13 = base.groups[base.groups["group"] == "g1_3"]
    costs13 = base.costs[base.costs["group"] == "g1_3"]
    names = schools.set_index("school_id")["name"]
    before = ca.assign_nearest(open_costs(costs13, schools), g13)
    # rows by school / village once (``O(rows)``): a filter of every table per town made the
    # layout of a prefecture's 135 towns cost more than its diagnosis (issue 15)
    before_of = before.groupby("school_id", sort=False).indices
    costs_of = costs13.groupby("from_id", sort=False).indices
    groups_of = g13.groupby("demand_id", sort=False).indices

    def rows_of(frame: pd.DataFrame, index: dict, keys) -> pd.DataFrame:
        """The rows of ``frame`` whose key is in ``keys``, in the frame's order."""
        pos = [index[k] for k in keys if k in index]
        return frame.iloc[np.sort(np.concatenate(pos))] if pos else frame.iloc[:0]

    for code in codes:
        town = towns[towns["town_code"] == code].iloc[0]
        mine = schools[(schools["town_code"] == code) & (schools["status"] != "closed")
                       & schools["level"].isin(_PRIMARY_LEVELS)]
        planet: str | None
        if code in planets:
            planet, used = planets[code], "user"
        else:
            planet, used = _choose_planet(mine, town, rule, settings)
        if planet is None:
            rows.append({"town_code": code, "town": town["town"], "planet_id": None})
            continue
        if planet not in set(mine["school_id"]):
            raise ScenarioError(f"planet_satellite: planet {planet} is not an open primary school of town {code}")
        movable = mine[(mine["school_id"] != planet) & ~mine["school_id"].isin(keep)
                       & ((tiers[mine.index] != "") | (mine["level"] == "teaching_point")
                          | mine["school_id"].isin(force_sat | force_close))
                       & (mine["level"] != "nine_year")]
        movable_ids = set(movable["school_id"])
        satellites = set(force_sat & movable_ids)
        closed = movable_ids - satellites
        # grade 1-3 villages of the town's movable schools, and their costs only
        served = rows_of(before, before_of, movable_ids)
        ok_now = served[served["time_s"].fillna(np.inf) <= limit_s]
        villages = set(served["demand_id"])
        c_town = rows_of(costs13, costs_of, villages)
        g_town = rows_of(g13, groups_of, villages)
        # the town's trips ordered by village and cost once; each round only masks the closed
        # schools out (as assign_nearest(open_costs(...)) on the town's rows, O(trips) a round)
        trips = open_costs(c_town, schools[schools["school_id"].isin(set(c_town["to_id"]))])
        trips = trips[trips["from_id"].isin(set(g_town["demand_id"]))]
        key = np.where(trips["mode"] == "bus", trips["time_s"], trips["distance_m"]).astype(float)
        order = np.lexsort((key, trips["from_id"].to_numpy()))
        t_from = trips["from_id"].to_numpy()[order]
        t_to = trips["to_id"].to_numpy()[order]
        t_time = trips["time_s"].to_numpy(float)[order]
        ok_ids = ok_now["demand_id"].to_numpy()
        for _ in range(len(movable_ids) + 1):
            keep_row = ~np.isin(t_to, list(closed))
            vf, vt = t_from[keep_row], t_time[keep_row]
            first = np.r_[True, vf[1:] != vf[:-1]] if len(vf) else np.zeros(0, bool)
            time_after = dict(zip(vf[first], vt[first], strict=True))
            t_now = np.array([time_after.get(v, np.inf) for v in ok_ids], float)
            over = ok_now[np.where(np.isnan(t_now), np.inf, t_now) > limit_s]
            need = over[over["school_id"].isin(closed - force_close)]
            if need.empty:
                break
            best = need.groupby("school_id")["pupils"].sum().sort_values(ascending=False, kind="stable")
            satellites.add(best.index[0])
            closed.discard(best.index[0])
        sel_sat = schools["school_id"].isin(satellites)
        _cut_to_grades_1_3(schools, sel_sat)
        schools.loc[sel_sat, "status"] = "satellite"
        schools.loc[sel_sat, "level"] = "teaching_point"
        schools.loc[schools["school_id"].isin(closed), "status"] = "closed"
        for sid in closed | satellites:
            merges[sid] = (planet, ("g4_6",))
        rows.append({"town_code": code, "town": town["town"], "planet_id": planet,
                     "planet": names[planet], "planet_rule_used": used,
                     "satellites": "、".join(sorted(names[s] for s in satellites)),
                     "closed": "、".join(sorted(names[s] for s in closed)),
                     "kept": "、".join(sorted(names[s] for s in set(mine["school_id"]) - movable_ids - {planet})),
                     "satellite_ids": ";".join(sorted(satellites)), "closed_ids": ";".join(sorted(closed))})
    return schools, merges, pd.DataFrame(rows, columns=LAYOUT_COLUMNS)


def layout_table(layouts: pd.DataFrame, result: Result) -> pd.DataFrame:
    """Fill the per-town figures of a layout from its diagnosis: the trips split by school and by
    town once (``O(trips)``), then each town reads its own rows."""
    s = result.settings
    if result.assignments is None or result.inputs.demand is None:
        raise ScenarioError("planet_satellite needs demand points (villages) to lay out towns")
    near = today_assignment(result)  # calibrated flows, or nearest with assignment_method: nearest
    assert near is not None
    seats = ca.seats_by_part(result.schools[result.schools["status"] != "closed"])
    demand_town = result.inputs.demand.set_index("demand_id")["town_code"]
    near = near.assign(town_code=near["demand_id"].map(demand_town))
    out = layouts.copy()
    row_of = {r["school_id"]: r for _, r in result.schools[result.schools["school_id"].isin(
        set(out["planet_id"].dropna()))].iterrows()}
    # the trips by school and by town once (O(trips)); a filter of all trips per town made the
    # table of a prefecture's 135 towns cost 135 passes over its 200,000 trips (issue 15)
    none = near.iloc[:0]
    by_school = dict(iter(near.groupby("school_id", sort=False)))
    by_town = dict(iter(near.groupby("town_code", sort=False)))
    for i, r in out.iterrows():
        planet = r["planet_id"]
        if not isinstance(planet, str):
            continue
        at = by_school.get(planet, none)
        g46 = at[at["group"] == "g4_6"]
        prim = float(at.loc[at["level"] == "primary", "pupils"].sum())
        cap = seats.at[planet, "seats_primary"] if planet in seats.index else np.nan
        town_rows = by_town.get(r["town_code"], none)
        t13 = town_rows[town_rows["group"] == "g1_3"]
        t46 = town_rows[(town_rows["group"] == "g4_6") & town_rows["school_id"].notna()]
        w = t46["pupils"].to_numpy(float)
        out.loc[i, "g4_6_pupils_at_planet"] = round(float(g46["pupils"].sum()), 1)
        out.loc[i, "primary_pupils_at_planet"] = round(prim, 1)
        out.loc[i, "planet_seats_primary"] = cap
        out.loc[i, "classes_needed_at_planet"] = math.ceil(prim / s["class_size_primary"]) if prim else 0
        out.loc[i, "seats_left_at_planet"] = round(cap - prim, 0) if np.isfinite(cap) else np.nan
        out.loc[i, "planet_seat_gap"] = round(max(prim - cap, 0.0), 0) if np.isfinite(cap) else np.nan
        board = at[(at["group"] != "g1_3") & (at["distance_m"] > s["boarding_beyond_km"] * 1000)]
        out.loc[i, "boarding_needed_at_planet"] = round(float(board["pupils"].sum()), 0)
        out.loc[i, "canteen_needed_at_planet"] = round(float(at["pupils"].sum()) * s["lunch_at_school_share"], 0)
        for col in ("boarding_beds", "canteen_seats"):
            v = row_of[planet].get(col) if planet in row_of else None
            out.loc[i, f"{col}_at_planet"] = float(v) if v is not None and pd.notna(v) else np.nan
        out.loc[i, "g1_3_over_limit"] = round(float(t13.loc[(t13["time_s"] > s["walk_limit_g1_3_min"] * 60)
                                                           | t13["school_id"].isna(), "pupils"].sum()), 1)
        out.loc[i, "g4_6_mean_distance_m"] = (
            round(float(np.sum(t46["distance_m"] * w) / w.sum()), 0) if w.sum() else np.nan)
        out.loc[i, "g4_6_max_distance_m"] = round(float(t46["distance_m"].max()), 0) if len(t46) else np.nan
        far = t46["distance_m"] > s["trip_limit_upper_grades_km"] * 1000
        out.loc[i, "g4_6_pupils_needing_bus"] = round(float(t46.loc[far, "pupils"].sum()), 1)
        board = t46["distance_m"] > s["boarding_beyond_km"] * 1000
        out.loc[i, "g4_6_pupils_needing_boarding"] = round(float(t46.loc[board, "pupils"].sum()), 1)
    return out


def count_layout(result: Result, layouts: pd.DataFrame) -> None:
    """Count a layout in ``result`` (in place): satellites as primary schools (附设校, not 教学点)
    in ``counts["schools_by_level"]``, and the planets' seat gaps as the primary seat shortfall.

    The primary shortfall becomes the capacitated shortfall of the villages outside the laid-out
    towns plus the planets' seat gaps: inside a laid-out town the pupils stay in their town, so
    the overflow the capacitated assignment would send to another town's school is a shortfall.
    """
    s = result.schools
    open_s = s[s["status"] != "closed"]
    level = open_s["level"].where(open_s["status"] != "satellite", "primary")
    result.counts["schools_by_level"] = {str(k): int(v) for k, v in level.value_counts().sort_index().items()}
    shortage = result.indicators.get("seat_shortage")
    if shortage is None or result.shortage is None or result.inputs.demand is None:
        return
    towns = set(layouts.loc[layouts["planet_id"].notna(), "town_code"])
    demand_town = result.inputs.demand.set_index("demand_id")["town_code"]
    sh = result.shortage
    outside = sh[(sh["level"] == "primary") & ~sh["demand_id"].map(demand_town).isin(towns)]
    gap = float(pd.to_numeric(layouts["planet_seat_gap"], errors="coerce").fillna(0).sum())
    shortage["primary"] = round(float(outside["pupils_unassigned"].sum()) + gap, 1)
    shortage["primary_planet_gaps"] = round(gap, 1)
