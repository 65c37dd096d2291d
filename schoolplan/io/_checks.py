"""Private checks of the readers: levels and ownership, blank urban/rural types, per-grade
classes, plausibility, point layers with other geometries, and town polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.io._clean import rows_text
from schoolplan.schema import (
    CENTRAL_NO,
    CENTRAL_YES,
    CLASS_GRADE_COLUMNS,
    LEVEL_LABELS,
    LEVELS,
    parse_level,
    parse_ownership,
)
from schoolplan.settings import Settings

__all__ = [
    "classes_from_grades",
    "infer_blank_area_types",
    "parse_central",
    "parse_levels",
    "plausibility",
    "points_from_layer",
    "polygon_checks",
]


def _centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    b = gdf.total_bounds
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def points_from_layer(df: pd.DataFrame, geometry: gpd.GeoSeries, types: set, file: str,
                       problems: Problems) -> None:
    """lon/lat from the point features of a layer; other geometries are reported, not used."""
    single = geometry.copy()
    multi = geometry.geom_type == "MultiPoint"
    if multi.any():
        parts = shapely.get_num_geometries(geometry[multi].values)
        single[multi] = [g.geoms[0] if n == 1 else None
                         for g, n in zip(geometry[multi].values, parts, strict=True)]
    is_point = ((single.geom_type == "Point") & ~single.is_empty).to_numpy()
    vals = single.values
    df["lon"] = np.where(is_point, shapely.get_x(vals), np.nan)
    df["lat"] = np.where(is_point, shapely.get_y(vals), np.nan)
    others = [r for r in df.index[~is_point] if geometry[r] is not None
              and not geometry[r].is_empty]
    if others:
        kinds = sorted({str(geometry[r].geom_type) for r in others})
        problems.warning(
            "not_a_point", file, column="geometry", ids=[str(r) for r in others],
            value=", ".join(kinds),
            en=f"{len(others)} feature(s) are {', '.join(kinds)}, not points ({rows_text(others, 'en')}); "
               "their location is not used (the points are)",
            zh=f"{len(others)} 个要素为{'、'.join(kinds)}而非点（{rows_text(others, 'zh')}），"
               "其位置不予使用（仅使用点要素）",
            fix_en="keep one point per school in the layer", fix_zh="请使每所学校对应一个点要素",
        )


def parse_levels(df: pd.DataFrame, colmap: dict[str, str], extra: dict | None, file: str,
                  problems: Problems) -> None:
    """Levels to canonical names; 公办/民办 in the level cell go to ``ownership``."""
    accepted_zh = "、".join(LEVEL_LABELS[lv]["zh"] for lv in LEVELS)
    levels, owners = [], []
    for row, v in df["level"].items():
        blank = v is None or pd.isna(v)
        lv = None if blank else parse_level(v, extra)
        owners.append(None if blank else parse_ownership(v))
        if lv is None:
            problems.error(
                "unknown_level", file, row=int(row), column=colmap.get("level"), value=v,
                ids=[df.at[row, "_id_for_messages"]],
                en=(f"level '{v}' is not known" if not blank else "the level is blank")
                   + f"; accepted: {', '.join(LEVELS)} ({accepted_zh}, 完小, 中心校, 一贯制学校, 國小 …)",
                zh=(f"学段“{v}”无法识别" if not blank else "学段为空") + f"；可用：{accepted_zh}、完小、中心校等",
                fix_en="use one of the accepted values or map yours with values: {level: {...}}",
                fix_zh="请改用上述值，或在方案文件 values.level 中给出对应关系",
            )
        levels.append(lv)
    df["level"] = levels
    if "ownership" in df:
        parsed = []
        for row, v in df["ownership"].items():
            o = None if v is None or pd.isna(v) else parse_ownership(v)
            if o is None and v is not None and not pd.isna(v):
                problems.warning(
                    "unknown_ownership", file, row=int(row), column=colmap.get("ownership"), value=v,
                    ids=[df.at[row, "_id_for_messages"]],
                    en=f"ownership '{v}' is not known (公办/public or 民办/private); left blank",
                    zh=f"办学性质“{v}”无法识别（应为公办或民办），按空值处理",
                    fix_en="write 公办 or 民办", fix_zh="请填写公办或民办",
                )
            parsed.append(o)
        df["ownership"] = [o if o is not None else w for o, w in zip(parsed, owners, strict=True)]
    else:
        df["ownership"] = owners


def parse_central(df: pd.DataFrame, colmap: dict[str, str], file: str, problems: Problems) -> None:
    """The 中心校 column (``is_central``) to True / False / blank; a value that is neither yes nor
    no is reported (file, row, column, value, fix) and left blank, so the name pattern decides."""
    if "is_central" not in df:
        return
    out: list[bool | None] = []
    yes_zh = "是、1、√、中心校"
    for row, v in df["is_central"].items():
        blank = v is None or (isinstance(v, float) and np.isnan(v))
        text = "" if blank else str(v).strip().lower()
        flag = None if blank else True if text in CENTRAL_YES else False if text in CENTRAL_NO else None
        if not blank and flag is None:
            problems.warning(
                "unknown_central_flag", file, row=int(row), column=colmap.get("is_central"), value=v,
                ids=[df.at[row, "_id_for_messages"]],
                en=f"central school (中心校) value '{v}' is neither yes nor no; the school's name "
                   "decides (setting central_school_pattern)",
                zh=f"“中心校”列的值“{v}”无法识别（应为是或否），改按校名判断（设置 central_school_pattern）",
                fix_en="write 是/否 (yes/no, 1/0, √) or leave the cell blank",
                fix_zh=f"请填写 {yes_zh} 或 否、0，或留空",
            )
        out.append(flag)
    df["is_central"] = pd.Series(out, index=df.index, dtype=object)


def infer_blank_area_types(df: pd.DataFrame, colmap: dict[str, str], file: str,
                            problems: Problems, settings: Settings) -> None:
    """Blank urban/rural cells: inferred from the town's kind (街道/镇/乡) where a setting allows,
    and reported in one warning with their rows, so that no school silently drops out of the
    rural small-school tiers."""
    blank = [r for r in df.index if pd.isna(df.at[r, "area_type"])]
    if not blank:
        return
    by_kind = {"街道": settings["area_type_blank_jiedao"], "办事处": settings["area_type_blank_jiedao"],
               "镇": settings["area_type_blank_zhen"], "乡": settings["area_type_blank_xiang"]}
    inferred: dict[str, list] = {}
    unknown = []
    for r in blank:
        name = df.at[r, "town"] if "town" in df else None
        text = "" if name is None or pd.isna(name) else str(name).strip()
        kind = next((k for k in ("街道", "办事处", "镇", "乡") if text.endswith(k)), None)
        area = by_kind.get(kind) if kind else None
        if area in (None, "unknown"):
            unknown.append(r)
            continue
        df.at[r, "area_type"] = area
        inferred.setdefault(f"{kind}:{area}", []).append(r)
    column = colmap.get("area_type", "area_type")
    for key, rows in inferred.items():
        kind, area = key.split(":")
        problems.warning(
            "area_type_inferred", file, column=column, value=len(rows),
            ids=[str(df.at[r, "_id_for_messages"]) for r in rows],
            en=f"{len(rows)} school(s) with a blank urban/rural type lie in a {kind} and were taken "
               f"as {area} ({rows_text(rows, 'en')})",
            zh=f"{len(rows)} 所学校城乡类别为空，所在乡镇为{kind}，按{_AREA_ZH[area]}处理"
               f"（{rows_text(rows, 'zh')}）",
            fix_en=f"fill in the urban/rural code to be exact (setting area_type_blank_"
                   f"{_KIND_KEY[kind]} decides the inference)",
            fix_zh=f"请填写城乡分类代码（推定规则见设置 area_type_blank_{_KIND_KEY[kind]}）",
        )
    if unknown:
        problems.warning(
            "blank_area_type", file, column=column, value=len(unknown),
            ids=[str(df.at[r, "_id_for_messages"]) for r in unknown],
            en=f"{len(unknown)} school(s) have a blank urban/rural type that cannot be inferred "
               f"({rows_text(unknown, 'en')}); they are counted as 'unknown' in the small-school tiers",
            zh=f"{len(unknown)} 所学校城乡类别为空且无法推定（{rows_text(unknown, 'zh')}），"
               "小规模学校统计中列为“未知”",
            fix_en="fill in the urban/rural code (城乡分类代码)", fix_zh="请填写城乡分类代码",
        )


_AREA_ZH = {"urban": "城区", "town": "镇区", "rural": "乡村"}


_KIND_KEY = {"街道": "jiedao", "办事处": "jiedao", "镇": "zhen", "乡": "xiang"}


def classes_from_grades(df: pd.DataFrame, colmap: dict[str, str], file: str,
                         problems: Problems) -> None:
    """Per-grade class columns (一年级班数 …) summed into ``classes`` where it is blank."""
    cols = [c for c in CLASS_GRADE_COLUMNS if c in df]
    if not cols:
        return
    per_grade = df[cols].astype(float)
    total = per_grade.sum(axis=1, min_count=1)
    if "classes" not in df:
        df["classes"] = np.nan
    given = df["classes"].astype(float)
    differ = given.notna() & total.notna() & ((given - total).abs() > 0.5)
    for r in df.index[differ]:
        problems.warning(
            "classes_do_not_add_up", file, row=int(r), column=colmap.get("classes", "classes"),
            value=given[r], ids=[df.at[r, "_id_for_messages"]],
            en=f"classes by grade add up to {total[r]:g}, the total says {given[r]:g}",
            zh=f"各年级班数合计 {total[r]:g}，与班级数 {given[r]:g} 不一致",
            fix_en="check the class columns", fix_zh="请核对分年级班数或班级数",
        )
    df["classes"] = given.where(given.notna(), total)


def plausibility(df: pd.DataFrame, colmap: dict[str, str], file: str, problems: Problems,
                  settings: Settings) -> None:
    """Warnings for pupils beyond a plausible school size and 0 seats in a school with pupils."""
    cap = settings["enrollment_plausible_max"]
    enr = df["enrollment"].astype(float) if "enrollment" in df else pd.Series(dtype=float)
    for r in enr.index[enr > cap]:
        problems.warning(
            "implausible_enrollment", file, row=int(r), column=colmap.get("enrollment"),
            value=enr[r], ids=[df.at[r, "_id_for_messages"]],
            en=f"{enr[r]:g} pupils is more than any school is likely to have "
               f"(enrollment_plausible_max = {cap}); a typing error?",
            zh=f"在校生 {enr[r]:g} 人，超过合理上限 {cap} 人，是否录入错误？",
            fix_en="check the number (or raise the setting enrollment_plausible_max)",
            fix_zh="请核对人数（或调整设置 enrollment_plausible_max）",
        )
    if "seats" in df:
        seats = df["seats"].astype(float)
        for r in df.index[(seats == 0) & (enr.reindex(df.index) > 0)]:
            problems.warning(
                "zero_seats", file, row=int(r), column=colmap.get("seats", "seats"), value=0,
                ids=[df.at[r, "_id_for_messages"]],
                en=f"0 seats for a school with {enr[r]:g} pupils",
                zh=f"学位数为 0，但有在校生 {enr[r]:g} 人",
                fix_en="fill in the seats (or leave the cell blank to compute them from classes)",
                fix_zh="请填写学位数（或留空以按班数计算）",
            )


def polygon_checks(df: pd.DataFrame, geom: gpd.GeoSeries, file: str,
                    problems: Problems) -> gpd.GeoSeries:
    """Town polygons: missing ones (one warning), invalid ones repaired, overlaps reported."""
    blank = [r for r in geom.index if geom[r] is None or geom[r].is_empty]
    if blank:
        problems.warning(
            "no_geometry", file, column="geometry", value=len(blank),
            ids=[str(df.at[r, "_id_for_messages"]) for r in blank],
            en=f"{len(blank)} town(s) have no shape ({rows_text(blank, 'en')}); they are kept in "
               "the town rules, but no school is placed in them by location",
            zh=f"{len(blank)} 个乡镇没有边界（{rows_text(blank, 'zh')}）；仍参与乡镇规则，"
               "但不能按位置判定学校所属",
            fix_en="add the boundaries, or give every school its town code", fix_zh="请补充边界，或为学校填写乡镇代码",
        )
    invalid = ~geom.is_valid & geom.notna()
    for row in geom.index[invalid]:
        problems.warning("invalid_polygon", file, row=int(row), column="geometry",
                         ids=[df.at[row, "_id_for_messages"]],
                         en="the town polygon is invalid (self-intersecting); it was repaired with make_valid",
                         zh="乡镇边界多边形无效（自相交），已自动修复",
                         fix_en="repair it in a GIS to be sure of the shape", fix_zh="建议在 GIS 中检查修复")
    geom = geom.where(~invalid, shapely.make_valid(geom.values))
    ok = geom[geom.notna() & ~geom.is_empty]
    if len(ok) > 1:
        metric = ok.to_crs(coords.metric_crs_for(*_centre(gpd.GeoDataFrame(geometry=ok))))
        tree = shapely.STRtree(metric.values)
        a, b = tree.query(metric.values, predicate="intersects")
        for i, j in zip(a[a < b], b[a < b], strict=True):
            shared = shapely.area(shapely.intersection(metric.values[i], metric.values[j]))
            smaller = min(metric.values[i].area, metric.values[j].area)
            if smaller > 0 and shared > 0.01 * smaller:
                ri, rj = metric.index[i], metric.index[j]
                problems.warning(
                    "overlapping_towns", file, row=int(rj), column="geometry",
                    ids=[str(df.at[ri, "_id_for_messages"]), str(df.at[rj, "_id_for_messages"])],
                    value=f"{shared / 1e6:.2f} km2",
                    en=f"towns {df.at[ri, '_id_for_messages']} (row {ri}) and {df.at[rj, '_id_for_messages']} "
                       f"overlap by {shared / 1e6:.2f} km² ({shared / smaller:.0%} of the smaller); a point "
                       "there is given to the first",
                    zh=f"乡镇 {df.at[ri, '_id_for_messages']}（第{ri}行）与 {df.at[rj, '_id_for_messages']} "
                       f"边界重叠 {shared / 1e6:.2f} 平方公里（占较小者 {shared / smaller:.0%}）",
                    fix_en="fix the boundaries in a GIS", fix_zh="请在 GIS 中修正边界",
                )
    return geom
