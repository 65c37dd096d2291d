"""Reading housing estates and proposed school sites (for :mod:`schoolplan.siting`)."""

from __future__ import annotations

import math
import os
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from schoolplan.errors import Problems
from schoolplan.io._clean import coordinates_to_wgs84, parse_codes, parse_numbers
from schoolplan.io.readers import _load, geometry_to_wgs84
from schoolplan.schema import parse_level

__all__ = ["ESTATE_ALIASES", "KINDS", "SITE_ALIASES", "parse_phases", "read_estates", "read_sites"]

ESTATE_ALIASES: dict[str, tuple[str, ...]] = {
    "estate_id": ("estate_id", "小区编号", "项目编号", "编号", "id", "code"),
    "name": ("name", "小区名称", "项目名称", "名称", "estate"),
    "households": ("households", "户数", "住宅户数", "总户数", "规划户数"),
    "residents": ("residents", "人口", "居住人口", "规划人口", "人数"),
    "delivery_year": ("delivery_year", "交付年份", "交付年", "交付时间", "year"),
    "phases": ("phases", "分期", "分期交付"),
    "kind": ("kind", "类型", "要素类型"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
}
SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "地块编号", "编号", "id"),
    "name": ("name", "名称", "学校名称"),
    "estate_id": ("for_estate", "estate_id", "所属小区", "小区编号", "项目编号"),
    "level": ("level", "学段", "办学层次"),
    "classes": ("classes", "班级数", "班数", "规划班数"),
    "seats": ("seats", "学位数"),
    "kind": ("kind", "类型", "要素类型"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
}

SITE_COLUMNS = ["site_id", "name", "estate_id", "level", "classes", "seats"]
#: Site levels the ledger schema may not know yet (issue 16 adds them there).
#: Values of a ``kind`` column (one file holding estates and sites) -> what the row is.
KINDS = {"estate": "estate", "小区": "estate", "住宅小区": "estate", "site": "site",
         "school_site": "site", "学校用地": "site", "拟建校址": "site"}


def _read(path, aliases, *, required, id_column, prefix, coordinate_system, columns, layer,
          sheet, encoding, what_en, what_zh, problems, kind, marked_only=False):
    df, colmap, file, system, crs, geometry = _load(
        path, aliases, coordinate_system=coordinate_system, columns=columns,
        required=required if kind == "estate" else [], sheet=sheet, header_row=None,
        encoding=encoding, layer=layer, id_column=id_column, problems=problems)
    if "kind" in df:  # one file with estates and school sites: keep this reader's rows
        keep = df["kind"].map(lambda v: KINDS.get(str(v).strip().lower(), "estate")) == kind
        df = df[keep]
        geometry = geometry[keep] if geometry is not None else None
    elif marked_only:  # a plain estates file: no row is marked as a school site
        df = df.iloc[0:0]
        geometry = geometry.iloc[0:0] if geometry is not None else None
    if kind == "site" and marked_only and df.empty:
        return None, colmap, file
    if kind == "site" and "level" not in df:
        problems.error("missing_column", file, column="level",
                       en="the school sites have no level column (学段)",
                       zh="拟建校址缺少“学段”列", fix_en="add 学段 (小学, 初中, 九年一贯制)",
                       fix_zh="请添加学段列（小学、初中、九年一贯制）")
    if geometry is not None:
        geom = geometry_to_wgs84(geometry, system, crs)
        bad = geom.isna() | geom.is_empty
        kinds = {"Point", "Polygon", "MultiPolygon"}
        for row in geom.index:
            if bad[row] or geom[row].geom_type not in kinds:
                problems.error("bad_geometry", file, row=int(row), column="geometry",
                               en=f"the {what_en} needs a point or polygon, got "
                                  f"{'nothing' if bad[row] else geom[row].geom_type}",
                               zh=f"{what_zh}应为点或面，实际为{'空' if bad[row] else geom[row].geom_type}",
                               fix_en="draw it as a polygon or a point", fix_zh="请绘制为面或点")
        invalid = ~bad & ~geom.is_valid
        for row in geom.index[invalid]:
            problems.warning("invalid_polygon", file, row=int(row), column="geometry",
                             en=f"the {what_en} polygon is invalid; repaired with make_valid",
                             zh=f"{what_zh}多边形无效（自相交），已自动修复",
                             fix_en="check the shape in a GIS", fix_zh="建议在 GIS 中检查")
        geom = geom.where(~invalid, shapely.make_valid(geom.values))
        df = df.drop(columns=["lon", "lat"], errors="ignore")
    else:
        df = coordinates_to_wgs84(df, system=system, crs=crs, colmap=colmap, file=file,
                                  problems=problems, require=True, extent=None, what=what_en)
        geom = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), index=df.index, crs=4326)
    if id_column not in df:
        df[id_column] = [f"{prefix}{i}" for i in df.index]
    parse_codes(df, [id_column, "name"] + (["estate_id"] if "estate_id" in df else []))
    df[id_column] = df[id_column].where(df[id_column].notna(), [f"{prefix}{i}" for i in df.index])
    seen: dict[str, int] = {}
    for row, v in df[id_column].items():
        if v in seen:
            problems.error("duplicate_id", file, row=int(row), column=colmap.get(id_column, id_column),
                           value=v, en=f"{what_en} id '{v}' appears again (first in row {seen[v]})",
                           zh=f"{what_zh}编号“{v}”重复（首次出现在第{seen[v]}行）",
                           fix_en="give every row its own id", fix_zh="每行编号必须唯一")
        seen.setdefault(v, int(row))
    if "name" not in df:
        df["name"] = df[id_column]
    df["name"] = df["name"].where(df["name"].notna(), df[id_column])
    gdf = gpd.GeoDataFrame(df, geometry=geom.values, crs=4326, index=df.index)
    gdf.attrs.update(file=file, coordinate_system=system, colmap=colmap)
    return gdf, colmap, file


def parse_phases(value: Any) -> list[tuple[int, float]] | None:
    """``"2026:600;2028:400"`` (year: households or residents) -> [(2026, 600), (2028, 400)]."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return []
    text = str(value).replace("：", ":").replace("；", ";").replace("，", ";").replace(",", ";")
    out = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        m = re.fullmatch(r"(\d{4})\s*:\s*(\d+(?:\.\d+)?)", part)
        if not m:
            return None
        out.append((int(m.group(1)), float(m.group(2))))
    return sorted(out)


def read_estates(
    path: str | os.PathLike,
    *,
    coordinate_system: str | None = None,
    columns: dict[str, str] | None = None,
    layer: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read housing estates: polygons or points (a layer, or a table with 经度/纬度).

    Columns (English or Chinese headers, or mapped with ``columns=``): ``estate_id`` (小区编号;
    ``E<row>`` when absent), ``name`` (小区名称), ``households`` (户数) and/or ``residents``
    (人口), optional ``delivery_year`` (交付年份) and ``phases`` (分期:
    ``"2026:600;2028:400"``, year: households, or residents when only residents are given).
    A ``kind`` column (类型) lets one file hold estates (``estate``/小区) and proposed school
    sites (``site``/学校用地, read by :func:`read_sites`); rows without a kind are estates.
    ``coordinate_system`` is ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or ``EPSG:xxxx`` (a
    layer's own CRS by default). Returns WGS-84; raises one
    :class:`~schoolplan.errors.InputValidationError` listing every problem.
    """
    problems = Problems()
    gdf, colmap, file = _read(path, ESTATE_ALIASES, required=[("households", "residents")],
                              id_column="estate_id", prefix="E", coordinate_system=coordinate_system,
                              columns=columns, layer=layer, sheet=sheet, encoding=encoding,
                              what_en="estate", what_zh="小区", problems=problems, kind="estate")
    parse_numbers(gdf, ["households", "residents", "delivery_year"], colmap=colmap, file=file,
                  problems=problems)
    for col in ("households", "residents", "delivery_year", "phases"):
        if col not in gdf:
            gdf[col] = np.nan if col != "phases" else None
    for row, r in gdf.iterrows():
        if not (r["households"] > 0) and not (r["residents"] > 0):
            problems.error("blank_value", file, row=int(row), column="households / residents",
                           ids=[r["estate_id"]],
                           en=f"estate {r['estate_id']} has neither households nor residents",
                           zh=f"小区{r['estate_id']}既无户数也无人口",
                           fix_en="fill in 户数 (households) or 人口 (residents)",
                           fix_zh="请填写户数或人口")
        phases = parse_phases(r["phases"])
        if phases is None:
            problems.error("bad_phases", file, row=int(row), column=colmap.get("phases", "phases"),
                           value=r["phases"], ids=[r["estate_id"]],
                           en=f"phases '{r['phases']}' are not 'year:households;year:households'",
                           zh=f"分期“{r['phases']}”格式应为“年份:户数;年份:户数”",
                           fix_en="write e.g. 2026:600;2028:400", fix_zh="例如 2026:600;2028:400")
        elif phases:
            total = r["households"] if r["households"] > 0 else r["residents"]
            if abs(sum(v for _, v in phases) - total) > 0.5:
                problems.warning("phases_total", file, row=int(row), column="phases",
                                 ids=[r["estate_id"]], value=r["phases"],
                                 en=f"estate {r['estate_id']}: the phases add up to "
                                    f"{sum(v for _, v in phases):g}, not {total:g}; the total is used",
                                 zh=f"小区{r['estate_id']}分期合计 {sum(v for _, v in phases):g}，"
                                    f"与总数 {total:g} 不符，按总数计算",
                                 fix_en="make the phases add up", fix_zh="请核对分期数")
    problems.raise_if_errors()
    gdf.attrs["problems"] = list(problems)
    keep = ["estate_id", "name", "households", "residents", "delivery_year", "phases"]
    return gdf[[*keep, "geometry"]]


def read_sites(
    path: str | os.PathLike,
    *,
    coordinate_system: str | None = None,
    columns: dict[str, str] | None = None,
    layer: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    marked_only: bool = False,
) -> gpd.GeoDataFrame:
    """Read proposed school sites: parcels (polygons) or points.

    Columns: ``site_id`` (``S<row>`` when absent), ``name``, ``level`` (小学, 初中, 九年一贯制,
    幼儿园 …), ``classes`` (班级数) or ``seats``, optional ``estate_id`` (the estate the site
    belongs to; blank = a site for every estate of the review). Returns WGS-84.

    ``marked_only=True`` reads only rows whose ``kind`` (类型) marks them as sites (``site``,
    学校用地, 拟建校址) and returns an empty frame for a plain estates file (no ``kind`` column,
    or no row marked): use it to look for sites inside an estates file.
    """
    problems = Problems()
    gdf, colmap, file = _read(path, SITE_ALIASES, required=["level"], id_column="site_id",
                              prefix="S", coordinate_system=coordinate_system, columns=columns,
                              layer=layer, sheet=sheet, encoding=encoding,
                              what_en="school site", what_zh="学校用地", problems=problems,
                              kind="site", marked_only=marked_only)
    if gdf is None:
        problems.raise_if_errors()
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in SITE_COLUMNS},
                                geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    parse_numbers(gdf, ["classes", "seats"], colmap=colmap, file=file, problems=problems)
    for col in ("classes", "seats", "estate_id"):
        if col not in gdf:
            gdf[col] = np.nan if col != "estate_id" else None
    levels = []
    for row, v in gdf.get("level", pd.Series(None, index=gdf.index)).items():
        lv = parse_level(v)
        if lv not in ("primary", "junior", "nine_year", "complete", "kindergarten", "twelve_year"):
            problems.error("unknown_level", file, row=int(row), column=colmap.get("level", "level"),
                           value=v, en=f"level '{v}' is not kindergarten, primary, junior middle or nine-year",
                           zh=f"学段“{v}”不是幼儿园、小学、初中或九年一贯制",
                           fix_en="use 幼儿园, 小学, 初中 or 九年一贯制",
                           fix_zh="请填写幼儿园、小学、初中或九年一贯制")
        levels.append(lv)
    gdf["level"] = levels
    problems.raise_if_errors()
    return gdf[[*SITE_COLUMNS, "geometry"]]
