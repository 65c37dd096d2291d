"""行星-卫星 planet–satellite layouts of a town's primary schools.

In each town one **planet** (the central school) teaches grades 1–6; **satellites** (retained
village schools) teach grades 1–3 near home and send grades 4–6 to the planet. The automatic
proposal, per town:

1. the planet is the user's choice (``planets: {town_code: school_id}``), else by
   ``planet_rule``: ``largest`` (default: the largest school teaching grades 1–6) or
   ``nearest_seat`` (the one nearest the town seat point);
2. schools that are not small (no small-school tier), nine-year schools and the user's ``keep``
   list stay as they are;
3. the other primary schools and teaching points are first all closed into the planet; then every
   school whose grade 1–3 villages would walk over ``walk_limit_g1_3_min`` to the nearest
   remaining school is kept as a **satellite** (repeated until nothing changes); the user's
   ``satellites`` and ``close`` lists override.

Grades 1–3 then go to the nearest satellite or planet, grades 4–6 of closed schools and
satellites to the planet, by the travel modes the settings name. :func:`layout_table` reports per
town the planet, satellites and closed schools, the pupils arriving at the planet and the classes
they need at 45 per class, the seats left, and travel, bus and boarding needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan.diagnosis import open_costs
from schoolplan.errors import ScenarioError
from schoolplan.rules import small_tier
from schoolplan.schema import Base, Result

__all__ = ["LAYOUT_COLUMNS", "apply_planet_satellite", "layout_table"]

LAYOUT_COLUMNS = [
    "town_code", "town", "planet_id", "planet", "satellites", "closed", "kept",
    "satellite_ids", "closed_ids",
    "g4_6_pupils_at_planet", "primary_pupils_at_planet", "planet_seats_primary",
    "classes_needed_at_planet", "seats_left_at_planet", "g1_3_over_limit", "g4_6_mean_distance_m",
    "g4_6_max_distance_m", "g4_6_pupils_needing_bus", "g4_6_pupils_needing_boarding",
]

_PRIMARY_LEVELS = ("primary", "nine_year", "teaching_point")


def _choose_planet(town_schools: pd.DataFrame, town: pd.Series, rule: str) -> str | None:
    full = town_schools[town_schools["level"].isin(["primary", "nine_year"])]
    if full.empty:
        return None
    if rule == "nearest_seat" and np.isfinite(town.get("lon", np.nan)):
        d = np.hypot(full["lon"] - town["lon"], (full["lat"] - town["lat"]))
        return str(full.loc[d.idxmin(), "school_id"])
    return str(full.sort_values(["enrollment", "school_id"], ascending=[False, True])
               .iloc[0]["school_id"])


def apply_planet_satellite(base: Base, schools: pd.DataFrame, options: dict[str, Any]):
    """Lay out the chosen towns; return (schools, merges, layout table skeleton)."""
    if base.costs is None:
        raise ScenarioError("planet_satellite needs demand points (villages) to lay out towns")
    opts = dict(options or {})
    unknown = set(opts) - {"towns", "planet_rule", "planets", "satellites", "keep", "close"}
    if unknown:
        raise ScenarioError(f"planet_satellite: unknown option(s) {sorted(unknown)}")
    rule = opts.get("planet_rule", "largest")
    if rule not in ("largest", "nearest_seat"):
        raise ScenarioError(f"planet_satellite: planet_rule was {rule!r} but is expected to be "
                            "'largest' or 'nearest_seat'")
    towns = base.inputs.towns
    chosen = opts.get("towns", "all")
    codes = list(towns["town_code"]) if chosen in (None, "all") else [str(c) for c in chosen]
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
    settings = base.settings
    tiers = small_tier(schools, settings)
    limit_s = settings["walk_limit_g1_3_min"] * 60
    merges: dict[str, Any] = {}
    rows = []
    g13 = base.groups[base.groups["group"] == "g1_3"]
    costs13 = base.costs[base.costs["group"] == "g1_3"]
    for code in codes:
        town = towns[towns["town_code"] == code].iloc[0]
        mine = schools[(schools["town_code"] == code) & (schools["status"] != "closed")
                       & schools["level"].isin(_PRIMARY_LEVELS)]
        planet = planets.get(code) or _choose_planet(mine, town, rule)
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
        # villages of the town's movable schools (their nearest school today, grades 1-3)
        before = ca.assign_nearest(open_costs(costs13, schools), g13)
        served = before[before["school_id"].isin(movable_ids)]
        for _ in range(len(movable_ids) + 1):
            state = schools.copy()
            state.loc[state["school_id"].isin(closed), "status"] = "closed"
            after = ca.assign_nearest(open_costs(costs13, state), g13).set_index("demand_id")
            over = served[served["demand_id"].map(after["time_s"]).fillna(np.inf).to_numpy() > limit_s]
            need = (set(over["school_id"]) & closed) - force_close
            if not need:
                break
            satellites |= need
            closed -= need
        sel_sat = schools["school_id"].isin(satellites)
        schools.loc[sel_sat, "status"] = "satellite"
        schools.loc[sel_sat, "level"] = "teaching_point"
        schools.loc[schools["school_id"].isin(closed), "status"] = "closed"
        for sid in closed | satellites:
            merges[sid] = (planet, ("g4_6",))
        names = schools.set_index("school_id")["name"]
        rows.append({"town_code": code, "town": town["town"], "planet_id": planet,
                     "planet": names[planet],
                     "satellites": "、".join(sorted(names[s] for s in satellites)),
                     "closed": "、".join(sorted(names[s] for s in closed)),
                     "kept": "、".join(sorted(names[s] for s in set(mine["school_id"]) - movable_ids - {planet})),
                     "satellite_ids": ";".join(sorted(satellites)), "closed_ids": ";".join(sorted(closed))})
    return schools, merges, pd.DataFrame(rows, columns=LAYOUT_COLUMNS)


def layout_table(layouts: pd.DataFrame, result: Result) -> pd.DataFrame:
    """Fill the per-town figures of a layout from its diagnosis."""
    s = result.settings
    near = result.assignments[result.assignments["method"] == "nearest"]
    seats = ca.seats_by_part(result.schools[result.schools["status"] != "closed"])
    demand_town = result.inputs.demand.set_index("demand_id")["town_code"]
    near = near.assign(town_code=near["demand_id"].map(demand_town))
    out = layouts.copy()
    for i, r in out.iterrows():
        planet = r["planet_id"]
        if not isinstance(planet, str):
            continue
        at = near[near["school_id"] == planet]
        g46 = at[at["group"] == "g4_6"]
        prim = float(at.loc[at["level"] == "primary", "pupils"].sum())
        cap = seats.at[planet, "seats_primary"] if planet in seats.index else np.nan
        town_rows = near[near["town_code"] == r["town_code"]]
        t13 = town_rows[town_rows["group"] == "g1_3"]
        t46 = town_rows[(town_rows["group"] == "g4_6") & town_rows["school_id"].notna()]
        w = t46["pupils"].to_numpy(float)
        out.loc[i, "g4_6_pupils_at_planet"] = round(float(g46["pupils"].sum()), 1)
        out.loc[i, "primary_pupils_at_planet"] = round(prim, 1)
        out.loc[i, "planet_seats_primary"] = cap
        out.loc[i, "classes_needed_at_planet"] = math.ceil(prim / s["class_size_primary"]) if prim else 0
        out.loc[i, "seats_left_at_planet"] = round(cap - prim, 0) if np.isfinite(cap) else np.nan
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
