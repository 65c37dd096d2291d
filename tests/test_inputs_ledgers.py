"""Issue 16: bureau files never seen before load right or stop with a clear message.

Hand-made files of the shapes met on real ledgers and town layers: traditional-Chinese headers
in Big5, UTF-16 exports, title rows above unknown headers, per-grade class columns, blank
urban/rural cells, towns as seat points, variant town names, mixed geometry layers.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from schoolplan.errors import InputValidationError, Problems, ScenarioError, UnreadableFileError
from schoolplan.io import read_schools, read_towns
from schoolplan.io.towns import check_outside_extent, link_to_towns, towns_extent
from schoolplan.scenario.spec import load_scenario
from schoolplan.settings import Settings

BIG5_LEDGER = (
    "學校代碼,學校名稱,學段,鄉鎮,在校生數,經度,緯度\n"
    "T01,臺中國民小學,國小,北屯區,320,120.70,24.18\n"
    "T02,北屯國民中學,國中,北屯區,510,120.71,24.19\n"
    "T03,大坑國民小學,國民小學,北屯區,45,120.75,24.20\n"
)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


# ---- item 3: encodings -----------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["big5", "utf-16", "utf-8-sig", "utf-8"])
def test_traditional_ledger_reads_in_any_encoding(tmp_path, encoding):
    path = tmp_path / "ledger.csv"
    path.write_bytes(BIG5_LEDGER.encode(encoding))
    s = read_schools(path, coordinate_system="wgs84")
    assert list(s["school_id"]) == ["T01", "T02", "T03"]
    assert list(s["name"]) == ["臺中國民小學", "北屯國民中學", "大坑國民小學"]  # names kept as written
    assert list(s["level"]) == ["primary", "junior", "primary"]
    assert s.attrs["problems"] == [] or all(p.severity == "warning" for p in s.attrs["problems"])


def test_simplified_gbk_is_not_taken_for_big5(tmp_path):
    text = "学校代码,学校名称,学段,所属乡镇,在校生数\nS1,王集镇中心小学,小学,王集镇,420\n"
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk"))
    s = read_schools(path, require_location=False, problems=Problems())
    assert s.loc[2, "name"] == "王集镇中心小学"


def test_bytes_that_no_encoding_reads_cleanly_stop_with_the_guess(tmp_path):
    path = tmp_path / "garbled.csv"
    # Latin-1 accented text: neither UTF-8 nor sensible Chinese in any codec
    path.write_bytes(b"school_id,name\n1," + bytes(range(0xC0, 0xFF)) + b"\n")
    with pytest.raises(UnreadableFileError, match="encoding") as exc:
        read_schools(path)
    assert "编码" in str(exc.value)


def test_declared_wrong_encoding_is_refused_not_garbled(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes(BIG5_LEDGER.encode("big5"))
    with pytest.raises(UnreadableFileError, match="not valid utf-8"):
        read_schools(path, encoding="utf-8")


# ---- item 1: unknown headers, no rows, wrong sheet ---------------------------------------------

def test_title_row_and_unknown_headers_report_closest_headers(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("2024年学校台账\n校码,学校全称,类型,乡镇,人数\nA1,甲小学,小学,王集镇,12\n",
                    encoding="utf-8")
    problems = Problems()
    s = read_schools(path, problems=problems)
    missing = {p.column: p for p in problems if p.code == "missing_column"}
    assert set(missing) == {"school_id", "name", "level", "enrollment"}
    assert "校码" in missing["school_id"].message_en  # closest header named
    assert "人数" in missing["enrollment"].message_zh
    assert "columns: {enrollment: 人数}" in missing["enrollment"].fix_en
    assert s.attrs["usable"] is False
    assert len(s) == 1 and "school_id" in s  # the row is kept, the columns exist


def test_ledger_with_a_header_and_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("学校代码,学校名称,学段,在校生数\n", encoding="utf-8")
    with pytest.raises(InputValidationError) as exc:
        read_schools(path)
    assert codes(exc.value.problems) == ["no_rows"]


def test_wrong_sheet_lists_the_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"学校代码": ["S1"]}).to_excel(xw, sheet_name="小学", index=False)
        pd.DataFrame({"学校代码": ["S2"]}).to_excel(xw, sheet_name="初中", index=False)
    with pytest.raises(UnreadableFileError, match="小学") as exc:
        read_schools(path, sheet="2024")
    assert "初中" in str(exc.value)
    with pytest.raises(UnreadableFileError, match="sheets"):
        read_schools(path, sheet=5)


def test_unusable_files_are_reported_once_not_per_row(tmp_path):
    towns = tmp_path / "towns.csv"
    towns.write_text("乡镇代码,乡镇名称\n", encoding="utf-8")  # no rows
    ledger = tmp_path / "s.csv"
    ledger.write_text("学校代码,学校名称,学段,所属乡镇,在校生数\n" + "".join(
        f"S{i},校{i},小学,王集镇,{10 * i}\n" for i in range(1, 8)), encoding="utf-8")
    problems = Problems()
    t = read_towns(towns, problems=problems)
    s = read_schools(ledger, require_location=False, problems=problems)
    linked = link_to_towns(s, t, problems=problems, id_column="school_id", what_en="school",
                           what_zh="学校")
    assert codes(problems).count("no_rows") == 1
    assert "unknown_town" not in codes(problems)
    assert len(linked) == 7


# ---- item 4: level words and ownership ------------------------------------------------------

def test_level_words_and_ownership(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "学校代码,学校名称,学段,在校生数,办学性质\n"
        "S1,甲完小,完小,300,公办\n"
        "S2,乙村小,村小,40,\n"
        "S3,丙学校,民办小学,500,\n"
        "S4,丁学校,十二年一贯制学校,2400,民办\n"
        "S5,戊学校,特殊教育学校,120,公办\n"
        "S6,己园,幼儿园,180,民办\n"
        "S7,庚中学,普通高中,1500,公办\n", encoding="utf-8")
    s = read_schools(path, require_location=False, problems=Problems())
    assert list(s["level"]) == ["primary", "primary", "primary", "twelve_year", "special",
                                "kindergarten", "senior"]
    assert [None if pd.isna(o) else o for o in s["ownership"]] == [
        "public", None, "private", "private", "public", "private", "public"]


# ---- item 6: per-grade class columns ----------------------------------------------------------

def test_classes_by_grade_are_summed_into_classes_and_seats(tmp_path):
    path = tmp_path / "s.csv"
    head = "学校代码,学校名称,学段,在校生数," + ",".join(
        f"{cn}年级班数" for cn in "一二三四五六七八九") + "\n"
    path.write_text(head
                    + "S1,甲小学,小学,500,2,2,2,2,2,2,,,\n"
                    + "S2,乙学校,九年一贯制,700,1,1,1,1,1,1,2,2,2\n"
                    + "S3,丙教学点,教学点,40,1,1,,,,,,,\n", encoding="utf-8")
    s = read_schools(path, require_location=False, problems=Problems())
    assert list(s["classes"]) == [12, 12, 2]
    # 12 x 45; 6 x 45 + 6 x 50; 2 x 30 (teaching points have small classes)
    assert list(s["seats"]) == [540, 570, 60]
    assert set(s["seats_source"]) == {"classes by grade x class size"}


# ---- item 2: blank urban/rural cells -------------------------------------------------------------

def test_blank_area_types_are_inferred_from_the_town_kind_and_reported(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "学校代码,学校名称,学段,所属乡镇,在校生数,城乡分类代码\n"
        "S1,城关小学,小学,城关街道,1500,\n"
        "S2,李庄小学,小学,王集镇,60,\n"
        "S3,张庄小学,小学,赵楼乡,40,\n"
        "S4,刘庄小学,小学,,30,\n"
        "S5,王集中心小学,小学,王集镇,400,121\n", encoding="utf-8")
    problems = Problems()
    s = read_schools(path, require_location=False, problems=problems)
    assert [None if pd.isna(a) else a for a in s["area_type"]] == ["urban", "rural", "rural", None, "town"]
    inferred = [p for p in problems if p.code == "area_type_inferred"]
    assert sorted(p.value for p in inferred) == [1, 1, 1]
    blank = [p for p in problems if p.code == "blank_area_type"]
    assert len(blank) == 1 and blank[0].ids == ("S4",) and "第5行" in blank[0].message_zh
    # a setting can switch the inference off
    s2 = read_schools(path, require_location=False, problems=Problems(),
                      settings=Settings({"area_type_blank_zhen": "unknown"}))
    assert pd.isna(s2.loc[3, "area_type"])


# ---- item 17: plausibility, zero seats -----------------------------------------------------------

def test_implausible_pupils_and_zero_seats_are_warned(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("学校代码,学校名称,学段,在校生数,学位数\nS1,甲,小学,45000,2000\nS2,乙,小学,300,0\n",
                    encoding="utf-8")
    problems = Problems()
    read_schools(path, require_location=False, problems=problems)
    found = {p.code: p.row for p in problems}
    assert found["implausible_enrollment"] == 2 and found["zero_seats"] == 3


# ---- item 5: town names ------------------------------------------------------------------------

def _towns_table(tmp_path):
    path = tmp_path / "towns.csv"
    path.write_text("乡镇代码,乡镇名称\n1,台前镇\n2,王集乡\n3,城关街道\n", encoding="utf-8")
    return read_towns(path)


@pytest.mark.parametrize("written", ["臺前鎮", "台前镇 ", "台前镇\u3000", "台 前 镇", "王集鄉", "城关街道"])
def test_variant_town_names_match(tmp_path, written):
    towns = _towns_table(tmp_path)
    path = tmp_path / "s.csv"
    path.write_text(f"学校代码,学校名称,学段,所属乡镇,在校生数\nS1,甲,小学,{written},10\n",
                    encoding="utf-8")
    problems = Problems()
    s = read_schools(path, require_location=False, problems=problems)
    linked = link_to_towns(s, towns, problems=problems, id_column="school_id", what_en="school",
                           what_zh="学校")
    assert linked.loc[2, "town_match"] == "name"
    assert "unknown_town" not in codes(problems)


def test_near_miss_town_name_gets_did_you_mean(tmp_path):
    towns = _towns_table(tmp_path)
    path = tmp_path / "s.csv"
    path.write_text("学校代码,学校名称,学段,所属乡镇,在校生数\nS1,甲,小学,王吉乡,10\n", encoding="utf-8")
    problems = Problems()
    s = read_schools(path, require_location=False, problems=problems)
    link_to_towns(s, towns, problems=problems, id_column="school_id", what_en="school",
                  what_zh="学校")
    (p,) = [p for p in problems if p.code == "unknown_town"]
    assert p.row == 2 and "did you mean 王集乡" in p.message_en and "是否为“王集乡”" in p.message_zh


# ---- item 7: towns as seat points --------------------------------------------------------------

def test_schools_beyond_seat_points_warn_with_an_allowance_for_town_size(tmp_path):
    towns = tmp_path / "towns.csv"
    # three seats 10 km apart (0.09 degrees of latitude); towns reach beyond their seats
    towns.write_text("乡镇代码,乡镇名称,经度,纬度\n1,甲镇,116.0,36.00\n2,乙镇,116.0,36.09\n"
                     "3,丙镇,116.0,36.18\n4,丁镇,,\n5,戊镇,,\n6,己镇,,\n7,庚镇,,\n", encoding="utf-8")
    problems = Problems()
    t = read_towns(towns, problems=problems)
    seat_msgs = [p for p in problems if p.code == "no_location"]
    assert len(seat_msgs) == 1 and seat_msgs[0].severity == "warning"
    assert seat_msgs[0].message_zh.startswith("4 个乡镇驻地缺少坐标：第5、6、7、8行")
    extent = towns_extent(t, 5000.0)
    assert extent.kind == "point" and extent.tolerance_m == pytest.approx(5000 + 10_008, rel=0.01)
    pts = gpd.GeoDataFrame({"school_id": ["near", "far"]},
                           geometry=[Point(116.14, 36.0), Point(116.5, 36.0)], crs=4326)
    pts.index = [2, 3]
    pts.attrs["file"] = "s.csv"
    out = Problems()
    check_outside_extent(pts, extent, problems=out, id_column="school_id", what_en="school",
                         what_zh="学校", tolerance_m=5000.0)
    (p,) = list(out)
    assert p.severity == "warning" and p.ids == ("far",) and "乡镇驻地" in p.message_zh


# ---- item 16: layers with mixed geometries, towns without shape or CRS ---------------------------

def test_school_layer_with_mixed_geometries_uses_the_points(tmp_path):
    path = tmp_path / "schools.geojson"
    gpd.GeoDataFrame(
        {"学校代码": ["S1", "S2", "S3"], "学校名称": ["甲", "乙", "丙"], "学段": ["小学"] * 3,
         "在校生数": [100, 200, 300]},
        geometry=[Point(116.1, 36.5), box(116.2, 36.5, 116.21, 36.51), LineString([(116, 36), (116.1, 36)])],
        crs=4326).to_file(path)
    problems = Problems()
    s = read_schools(path, problems=problems)
    assert s.loc[1, "lon"] == pytest.approx(116.1)
    assert np.isnan(s.loc[2, "lon"]) and len(s) == 3
    (p,) = [p for p in problems if p.code == "not_a_point"]
    assert p.ids == ("2", "3")


def test_town_polygons_with_a_missing_shape_and_an_overlap(tmp_path):
    path = tmp_path / "towns.geojson"
    gpd.GeoDataFrame({"乡镇代码": ["1", "2", "3"], "乡镇名称": ["甲镇", "乙镇", "丙镇"]},
                     geometry=[box(116.0, 36.0, 116.1, 36.1), box(116.05, 36.0, 116.15, 36.1), None],
                     crs=4326).to_file(path)
    problems = Problems()
    t = read_towns(path, problems=problems)
    assert len(t) == 3 and np.isnan(t.loc[3, "lon"])
    found = {p.code: p for p in problems}
    assert found["no_geometry"].ids == ("3",)
    assert found["overlapping_towns"].row == 2 and "50%" in found["overlapping_towns"].message_en


def test_towns_in_metres_without_crs_are_reported_once(tmp_path):
    path = tmp_path / "towns.geojson"
    features = [
        {"type": "Feature", "properties": {"乡镇名称": f"T{i}"},
         "geometry": {"type": "Polygon", "coordinates": [[
             [500000 + i * 1000, 4000000], [501000 + i * 1000, 4000000],
             [501000 + i * 1000, 4010000], [500000 + i * 1000, 4000000]]]}}
        for i in range(3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    # GeoJSON without "crs" is WGS-84 by the standard; the numbers are metres
    problems = Problems()
    t = read_towns(path, problems=problems)
    assert t.attrs["usable"] is False
    (p,) = list(problems)
    assert p.code == "no_crs" and "coordinate_system" in p.fix_en and "米" in p.message_zh
    assert sum(p.severity == "error" for p in problems) == 1


# ---- item 17: duplicate keys and folders as scenario files ---------------------------------------

def test_duplicate_keys_in_a_scenario_file(tmp_path):
    (tmp_path / "s.csv").write_text("x\n", encoding="utf-8")
    path = tmp_path / "sc.yaml"
    path.write_text("name: a\ninputs:\n  schools: s.csv\n  towns: s.csv\nsettings:\n"
                    "  class_size_primary: 40\n  class_size_primary: 45\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="line 7: key 'class_size_primary' appears again") as exc:
        load_scenario(path)
    assert "第7行" in str(exc.value)


def test_a_folder_given_as_scenario(tmp_path):
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


# ---- item 8: a wrong coordinate system with small towns and few schools ------------------------

def test_wgs84_points_declared_gcj02_are_noticed_with_small_towns():
    from schoolplan import coords
    from schoolplan.io.towns import check_coordinate_system

    # six 0.6 km town squares, one school at each centre (true WGS-84 positions)
    centres = [(116.0 + 0.03 * i, 36.45) for i in range(6)]
    d = 0.003  # ~300 m: a GCJ-02 offset of ~500 m leaves the square
    towns = gpd.GeoDataFrame({"town_code": [str(i) for i in range(6)], "town": [f"T{i}" for i in range(6)]},
                             geometry=[box(x - d, y - d, x + d, y + d) for x, y in centres], crs=4326)
    towns.attrs["geometry_kind"] = "polygon"
    x = np.array([c[0] for c in centres])
    y = np.array([c[1] for c in centres])
    lon, lat = coords.to_wgs84(x, y, "gcj02")  # what the reader does with a wrong declaration
    pts = gpd.GeoDataFrame({"town_code": [str(i) for i in range(6)], "town_match": ["code"] * 6,
                            "x_input": x, "y_input": y},
                           geometry=gpd.points_from_xy(lon, lat), crs=4326)
    pts.attrs.update(coordinate_system="gcj02", file="s.csv")
    problems = Problems()
    counts = check_coordinate_system(pts, towns, problems=problems, what_en="school", what_zh="学校")
    assert counts["wgs84"] == 6 and counts["gcj02"] < 6
    (p,) = list(problems)
    assert p.code == "coordinate_system_suspect" and "wgs84" in p.message_en
