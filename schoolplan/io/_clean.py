"""Turn a raw table or layer into a canonical, validated frame, recording every problem.

Shared by the readers in :mod:`schoolplan.io`: column mapping, numbers, codes, coordinates.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.schema import canonical_columns, normalise_header

__all__ = [
    "closest_headers",
    "coordinates_to_wgs84",
    "map_columns",
    "parse_codes",
    "parse_numbers",
    "rows_text",
    "swapped_mask",
]

_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def map_columns(
    df: pd.DataFrame,
    aliases: dict[str, tuple[str, ...]],
    *,
    explicit: dict[str, str] | None,
    required: list[str | tuple[str, ...]],
    file: str,
    problems: Problems,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename the columns of ``df`` to canonical names.

    ``required`` items are a canonical name, or a tuple of names of which at least one is needed.
    Returns the renamed frame and canonical name -> header in the file (for messages).
    """
    explicit = dict(explicit or {})
    headers = [str(c) for c in df.columns]
    norm = {normalise_header(h): h for h in headers}
    resolved_explicit: dict[str, str] = {}
    for canon, header in explicit.items():
        if canon not in aliases:
            problems.error(
                "unknown_mapping", file, column=str(header),
                en=f"the column mapping names '{canon}', which is not a column schoolplan knows",
                zh=f"列映射中的“{canon}”不是本工具的字段",
                fix_en=f"use one of: {', '.join(aliases)}", fix_zh=f"可用字段：{', '.join(aliases)}",
            )
            continue
        actual = norm.get(normalise_header(header))
        if actual is None:
            problems.error(
                "missing_column", file, column=str(header),
                en=f"the column mapping says {canon} is in column '{header}', but the file has no such column",
                zh=f"列映射指定“{canon}”在列“{header}”，但文件中没有该列",
                fix_en=f"the file's columns are: {', '.join(headers)}",
                fix_zh=f"文件中的列：{', '.join(headers)}",
            )
            continue
        resolved_explicit[canon] = actual
    mapping, ambiguous = canonical_columns(headers, aliases, resolved_explicit)
    for canon, hits in ambiguous:
        problems.error(
            "ambiguous_column", file, column=", ".join(hits),
            en=f"several columns could be '{canon}': {', '.join(hits)}",
            zh=f"多个列都可能是“{canon}”：{'、'.join(hits)}",
            fix_en=f"rename the extra columns or map '{canon}' explicitly (columns: {{{canon}: ...}})",
            fix_zh=f"请删除多余列或在方案文件的 columns 中明确指定“{canon}”",
        )
    found = set(mapping.values())
    for need in required:
        options = (need,) if isinstance(need, str) else need
        if not any(o in found for o in options):
            looked = "; ".join(f"{o}: {', '.join(aliases[o])}" for o in options)
            unused = [h for h in headers if h not in mapping]
            close = closest_headers([a for o in options for a in aliases[o]], unused)
            near_en = (f"; closest headers in the file: {', '.join(close)}" if close
                       else f"; the file's headers: {', '.join(unused[:15]) or '(none)'}")
            near_zh = (f"；文件中最接近的列：{'、'.join(close)}" if close
                       else f"；文件中的列：{'、'.join(unused[:15]) or '（无）'}")
            problems.error(
                "missing_column", file, column=" / ".join(options),
                value=", ".join(close) or None,
                en=f"required column {' or '.join(options)} is missing (looked for {looked}){near_en}",
                zh=f"缺少必需列“{'”或“'.join(options)}”（已查找：{looked}）{near_zh}",
                fix_en="add the column, rename it to one of these names, or map it in the "
                       "scenario file (columns: {" + options[0] + ": "
                       + (close[0] if close else "<your header>") + "})",
                fix_zh="请补充该列、改用上述列名之一，或在方案文件 columns 中指定（columns: {"
                       + options[0] + ": " + (close[0] if close else "<列名>") + "}）",
            )
    _report_formulas(df, mapping, file, problems)
    # a header named like a canonical column that the user mapped to another header stays,
    # under another name, so that the two never collide
    taken = set(mapping.values())
    keep_aside = {h: f"{h} (not used)" for h in headers if h not in mapping and h in taken}
    out = df.rename(columns={**mapping, **keep_aside})
    return out, {canon: header for header, canon in mapping.items()}


def _report_formulas(df: pd.DataFrame, mapping: dict[str, str], file: str,
                     problems: Problems) -> None:
    """One error per used column holding formulas that Excel never calculated (no saved result:
    they read as empty cells), with their rows. Columns the tool does not read are left alone."""
    cells = df.attrs.get("formulas_without_value") or []
    by_column: dict[str, list[int]] = {}
    for row, header in cells:
        if header in mapping:
            by_column.setdefault(header, []).append(int(row))
    for header, rows in by_column.items():
        problems.error(
            "formula_without_value", file, row=rows[0] if len(rows) == 1 else None,
            column=header, value=len(rows),
            en=f"{len(rows)} cell(s) of column '{header}' hold a formula with no saved value "
               f"({rows_text(rows, 'en')}): they read as empty",
            zh=f"“{header}”列有 {len(rows)} 个单元格为公式且没有缓存值（{rows_text(rows, 'zh')}），"
               "读取为空",
            fix_en="open the file in Excel (or WPS) and save it, so that the formulas' results "
                   "are stored; or paste the values",
            fix_zh="公式没有缓存值，请在 Excel 中打开并保存（或粘贴为数值）",
        )


#: Chinese words for the kinds of rows (messages in Chinese carry no English word).
_WHAT_ZH = {"school": "学校", "town seat": "乡镇驻地", "demand point": "需求点", "estate": "小区",
            "site": "校址", "school site": "校址"}
#: Warnings of one kind about more rows than this are summarised in one message with the rows.
_SUMMARY_AFTER = 3


def rows_text(rows: list, lang: str, *, limit: int = 12) -> str:
    """``第3、5、6…行`` / ``rows 3, 5, 6, …``: the Excel rows of a summarised warning."""
    shown = [str(r) for r in rows[:limit]]
    more = len(rows) > limit
    if lang == "zh":
        return "第" + "、".join(shown) + ("…" if more else "") + "行"
    return "rows " + ", ".join(shown) + (", …" if more else "")


def closest_headers(aliases: list[str], headers: list[str], n: int = 3) -> list[str]:
    """Headers of a file that look most like any of ``aliases`` (difflib ratio >= 0.5), best first."""
    norm = {normalise_header(h): h for h in headers}
    scores: dict[str, float] = {}
    for alias in aliases:
        a = normalise_header(alias)
        for nh, h in norm.items():
            r = difflib.SequenceMatcher(None, a, nh).ratio()
            if a and (a in nh or nh in a) and len(nh) > 1:
                r = max(r, 0.75)
            if r >= 0.5:
                scores[h] = max(scores.get(h, 0.0), r)
    return [h for h, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:n]]


def _to_number(v: Any) -> float | None:
    """A cell as a float; ``None`` for blank; ``nan`` when not a number."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, bool):
        return float("nan")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    text = str(v).strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    return float(text) if _NUM_RE.match(text) else float("nan")


def _column_numbers(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as floats (NaN for blank or text); all NaN when the column is absent."""
    if col not in df:
        return np.full(len(df), np.nan)
    vals = [_to_number(v) for v in df[col]]
    return np.array([np.nan if v is None else v for v in vals], dtype=float)


def parse_numbers(
    df: pd.DataFrame,
    columns: list[str],
    *,
    colmap: dict[str, str],
    file: str,
    problems: Problems,
    required: tuple[str, ...] = (),
    integer: bool = True,
) -> None:
    """Convert count columns in place; report text, negative and (if ``integer``) fractional values."""
    for col in columns:
        if col not in df.columns:
            continue
        header = colmap.get(col, col)
        values = []
        for row, v in df[col].items():
            x = _to_number(v)
            if x is None:
                if col in required:
                    problems.error(
                        "blank_value", file, row=int(row), column=header,
                        en=f"{col} is blank", zh=f"{col}为空",
                        fix_en="fill in the number", fix_zh="请填写数值",
                    )
                values.append(np.nan)
                continue
            if np.isnan(x):
                problems.error(
                    "not_a_number", file, row=int(row), column=header, value=v,
                    en=f"{col} is '{v}', not a number", zh=f"{col}“{v}”不是数字",
                    fix_en="write a plain number (no units or text)", fix_zh="请填写纯数字（不含单位或文字）",
                )
                values.append(np.nan)
                continue
            if x < 0:
                problems.error(
                    "negative_value", file, row=int(row), column=header, value=v,
                    en=f"{col} is negative ({v})", zh=f"{col}为负数（{v}）",
                    fix_en="counts cannot be negative", fix_zh="人数、班数不能为负",
                )
                values.append(np.nan)
                continue
            if integer and x != int(x):
                problems.error(
                    "not_whole_number", file, row=int(row), column=header, value=v,
                    en=f"{col} is {v}, not a whole number", zh=f"{col}为{v}，不是整数",
                    fix_en="counts of pupils, classes and seats are whole numbers",
                    fix_zh="学生数、班级数和学位数应为整数",
                )
            values.append(x)
        df[col] = pd.array(values, dtype="float64")


def parse_codes(df: pd.DataFrame, columns: list[str]) -> None:
    """Codes and names as clean text: ``371502001.0`` (Excel numbers) becomes ``371502001``."""
    for col in columns:
        if col not in df.columns:
            continue

        def clean(v: Any) -> Any:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                return str(int(v))
            text = str(v).strip()
            if re.fullmatch(r"\d+\.0+", text):
                text = text.split(".")[0]
            return text or None

        df[col] = df[col].map(clean).astype(object)


def swapped_mask(
    lon: np.ndarray, lat: np.ndarray, extent: tuple[float, float, float, float] | None
) -> np.ndarray:
    """Rows whose longitude and latitude look swapped.

    A row is swapped when its latitude is beyond ±90° while its longitude is not, or, when an
    ``extent`` (lon_min, lat_min, lon_max, lat_max, in the input's degrees) is known, when the
    point lies outside it but its swapped twin lies inside.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    if extent is not None:
        x0, y0, x1, y1 = extent
        inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        twin = (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
        out |= ~inside & twin
    return out


def coordinates_to_wgs84(
    df: pd.DataFrame,
    *,
    system: str,
    crs: CRS,
    colmap: dict[str, str],
    file: str,
    problems: Problems,
    require: bool,
    extent: tuple[float, float, float, float] | None,
    what: str,
) -> pd.DataFrame:
    """Check ``lon``/``lat`` columns in the declared system and add WGS-84 ``lon``/``lat``.

    The input values are kept as ``x_input``/``y_input``. Rows with a problem get NaN
    coordinates and a reported problem; they are never moved silently.
    """
    lon_h, lat_h = colmap.get("lon", "lon"), colmap.get("lat", "lat")
    x = _column_numbers(df, "lon")
    y = _column_numbers(df, "lat")
    for col, arr, header in (("lon", x, lon_h), ("lat", y, lat_h)):
        if col not in df:
            continue
        for row, raw, val in zip(df.index, df[col], arr, strict=True):
            if np.isnan(val) and raw is not None and not (isinstance(raw, float) and np.isnan(raw)):
                problems.error(
                    "not_a_number", file, row=int(row), column=header, value=raw,
                    en=f"{col} is '{raw}', not a number", zh=f"坐标“{raw}”不是数字",
                    fix_en="write decimal degrees such as 115.98 (not degrees-minutes text)",
                    fix_zh="请使用十进制度，如 115.98",
                )
    geographic = crs.is_geographic
    missing = np.isnan(x) | np.isnan(y)
    ids = df["_id_for_messages"] if "_id_for_messages" in df else pd.Series(df.index.astype(str), index=df.index)
    if ("lon" not in df or "lat" not in df) and len(df):
        (problems.error if require else problems.warning)(
            "no_location", file, column="lon/lat", ids=ids.astype(str).tolist(),
            en=f"the file has no longitude/latitude columns: none of its {len(df)} rows has a location"
               + ("" if require else "; they are kept in counts and town rules but not mapped or routed"),
            zh=f"文件中没有经纬度列，{len(df)} 行均无坐标"
               + ("" if require else "；仍计入统计和乡镇规则，但不参与地图和出行计算"),
            fix_en="add columns 经度/纬度 (or lon/lat), or map them with columns: {lon: ..., lat: ...}",
            fix_zh="请增加“经度”“纬度”列，或在 columns 中指定",
        )
    blank_rows = [row for row in df.index[missing]
                  if "lon" in df and "lat" in df
                  and (pd.isna(df.at[row, "lon"]) or pd.isna(df.at[row, "lat"]))]
    what_zh = _WHAT_ZH.get(what, what)
    if not require and len(blank_rows) > _SUMMARY_AFTER:
        problems.warning(
            "no_location", file, column=f"{lon_h}/{lat_h}", ids=[str(ids.loc[r]) for r in blank_rows],
            value=len(blank_rows),
            en=f"{len(blank_rows)} {what}s have no coordinates: {rows_text(blank_rows, 'en')}; "
               "they are kept in counts and town rules but have no place on the map or in travel",
            zh=f"{len(blank_rows)} 个{what_zh}缺少坐标：{rows_text(blank_rows, 'zh')}；"
               "仍计入统计和乡镇规则，但不参与地图和出行计算",
            fix_en="add longitude and latitude", fix_zh="请补充经纬度",
        )
        blank_rows = []
    for row in blank_rows:
        (problems.error if require else problems.warning)(
            "no_location", file, row=int(row), column=f"{lon_h}/{lat_h}",
            ids=[ids.loc[row]],
            en=f"{what} {ids.loc[row]} has no coordinates"
               + ("" if require else
                  "; it is kept in counts and town rules but has no place on the map or in travel"),
            zh=f"{what_zh} {ids.loc[row]} 缺少坐标"
               + ("" if require else "；仍计入统计和乡镇规则，但不参与地图和出行计算"),
            fix_en="add longitude and latitude", fix_zh="请补充经纬度",
        )
    bad = np.zeros(len(df), dtype=bool)
    if geographic:
        if extent is None and system in ("gcj02", "bd09", "cgcs2000"):
            lo0, la0, lo1, la1 = coords.CHINA_BOUNDS
            check_extent: tuple[float, float, float, float] | None = (lo0, la0, lo1, la1)
        else:
            check_extent = extent
        swapped = swapped_mask(x, y, check_extent) & ~missing
        for row in df.index[swapped]:
            i = df.index.get_loc(row)
            problems.error(
                "swapped_coordinates", file, row=int(row), column=f"{lon_h}/{lat_h}",
                value=f"{x[i]}, {y[i]}", ids=[ids.loc[row]],
                en=f"longitude {x[i]} and latitude {y[i]} look swapped"
                   + (f" (the point lies outside the area {tuple(round(v, 3) for v in check_extent)}, "
                      "its swapped twin inside)" if check_extent else ""),
                zh=f"经度 {x[i]} 与纬度 {y[i]} 疑似填反",
                fix_en="swap the two values in the file (schoolplan never swaps them silently)",
                fix_zh="请在文件中对调经纬度（本工具不会自动对调）",
            )
        out_of_range = ~missing & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for row in df.index[out_of_range]:
            i = df.index.get_loc(row)
            problems.error(
                "coordinate_out_of_range", file, row=int(row), column=f"{lon_h}/{lat_h}",
                value=f"{x[i]}, {y[i]}", ids=[ids.loc[row]],
                en=f"coordinates {x[i]}, {y[i]} are outside longitude ±180 / latitude ±90",
                zh=f"坐标 {x[i]}, {y[i]} 超出经纬度有效范围",
                fix_en="check the numbers; projected metres need an EPSG code as coordinate_system",
                fix_zh="请检查数值；投影坐标（米）请在 coordinate_system 中填写 EPSG 代码",
            )
        bad = swapped | out_of_range
        if system in ("gcj02", "bd09"):
            outside = ~missing & ~bad & ~coords.in_china(x, y)
            for row in df.index[outside]:
                i = df.index.get_loc(row)
                problems.error(
                    "coordinate_system_mismatch", file, row=int(row), column=f"{lon_h}/{lat_h}",
                    value=f"{x[i]}, {y[i]}", ids=[ids.loc[row]],
                    en=f"declared {system}, but {x[i]}, {y[i]} is outside China where {system} applies",
                    zh=f"声明为{system}，但坐标 {x[i]}, {y[i]} 不在中国境内",
                    fix_en="declare the right coordinate_system (wgs84 for GPS/OSM)",
                    fix_zh="请在方案文件中填写正确的坐标系（GPS/OSM 为 wgs84）",
                )
            bad |= outside
    ok = ~missing & ~bad
    lon84 = np.full(len(df), np.nan)
    lat84 = np.full(len(df), np.nan)
    if ok.any():
        if system in ("wgs84", "cgcs2000", "gcj02", "bd09"):
            a, b = coords.to_wgs84(x[ok], y[ok], system)
        else:
            tr = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
            a, b = tr.transform(x[ok], y[ok])
            a, b = np.asarray(a), np.asarray(b)
        lon84[ok], lat84[ok] = a, b
        bad_proj = ~np.isfinite(lon84) & ok
        for row in df.index[bad_proj]:
            problems.error(
                "coordinate_out_of_range", file, row=int(row), column=f"{lon_h}/{lat_h}",
                en=f"coordinates could not be converted from {crs.to_string()}",
                zh=f"坐标无法从 {crs.to_string()} 转换",
                fix_en="check the coordinate_system declared for this file",
                fix_zh="请检查该文件声明的坐标系",
            )
    out = df.copy()
    out["x_input"], out["y_input"] = x, y
    out["lon"], out["lat"] = lon84, lat84
    return out
