"""Linking schools and villages to towns, and the checks across inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.io import read_schools, read_towns
from schoolplan.io.towns import link_to_towns
from schoolplan.scenario import load_inputs, load_scenario
from schoolplan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def two_towns(tmp_path):
    g = gpd.GeoDataFrame({"乡镇代码": ["371599001", "371599002"], "乡镇名称": ["甲镇", "乙乡"]},
                         geometry=[box(116.0, 36.4, 116.1, 36.5), box(116.1, 36.4, 116.2, 36.5)],
                         crs=4326)
    g.to_file(tmp_path / "t.geojson")
    return read_towns(tmp_path / "t.geojson")


def _schools(tmp_path, rows):
    df = pd.DataFrame(rows, columns=["学校代码", "学校名称", "学段", "乡镇代码", "所属乡镇", "在校生数",
                                     "经度", "纬度"])
    df.to_csv(tmp_path / "s.csv", index=False)
    return read_schools(tmp_path / "s.csv")


def test_link_by_code_name_short_name_and_location(tmp_path, two_towns):
    s = _schools(tmp_path, [
        ["A", "a", "小学", "371599001", None, 10, 116.05, 36.45],
        ["B", "b", "小学", None, "乙乡", 10, 116.15, 36.45],
        ["C", "c", "小学", None, "乙", 10, 116.15, 36.45],        # short name without 乡
        ["D", "d", "小学", None, None, 10, 116.05, 36.45],        # by location
    ])
    problems = Problems()
    out = link_to_towns(s, two_towns, problems=problems, id_column="school_id",
                        what_en="school", what_zh="学校")
    assert list(out["town_match"]) == ["code", "name", "name", "location"]
    assert list(out["town"]) == ["甲镇", "乙乡", "乙乡", "甲镇"]
    assert len(problems) == 0


def test_unknown_towns_and_points_in_another_town_are_reported(tmp_path, two_towns):
    s = _schools(tmp_path, [
        ["A", "a", "小学", "371599009", None, 10, 116.05, 36.45],  # unknown code
        ["B", "b", "小学", None, "丙镇", 10, 116.15, 36.45],       # unknown name
        ["C", "c", "小学", "371599001", None, 10, 116.15, 36.45],  # code says 甲镇, lies in 乙乡
        ["D", "d", "小学", None, None, 10, 117.5, 36.45],          # no town, outside all
    ])
    problems = Problems()
    out = link_to_towns(s, two_towns, problems=problems, id_column="school_id",
                        what_en="school", what_zh="学校")
    got = sorted((p.code, p.row, p.severity) for p in problems)
    assert got == [("outside_own_town", 4, "warning"), ("unknown_town", 2, "error"),
                   ("unknown_town", 3, "error"), ("unknown_town", 5, "error")]
    assert len(out) == 4  # nothing dropped


def _demo_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "demo-county.yaml", tmp_path / "scenarios")
    return tmp_path / "scenarios" / "demo-county.yaml"


def test_gcj02_points_declared_as_wgs84_are_flagged(tmp_path):
    """Ledger coordinates copied from 高德 (GCJ-02) but declared wgs84: schools near town lines
    move ~500 m into the neighbouring town; read as GCJ-02 all fall in their own town again."""
    scen = _demo_copy(tmp_path)
    path = tmp_path / "data/schools/demo_schools_synthetic.xlsx"
    df = pd.read_excel(path, sheet_name="学校台账", dtype=object)
    lon, lat = coords.wgs84_to_gcj02(df["经度"].astype(float), df["纬度"].astype(float))
    df["经度"], df["纬度"] = lon, lat
    df.to_excel(path, sheet_name="学校台账", index=False)
    problems = load_inputs(load_scenario(scen), Settings()).problems
    suspect = [p for p in problems if p.code == "coordinate_system_suspect"]
    assert len(suspect) == 1 and "fit gcj02 better than the declared wgs84" in suspect[0].message_en
    assert any(p.code == "outside_own_town" for p in problems)
    # declaring the right system removes both
    scen.write_text(scen.read_text(encoding="utf-8").replace(
        "coordinate_system: wgs84", "coordinate_system: gcj02"), encoding="utf-8")
    problems = load_inputs(load_scenario(scen), Settings()).problems
    assert not [p for p in problems if p.code in ("coordinate_system_suspect", "outside_own_town")]


def test_demo_inputs_are_clean():
    inputs = load_inputs(load_scenario(ROOT / "scenarios" / "demo-county.yaml"), Settings())
    assert len(inputs.problems) == 0
    assert (inputs.schools["town_match"] == "code").all()
    assert (inputs.demand["town_match"] == "code").all()
