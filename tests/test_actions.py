"""Scenario actions evaluated on the demo county, reusing the travel costs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from schoolplan.errors import ScenarioError
from schoolplan.scenario import initial_state, load_scenario, prepare
from schoolplan.scenario.actions import run_actions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base():
    return prepare(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))


@pytest.fixture(scope="module")
def start(base):
    return run_actions(base, initial_state(base), [])


def _small_primary(result, n=1):
    s = result.schools
    small = s[(s["level"] == "primary") & (s["small_tier"] != "")]
    return small.sort_values("enrollment")["school_id"].head(n).tolist()


def test_close_reassigns_to_the_next_nearest_without_new_search(base, start, monkeypatch):
    def no_search(*args, **kwargs):
        raise AssertionError("closing a school must not run a new shortest-path search")

    from schoolplan import catchments, travel

    monkeypatch.setattr(travel, "travel_costs", no_search)
    monkeypatch.setattr(catchments, "catchment_costs", no_search)
    sid = _small_primary(start)[0]
    before = start.assignments[(start.assignments["method"] == "nearest")
                               & (start.assignments["school_id"] == sid)]
    r = run_actions(base, initial_state(base), [{"close": [sid]}])
    near = r.assignments[r.assignments["method"] == "nearest"]
    assert sid not in set(near["school_id"])
    assert r.schools.set_index("school_id").at[sid, "status"] == "closed"
    moved = near.merge(before[["demand_id", "group", "distance_m"]], on=["demand_id", "group"],
                       suffixes=("", "_before"))
    assert len(moved) == len(before) and (moved["distance_m"] >= moved["distance_m_before"] - 1e-6).all()
    assert r.counts["schools"] == start.counts["schools"] - 1


def test_merge_sends_pupils_to_the_named_school(base, start):
    s = start.schools.set_index("school_id")
    small = _small_primary(start)[0]
    town = s.at[small, "town_code"]
    into = s[(s["town_code"] == town) & (s["level"] == "primary") & (s.index != small)] \
        .sort_values("enrollment").index[-1]
    before = start.assignments[(start.assignments["method"] == "nearest")
                               & (start.assignments["school_id"] == small)]
    r = run_actions(base, initial_state(base), [{"merge": {"school": small, "into": into}}])
    near = r.assignments[r.assignments["method"] == "nearest"].set_index(["demand_id", "group"])
    keys = [tuple(x) for x in before[["demand_id", "group"]].to_numpy()]
    got = near.loc[keys]
    # a pair goes to the named school exactly when the travel costs reach it (within the cut-off);
    # beyond the cut-off it keeps its nearest open school, never the merged one
    reach = set(map(tuple, base.costs.loc[base.costs["to_id"] == into, ["from_id", "group"]].to_numpy()))
    to_into = [k in reach for k in keys]
    assert any(to_into)
    assert (got.loc[[k for k, ok in zip(keys, to_into, strict=True) if ok], "school_id"] == into).all()
    assert (got.loc[[k for k, ok in zip(keys, to_into, strict=True) if ok], "status"] == "merged").all()
    assert (got["school_id"] != small).all()


def test_to_satellite_keeps_grades_1_3_only(base, start):
    sid = _small_primary(start)[0]
    r = run_actions(base, initial_state(base), [{"to_satellite": sid}])
    near = r.assignments[(r.assignments["method"] == "nearest") & (r.assignments["school_id"] == sid)]
    assert set(near["group"]) <= {"g1_3"}
    row = r.schools.set_index("school_id").loc[sid]
    assert row["status"] == "satellite" and row["level"] == "teaching_point" and row["level_before"] == "primary"


def test_new_school_takes_the_villages_around_it(base, start):
    d = base.inputs.demand
    v = d.sort_values("pupils_primary").iloc[-1]
    r = run_actions(base, initial_state(base), [{"new_school": {
        "id": "NEW1", "name": "新建小学（测试）", "level": "小学", "lon": v["lon"], "lat": v["lat"],
        "seats": 1080}}])
    row = r.schools.set_index("school_id").loc["NEW1"]
    assert row["status"] == "new" and row["town_code"] == v["town_code"]
    near = r.assignments[(r.assignments["method"] == "nearest") & (r.assignments["demand_id"] == v["demand_id"])]
    assert set(near.loc[near["group"].isin(["g1_3", "g4_6"]), "school_id"]) == {"NEW1"}
    before = start.indicators["travel"]["g1_3"]["mean_distance_m"]
    assert r.indicators["travel"]["g1_3"]["mean_distance_m"] < before


def test_closing_a_towns_only_junior_school_is_reported(base, start):
    s = start.schools
    junior = s[s["level"].isin(["junior", "nine_year", "complete"])]
    per_town = junior.groupby("town_code")["school_id"].apply(list)
    town, ids = next((t, i) for t, i in per_town.items() if len(i) == 1)
    r = run_actions(base, initial_state(base), [{"close": ids}])
    v = r.violations[r.violations["rule_id"] == "junior_middle_per_town"]
    assert town in set(v["object_id"])
    assert r.counts["towns_without_junior_middle_school"] == start.counts["towns_without_junior_middle_school"] + 1


@pytest.mark.parametrize("actions, fragment", [
    ([{"close": ["NOPE"]}], "not in the schools input"),
    ([{"merge": {"school": "NOPE", "into": "X"}}], "not in the schools input"),
    ([{"new_school": {"id": "N", "level": "小学", "lon": 100.0, "lat": 20.0, "seats": 10}}], "town"),
])
def test_bad_actions_are_clear_errors(base, actions, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        run_actions(base, initial_state(base), actions)


def test_travel_figures_are_consistent(start):
    t = start.indicators["travel"]
    for g in ("g1_3", "g4_6", "g7_9"):
        f = t[g]
        assert f["median_distance_m"] <= f["p95_distance_m"] <= f["max_distance_m"]
        assert f["pupils_over_30_min"] >= f["pupils_over_40_min"] >= f["pupils_over_60_min"]
        assert 0 <= f["pupils_needing_bus"] <= f["pupils"]
    assert t["g1_3"]["pupils_needing_boarding"] == 0
    used = start.assignments[(start.assignments["method"] == "calibrated") & (start.assignments["group"] == "g1_3")]
    mean = np.average(used["distance_m"], weights=used["pupils"])
    assert t["g1_3"]["mean_distance_m"] == pytest.approx(mean, abs=0.1)
