"""Issue 15: steps rewritten to run in about linear time give the same tables as the plain
row-by-row way they replaced, kept here as the reference ("the slow way")."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan import diagnosis
from schoolplan.diagnosis import open_costs, today_assignment

ROOT = Path(__file__).resolve().parents[1]


def _spy(monkeypatch, module, name: str) -> tuple[Any, list]:
    """The real ``module.name`` and the list of the arguments of every call to it from now."""
    real, seen = getattr(module, name), []

    def spy(*args):
        seen.append(args)
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    return real, seen


def _slow_apply_merges(nearest, base, all_costs, schools, merge_into):
    """The row-by-row version of diagnosis._apply_merges (before issue 15)."""
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
        if isinstance(target, tuple):
            target, only = target
            if r["group"] not in only:
                continue
        if target is None or not ca.serves(level.get(target, ""), r["group"]):
            continue
        if was in still_open.index and ca.serves(still_open[was], r["group"]):
            continue
        key = (r["demand_id"], r["group"], target)
        if key not in by_pair.index:
            continue
        c = by_pair.loc[key]
        c = c.iloc[0] if isinstance(c, pd.DataFrame) else c
        out.loc[i, ["school_id", "distance_m", "time_s", "status"]] = [target, c["distance_m"],
                                                                        c["time_s"], "merged"]
    return out


def test_merges_equal_the_row_by_row_way(monkeypatch):
    """Planet-satellite merges of the demo (satellites keep grades 1-3, grades 4-6 go to the
    planet) and a plain merge of a village school into its town's largest school."""
    import dataclasses

    from schoolplan.scenario import evaluate, load_scenario

    real, seen = _spy(monkeypatch, diagnosis, "_apply_merges")
    evaluate(load_scenario(ROOT / "scenarios" / "demo-planet-satellite.yaml"))
    plain = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    schools = evaluate(plain).schools
    primary = schools[schools["level"] == "primary"].sort_values("enrollment", kind="mergesort")
    small = primary.iloc[0]
    into = primary[primary["town_code"] == small["town_code"]].iloc[-1]
    assert small["school_id"] != into["school_id"]
    evaluate(dataclasses.replace(plain, actions=[
        {"merge": {"school": str(small["school_id"]), "into": str(into["school_id"])}}]))
    assert len(seen) >= 2
    for args in seen:
        fast, slow = real(*args), _slow_apply_merges(*args)
        pd.testing.assert_frame_equal(fast, slow)
        assert (fast["status"] == "merged").any()


def _slow_layout_table(layouts, result):
    """layouts.layout_table before issue 15: every table filtered per town."""
    s = result.settings
    if result.assignments is None or result.inputs.demand is None:
        raise AssertionError("planet_satellite needs demand points (villages) to lay out towns")
    near = today_assignment(result)  # calibrated flows, or nearest with assignment_method: nearest
    assert near is not None
    seats = ca.seats_by_part(result.schools[result.schools["status"] != "closed"])
    demand_town = result.inputs.demand.set_index("demand_id")["town_code"]
    near = near.assign(town_code=near["demand_id"].map(demand_town))
    out = layouts.copy()
    row_of = {r["school_id"]: r for _, r in result.schools[result.schools["school_id"].isin(
        set(out["planet_id"].dropna()))].iterrows()}
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



def test_layout_table_equals_the_filter_per_town(monkeypatch, tmp_path):
    """The per-town figures of the demo's planet-satellite layout, and of a layout of every
    town of a second county (another seed and shape), equal those of a filter per town."""
    from schoolplan import layouts
    from schoolplan.demo import DemoShape
    from schoolplan.demo.generate import write_demo
    from schoolplan.scenario import evaluate, load_scenario, scenario_from_dict

    real, seen = _spy(monkeypatch, layouts, "layout_table")
    evaluate(load_scenario(ROOT / "scenarios" / "demo-planet-satellite.yaml"))
    shape = DemoShape(n_zhen=6, n_xiang=3, village_spacing_m=1400, bypass=0.2, demand_noise=0.3)
    paths = write_demo(tmp_path / "data", seed=11, shape=shape)
    evaluate(scenario_from_dict({"name": "second", "synthetic": True, "inputs": {
        "schools": {"path": str(paths["schools"]), "coordinate_system": "wgs84"},
        "towns": str(paths["towns"]), "demand": str(paths["villages"]), "roads": str(paths["roads"])},
        "actions": [{"planet_satellite": {"towns": "all", "planet_rule": "central"}}]}, base=tmp_path))
    assert len(seen) == 2
    for args in seen:
        fast, slow = real(*args), _slow_layout_table(*args)
        assert fast["planet_id"].notna().sum() >= 3
        pd.testing.assert_frame_equal(fast, slow)


def _slow_redirect(cal, flows, pairs, origin, schools, merge_into, s):
    """calibration._redirect before issue 15: a pandas look-up per closed trip."""
    today = cal.flows
    open_now = set(pairs["to_id"])
    gone = today[~today["school_id"].isin(open_now)]
    if gone.empty:
        return flows
    by_pair = pairs.set_index(["from_id", "group", "to_id"])
    moved = []
    lost: dict[tuple[str, str], float] = {}
    seats = ca.seats_by_part(schools[schools["status"] != "closed"].drop_duplicates("school_id"))
    load = flows.groupby(["school_id", "level"])["pupils"].sum().to_dict()
    for r in gone.sort_values("distance_m").itertuples():
        target = merge_into.get(r.school_id)
        if isinstance(target, tuple):
            target, only = target
            if r.group not in only:
                target = None
        part = ca.PART_OF_GROUP[r.group]
        now = float(origin.get((r.demand_id, r.group), 0.0))
        was = float(cal.origin_totals.get((r.demand_id, r.group), 0.0))
        pupils = float(r.pupils) * (now / was if was > 0 else 1.0)
        if target is None and s["calibration_reassign"] == "nearest_with_seats":
            cand = pairs[(pairs["from_id"] == r.demand_id) & (pairs["group"] == r.group)].sort_values("distance_m")
            for c in cand.itertuples():
                cap = seats[f"seats_{part}"].get(c.to_id, np.nan)
                if not np.isfinite(cap) or load.get((c.to_id, part), 0.0) + pupils <= cap:
                    target = c.to_id
                    break
            if target is None and len(cand):
                target = cand.iloc[0]["to_id"]
        if target is None or (r.demand_id, r.group, target) not in by_pair.index:
            continue
        c = by_pair.loc[(r.demand_id, r.group, target)]
        c = c.iloc[0] if isinstance(c, pd.DataFrame) else c
        lost[(r.demand_id, r.group)] = lost.get((r.demand_id, r.group), 0.0) + pupils
        load[(target, part)] = load.get((target, part), 0.0) + pupils
        moved.append({"demand_id": r.demand_id, "group": r.group, "school_id": target, "pupils": pupils,
                      "distance_m": c["distance_m"], "time_s": c["time_s"], "mode": c["mode"],
                      "estimate": c.get("estimate", False), "status": "merged", "level": part,
                      "method": "calibrated"})
    if not moved:
        return flows
    # the redirected pupils leave the model's share of their village's other schools
    out = flows.copy()
    key = list(zip(out["demand_id"], out["group"], strict=True))
    tot = out.groupby(["demand_id", "group"])["pupils"].transform("sum").to_numpy()
    take = np.array([lost.get(k, 0.0) for k in key])
    keep = np.divide(tot - take, tot, out=np.ones(len(tot)), where=tot > 0).clip(min=0)
    out["pupils"] = out["pupils"].to_numpy() * keep
    return pd.concat([out, pd.DataFrame(moved)[ca.ASSIGNMENT_COLUMNS]], ignore_index=True)



def test_redirect_of_closed_schools_pupils_equals_the_lookup_per_trip(monkeypatch):
    """Where the calibrated model sends the pupils of closed schools: the demo's planet-satellite
    merges, and the closures of the demo's 2030 scenario sent to the nearest school with free
    seats (``calibration_reassign: nearest_with_seats``), equal a pandas look-up per trip."""
    import dataclasses

    from schoolplan import calibration
    from schoolplan.scenario import evaluate, load_scenario
    from schoolplan.settings import Settings

    real, seen = _spy(monkeypatch, calibration, "_redirect")
    evaluate(load_scenario(ROOT / "scenarios" / "demo-planet-satellite.yaml"))
    plain = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    schools = evaluate(plain).schools
    small = schools[schools["small_tier"].fillna("") != ""]["school_id"].astype(str).head(6).tolist()
    assert len(small) >= 3
    evaluate(dataclasses.replace(plain, actions=[{"close": small}]),
             settings=Settings({"calibration_reassign": "nearest_with_seats"}))
    assert len(seen) >= 2 and any(a[6]["calibration_reassign"] == "nearest_with_seats" for a in seen)
    for args in seen:
        fast, slow = real(*args), _slow_redirect(*args)
        pd.testing.assert_frame_equal(fast, slow)
        assert (fast["status"] == "merged").any()
