"""Issue 16, item 17 (part): one file read as schools and as demand gives one message per
problem, naming its roles; item 1 (part): a scenario closing every school (of a level, or all)
stops with a clear message, not a crash. Hand-made files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import box

from schoolplan.scenario.run import load_inputs
from schoolplan.scenario.spec import load_scenario
from schoolplan.settings import Settings


def _county(tmp_path, *, demand_file="both.csv", actions=None):
    gpd.GeoDataFrame({"乡镇名称": ["王集镇"], "乡镇代码": ["371501101"]},
                     geometry=[box(116.4, 36.4, 116.6, 36.6)], crs=4326).to_file(
        tmp_path / "towns.geojson")
    pd.DataFrame({
        "学校代码": ["S1", "S2", "S3", "J1"], "村庄代码": ["S1", "S2", "S3", "J1"],
        "学校名称": ["甲小学", "乙小学", "丙小学", "王集中学"], "学段": ["小学", "小学", "小学", "初中"],
        "在校生数": [100, 80, 50, 300], "小学适龄人口": [90, 70, 40, 0],
        "初中适龄人口": [40, 30, 20, 0], "所属乡镇": ["王集镇"] * 4,
        "城乡类型": ["乡村"] * 4,
        "经度": [116.50, None, 116.52, 116.51], "纬度": [36.50, 36.51, 36.52, 36.505],
    }).to_csv(tmp_path / "both.csv", index=False)
    raw = {"name": "roles", "inputs": {
        "schools": {"path": "both.csv", "coordinate_system": "wgs84"},
        "demand": {"path": demand_file, "coordinate_system": "wgs84"},
        "towns": {"path": "towns.geojson"}}}
    if actions is not None:
        raw["actions"] = actions
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_scenario(tmp_path / "s.yaml")


def test_a_file_read_as_schools_and_demand_reports_each_problem_once(tmp_path):
    problems = list(load_inputs(_county(tmp_path), Settings()).problems)
    at_row_3 = [p for p in problems if p.row == 3]
    assert [p.code for p in at_row_3] == ["no_location"]  # not once per role
    p = at_row_3[0]
    assert p.message_en.endswith("(this file is read as schools and demand)")
    assert p.message_zh.endswith("（该文件作为学校和需求点读取）")


def test_a_file_read_in_one_role_has_no_role_note(tmp_path):
    sc = _county(tmp_path)
    df = pd.read_csv(tmp_path / "both.csv")
    df.to_csv(tmp_path / "villages.csv", index=False)
    sc = _county(tmp_path, demand_file="villages.csv")
    problems = list(load_inputs(sc, Settings()).problems)
    assert sorted(p.code for p in problems if p.row == 3) == ["no_location", "no_location"]
    assert not any("this file is read as" in p.message_en for p in problems)


@pytest.mark.parametrize("closed, en, zh", [
    (["S1", "S2", "S3", "J1"], "every school", "所有学校"),
    (["S1", "S2", "S3"], "every primary school", "所有小学"),
])
def test_closing_every_school_stops_with_a_clear_message(tmp_path, closed, en, zh):
    from schoolplan.errors import ScenarioError
    from schoolplan.scenario.run import evaluate

    _county(tmp_path)
    located = pd.read_csv(tmp_path / "both.csv")
    located.loc[1, "经度"] = 116.505
    located.to_csv(tmp_path / "both.csv", index=False)
    raw = yaml.safe_load((tmp_path / "s.yaml").read_text(encoding="utf-8"))
    raw["actions"] = [{"close": closed}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        evaluate(load_scenario(tmp_path / "s.yaml"))
    text = str(info.value)
    assert en in text and zh in text
