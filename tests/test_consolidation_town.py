"""Consolidation and planet-satellite on a hand-made pair of towns with known answers.

Straight-line distances x 1.3 (no roads). 0.01 degree of longitude at 36.5 N is 894 m. The
answers are worked out by hand from nearest-school demand, so these scenarios keep the
uncalibrated assignment (``assignment_method: nearest``); the demo checks run calibrated.
Town 甲镇: 中心小学 S1 (116.00), small 大王小学 S2 450 m from it (scattered), small 李庄小学 S3
3.6 km east, the larger nine-year school S4 half-way. Town 乙镇: its 中心小学 S5 1.8 km east of S3.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from schoolplan.rules import central_schools
from schoolplan.scenario import initial_state, load_scenario, prepare
from schoolplan.scenario.actions import run_actions

SCHOOLS = [  # id, name, level, town, enrollment, seats, area type, lon
    ("S1", "甲镇中心小学", "小学", "371500100", 400, 900, "镇区", 116.000),
    ("S2", "甲镇大王小学", "小学", "371500100", 40, 270, "乡村", 116.005),
    ("S3", "甲镇李庄小学", "小学", "371500100", 60, 270, "乡村", 116.040),
    ("S4", "甲镇九年一贯制学校", "九年一贯制", "371500100", 900, 1500, "镇区", 116.020),
    ("S5", "乙镇中心小学", "小学", "371500101", 500, 900, "镇区", 116.058),
    ("S6", "乙镇初级中学", "初中", "371500101", 300, 600, "镇区", 116.090),
]
VILLAGES = [("V1", "371500100", 116.005), ("V2", "371500100", 116.040), ("V3", "371500100", 116.000),
            ("V4", "371500100", 116.020), ("V5", "371500101", 116.058), ("V6", "371500101", 116.090)]


def _scenario(tmp: Path, schools=SCHOOLS, settings: str = "", extra_cols: dict | None = None,
              villages=VILLAGES, history: pd.DataFrame | None = None) -> Path:
    s = pd.DataFrame(schools, columns=["学校代码", "学校名称", "学段", "乡镇代码", "在校生数", "学位数",
                                       "城乡类别", "经度"])
    s["纬度"] = 36.5
    s["所属乡镇"] = s["乡镇代码"].map({"371500100": "甲镇", "371500101": "乙镇"})
    for col, values in (extra_cols or {}).items():
        s[col] = values
    s.to_csv(tmp / "schools.csv", index=False)
    pd.DataFrame({"town_code": ["371500100", "371500101"], "town": ["甲镇", "乙镇"],
                  "county": ["测试县", "测试县"], "town_type": ["镇", "镇"],
                  "lon": [116.01, 116.07], "lat": [36.5, 36.5]}).to_csv(tmp / "towns.csv", index=False)
    pd.DataFrame([{"demand_id": v, "name": v, "town_code": t, "pupils_primary": 60, "pupils_junior": 30,
                   "area_type": "rural", "lon": x, "lat": 36.5} for v, t, x in villages]).to_csv(
        tmp / "villages.csv", index=False)
    hist = ""
    if history is not None:
        history.to_csv(tmp / "history.csv", index=False)
        hist = "\n" + " " * 10 + "history: {path: history.csv}"
    y = tmp / "s.yaml"
    y.write_text(textwrap.dedent(f"""\
        name: hand-made
        inputs:
          schools: {{path: schools.csv, coordinate_system: wgs84}}
          towns: {{path: towns.csv, coordinate_system: wgs84}}
          demand: {{path: villages.csv, coordinate_system: wgs84}}{hist}
        settings: {{assignment_method: nearest{", " + settings if settings else ""}}}
        actions: []
        """), encoding="utf-8")
    return y


def _candidates(tmp, **kw):
    base = prepare(load_scenario(_scenario(tmp, **kw)))
    return run_actions(base, initial_state(base), []).candidates.set_index("school_id")


def test_receivers_stay_in_the_town_and_prefer_the_central_school(tmp_path):
    c = _candidates(tmp_path)
    # S2: small and scattered (S1 is 450 m x 1.3 = 585 m, under 10 min on foot); V1 walks 585 m to
    # S1 at 0.8 m/s = 12 min: it can close, into S1
    assert set(c.at["S2", "reasons"].split(",")) >= {"small", "scattered"}
    assert c.at["S2", "recommendation"] == "close" and c.at["S2", "receiving_school_id"] == "S1"
    # S3: V2 would walk 1.6 km x 1.3 to S4 (43 min > 30): a satellite; its grades 4-6 go to the
    # central school S1 of its own town, not to 乙镇中心小学 S5 which is nearer; its grades 1-3
    # stay (a satellite: the row shows what moves, issue 14)
    assert c.at["S3", "recommendation"] == "to_satellite"
    assert c.at["S3", "receiving_split"] == "甲镇中心小学 100%"
    assert c.at["S3", "receiving_school_id"] == "S1" and bool(c.at["S3", "receiver_in_town"])
    cand = c[c["candidate"]]
    assert set(cand["receiving_school_id"]).isdisjoint(cand.index)  # no receiver closes
    # crossing town lines only when asked
    c2 = _candidates(tmp_path, settings="consolidation_within_town: false, consolidation_prefer_central: false")
    assert c2.at["S3", "receiving_school_id"] == "S5" and not bool(c2.at["S3", "receiver_in_town"])


def test_a_mutual_pair_closes_one_school_only(tmp_path):
    twin = [*SCHOOLS, ("S7", "甲镇小王小学", "小学", "371500100", 30, 270, "乡村", 116.0075)]
    c = _candidates(tmp_path, schools=twin)
    # S2 (40 pupils) and S7 (30 pupils) are each other's nearest school: S7 scores higher (lt50
    # both; S7 adds less distance) and closes into ... whichever, but never both into each other
    pair = c.loc[["S2", "S7"], "recommendation"].tolist()
    assert sorted(pair) == ["close", "keep: receiver"]
    closing = c.index[c["recommendation"] == "close"]
    assert not set(c.loc[closing, "receiving_school_id"]) & set(closing)


def test_a_receiver_without_seats_blocks_the_closure_and_says_how_many_classes(tmp_path):
    # every other primary seat of 甲镇 is taken today: S1 and S3 60 seats each for their 60
    # nearest primary pupils, S4 90 seats of which 60 primary (3 of 9 grades junior) for V4's 60
    tight = {"S1": 60, "S3": 60, "S4": 90}
    rows = [(*r[:5], tight.get(r[0], r[5]), *r[6:]) for r in SCHOOLS]
    c = _candidates(tmp_path, schools=rows)
    # V1's 60 primary pupils have no seat in the town: 乙镇 is not asked; 60 / 45 -> 2 classes
    assert c.at["S2", "recommendation"] == "keep: seats"
    assert c.at["S2", "pupils_without_seat_after"] == pytest.approx(60)
    assert c.at["S2", "classes_to_add_at_receiver"] == 2
    assert "2 classes" in c.at["S2", "reasons_en"] and "增加 2 个班" in c.at["S2", "reasons_zh"]


def test_planet_is_the_central_school_and_the_layout_closes_what_is_not_needed(tmp_path):
    base = prepare(load_scenario(_scenario(tmp_path)))
    r = run_actions(base, initial_state(base), [{"planet_satellite": None}], with_candidates=False)
    lay = r.layouts.set_index("town_code")
    # the nine-year school S4 is larger, but the planet is 甲镇中心小学
    assert lay.at["371500100", "planet_id"] == "S1" and lay.at["371500100", "planet_rule_used"] == "central"
    s = r.schools.set_index("school_id")
    assert s.at["S2", "status"] == "closed"          # V1 walks 12 min to S1: not needed
    assert s.at["S3", "status"] == "satellite"       # V2 would walk 43 min: kept for grades 1-3
    assert s.at["S3", "seats"] == 135 and s.at["S3", "enrollment"] == 30   # cut to grades 1-3
    # satellites count as primaries, not teaching points
    assert r.counts["schools_by_level"].get("teaching_point", 0) == 0
    gap = float(lay["planet_seat_gap"].fillna(0).sum())
    assert r.indicators["seat_shortage"]["primary_planet_gaps"] == gap


def test_planet_gap_is_the_comparison_shortfall(tmp_path):
    small_planet = [("S1", "甲镇中心小学", "小学", "371500100", 400, 100, "镇区", 116.000), *SCHOOLS[1:]]
    base = prepare(load_scenario(_scenario(tmp_path, schools=small_planet)))
    r = run_actions(base, initial_state(base), [{"planet_satellite": {"towns": ["371500100"]}}],
                    with_candidates=False)
    row = r.layouts.iloc[0]
    # at the planet: V3 grades 1-6 (60), V1 grades 1-6 (60, S2 closed), V2 grades 4-6 (30): 150 for 100 seats
    assert row["primary_pupils_at_planet"] == pytest.approx(150)
    assert row["planet_seat_gap"] == pytest.approx(50)
    assert r.indicators["seat_shortage"]["primary"] == pytest.approx(50)


def test_central_school_flag_wins_over_the_name():
    s = pd.DataFrame({"name": ["甲镇中心小学", "甲镇实验小学", "甲镇初级中学"],
                      "level": ["primary", "primary", "junior"], "is_central": ["否", "是", "是"]})
    assert central_schools(s).tolist() == [False, True, False]
    assert central_schools(s.drop(columns="is_central")).tolist() == [True, False, False]


def test_closing_the_candidate_matches_its_prediction(tmp_path):
    base = prepare(load_scenario(_scenario(tmp_path)))
    before = run_actions(base, initial_state(base), [])
    row = before.candidates.set_index("school_id").loc["S2"]
    after = run_actions(base, initial_state(base), [{"close": ["S2"]}], with_candidates=False)

    def at_s1(res):
        n = res.assignments[res.assignments["method"] == "nearest"]
        return n.loc[n["school_id"] == "S1", "pupils"].sum()
    assert at_s1(after) - at_s1(before) == pytest.approx(row["catchment_pupils"])  # "S1 100%"
    assert row["receiving_split"] == "甲镇中心小学 100%"


def test_teaching_points_close_shrinking_fires_and_the_receiver_needs_are_counted(tmp_path):
    schools = [*SCHOOLS, ("S8", "甲镇东村教学点", "教学点", "371500100", 40, 120, "乡村", 115.9985)]
    villages = [*VILLAGES, ("V7", "371500100", 115.9983)]
    grades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
    junior = ["七年级", "八年级", "九年级"]
    history = pd.DataFrame(
        [{"学年": y, "学校代码": sid, **dict.fromkeys(grades, 5 if sid == "S2" and y == 2024 else 10)}
         for y in (2021, 2022, 2023, 2024) for sid in ("S1", "S2", "S3", "S5")]
        + [{"学年": y, "学校代码": sid, **dict.fromkeys(junior, 10)}
           for y in (2021, 2022, 2023, 2024) for sid in ("S4", "S6")])
    c = _candidates(tmp_path, schools=schools, villages=villages, history=history,
                    extra_cols={"寄宿床位": [0, 0, 0, 200, 0, 0, 0], "食堂座位": [300, 0, 0, 800, 0, 0, 0]})
    # a teaching point is closed like any school: V7's grades 1-3 walk 200 m x 1.3 to S1
    assert c.at["S8", "recommendation"] == "close" and c.at["S8", "receiving_school_id"] == "S1"
    # shrinking from the history: S2 60 -> 30 pupils (-50 %, over 15 %); S3 flat
    assert "shrinking" in c.at["S2", "reasons"].split(",") and "shrinking" not in c.at["S3", "reasons"]
    assert "60 (2021) to 30 (2024)" in c.at["S2", "reasons_en"]
    # S2 closes first (score 3 + scattered + shrinking); at S1 eat: V3's 60 primary pupils, V7's
    # grades 4-6 (30; V7's grades 1-3 go to the teaching point) and V1's 60 from S2
    row = c.loc["S2"]
    assert c.at["S2", "rank"] < c.at["S8", "rank"]
    assert row["canteen_seats_at_receiver"] == 300 and row["boarding_beds_at_receiver"] == 0
    assert row["canteen_needed_at_receiver"] == 60 + 30 + 60
    assert row["boarding_needed_at_receiver"] == 0  # everyone lives within 10 km


# ---------------------------------------------------------------- the rest of issue 14
def _capacitated(res):
    a = res.assignments
    return a[(a["method"] == "capacitated") & a["school_id"].notna()]


def test_capacitated_assignment_keeps_pupils_in_their_town(tmp_path):
    """V7 lives in 甲镇 next to 乙镇中心小学 (S5): by default the capacitated assignment keeps it in
    甲镇 (which has seats); with the setting off it goes to S5 next door."""
    villages = [*VILLAGES, ("V7", "371500100", 116.058)]
    base = prepare(load_scenario(_scenario(tmp_path, villages=villages)))
    r = run_actions(base, initial_state(base), [], with_candidates=False)
    v7 = _capacitated(r)[_capacitated(r)["demand_id"] == "V7"]
    assert set(v7["school_id"]) <= {"S1", "S2", "S3", "S4"}
    info = r.indicators["capacitated_within_town"]
    assert info["pupils_crossing_town"] == 0
    assert info["primary_short_by_town"] == {} and info["junior_short_by_town"] == {}
    off = prepare(load_scenario(_scenario(tmp_path, villages=villages,
                                          settings="capacitated_within_town: false")))
    r2 = run_actions(off, initial_state(off), [], with_candidates=False)
    v7 = _capacitated(r2)[(_capacitated(r2)["demand_id"] == "V7") & (_capacitated(r2)["group"] != "g7_9")]
    assert set(v7["school_id"]) == {"S5"}
    assert "capacitated_within_town" not in r2.indicators


def test_capacitated_assignment_crosses_only_where_the_town_lacks_seats(tmp_path):
    """甲镇 has 4 x 60 = 240 primary pupils; with 50 primary seats in each of its four schools
    (nine-year S4: 50 in all) it lacks seats, so its villages may use 乙镇's S5 (900 seats): the
    crossing is reported; 乙镇 keeps its pupils."""
    schools = [(*row[:5], 50 if row[3] == "371500100" else row[5], *row[6:]) for row in SCHOOLS]
    base = prepare(load_scenario(_scenario(tmp_path, schools=schools)))
    r = run_actions(base, initial_state(base), [], with_candidates=False)
    info = r.indicators["capacitated_within_town"]
    # 240 pupils, 4 x 50 seats (the nine-year school's primary share of its 50 is less): short
    assert info["primary_short_by_town"]["371500100"] >= 240 - 200
    assert "371500101" not in info["primary_short_by_town"]
    assert info["pupils_crossing_town"] > 0
    cap = _capacitated(r)
    jia = cap[cap["demand_id"].isin(["V1", "V2", "V3", "V4"]) & (cap["level"] == "primary")]
    assert (jia["school_id"] == "S5").any()
    yi = cap[cap["demand_id"].isin(["V5", "V6"])]
    assert set(yi["school_id"]) <= {"S5", "S6"}


def test_an_invalid_central_school_flag_is_reported(tmp_path):
    from schoolplan.scenario import load_inputs
    from schoolplan.settings import Settings

    sc = load_scenario(_scenario(tmp_path, extra_cols={"中心校": ["是", "也许", "否", "", "1", "0"]}))
    inputs = load_inputs(sc, Settings(sc.settings))
    bad = [p for p in inputs.problems if p.code == "unknown_central_flag"]
    assert len(bad) == 1
    p = bad[0]
    assert p.value == "也许" and p.column == "中心校" and p.row == 3 and p.file.endswith("schools.csv")
    assert "是或否" in p.message_zh and "yes nor no" in p.message_en and p.fix_zh and p.fix_en
    # the valid flags are read; the invalid one leaves the name to decide (甲镇大王小学: not central)
    flags = inputs.schools.set_index("school_id")["is_central"]
    assert flags["S1"] is True and flags["S3"] is False and flags["S2"] is None
    assert central_schools(inputs.schools).tolist() == [True, False, False, False, True, False]


def test_a_to_satellite_row_shows_the_seats_of_a_satellite(tmp_path):
    """S3 (李庄小学) cannot close (V2's grades 1-3 would walk 2.3 km x 1.3 to S4, over 30 min) but
    can become a satellite: its row moves only V2's grades 4-6 (30 pupils) to the central school
    S1, not its 60 pupils; grades 1-3 stay, so none is newly over the walking limit."""
    c = _candidates(tmp_path)
    row = c.loc["S3"]
    assert row["recommendation"] == "to_satellite" and row["catchment_pupils"] == 60
    assert row["receiving_split_with_seats"] == "甲镇中心小学 30"
    assert row["receiving_school_id"] == "S1" and row["pupils_without_seat_after"] == 0
    # S1 has 900 seats and 60 + 60 (S2's, closing first) + 30 pupils after: 750 left
    assert row["seats_left_at_receiver"] == 900 - 60 - 60 - 30
    assert row["canteen_needed_at_receiver"] == 60 + 30  # S1's own pupils and S3's grades 4-6
    assert row["g1_3_over_limit_after"] == row["g1_3_over_limit_before"] == 0
    assert "grades 1-3 stay" in row["reasons_en"] and "1-3年级留校" in row["reasons_zh"]
