"""Readers (CSV UTF-8/GBK, XLSX with title rows and several sheets, GeoJSON, GeoPackage,
Shapefile in GBK without .cpg) and every validation error, with the row a user sees in Excel."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from schoolplan import coords
from schoolplan.errors import (
    CoordinateSystemError,
    InputValidationError,
    Problems,
    SchoolplanError,
    UnreadableFileError,
)
from schoolplan.io import read_demand, read_schools, read_towns

HEAD = ["学校代码", "学校名称", "学段", "乡镇代码", "所属乡镇", "在校生数", "班级数", "学位数",
        "城乡分类代码", "经度", "纬度"]


def ledger() -> pd.DataFrame:
    rows = [
        ["S01", "城关小学", "小学", "371599001", "城关街道", 1800, 40, None, 111, 116.10, 36.50],
        ["S02", "王集中心小学", "小学", "371599002", "王集镇", 420, 12, 540, 121, 116.20, 36.55],
        ["S03", "李庄小学", "小学", "371599002", "王集镇", 85, 6, None, 220, 116.22, 36.57],
        ["S04", "张屯教学点", "教学点", "371599002", "王集镇", 32, 3, None, 220, 116.23, 36.53],
        ["S05", "王集初中", "初中", "371599002", "王集镇", 600, 12, None, 121, 116.21, 36.55],
        ["S06", "赵楼九年一贯制学校", "九年一贯制学校", "371599003", "赵楼镇", 150, 9, None, 220, 116.30, 36.45],
    ]
    return pd.DataFrame(rows, columns=HEAD)


def test_xlsx_with_title_rows_reads_and_computes_seats(tmp_path):
    path = tmp_path / "台账.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame([["示范县中小学台账（测试）"], [None]]).to_excel(xw, index=False, header=False)
        ledger().to_excel(xw, index=False, startrow=2)
    s = read_schools(path)
    assert list(s["school_id"]) == ["S01", "S02", "S03", "S04", "S05", "S06"]
    assert list(s.index) == [4, 5, 6, 7, 8, 9]  # Excel rows: title, blank, header on row 3
    assert list(s["level"]) == ["primary", "primary", "primary", "teaching_point", "junior", "nine_year"]
    assert list(s["area_type"]) == ["urban", "town", "rural", "rural", "town", "rural"]
    # seats: ledger value where given, else classes x class size (45 primary, 30 teaching point, 50 junior)
    assert list(s["seats"]) == [1800, 540, 270, 90, 600, 405]
    assert list(s["seats_source"])[:2] == ["classes x class size", "ledger"]
    assert s.crs.to_epsg() == 4326
    assert s["town_code"].iloc[0] == "371599001"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_and_gbk(tmp_path, encoding):
    path = tmp_path / "schools.csv"
    path.write_bytes(ledger().to_csv(index=False).encode(encoding))
    s = read_schools(path)
    assert s["name"].iloc[1] == "王集中心小学"
    assert list(s.index) == [2, 3, 4, 5, 6, 7]


def test_gcj02_ledger_is_converted_to_wgs84(tmp_path):
    df = ledger()
    glon, glat = coords.wgs84_to_gcj02(df["经度"].values, df["纬度"].values)
    df["经度"], df["纬度"] = glon, glat
    path = tmp_path / "gcj.csv"
    df.to_csv(path, index=False)
    s = read_schools(path, coordinate_system="gcj02")
    assert np.allclose(s["lon"], ledger()["经度"], atol=1e-7)
    assert np.allclose(s["x_input"], glon)


def test_projected_cgcs2000_ledger(tmp_path):
    from pyproj import Transformer

    df = ledger()
    tr = Transformer.from_crs(4326, 4548, always_xy=True)
    x, y = tr.transform(df["经度"].values, df["纬度"].values)
    df = df.drop(columns=["经度", "纬度"]).assign(X=x, Y=y)
    path = tmp_path / "gk.xlsx"
    df.to_excel(path, index=False)
    s = read_schools(path, coordinate_system="EPSG:4548")
    assert np.allclose(s["lon"], ledger()["经度"], atol=1e-7)


def test_several_sheets_joined_on_school_id(tmp_path):
    path = tmp_path / "two.xlsx"
    df = ledger()
    with pd.ExcelWriter(path) as xw:
        df.drop(columns=["在校生数"]).to_excel(xw, sheet_name="基本信息", index=False)
        df[["学校代码", "在校生数"]].iloc[::-1].to_excel(xw, sheet_name="学生", index=False)
    s = read_schools(path, sheet=["基本信息", "学生"])
    assert list(s["enrollment"]) == [1800, 420, 85, 32, 600, 150]


def test_geojson_geopackage_and_gbk_shapefile_without_cpg(tmp_path):
    df = ledger()
    gdf = gpd.GeoDataFrame(df.drop(columns=["经度", "纬度"]),
                           geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs=4326)
    gdf.to_file(tmp_path / "s.geojson")
    gdf.to_file(tmp_path / "s.gpkg", layer="学校")
    en = gdf.rename(columns=dict(zip(HEAD, ["code", "name", "level", "tcode", "town", "pupils",
                                             "classes", "seats", "ur", "lon", "lat"], strict=True)))
    en.to_file(tmp_path / "s.shp", encoding="gbk")
    (tmp_path / "s.cpg").unlink(missing_ok=True)
    mapping = {"school_id": "code", "town_code": "tcode", "area_type": "ur"}
    for path, kw in [(tmp_path / "s.geojson", {}), (tmp_path / "s.gpkg", {}),
                     (tmp_path / "s.shp", {"columns": mapping})]:
        s = read_schools(path, **kw)
        assert s["name"].tolist() == df["学校名称"].tolist(), path
        assert np.allclose(s["lon"], df["经度"])
        assert list(s.index) == [1, 2, 3, 4, 5, 6]


def test_layer_crs_conflicting_with_declared_system(tmp_path):
    df = ledger()
    gdf = gpd.GeoDataFrame(df.drop(columns=["经度", "纬度"]),
                           geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs=4326).to_crs(4548)
    gdf.to_file(tmp_path / "s.gpkg")
    with pytest.raises(InputValidationError) as exc:
        read_schools(tmp_path / "s.gpkg", coordinate_system="wgs84")
    assert [p.code for p in exc.value.problems] == ["coordinate_system_mismatch"]
    s = read_schools(tmp_path / "s.gpkg")  # the file's own CRS
    assert np.allclose(s["lon"], df["经度"])


# ---- every validation error, with its row and column -------------------------------------------

def _broken(mutate):
    df = ledger()
    mutate(df)
    return df


CASES = [
    ("missing_column", None, "level", lambda df: df.__delitem__("学段")),
    ("duplicate_id", 4, "学校代码", lambda df: df.__setitem__("学校代码", ["S01", "S02", "S01", "S04", "S05", "S06"])),
    ("blank_value", 3, "学校代码", lambda df: df.__setitem__("学校代码", ["S01", None, "S03", "S04", "S05", "S06"])),
    ("not_a_number", 5, "在校生数", lambda df: df.__setitem__("在校生数", [1800, 420, 85, "三十二", 600, 150])),
    ("negative_value", 6, "班级数", lambda df: df.__setitem__("班级数", [40, 12, 6, 3, -12, 9])),
    ("not_whole_number", 2, "在校生数", lambda df: df.__setitem__("在校生数", [1800.5, 420, 85, 32, 600, 150])),
    ("unknown_level", 7, "学段", lambda df: df.__setitem__("学段", ["小学"] * 5 + ["托管班"])),
    ("unknown_area_type", 3, "城乡分类代码", lambda df: df.__setitem__("城乡分类代码", [111, 999, 220, 220, 121, 220])),
    ("swapped_coordinates", 4, "经度/纬度", lambda df: (
        df.__setitem__("经度", [116.1, 116.2, 36.57, 116.23, 116.21, 116.3]),
        df.__setitem__("纬度", [36.5, 36.55, 116.22, 36.53, 36.55, 36.45]))),
    ("coordinate_out_of_range", 2, "经度/纬度",
     lambda df: df.__setitem__("经度", [216.1, 116.2, 116.22, 116.23, 116.21, 116.3])),
    ("no_location", 6, "经度/纬度", lambda df: df.__setitem__("纬度", [36.5, 36.55, 36.57, 36.53, None, 36.45])),
]


@pytest.mark.parametrize("code, row, column, mutate", CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_reported_with_row_and_column(tmp_path, code, row, column, mutate):
    path = tmp_path / "bad.xlsx"
    _broken(mutate).to_excel(path, index=False)
    with pytest.raises(InputValidationError) as exc:
        read_schools(path)
    assert isinstance(exc.value, (SchoolplanError, ValueError))
    found = [p for p in exc.value.problems if p.code == code]
    assert found, exc.value
    assert found[0].row == row and found[0].column == column and found[0].file == str(path)
    assert found[0].fix_en and found[0].fix_zh
    assert str(path) in str(exc.value)


def test_all_problems_are_reported_at_once(tmp_path):
    def many(df):
        df["学校代码"] = ["S01", "S02", "S01", "S04", "S05", "S06"]
        df["在校生数"] = [1800, "n/a", 85, 32, 600, 150]
        df["学段"] = ["小学"] * 5 + ["大学"]
        df["经度"] = [116.1, 116.2, 116.22, 36.53, 116.21, 116.3]
        df["纬度"] = [36.5, 36.55, 36.57, 116.23, 36.55, 36.45]
    path = tmp_path / "bad.csv"
    _broken(many).to_csv(path, index=False)
    with pytest.raises(InputValidationError) as exc:
        read_schools(path)
    codes = sorted((p.code, p.row) for p in exc.value.problems if p.severity == "error")
    assert codes == [("duplicate_id", 4), ("not_a_number", 3), ("swapped_coordinates", 5),
                     ("unknown_level", 7)]


def test_problems_can_be_collected_instead_of_raised(tmp_path):
    path = tmp_path / "bad.csv"
    _broken(lambda df: df.__setitem__("学段", ["小学"] * 5 + ["大学"])).to_csv(path, index=False)
    problems = Problems()
    s = read_schools(path, problems=problems)
    assert len(s) == 6  # nothing dropped
    assert [p.code for p in problems.errors] == ["unknown_level"]


def test_missing_location_is_a_warning_when_not_required(tmp_path):
    path = tmp_path / "s.csv"
    _broken(lambda df: df.__setitem__("经度", [None] * 6)).to_csv(path, index=False)
    s = read_schools(path, require_location=False)
    assert len(s) == 6 and s["lon"].isna().all()
    assert {p.code for p in s.attrs["problems"]} == {"no_location"}


def test_missing_columns_name_the_aliases_looked_for(tmp_path):
    path = tmp_path / "s.csv"
    ledger().drop(columns=["在校生数", "学校代码"]).to_csv(path, index=False)
    with pytest.raises(InputValidationError) as exc:
        read_schools(path)
    text = str(exc.value)
    assert "school_id" in text and "学校标识码" in text and "在校生数" in text


def test_gcj02_declared_for_data_outside_china(tmp_path):
    path = tmp_path / "s.csv"
    _broken(lambda df: df.__setitem__("经度", [-5.9] * 6)).to_csv(path, index=False)
    with pytest.raises(InputValidationError) as exc:
        read_schools(path, coordinate_system="gcj02")
    assert {p.code for p in exc.value.problems} == {"coordinate_system_mismatch"}


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda d: _write(d / "f.docx", "x"),
        lambda d: d / "nope.xlsx",
        lambda d: _write(d / "f.xlsx", "not excel"),
        lambda d: _write(d / "f.geojson", "{"),
        lambda d: _write(d / "f.csv", ""),
    ],
    ids=["unsupported type", "missing file", "broken xlsx", "broken geojson", "empty csv"],
)
def test_unreadable_files(tmp_path, make):
    with pytest.raises(UnreadableFileError) as exc:
        read_schools(make(tmp_path))
    assert isinstance(exc.value, (SchoolplanError, OSError))
    assert str(tmp_path) in str(exc.value)


def test_unknown_coordinate_system(tmp_path):
    path = tmp_path / "s.csv"
    ledger().to_csv(path, index=False)
    with pytest.raises(CoordinateSystemError):
        read_schools(path, coordinate_system="mars")


# ---- towns and demand ------------------------------------------------------------------------

def test_towns_as_plain_table_with_partial_seats(tmp_path):
    path = tmp_path / "towns.csv"
    pd.DataFrame({"乡镇代码": ["371599001", "371599002", "371599003"],
                  "乡镇名称": ["城关街道", "王集镇", "赵楼镇"], "所属县区": ["示范县"] * 3,
                  "经度": [116.1, None, 116.3], "纬度": [36.5, None, 36.45]}).to_csv(path, index=False)
    t = read_towns(path)
    assert t.attrs["geometry_kind"] == "point"
    assert list(t["town"]) == ["城关街道", "王集镇", "赵楼镇"]
    assert t["lon"].isna().tolist() == [False, True, False]


def test_town_polygons_in_gcj02(tmp_path):
    polys = [box(116.0, 36.4, 116.15, 36.6), box(116.15, 36.4, 116.3, 36.6)]
    shifted = [Point(coords.wgs84_to_gcj02(116.0, 36.4)[0][0], 0) for _ in polys]  # noqa: F841
    g = gpd.GeoDataFrame({"town_code": ["1", "2"], "town": ["甲镇", "乙镇"]}, geometry=polys, crs=4326)
    g.to_file(tmp_path / "t.geojson")
    t = read_towns(tmp_path / "t.geojson", coordinate_system="gcj02")
    assert t.attrs["geometry_kind"] == "polygon"
    # read as GCJ-02, the polygons move ~500 m west to WGS-84
    assert t.geometry.iloc[0].bounds[0] < 116.0 - 0.004


def test_duplicate_town_codes(tmp_path):
    path = tmp_path / "towns.csv"
    pd.DataFrame({"乡镇代码": ["1", "1"], "乡镇名称": ["甲镇", "乙镇"]}).to_csv(path, index=False)
    with pytest.raises(InputValidationError, match="appears again"):
        read_towns(path)


def test_demand_points(tmp_path):
    path = tmp_path / "v.csv"
    pd.DataFrame({"村庄代码": ["V1", "V2"], "村庄名称": ["张庄村", "李屯村"], "小学适龄人口": [30, 12],
                  "经度": [116.2, 116.21], "纬度": [36.5, 36.51]}).to_csv(path, index=False)
    d = read_demand(path)
    assert list(d["pupils_primary"]) == [30, 12] and list(d["pupils_junior"]) == [0, 0]


def test_rows_keep_their_excel_numbers_across_blank_rows(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    ws.append(ledger().iloc[0].tolist())
    ws.append([])
    ws.append([])
    bad = ledger().iloc[1].tolist()
    bad[2] = "大学"
    ws.append(bad)
    wb.save(tmp_path / "blank.xlsx")
    def line(values):
        return ",".join("" if v is None or v != v else str(v) for v in values)

    (tmp_path / "blank.csv").write_text(
        ",".join(HEAD) + "\n" + line(ledger().iloc[0].tolist()) + "\n\n" + line(bad) + "\n",
        encoding="utf-8")
    for name, row in (("blank.xlsx", 5), ("blank.csv", 4)):
        with pytest.raises(InputValidationError) as exc:
            read_schools(tmp_path / name)
        assert [(p.code, p.row) for p in exc.value.problems if p.severity == "error"] == \
            [("unknown_level", row)], name
