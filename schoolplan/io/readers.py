"""Reading schools, towns and demand points from the files a bureau has.

One call shape for the three inputs::

    schools = read_schools("台账.xlsx", coordinate_system="gcj02")
    towns = read_towns("towns.geojson")                 # polygons, seat points, or a plain table
    demand = read_demand("villages.csv", coordinate_system="wgs84")

Formats: CSV (UTF-8 or GBK), XLSX (any sheet, title rows above the header are skipped, several
sheets can be joined on the school code), GeoJSON, GeoPackage, Shapefile (GBK without ``.cpg``
handled). Headers may be the canonical English names or a ledger's Chinese headers
(:mod:`schoolplan.schema`); ``columns=`` maps any other header explicitly.

Every reader takes the input's coordinate system explicitly (:mod:`schoolplan.coords`), converts
GCJ-02/BD-09 itself, and returns a GeoDataFrame in WGS-84 (EPSG:4326) with the input values kept
as ``x_input``/``y_input``. Problems are collected, not raised one by one: pass ``problems=`` to
collect them across files, else the reader raises one
:class:`~schoolplan.errors.InputValidationError` listing all of them. Nothing is dropped: a row that
cannot be used is kept with the problem reported.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.io._checks import (
    classes_from_grades,
    infer_blank_area_types,
    parse_central,
    parse_levels,
    plausibility,
    points_from_layer,
    polygon_checks,
)
from schoolplan.io._clean import (
    coordinates_to_wgs84,
    map_columns,
    parse_codes,
    parse_numbers,
)
from schoolplan.io._files import is_table, read_layer, read_table
from schoolplan.schema import (
    AREA_TYPES,
    BALANCE_COLUMNS,
    CLASS_GRADE_COLUMNS,
    DEMAND_ALIASES,
    DEMAND_COLUMNS,
    GRADE_COLUMNS,
    INTAKE_COLUMNS,
    LEVEL_GRADES,
    SCHOOL_ALIASES,
    SCHOOL_COLUMNS,
    SERVICE_COLUMNS,
    TOWN_ALIASES,
    parse_area_type,
)
from schoolplan.settings import Settings

__all__ = ["fill_seats", "geometry_to_wgs84", "read_demand", "read_schools", "read_towns"]

logger = logging.getLogger(__name__)

Extent = tuple[float, float, float, float]

_NUMERIC = frozenset({"enrollment", *GRADE_COLUMNS, *CLASS_GRADE_COLUMNS, "classes", "teachers",
                      "seats", "lon", "lat", "pupils_primary", "pupils_junior"})


def _all_aliases(aliases: dict[str, tuple[str, ...]]) -> list[str]:
    return [a for names in aliases.values() for a in names]


def _layer_system(gdf: gpd.GeoDataFrame, declared: str | None, file: str,
                  problems: Problems) -> tuple[str, CRS]:
    """Reconcile a layer's own CRS with the declared coordinate system."""
    file_crs = gdf.crs
    if declared is None:
        if file_crs is None:
            shp = file.lower().endswith(".shp")
            prj = Path(file).with_suffix(".prj").name
            metres = _looks_projected(gdf)
            problems.error(
                "no_crs", file, column="geometry",
                en="the layer has no coordinate reference system and none was declared"
                   + (f" (the Shapefile's {prj} file is missing)" if shp else "")
                   + ("; its coordinates are metres, not degrees" if metres else ""),
                zh="图层没有坐标系信息，且未声明坐标系" + (f"（缺少 {prj} 文件）" if shp else "")
                   + ("；坐标为米而非经纬度" if metres else ""),
                fix_en="declare it in the scenario file: inputs.<name>.coordinate_system: "
                       + ("EPSG:4548 (or the layer's projected code)" if metres
                          else "wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx"),
                fix_zh="请在方案文件中填写 inputs.<名称>.coordinate_system："
                       + ("EPSG:4548 等投影坐标系代码" if metres else "wgs84、cgcs2000、gcj02、bd09 或 EPSG 代码"),
            )
            return "wgs84", CRS.from_epsg(4326)
        if file_crs.is_geographic and _looks_projected(gdf):
            problems.error(
                "no_crs", file, column="geometry",
                en=f"the layer says it is in {file_crs.to_string()} (degrees), but its coordinates "
                   "are metres: its coordinate system is missing or wrong",
                zh=f"图层标注为经纬度坐标系 {file_crs.to_string()}，但坐标数值为米：坐标系缺失或错误",
                fix_en="declare it in the scenario file: inputs.<name>.coordinate_system: EPSG:xxxx "
                       "(the projected code, e.g. EPSG:4548)",
                fix_zh="请在方案文件中填写 inputs.<名称>.coordinate_system（投影坐标系代码，如 EPSG:4548）",
            )
            return "wgs84", CRS.from_epsg(4326)
        return coords.parse_coordinate_system(file_crs.to_epsg() or file_crs.to_wkt())
    name, crs = coords.parse_coordinate_system(declared)
    if file_crs is None:
        return name, crs
    if name in ("gcj02", "bd09"):
        if not file_crs.is_geographic:
            problems.error(
                "coordinate_system_mismatch", file,
                en=f"declared {name}, but the layer is stored in projected {file_crs.to_string()}",
                zh=f"声明为{name}，但图层为投影坐标系 {file_crs.to_string()}",
                fix_en=f"{name} data are longitude/latitude degrees; declare the layer's own CRS",
                fix_zh=f"{name} 数据应为经纬度，请声明图层本身的坐标系",
            )
        return name, crs
    same = file_crs.equals(crs) or {file_crs.to_epsg(), crs.to_epsg()} <= {4326, 4490}
    if not same:
        # Report once, then go on in the file's own CRS so later checks are not all noise.
        problems.error(
            "coordinate_system_mismatch", file,
            en=f"declared {declared}, but the file says it is in {file_crs.to_string()}",
            zh=f"声明的坐标系 {declared} 与文件自带的 {file_crs.to_string()} 不一致",
            fix_en="remove coordinate_system to use the file's own CRS, or fix the file",
            fix_zh="删除 coordinate_system 以使用文件自带坐标系，或修正文件",
        )
        return coords.parse_coordinate_system(file_crs.to_epsg() or file_crs.to_wkt())
    return name, crs


def _looks_projected(gdf: gpd.GeoDataFrame) -> bool:
    """Coordinates beyond ±180/±90: metres of a projected system, not degrees."""
    geom = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if geom.empty:
        return False
    x0, y0, x1, y1 = geom.total_bounds
    return bool(max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90)


def _load(
    path: str | os.PathLike,
    aliases: dict[str, tuple[str, ...]],
    *,
    coordinate_system: str | None,
    columns: dict[str, str] | None,
    required: list,
    sheet: Any,
    header_row: int | None,
    encoding: str | None,
    layer: str | None,
    id_column: str,
    problems: Problems,
) -> tuple[pd.DataFrame, dict[str, str], str, str, CRS, gpd.GeoSeries | None]:
    """Read a table or layer and map its columns; lon/lat come from point geometries."""
    path = Path(path)
    file = str(path)
    geometry = None
    if is_table(path):
        sheets = sheet if isinstance(sheet, (list, tuple)) else [sheet]
        frames = []
        colmap: dict[str, str] = {}
        for i, sh in enumerate(sheets):
            raw = read_table(path, sheet=sh, header_row=header_row, encoding=encoding,
                             known_headers=_all_aliases(aliases) + list((columns or {}).values()))
            where = file if len(sheets) == 1 else f"{file} [{raw.attrs['sheet']}]"
            explicit = {k: v for k, v in (columns or {}).items()
                        if any(str(v).strip().lower() == str(c).strip().lower() for c in raw.columns)} \
                if len(sheets) > 1 else columns
            df, cm = map_columns(raw, aliases, explicit=explicit,
                                 required=required if i == 0 and len(sheets) == 1 else [id_column],
                                 file=where, problems=problems)
            frames.append((df, raw.attrs["sheet"]))
            for k, v in cm.items():
                colmap.setdefault(k, v)
        df = frames[0][0]
        if len(frames) > 1:
            df = _join_sheets(frames, id_column, file, problems)
            found = set(df.columns)
            for need in required:
                opts = (need,) if isinstance(need, str) else need
                if not any(o in found for o in opts):
                    problems.error(
                        "missing_column", file, column=" / ".join(opts),
                        en=f"required column {' or '.join(opts)} is in none of the sheets {sheets}",
                        zh=f"所有工作表中都没有必需列“{'”或“'.join(opts)}”",
                        fix_en="map it with columns: {...}", fix_zh="请在 columns 中指定",
                    )
        system, crs = coords.parse_coordinate_system(coordinate_system)
    else:
        gdf = read_layer(path, layer=layer, encoding=encoding)
        system, crs = _layer_system(gdf, coordinate_system, file, problems)
        geometry = gdf.geometry
        attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        df, colmap = map_columns(attrs, aliases, explicit=columns,
                                 required=[r for r in required], file=file, problems=problems)
        types = set(geometry.geom_type.dropna())
        if "Point" in types or "MultiPoint" in types:
            points_from_layer(df, geometry, types, file, problems)
            colmap["lon"] = colmap["lat"] = "geometry"
    return df, colmap, file, system, crs, geometry


def _structure_ok(df: pd.DataFrame, required: list, file: str, problems: Problems) -> bool:
    """False when the file cannot be used at all (a required column missing, or no data rows).

    The missing columns are already reported; no rows is reported here, once.
    """
    ok = all(any(o in df.columns for o in ((need,) if isinstance(need, str) else need))
             for need in required)
    if len(df) == 0:
        problems.error(
            "no_rows", file,
            en="the file has a header but no data rows", zh="文件只有表头，没有数据行",
            fix_en="check that this is the right file (and sheet: set sheet: ...)",
            fix_zh="请确认文件（及工作表 sheet）是否正确",
        )
        ok = False
    return ok


def _no_crs(problems: Problems, file: str) -> bool:
    return any(p.code == "no_crs" and p.file == file for p in problems)


def _locate(df: pd.DataFrame, usable: bool, **kw: Any) -> pd.DataFrame:
    """WGS-84 coordinates of a usable file; a file that cannot be used gets blank ones and no
    further messages (its structural problem is already reported)."""
    if usable:
        return coordinates_to_wgs84(df, **kw)
    out = df.copy()
    for col in ("x_input", "y_input", "lon", "lat"):
        out[col] = np.nan
    return out


def _ensure_columns(df: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> None:
    """Add canonical columns a file lacks (blank), so that later checks never fail on them."""
    for col in columns:
        if col not in df:
            df[col] = np.nan if col in _NUMERIC else None


def _join_sheets(frames, id_column: str, file: str, problems: Problems) -> pd.DataFrame:
    """Join several sheets of one workbook on the id column; report ids missing from the first."""
    first, first_name = frames[0]
    if id_column not in first:
        return first
    out = first.copy()
    out["_key"] = out[id_column].map(lambda v: None if pd.isna(v) else str(v).strip().removesuffix(".0"))
    for df, name in frames[1:]:
        if id_column not in df:
            continue
        other = df.copy()
        other["_key"] = other[id_column].map(lambda v: None if pd.isna(v) else str(v).strip().removesuffix(".0"))
        extra = sorted(set(other["_key"].dropna()) - set(out["_key"].dropna()))
        for key in extra:
            row = int(other.index[other["_key"] == key][0])
            problems.warning(
                "row_only_in_one_sheet", f"{file} [{name}]", row=row, column=id_column, value=key,
                ids=[key],
                en=f"{id_column} {key} is in sheet '{name}' but not in '{first_name}'; it is not used",
                zh=f"{key} 只出现在工作表“{name}”中，未出现在“{first_name}”，不参与计算",
                fix_en=f"add the row to '{first_name}' if it is a school", fix_zh="如为学校请补入首个工作表",
            )
        cols = [c for c in other.columns if c not in out.columns or c == "_key"]
        other = other[cols].drop_duplicates("_key")
        idx = out.index
        out = out.merge(other, on="_key", how="left")
        out.index = idx
    return out.drop(columns="_key")


def _duplicates(df: pd.DataFrame, col: str, colmap: dict[str, str], file: str,
                problems: Problems, what_en: str, what_zh: str) -> None:
    seen: dict[str, int] = {}
    for row, v in df[col].items():
        if v is None or pd.isna(v):
            continue
        if v in seen:
            problems.error(
                "duplicate_id", file, row=int(row), column=colmap.get(col, col), value=v, ids=[v],
                en=f"{what_en} '{v}' appears again (first in row {seen[v]})",
                zh=f"{what_zh}“{v}”重复（首次出现在第{seen[v]}行）",
                fix_en=f"give every row a unique {col}", fix_zh="每行的编码必须唯一",
            )
        else:
            seen[v] = int(row)


def _blank_ids(df: pd.DataFrame, col: str, colmap, file, problems, what_en, what_zh) -> None:
    for row, v in df[col].items():
        if v is None or pd.isna(v):
            problems.error(
                "blank_value", file, row=int(row), column=colmap.get(col, col),
                en=f"{what_en} has no {col}", zh=f"{what_zh}编码为空",
                fix_en=f"fill in {col}", fix_zh="请填写编码",
            )


def _finish(df: pd.DataFrame, file: str, system: str, problems: Problems,
            *, raise_errors: bool, colmap: dict[str, str]) -> gpd.GeoDataFrame:
    geom = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")
    gdf.attrs.update(file=file, coordinate_system=system, colmap=dict(colmap),
                     problems=[p for p in problems if p.file.startswith(file)])
    if raise_errors:
        problems.raise_if_errors()
    return gdf


def read_schools(
    path: str | os.PathLike,
    *,
    coordinate_system: str | None = None,
    columns: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    sheet: str | int | list | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    require_location: bool = True,
    extent: Extent | None = None,
    settings: Settings | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read a school ledger into the canonical school table.

    Parameters
    ----------
    path
        CSV, XLSX or a point layer.
    coordinate_system
        ``wgs84`` (default for tables), ``cgcs2000``, ``gcj02``, ``bd09`` or ``EPSG:<code>``;
        layers default to their own CRS.
    columns
        Canonical name -> header in the file, for headers schoolplan does not know.
    values
        Extra value vocabularies, e.g. ``{"level": {"PRIMARY SCHOOL": "primary"},
        "area_type": {"RURAL": "rural"}}``.
    sheet
        Excel sheet name, or a list of sheets joined on ``school_id`` (rows are numbered as in
        the first sheet).
    header_row
        1-based header row in Excel; found automatically when omitted.
    require_location
        When False, schools without coordinates are a warning (kept for counts and town rules)
        instead of an error.
    extent
        (lon_min, lat_min, lon_max, lat_max) of the area in the input's degrees; used to spot
        swapped longitude/latitude. Chinese systems default to China's box.
    settings
        Class sizes used to compute seats when a ledger has none.
    problems
        Collect problems here instead of raising.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical columns (:data:`schoolplan.schema.SCHOOL_COLUMNS`) plus ``seats_source``
        (``ledger`` or ``classes x class size``), in EPSG:4326, indexed by the input row.
    """
    settings = settings or Settings()
    own = problems if problems is not None else Problems()
    required: list = ["school_id", "name", "level", "enrollment"]
    df, colmap, file, system, crs, _ = _load(
        path, SCHOOL_ALIASES, coordinate_system=coordinate_system, columns=columns,
        required=required, sheet=sheet,
        header_row=header_row, encoding=encoding, layer=layer, id_column="school_id",
        problems=own,
    )
    usable = _structure_ok(df, required, file, own)
    parse_codes(df, ["school_id", "name", "town_code", "town", "ownership"])
    if "school_id" in df:
        _blank_ids(df, "school_id", colmap, file, own, "the school", "学校")
        _duplicates(df, "school_id", colmap, file, own, "school_id", "学校代码")
        df["_id_for_messages"] = df["school_id"].fillna("(no id)")
    else:
        df["_id_for_messages"] = [f"row {r}" for r in df.index]
    values = values or {}
    if "level" in df:
        parse_levels(df, colmap, values.get("level"), file, own)
    parse_central(df, colmap, file, own)
    counts = ["enrollment", *GRADE_COLUMNS, *CLASS_GRADE_COLUMNS, "classes", "teachers", "seats"]
    parse_numbers(df, counts, colmap=colmap, file=file, problems=own, required=("enrollment",))
    parse_numbers(df, list(BALANCE_COLUMNS), colmap=colmap, file=file, problems=own, integer=False)
    parse_numbers(df, list(SERVICE_COLUMNS), colmap=colmap, file=file, problems=own)
    parse_numbers(df, list(INTAKE_COLUMNS), colmap=colmap, file=file, problems=own)
    _intake_parts(df, colmap, file, own)
    if "area_type" in df:
        _parse_area_types(df, colmap, values.get("area_type"), file, own)
        infer_blank_area_types(df, colmap, file, own, settings)
    elif usable:
        df["area_type"] = None
        own.warning(
            "no_area_type", file, column="area_type",
            en="the ledger has no urban/rural column; small-school flags (rural schools only by "
               "default) cannot be set",
            zh="台账没有城乡类别列，无法标记乡村小规模学校",
            fix_en="add a column 城乡分类代码 or area_type", fix_zh="请增加“城乡分类代码”列",
        )
    _grade_checks(df, colmap, file, own)
    classes_from_grades(df, colmap, file, own)
    fill_seats(df, settings)
    plausibility(df, colmap, file, own, settings)
    df = _locate(df, usable and not _no_crs(own, file), system=system, crs=crs, colmap=colmap,
                 file=file, problems=own, require=require_location, extent=extent, what="school")
    _ensure_columns(df, [*SCHOOL_COLUMNS, "ownership", "seats_source"])
    df = df.drop(columns=["_id_for_messages"], errors="ignore")
    gdf = _finish(df, file, system, own, raise_errors=problems is None, colmap=colmap)
    gdf.attrs["usable"] = usable
    return gdf


def _parse_area_types(df: pd.DataFrame, colmap: dict[str, str], extra: dict | None, file: str,
                      problems: Problems) -> None:
    """Urban/rural values and NBS codes to ``urban``/``town``/``rural``; unknown ones reported."""
    areas: list[str | None] = []
    for row, v in df["area_type"].items():
        if v is None or pd.isna(v) or _mapped_to_unknown(v, extra):
            areas.append(None)
            continue
        a = parse_area_type(v, extra)
        if a is None:
            problems.error(
                "unknown_area_type", file, row=int(row), column=colmap.get("area_type"), value=v,
                en=f"urban/rural type '{v}' is not known; accepted: {', '.join(AREA_TYPES)}, "
                   "城区/镇区/乡村, or NBS codes 111-123 (urban/town), 210/220 (rural)",
                zh=f"城乡类别“{v}”无法识别；可用：城区、镇区、乡村，或统计用城乡分类代码",
                fix_en="use an accepted value or map yours with values: {area_type: {...}}",
                fix_zh="请改用可识别的值，或在 values.area_type 中给出对应关系",
            )
        areas.append(a)
    df["area_type"] = areas


def _intake_parts(df: pd.DataFrame, colmap: dict[str, str], file: str, problems: Problems) -> None:
    """Intake places (招生计划) of a one-entry-grade column into the part the school has: grade 1
    for a primary school or teaching point, grade 7 for a junior or complete middle school. A
    school with both entry grades (nine-year) needs 一年级学位 and 七年级学位: reported."""
    if "intake_places" not in df:
        return
    for col in ("intake_primary", "intake_junior"):
        if col not in df:
            df[col] = np.nan
    levels = df["level"] if "level" in df else pd.Series(None, index=df.index, dtype=object)
    for row, value in df["intake_places"].items():
        if pd.isna(value):
            continue
        grades = LEVEL_GRADES.get(str(levels.get(row)), ())
        first = [g for g in (1, 7) if g in grades]
        if len(first) == 1:
            col = "intake_primary" if first[0] == 1 else "intake_junior"
            if pd.isna(df.at[row, col]):
                df.at[row, col] = value
        elif len(first) == 2 and (pd.isna(df.at[row, "intake_primary"]) or pd.isna(df.at[row, "intake_junior"])):
            problems.warning(
                "intake_two_entry_grades", file, row=int(row), column=colmap.get("intake_places", "intake_places"),
                value=value,
                en="this school enrols in grade 1 and grade 7: one intake figure cannot be split; the "
                   "seat warning uses entry classes x class size",
                zh="该校一年级、七年级均招生，一个招生计划数无法拆分；学位预警按起始年级班数×班额计算",
                fix_en="give 一年级学位 and 七年级学位 (intake places of each entry grade)",
                fix_zh="请分别填写“一年级学位”和“七年级学位”",
            )


def _mapped_to_unknown(value: Any, extra: dict | None) -> bool:
    """True when the user's vocabulary maps ``value`` to unknown (null, "" or "unknown")."""
    if not extra:
        return False
    key = str(value).strip().lower().removesuffix(".0")
    for k, v in extra.items():
        if str(k).strip().lower().removesuffix(".0") == key:
            return v is None or str(v).strip().lower() in ("", "unknown", "none")
    return False


def _grade_checks(df: pd.DataFrame, colmap: dict[str, str], file: str, problems: Problems) -> None:
    grades = [c for c in GRADE_COLUMNS if c in df]
    if not grades or "enrollment" not in df:
        return
    for row in df.index:
        level = df.at[row, "level"] if "level" in df else None
        values = {c: df.at[row, c] for c in grades}
        given = {c: v for c, v in values.items() if pd.notna(v)}
        if not given:
            continue
        total = sum(given.values())
        enr = df.at[row, "enrollment"]
        if pd.notna(enr) and len(given) and abs(total - enr) > 0.5:
            problems.warning(
                "grades_do_not_add_up", file, row=int(row), column=colmap.get("enrollment"),
                value=enr, ids=[df.at[row, "_id_for_messages"]],
                en=f"pupils by grade add up to {total:g}, enrollment says {enr:g}",
                zh=f"各年级人数合计 {total:g}，与在校生数 {enr:g} 不一致",
                fix_en="check the grade columns or the total", fix_zh="请核对分年级人数或在校生总数",
            )
        if level in LEVEL_GRADES:
            taught = set(LEVEL_GRADES[level])
            for c, v in given.items():
                g = int(c.rsplit("g", 1)[1])
                if g not in taught and v > 0:
                    problems.warning(
                        "grade_not_taught", file, row=int(row), column=colmap.get(c, c), value=v,
                        ids=[df.at[row, "_id_for_messages"]],
                        en=f"{v:g} pupils in grade {g}, which a {level} school does not teach",
                        zh=f"{g}年级有 {v:g} 人，但该学段不含此年级",
                        fix_en="check the level or the grade column", fix_zh="请核对学段或年级人数",
                    )


def fill_seats(df: pd.DataFrame, settings: Settings) -> None:
    """Seats from the ledger, else classes x the level's class size (GB 50099-2011).

    With per-grade class columns (一年级班数 …) the seats are the sum over grades of each grade's
    classes x its class size (grades 1-6 primary, 7-9 junior middle, 10-12 senior; a teaching
    point's classes are small classes), and ``seats_source`` says ``classes by grade x class size``.
    Special-education schools and kindergartens have no computed seats.
    """
    primary, junior = settings["class_size_primary"], settings["class_size_junior"]
    size = {
        "primary": primary, "nine_year": primary, "twelve_year": primary,
        "teaching_point": settings["class_size_teaching_point"],
        "junior": junior, "complete": junior, "senior": settings["class_size_senior"],
    }
    seats = df["seats"] if "seats" in df else pd.Series(np.nan, index=df.index)
    classes = df["classes"] if "classes" in df else pd.Series(np.nan, index=df.index)
    level = df.get("level", pd.Series(None, index=df.index))
    computed = classes * level.map(size).astype(float)
    by_grade = pd.Series(np.nan, index=df.index)
    grade_cols = [c for c in CLASS_GRADE_COLUMNS if c in df]
    if grade_cols:
        total = pd.Series(0.0, index=df.index)
        for c in grade_cols:
            g = int(c.rsplit("g", 1)[1])
            per = np.where(level == "teaching_point", settings["class_size_teaching_point"],
                           primary if g <= 6 else junior if g <= 9 else settings["class_size_senior"])
            total = total + df[c].astype(float).fillna(0.0) * per
        has = df[grade_cols].notna().any(axis=1) & level.isin(list(size))
        by_grade = total.where(has)
    source = np.where(seats.notna(), "ledger",
                      np.where(by_grade.notna(), "classes by grade x class size",
                               np.where(computed.notna(), "classes x class size", "unknown")))
    df["seats_source"] = source
    df["seats"] = seats.where(seats.notna(), by_grade.where(by_grade.notna(), computed))


def read_towns(
    path: str | os.PathLike,
    *,
    coordinate_system: str | None = None,
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read towns (乡镇): polygons, town-seat points, or a plain table.

    A plain table (乡镇代码, 乡镇名称, 所属县区, optional seat 经度/纬度) is enough: every
    town-level rule is checked for every town listed, including towns with no school.
    ``attrs["geometry_kind"]`` is ``polygon``, ``point`` or ``none``.
    """
    own = problems if problems is not None else Problems()
    df, colmap, file, system, crs, geometry = _load(
        path, TOWN_ALIASES, coordinate_system=coordinate_system, columns=columns,
        required=[("town_code", "town")], sheet=sheet, header_row=header_row,
        encoding=encoding, layer=layer, id_column="town_code", problems=own,
    )
    usable = _structure_ok(df, [("town_code", "town")], file, own)
    usable = usable and not _no_crs(own, file)
    parse_codes(df, ["town_code", "town", "county"])
    _ensure_columns(df, ["town_code", "town", "county"])
    if df["town_code"].notna().any():
        _duplicates(df, "town_code", colmap, file, own, "town_code", "乡镇代码")
    else:
        _duplicates(df.assign(_k=df["county"].fillna("") + "/" + df["town"].fillna("")), "_k",
                    colmap, file, own, "town (county/name)", "乡镇名称")
    df["_id_for_messages"] = df["town_code"].fillna(df["town"]).fillna("(no name)")
    for row in df.index:
        if pd.isna(df.at[row, "town_code"]) and pd.isna(df.at[row, "town"]) and usable:
            own.error("blank_value", file, row=int(row), column=colmap.get("town", "town"),
                      en="the town has neither a code nor a name", zh="乡镇既无代码也无名称",
                      fix_en="fill in 乡镇代码 or 乡镇名称", fix_zh="请填写乡镇代码或名称")
    kind = "none"
    if geometry is not None and set(geometry.geom_type.dropna()) & {"Polygon", "MultiPolygon"}:
        kind = "polygon"
        if usable:
            geom = geometry_to_wgs84(geometry, system, crs)
        else:  # no coordinate system: the shapes cannot be placed (reported once)
            geom = gpd.GeoSeries([None] * len(geometry), index=geometry.index, crs=4326)
        geom = polygon_checks(df, geom, file, own) if usable else geom
        gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"], errors="ignore"), geometry=geom,
                               crs="EPSG:4326")
        placed = gdf.geometry.notna() & ~gdf.geometry.is_empty
        gdf["lon"] = np.nan
        gdf["lat"] = np.nan
        if placed.any():
            rp = gdf.geometry[placed].to_crs(
                coords.metric_crs_for(*_centre(gdf[placed]))).representative_point().to_crs(4326)
            gdf.loc[placed, "lon"] = rp.x.values
            gdf.loc[placed, "lat"] = rp.y.values
        gdf = gdf.drop(columns=["_id_for_messages"])
        gdf.attrs.update(file=file, coordinate_system=system, geometry_kind=kind, problems=list(own),
                         usable=usable)
        if problems is None:
            own.raise_if_errors()
        return gdf
    if "lon" in df and "lat" in df and (df["lon"].notna() | df["lat"].notna()).any():
        kind = "point"
        df = _locate(df, usable, system=system, crs=crs, colmap=colmap, file=file,
                     problems=own, require=False, extent=None, what="town seat")
    else:
        df["lon"] = np.nan
        df["lat"] = np.nan
    df = df.drop(columns=["_id_for_messages"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    gdf.attrs.update(file=file, coordinate_system=system, geometry_kind=kind, problems=list(own),
                     usable=usable)
    if problems is None:
        own.raise_if_errors()
    return gdf


def _centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    b = gdf.total_bounds
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def geometry_to_wgs84(geometry: gpd.GeoSeries, system: str, crs: CRS) -> gpd.GeoSeries:
    """Any geometry from the declared system to WGS-84 (GCJ-02/BD-09 by schoolplan's own transform)."""
    if system in ("gcj02", "bd09"):
        def fn(xy: np.ndarray) -> np.ndarray:
            lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], system)
            return np.column_stack([lon, lat])

        return gpd.GeoSeries(shapely.transform(geometry.values, fn), index=geometry.index,
                             crs="EPSG:4326")
    return gpd.GeoSeries(geometry.values, index=geometry.index, crs=crs).to_crs(4326)


def read_demand(
    path: str | os.PathLike,
    *,
    coordinate_system: str | None = None,
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    extent: Extent | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read demand points (villages, estates, grid cells) with school-age children by level.

    Columns: ``demand_id``, ``name``, ``town_code``/``town``, ``pupils_primary``,
    ``pupils_junior`` (at least one), and a location. Polygons (estates) are reduced to a point
    inside them.
    """
    own = problems if problems is not None else Problems()
    df, colmap, file, system, crs, geometry = _load(
        path, DEMAND_ALIASES, coordinate_system=coordinate_system, columns=columns,
        required=["demand_id", ("pupils_primary", "pupils_junior")], sheet=sheet,
        header_row=header_row, encoding=encoding, layer=layer, id_column="demand_id", problems=own,
    )
    usable = _structure_ok(df, ["demand_id", ("pupils_primary", "pupils_junior")], file, own)
    if geometry is not None and "lon" not in df and len(geometry):
        pts = geometry.representative_point()
        df["lon"], df["lat"] = pts.x.values, pts.y.values
    parse_codes(df, ["demand_id", "name", "town_code", "town"])
    if "demand_id" in df:
        _blank_ids(df, "demand_id", colmap, file, own, "the demand point", "需求点")
        _duplicates(df, "demand_id", colmap, file, own, "demand_id", "需求点编码")
        df["_id_for_messages"] = df["demand_id"].fillna("(no id)")
    else:
        df["_id_for_messages"] = [f"row {r}" for r in df.index]
    parse_numbers(df, ["pupils_primary", "pupils_junior"], colmap=colmap, file=file, problems=own)
    for col in ("pupils_primary", "pupils_junior"):
        if col not in df:
            df[col] = 0.0
        else:
            df[col] = df[col].fillna(0.0)
    if "area_type" in df:
        _parse_area_types(df, colmap, None, file, own)
    for col in ("town_code", "town", "name", "area_type"):
        if col not in df:
            df[col] = None
    df = _locate(df, usable and not _no_crs(own, file), system=system, crs=crs, colmap=colmap,
                 file=file, problems=own, require=True, extent=extent, what="demand point")
    _ensure_columns(df, DEMAND_COLUMNS)
    df = df.drop(columns=["_id_for_messages"], errors="ignore")
    gdf = _finish(df, file, system, own, raise_errors=problems is None, colmap=colmap)
    gdf.attrs["usable"] = usable
    return gdf
