"""Intake places (招生计划 / 一年级学位 / 七年级学位) from the ledger, used by the 学位预警
entry-cohort check instead of entry classes x class size (issue 13); hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan import diagnosis
from schoolplan.errors import Problems
from schoolplan.io import read_schools
from schoolplan.schema import Base, Inputs, Scenario
from schoolplan.settings import Settings

LEDGER = """学校代码,学校名称,学段,所属乡镇,乡镇代码,在校生数,班级数,学位数,城乡分类代码,经度,纬度,{cols}
S1,甲小学,小学,甲镇,001,95,6,100,220,116.10,36.50,{s1}
S2,乙初中,初中,甲镇,001,300,6,300,121,116.12,36.50,{s2}
S3,丙学校,九年一贯制,甲镇,001,600,18,800,122,116.14,36.50,{s3}
"""


def _read(tmp_path, cols, s1, s2, s3):
    path = tmp_path / "台账.csv"
    path.write_text(LEDGER.format(cols=cols, s1=s1, s2=s2, s3=s3), encoding="utf-8")
    problems = Problems()
    schools = read_schools(path, coordinate_system="wgs84", problems=problems)
    return schools.set_index("school_id"), problems


@pytest.mark.parametrize("g1, g7", [("一年级学位", "七年级学位"), ("一年级招生计划", "初中招生计划")])
def test_intake_columns_by_entry_grade_are_read(tmp_path, g1, g7):
    s, problems = _read(tmp_path, f"{g1},{g7}", "20,", ",110", "60,150")
    assert s.at["S1", "intake_primary"] == 20 and pd.isna(s.at["S1", "intake_junior"])
    assert s.at["S2", "intake_junior"] == 110
    assert (s.at["S3", "intake_primary"], s.at["S3", "intake_junior"]) == (60, 150)
    assert not [p for p in problems.warnings if p.code == "intake_two_entry_grades"]


def test_one_intake_column_goes_to_the_entry_grade_a_school_has(tmp_path):
    s, problems = _read(tmp_path, "起始年级学位数", "20", "110", "200")
    assert s.at["S1", "intake_primary"] == 20 and s.at["S2", "intake_junior"] == 110
    # a nine-year school enrols in grades 1 and 7: one figure cannot be split, and the user is told
    assert np.isnan(s.at["S3", "intake_primary"]) and np.isnan(s.at["S3", "intake_junior"])
    warned = [p for p in problems.warnings if p.code == "intake_two_entry_grades"]
    assert len(warned) == 1 and warned[0].row is not None and "七年级学位" in warned[0].fix_zh


def test_bad_intake_value_is_an_error_with_its_row(tmp_path):
    _, problems = _read(tmp_path, "一年级学位", "很多", "", "")
    bad = [p for p in problems.errors if p.column == "一年级学位"]
    assert len(bad) == 1 and bad[0].row is not None


def _seat_table(intake):
    schools = pd.DataFrame([{"school_id": "X", "name": "学校X", "level": "primary", "enrollment": 95,
                             "seats": 100, "town": "甲镇", "town_code": "1", "classes": 6.0,
                             "status": "open", "intake_primary": intake}])
    demand = pd.DataFrame({"demand_id": ["a"], "town_code": "1", "name": ["甲村"],
                           "pupils_primary": [95.0], "pupils_junior": [0.0]})
    inputs = Inputs(schools=schools, towns=pd.DataFrame(), demand=demand, problems=Problems(), files={})
    base = Base(scenario=Scenario("t", "t", None, {}), settings=Settings(), inputs=inputs, groups=None,
                costs=None, networks={}, distance_method="test")
    today = pd.DataFrame({"demand_id": ["a", "a"], "group": ["g1_3", "g4_6"], "school_id": ["X", "X"],
                          "pupils": [30.0, 65.0], "level": "primary"})
    return diagnosis.seat_warning_table(base, schools, today).iloc[0]


def test_entry_cohort_is_checked_against_the_ledger_intake_places():
    # entry cohort: a third of the 30 grade 1-3 children = 10; whole school 95 of 100 seats (yellow)
    by_classes = _seat_table(np.nan)  # one class per grade x 45 = 45 places
    assert by_classes["intake_places"] == 45 and by_classes["intake_source"] == "classes x class size"
    assert by_classes["entry_util_today"] == pytest.approx(10 / 45, abs=1e-3)
    assert by_classes["warning_today"] == "yellow"
    planned = _seat_table(8.0)  # the bureau plans 8 grade-1 places: 10 children are too many
    assert planned["intake_places"] == 8 and planned["intake_source"] == "ledger"
    assert planned["entry_util_today"] == pytest.approx(1.25)
    assert planned["warning_today"] == "red"
