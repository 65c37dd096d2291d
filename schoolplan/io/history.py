"""Private: readers of multi-year enrolment ledgers and births tables (see :mod:`schoolplan.projection`)."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import numpy as np
import pandas as pd

from schoolplan.errors import Problems
from schoolplan.io._clean import map_columns, parse_codes, parse_numbers
from schoolplan.io._files import read_table
from schoolplan.schema import GRADE_COLUMNS, SCHOOL_ALIASES

logger = logging.getLogger("schoolplan.projection")

_YEAR = ("year", "学年", "年份", "年度", "学年度", "统计年份", "统计年度", "school_year", "school year")
_TOWN_CODE = SCHOOL_ALIASES["town_code"]
_TOWN = SCHOOL_ALIASES["town"]

#: Canonical column -> accepted headers of a multi-year enrolment ledger (wide: one row per school
#: and year with 一年级…九年级; long: one row per school, year and grade with 年级 and 人数).
HISTORY_ALIASES: dict[str, tuple[str, ...]] = {
    "school_id": SCHOOL_ALIASES["school_id"],
    "name": SCHOOL_ALIASES["name"],
    "town_code": _TOWN_CODE,
    "town": _TOWN,
    "year": _YEAR,
    "grade": ("grade", "年级"),
    "pupils": ("pupils", "人数", "学生数", "在校生数", "在校学生数", "学生人数", "在校生",
               "enrollment", "enrolment"),
    **{c: SCHOOL_ALIASES[c] for c in GRADE_COLUMNS},
}

#: Canonical column -> accepted headers of a births table (出生人口 per town or village and year)
#: or of children by single year of age (年龄 + 人数, or columns 0岁, 1岁, …).
BIRTHS_ALIASES: dict[str, tuple[str, ...]] = {
    "demand_id": ("demand_id", "村庄代码", "村代码", "行政村代码", "村庄编码", "村居代码"),
    "village": ("village", "村庄名称", "村名", "行政村", "村居"),
    "town_code": _TOWN_CODE,
    "town": _TOWN,
    "year": (*_YEAR, "出生年份", "出生年度", "birth_year", "birth year"),
    "births": ("births", "出生人口", "出生人数", "出生数", "出生人口数", "新生儿数"),
    "age": ("age", "年龄", "周岁"),
    "children": ("children", "人数", "儿童数", "人口数", "适龄儿童数", "population"),
}

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}
_OUT_OF_RANGE_HEADER = re.compile(r"^(十[一二]?年级|高[一二三]|grade\s*(0|1[0-2])|[0]年级)$")
_AGE_HEADER = re.compile(r"^(?:age\s*)?(\d{1,2})\s*(?:周岁|岁)?$")
_YEAR_HEADER = re.compile(r"^((?:19|20)\d{2})\s*年?(?:出生人口|出生人数|出生数)?$")


# ------------------------------------------------------------------------------------------------
# reading


def _parse_year(value: Any) -> int | None:
    """The first four-digit year in a cell (``2025``, ``2025-2026学年``, ``2025/26``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        return int(v) if v.is_integer() and 1900 <= v <= 2100 else None
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", str(value))
    return int(m.group(1)) if m else None


def _parse_grade(value: Any) -> int | None:
    """A grade as a number: ``3``, ``三年级``, ``初一`` (7), ``grade 3``; ``高一`` is 10."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else None
    text = str(value).strip().lower().replace(" ", "")
    m = re.fullmatch(r"(?:grade|year|g)?(\d{1,2})(?:年级)?", text)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"([一二三四五六七八九]|十[一二]?)年级", text)
    if m:
        t = m.group(1)
        return _CN_DIGITS[t] if len(t) == 1 and t != "十" else 10 + (_CN_DIGITS[t[1]] if len(t) > 1 else 0)
    m = re.fullmatch(r"([初高])([一二三])", text)
    if m:
        return (6 if m.group(1) == "初" else 9) + _CN_DIGITS[m.group(2)]
    return None


def _years(df: pd.DataFrame, colmap: dict[str, str], file: str, problems: Problems,
           year: int | None) -> None:
    if "year" not in df:
        if year is None:
            problems.error(
                "missing_column", file, column="year",
                en="no year column (学年, 年份, year) and no year= given",
                zh="缺少学年/年份列", fix_en="add a 学年 column, or pass year=2023 for a one-year ledger",
                fix_zh="请增加“学年”列；单年台账可指定 year=",
            )
        df["year"] = year
        return
    out = []
    for row, v in df["year"].items():
        y = _parse_year(v)
        if y is None:
            problems.error(
                "bad_year", file, row=int(row), column=colmap.get("year", "year"), value=v,
                en=f"year '{v}' is not a year", zh=f"学年“{v}”无法识别",
                fix_en="write the year the school year starts in, e.g. 2025 or 2025-2026",
                fix_zh="请填写学年起始年份，如 2025 或 2025-2026",
            )
        out.append(y)
    df["year"] = out


def _duplicate_keys(df: pd.DataFrame, keys: list[str], colmap: dict[str, str], file: str,
                    problems: Problems, what: str) -> None:
    seen: dict[tuple, int] = {}
    for row, key in zip(df.index, df[keys].itertuples(index=False, name=None), strict=True):
        if any(k is None or (isinstance(k, float) and np.isnan(k)) for k in key):
            continue
        if key in seen:
            problems.error(
                "duplicate_row", file, row=int(row), column=colmap.get(keys[0], keys[0]),
                value=" / ".join(map(str, key)), ids=[str(key[0])],
                en=f"{what} {' / '.join(map(str, key))} appears again (first in row {seen[key]})",
                zh=f"{' / '.join(map(str, key))} 重复（首次出现在第{seen[key]}行）",
                fix_en="keep one row per " + what, fix_zh="每个学校、学年（年级）只保留一行",
            )
        else:
            seen[key] = int(row)


def read_enrolment_history(
    path: str | os.PathLike,
    *,
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    year: int | None = None,
    problems: Problems | None = None,
) -> pd.DataFrame:
    """Read enrolment by grade per school over years, as a long table.

    Parameters
    ----------
    path
        CSV or XLSX. *Wide*: one row per school and year, columns 学年 (or 年份), 学校代码 and
        一年级 … 九年级 (a blank cell: the school does not teach the grade). *Long*: one row per
        school, year and grade, columns 学年, 学校代码, 年级 (1-9, 三年级, 初一) and 人数.
        Title rows above the header are skipped. 学校名称, 乡镇代码 and 所属乡镇 are kept.
    columns
        Canonical name -> header in the file, for other headers, e.g.
        ``{"school_id": "DE ref", "enrollment_g1": "year 1"}`` (canonical names:
        :data:`HISTORY_ALIASES`).
    sheet, header_row, encoding
        As for :func:`schoolplan.io.read_schools` (``header_row`` is 1-based, as seen in Excel).
    year
        The school year of a one-year ledger without a year column.
    problems
        Collect problems here instead of raising.

    Returns
    -------
    pandas.DataFrame
        ``school_id`` (text), ``year`` (int, the year the school year starts), ``grade`` (1-9),
        ``pupils`` (float, pupils), plus ``name``, ``town_code``, ``town`` when the file has
        them; sorted by school, year and grade. Rows with errors are left out (and reported).

    Raises
    ------
    InputValidationError
        Listing every problem (file, Excel row, column, value, fix): missing columns, duplicate
        school and year (or school, year and grade), negative or text counts, grades outside 1-9,
        unreadable years.
    """
    own = problems if problems is not None else Problems()
    known = [a for names in HISTORY_ALIASES.values() for a in names] + list((columns or {}).values())
    raw = read_table(path, sheet=sheet, header_row=header_row, encoding=encoding, known_headers=known)
    file = str(path) if sheet is None else f"{path} [{raw.attrs['sheet']}]"
    df, colmap = map_columns(raw, HISTORY_ALIASES, explicit=columns, required=["school_id"],
                             file=file, problems=own)
    for h in raw.columns:
        if h not in colmap.values() and _OUT_OF_RANGE_HEADER.match(str(h).strip().lower()):
            own.warning("grade_out_of_range", file, column=str(h),
                        en=f"column '{h}' is a grade outside 1-9; it is not used",
                        zh=f"列“{h}”不属于义务教育1-9年级，未使用",
                        fix_en="compulsory grades 1-9 only", fix_zh="仅使用一至九年级")
    parse_codes(df, ["school_id", "name", "town_code", "town"])
    grade_cols = [c for c in GRADE_COLUMNS if c in df]
    fmt = "wide" if grade_cols else "long" if {"grade", "pupils"} <= set(df.columns) else None
    if fmt is None:
        own.error("missing_column", file, column="一年级…九年级 / 年级 + 人数",
                  en="no grade columns (一年级 … 九年级, grade 1 …) and no 年级 + 人数 pair",
                  zh="没有分年级人数列（一年级…九年级），也没有“年级”“人数”列",
                  fix_en="add the grade columns or map them with columns={'enrollment_g1': ...}",
                  fix_zh="请增加分年级列，或用 columns 指定")
    _years(df, colmap, file, own, year)
    if "school_id" in df:
        for row in df.index[df["school_id"].isna()]:
            own.error("blank_value", file, row=int(row), column=colmap.get("school_id"),
                      en="the row has no school_id", zh="学校代码为空", fix_en="fill in 学校代码",
                      fix_zh="请填写学校代码")
    keep = [c for c in ("name", "town_code", "town") if c in df]
    if fmt == "wide" and "school_id" in df:
        parse_numbers(df, [*grade_cols, *(["pupils"] if "pupils" in df else [])], colmap=colmap,
                      file=file, problems=own)
        _duplicate_keys(df, ["school_id", "year"], colmap, file, own, "school and year")
        given = df[grade_cols].notna().any(axis=1)
        for row in df.index[~given & df["school_id"].notna()]:
            own.warning("no_counts", file, row=int(row), column=colmap.get("school_id"),
                        value=df.at[row, "school_id"],
                        en="the row has no pupils in any grade; it is not used",
                        zh="该行各年级人数均为空，未使用", fix_en="fill in the grades or delete the row",
                        fix_zh="请填写分年级人数或删除该行")
        if "pupils" in df:
            total = df[grade_cols].sum(axis=1, min_count=1)
            off = given & df["pupils"].notna() & ((total - df["pupils"]).abs() > 0.5)
            for row in df.index[off]:
                own.warning("grades_do_not_add_up", file, row=int(row), column=colmap.get("pupils"),
                            value=df.at[row, "pupils"], ids=[str(df.at[row, "school_id"])],
                            en=f"grades add up to {total[row]:g}, the total says {df.at[row, 'pupils']:g}",
                            zh=f"各年级合计 {total[row]:g}，与在校生数 {df.at[row, 'pupils']:g} 不一致",
                            fix_en="check the grades or the total", fix_zh="请核对")
        long = df[["school_id", "year", *keep, *grade_cols]].melt(
            id_vars=["school_id", "year", *keep], var_name="grade", value_name="pupils")
        long["grade"] = long["grade"].str.rsplit("g", n=1).str[1].astype(int)
    elif fmt == "long" and "school_id" in df:
        grades = []
        for row, v in df["grade"].items():
            g = _parse_grade(v) if v is not None and not pd.isna(v) else None
            if g is None or not 1 <= g <= 9:
                own.error("grade_out_of_range", file, row=int(row), column=colmap.get("grade"),
                          value=v, en=f"grade '{v}' is not a grade 1-9",
                          zh=f"年级“{v}”不是一至九年级", fix_en="write 1-9, 一年级 … 九年级 or 初一 … 初三",
                          fix_zh="请填写1-9、一年级…九年级或初一…初三")
                g = None
            grades.append(g)
        df["grade"] = grades
        parse_numbers(df, ["pupils"], colmap=colmap, file=file, problems=own, required=("pupils",))
        _duplicate_keys(df, ["school_id", "year", "grade"], colmap, file, own,
                        "school, year and grade")
        long = df[["school_id", "year", *keep, "grade", "pupils"]]
    else:
        long = pd.DataFrame(columns=["school_id", "year", "grade", "pupils"])
    if problems is None:
        own.raise_if_errors()
    long = long.dropna(subset=["school_id", "year", "grade", "pupils"])
    out = tidy_history(long)
    out.attrs.update(file=str(path), format=fmt, problems=[p for p in own if p.file == file])
    logger.info("%s: %d schools, years %s-%s, %d rows (%s ledger)", path, out["school_id"].nunique(),
                out["year"].min() if len(out) else "?", out["year"].max() if len(out) else "?",
                len(out), fmt)
    return out


def tidy_history(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["school_id"] = out["school_id"].astype(str)
    out["year"] = out["year"].astype(int)
    out["grade"] = out["grade"].astype(int)
    out["pupils"] = out["pupils"].astype(float)
    cols = ["school_id", "year", "grade", "pupils"] + [c for c in ("name", "town_code", "town")
                                                       if c in out]
    return out[cols].sort_values(["school_id", "year", "grade"]).reset_index(drop=True)


def read_births(
    path: str | os.PathLike,
    *,
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    problems: Problems | None = None,
) -> pd.DataFrame:
    """Read births (出生人口) or children by single year of age per town or village and year.

    Parameters
    ----------
    path
        CSV or XLSX in one of these shapes (an area is a village 村庄代码, a town 乡镇代码 or
        乡镇名称; without one the whole table is one area, ``county``):

        * births: area, 年份, 出生人口;
        * births wide: area and one column per year (``2016``, ``2016年``);
        * children by age: area, 年份 (the year counted), 年龄 and 人数, or columns
          ``0岁``, ``1岁``, …: children aged *a* counted in year *y* were born in *y - a*.
    columns, sheet, header_row, encoding, problems
        As for :func:`read_enrolment_history`.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``area`` (``village``, ``town`` or ``county``), ``town_code`` (when given),
        ``birth_year``, ``births`` (children of that birth cohort), ``observed_year`` (the year
        counted: the birth year for births; for ages, the latest year that counted the cohort,
        which is the one kept: it includes moves since birth).
    """
    own = problems if problems is not None else Problems()
    known = [a for names in BIRTHS_ALIASES.values() for a in names] + list((columns or {}).values())
    raw = read_table(path, sheet=sheet, header_row=header_row, encoding=encoding, known_headers=known)
    file = str(path)
    df, colmap = map_columns(raw, BIRTHS_ALIASES, explicit=columns, required=[], file=file,
                             problems=own)
    parse_codes(df, ["demand_id", "village", "town_code", "town"])
    area_col, area = next(((c, a) for c, a in (("demand_id", "village"), ("village", "village"),
                                               ("town_code", "town"), ("town", "town"))
                           if c in df), (None, "county"))
    if area_col is None:
        df["_area"] = "county"
        area_col = "_area"
    for row in df.index[df[area_col].isna()]:
        own.error("blank_value", file, row=int(row), column=colmap.get(area_col, area_col),
                  en="the row names no area", zh="地区代码为空", fix_en="fill in the code",
                  fix_zh="请填写代码")
    ages = {c: int(m.group(1)) for c in df.columns
            if c not in colmap and (m := _AGE_HEADER.match(str(c).strip().lower()))
            and ("岁" in str(c) or str(c).lower().startswith("age"))}
    year_cols = {c: int(m.group(1)) for c in df.columns
                 if c not in colmap and (m := _YEAR_HEADER.match(str(c).strip()))}
    ids = [area_col] + (["town_code"] if "town_code" in df and area_col != "town_code" else [])
    if "births" in df or (year_cols and "year" not in df):
        if "births" in df:
            _years(df, colmap, file, own, None)
            long = df[[*ids, "year", "births"]].assign(age=0)
            numeric = ["births"]
        else:
            long = df[ids].join(df[list(year_cols)]).melt(id_vars=ids, var_name="_col",
                                                          value_name="births")
            long["year"] = long["_col"].map(year_cols)
            long["age"] = 0
            long.index = np.tile(df.index.to_numpy(), len(year_cols))
            numeric = ["births"]
    elif ages or "age" in df:
        _years(df, colmap, file, own, None)
        if ages:
            long = df[[*ids, "year"]].join(df[list(ages)]).melt(id_vars=[*ids, "year"], var_name="_col",
                                                                value_name="births")
            long["age"] = long["_col"].map(ages)
            long.index = np.tile(df.index.to_numpy(), len(ages))
        else:
            long = df[[*ids, "year", "age", "children"]].rename(columns={"children": "births"}) \
                if "children" in df else df[[*ids, "year", "age"]].assign(births=np.nan)
            if "children" not in df:
                own.error("missing_column", file, column="人数",
                          en="ages are given but no count of children (人数)",
                          zh="有年龄列但缺少人数列", fix_en="add 人数", fix_zh="请增加“人数”列")
            parse_numbers(long, ["age"], colmap=colmap, file=file, problems=own)
            bad = long["age"].notna() & ~long["age"].between(0, 20)
            for row in long.index[bad]:
                own.error("bad_age", file, row=int(row), column=colmap.get("age"),
                          value=long.at[row, "age"], en="age is outside 0-20",
                          zh="年龄不在0-20岁之间", fix_en="ages of children in whole years",
                          fix_zh="请填写周岁")
        numeric = ["births"]
    else:
        own.error("missing_column", file, column="出生人口 / 年龄",
                  en="no births column (出生人口), year columns (2016, 2017 …) or ages (年龄, 0岁 …)",
                  zh="缺少出生人口列、年份列或年龄列", fix_en="add 出生人口 with 年份",
                  fix_zh="请增加“年份”“出生人口”列")
        long, numeric = pd.DataFrame(columns=[*ids, "year", "age", "births"]), []
    parse_numbers(long, numeric, colmap={"births": colmap.get("births", colmap.get("children", "births"))},
                  file=file, problems=own)
    long = long.rename(columns={area_col: "area_id"})
    if (long["age"] == 0).all() and len(long):
        _duplicate_keys(long.assign(_y=long["year"]), ["area_id", "_y"], {"area_id": colmap.get(
            area_col, area_col)}, file, own, "area and year")
    if problems is None:
        own.raise_if_errors()
    long = long.dropna(subset=["area_id", "year", "age", "births"])
    long = long.assign(birth_year=(long["year"] - long["age"]).astype(int),
                       observed_year=long["year"].astype(int))
    long = long.sort_values("observed_year").drop_duplicates(["area_id", "birth_year"], keep="last")
    cols = ["area_id", "area", *(["town_code"] if "town_code" in long else []), "birth_year",
            "births", "observed_year"]
    out = long.assign(area=area)[cols].sort_values(["area_id", "birth_year"]).reset_index(drop=True)
    out["births"] = out["births"].astype(float)
    out.attrs.update(file=file, area=area, problems=list(own))
    logger.info("%s: births of %d %s areas, birth years %s-%s", path, out["area_id"].nunique(), area,
                out["birth_year"].min() if len(out) else "?", out["birth_year"].max() if len(out) else "?")
    return out


# ------------------------------------------------------------------------------------------------
# the cohort model


