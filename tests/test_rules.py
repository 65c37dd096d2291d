"""Policy rules on hand-made cases and on real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from schoolplan.errors import Problems, ScenarioError
from schoolplan.io import read_schools, read_towns
from schoolplan.rules import (
    junior_middle_per_town,
    seat_warnings,
    service_radius_coverage,
    size_checks,
    small_tier,
    walk_time_g1_3,
)
from schoolplan.scenario import evaluate, load_scenario
from schoolplan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _schools(**cols):
    n = len(next(iter(cols.values())))
    base = {"school_id": [f"S{i}" for i in range(n)], "name": [f"校{i}" for i in range(n)]}
    return pd.DataFrame({**base, **cols})


def test_small_tiers_rural_only_and_configurable():
    s = _schools(enrollment=[30, 60, 150, 250, 30], area_type=["rural"] * 4 + ["town"])
    assert list(small_tier(s)) == ["lt50", "lt100", "lt200", "", ""]
    assert list(small_tier(s, Settings({"small_school_area_types": "rural,town"}))) == \
        ["lt50", "lt100", "lt200", "", "lt50"]
    assert list(small_tier(s, Settings({"small_school_tiers": [100]}))) == ["lt100", "lt100", "", "", ""]


def test_size_and_class_size_rules():
    s = _schools(level=["primary", "nine_year", "junior", "primary"],
                 enrollment=[2100, 2400, 1300, 460], classes=[40, 50, 25, 10])
    cols, v = size_checks(s)
    assert list(cols["over_size_cap"]) == [True, False, False, False]  # nine-year cap is 2500
    assert list(cols["avg_class_size"]) == [52.5, 48.0, 52.0, 46.0]
    assert list(cols["over_class_size"]) == [True, True, True, True]
    assert sorted(v["rule_id"].value_counts().items()) == [("class_size", 4), ("school_size_cap", 1)]
    cols, _ = size_checks(s, Settings({"class_size_primary": 50, "class_size_junior": 55}))
    assert list(cols["over_class_size"]) == [True, False, False, False]


def test_seat_warning_bands_by_hand():
    s = _schools(level=["primary"] * 4, seats=[100.0, 100.0, 100.0, np.nan])
    nearest = pd.DataFrame({"school_id": ["S0", "S1", "S2", "S3"], "level": "primary",
                            "pupils": [89.0, 90.0, 100.0, 10.0]})
    cols, v = seat_warnings(s, nearest, None)
    assert list(cols["seat_warning"]) == ["ok", "yellow", "red", "unknown"]
    assert list(v["object_id"]) == ["S2"]
    cols, _ = seat_warnings(s, nearest, None, Settings({"seat_warning_yellow": 0.8}))
    assert list(cols["seat_warning"]) == ["yellow", "yellow", "red", "unknown"]


def test_walk_time_rule_by_hand():
    nearest = pd.DataFrame({
        "demand_id": ["V1", "V2", "V3", "V4"], "group": "g1_3", "level": "primary",
        "school_id": ["A", "A", "B", None], "pupils": [10.0, 20.0, 30.0, 5.0],
        "time_s": [25 * 60, 35 * 60, 65 * 60, np.nan], "distance_m": [1200, 1680, 3120, np.nan],
        "mode": "walk_g1_3", "estimate": False})
    demand = pd.DataFrame({"demand_id": ["V1", "V2", "V3", "V4"], "name": ["甲村", "乙村", "丙村", "丁村"]})
    summary, v = walk_time_g1_3(nearest, demand)
    assert summary["pupils_g1_3"] == 65
    assert summary["pupils_over_30_min"] == 55      # V2, V3 and V4 (no school at all)
    assert summary["pupils_over_40_min"] == 35
    assert summary["pupils_over_60_min"] == 35
    assert summary["share_over_30_min"] == pytest.approx(55 / 65, abs=1e-4)
    assert list(v["name"]) == ["乙村", "丙村", "丁村"]
    summary, _ = walk_time_g1_3(nearest, demand, Settings({"walk_limit_g1_3_min": 40}))
    assert summary["pupils_over_40_min"] == 35


def test_walk_time_rule_judges_the_nearest_school_and_counts_todays_trips():
    """Calibrated trips split a village over several schools: the summary counts those trips,
    the breaches are one row per village whose nearest school is beyond the limit (issue 15:
    one row per trip said "0 pupils walk 79 min to the nearest school")."""
    nearest = pd.DataFrame({
        "demand_id": ["V1", "V2"], "group": "g1_3", "level": "primary", "school_id": ["A", "B"],
        "pupils": [40.0, 20.0], "time_s": [20 * 60, 45 * 60], "distance_m": [960.0, 2160.0],
        "mode": "walk_g1_3", "estimate": False})
    trips = pd.DataFrame({  # V1: 30 pupils at A (20 min), 10 bypass to C (50 min); V2 split too
        "demand_id": ["V1", "V1", "V2", "V2", "V2"], "group": "g1_3", "level": "primary",
        "school_id": ["A", "C", "B", "C", "D"], "pupils": [30.0, 10.0, 12.0, 7.9, 0.1],
        "time_s": [20 * 60, 50 * 60, 45 * 60, 55 * 60, 80 * 60],
        "distance_m": [960.0, 2400.0, 2160.0, 2640.0, 3840.0], "mode": "walk_g1_3", "estimate": False})
    demand = pd.DataFrame({"demand_id": ["V1", "V2"], "name": ["甲村", "乙村"]})
    summary, v = walk_time_g1_3(nearest, demand, trips=trips)
    assert summary["pupils_g1_3"] == 60
    assert summary["pupils_over_30_min"] == 30   # the 10 who bypass A, and all 20 of V2
    assert list(v["object_id"]) == ["V2"]        # V1's nearest school is 20 min away
    assert list(v["value"]) == [45.0]
    assert "20 名" in v["message_zh"].iloc[0] and "20 pupils" in v["message_en"].iloc[0]


def test_service_radius_coverage_by_hand():
    nearest = pd.DataFrame({"demand_id": ["U1", "U2", "R1", "U1"], "level": ["primary"] * 3 + ["junior"],
                            "pupils": [10.0, 30.0, 50.0, 8.0], "distance_m": [400.0, 600.0, 100.0, 900.0]})
    demand = pd.DataFrame({"demand_id": ["U1", "U2", "R1"], "area_type": ["urban", "urban", "rural"]})
    c = service_radius_coverage(nearest, demand)
    assert c["primary"]["share_within"] == 0.25 and c["junior"]["share_within"] == 1.0


def test_rules_can_be_switched_off():
    sc = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    r = evaluate(sc, settings=Settings({"rules_disabled": "walk_time_g1_3,class_size"}))
    assert not r.violations["rule_id"].isin(["walk_time_g1_3", "class_size"]).any()
    assert (r.violations["rule_id"] == "junior_middle_per_town").sum() == 1
    with pytest.raises(ScenarioError, match="unknown rule"):
        evaluate(sc, settings=Settings({"rules_disabled": "no_such_rule"}))
    walk = evaluate(sc).violations.query("rule_id == 'walk_time_g1_3'")
    assert len(walk) and walk["object_id"].is_unique  # a village once, not once per calibrated trip


def test_junior_middle_rule_on_the_real_liaocheng_frame(shared_data):
    """Real 135-town list; a synthetic school set built here: every town gets a primary school;
    a junior school in all towns but five of 东昌府区, one of which (a 街道 in the county seat) is
    left with none, one has only a nine-year school (which satisfies the rule)."""
    towns = read_towns(shared_data / "liaocheng" / "liaocheng_towns_areacity_2023.csv",
                       columns={"town": "town_name"})
    dcf = towns[towns["county"] == "东昌府区"]
    jiedao = dcf[dcf["town"].str.endswith("街道")]["town_code"].tolist()
    zhen = dcf[dcf["town"].str.endswith("镇")]["town_code"].tolist()
    without = [jiedao[0], jiedao[1], zhen[0], zhen[1]]
    nine_year_only = zhen[2]
    rows = []
    for code in towns["town_code"]:
        rows.append([f"P{code}", "小学", code])
        if code == nine_year_only:
            rows.append([f"N{code}", "九年一贯制学校", code])
        elif code not in without:
            rows.append([f"J{code}", "初中", code])
    s = pd.DataFrame(rows, columns=["school_id", "level", "town_code"])
    s["level"] = s["level"].map({"小学": "primary", "初中": "junior", "九年一贯制学校": "nine_year"})
    counts, v = junior_middle_per_town(s, towns)
    assert sorted(v["object_id"]) == sorted(without)
    assert counts.set_index("town_code").at[nine_year_only, "junior_middle_rule_ok"]
    assert any(t.endswith("街道") for t in v["name"])


def test_northern_ireland_seat_warnings_and_sizes(shared_data):
    """Real enrolment, schools as primary, seats from classes of 30 in 7 year groups (a setting)."""
    ledger = shared_data / "northern_ireland/raw/School level - primary schools - data 202324.XLSX"
    schools = read_schools(
        ledger, sheet=["reference data", "Enrolments"],
        columns={"school_id": "DE ref", "name": "school name", "level": "school type",
                 "enrollment": "total enrolment", "area_type": "Urban/ Rural"},
        values={"level": {"Primary": "primary", "Prep Department": "primary"}},
        require_location=False, problems=Problems())
    schools["classes"] = 7.0  # one class per year group: seats = 7 x class size
    settings = Settings({"class_size_primary": 30})
    from schoolplan.io import fill_seats

    schools = schools.drop(columns=["seats"])
    fill_seats(schools, settings)
    assert (schools["seats"] == 210).all()
    cols, _v = size_checks(schools, settings)
    # no NI primary school is above the 2,000-pupil cap; the largest
    assert not cols["over_size_cap"].any()
    biggest = schools.loc[schools["enrollment"].idxmax()]
    assert biggest["enrollment"] < 2000
    nearest = pd.DataFrame({"school_id": schools["school_id"], "level": "primary",
                            "pupils": schools["enrollment"]})
    warn, _ = seat_warnings(schools, nearest, None, settings)
    raw = pd.read_excel(ledger, sheet_name="Enrolments", header=3)
    total = pd.to_numeric(raw["total enrolment"], errors="coerce").dropna()
    red = int((total >= 210).sum())                        # 100 % of 210 seats
    yellow = int(((total >= 189) & (total < 210)).sum())    # 90 % of 210 seats
    assert (warn["seat_warning"] == "red").sum() == red
    assert (warn["seat_warning"] == "yellow").sum() == yellow
    assert len(schools) == 787 and red + yellow > 0


def test_rural_school_sizes_of_jianbiao_109_are_information():
    from schoolplan.rules import rural_school_size

    s = _schools(level=["teaching_point", "primary", "primary", "junior", "primary"],
                 enrollment=[130, 40, 300, 600, 50], classes=[3, 4, 12, 10, 3],
                 area_type=["rural", "rural", "rural", "rural", "urban"])
    v = rural_school_size(s)
    assert sorted(zip(v["object_id"], v["limit"], strict=True)) == [("S0", "≤120"), ("S1", "6-24"), ("S3", "12-24")]


def test_small_school_tiers_cover_compulsory_schools_only():
    """A 180-child rural kindergarten, a small special-education school or a general high school
    is no 乡村小规模学校 (国办发〔2018〕27号 covers compulsory education)."""
    import pandas as pd

    from schoolplan.rules import small_tier

    s = pd.DataFrame({"level": ["primary", "teaching_point", "kindergarten", "special", "senior", "junior"],
                      "area_type": ["rural"] * 6, "enrollment": [180, 30, 180, 40, 150, 90]})
    assert small_tier(s).tolist() == ["lt200", "lt50", "", "", "", "lt100"]
