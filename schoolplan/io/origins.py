"""Observed pupil origins (生源): pupils by village and school, from 学籍 records.

An optional input (scenario key ``origins``). When given, these flows are today's assignment
(:mod:`schoolplan.calibration`). One row per village, school and (optionally) 学段::

    村庄代码    学校代码    学段    学生数
    371521101   SCH-001     小学    84
    371521101   SCH-007     初中    40
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from schoolplan.errors import Problems
from schoolplan.io._clean import map_columns, parse_codes, parse_numbers
from schoolplan.io._files import read_table
from schoolplan.schema import SCHOOL_ALIASES

__all__ = ["ORIGIN_ALIASES", "read_origins"]

#: Canonical column -> accepted headers of an origins table.
ORIGIN_ALIASES: dict[str, tuple[str, ...]] = {
    "demand_id": ("demand_id", "村庄代码", "村代码", "行政村代码", "村庄编码", "村居代码", "生源地代码"),
    "village": ("village", "村庄名称", "村名", "行政村", "生源地"),
    "school_id": SCHOOL_ALIASES["school_id"],
    "school": ("school", *SCHOOL_ALIASES["name"]),
    "part": ("part", "学段", "学部", "level"),
    "pupils": ("pupils", "学生数", "人数", "学生人数", "在校生数", "生源人数"),
}

_PARTS = {"小学": "primary", "小学部": "primary", "primary": "primary", "1-6": "primary",
          "初中": "junior", "初中部": "junior", "junior": "junior", "7-9": "junior"}


def read_origins(
    path: str | os.PathLike,
    *,
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    problems: Problems | None = None,
    **_ignored: object,
) -> pd.DataFrame:
    """Read observed pupil origins (生源) by village and school.

    Parameters
    ----------
    path
        CSV or XLSX with 村庄代码, 学校代码, 学生数 and optionally 学段 (小学/初中; needed for
        nine-year and complete middle schools); 村庄名称 and 学校名称 are kept. Title rows above
        the header are skipped.
    columns
        Canonical name -> header in the file (canonical names: :data:`ORIGIN_ALIASES`).
    sheet, header_row, encoding
        As for :func:`schoolplan.io.read_schools`.
    problems
        Collect problems here instead of raising.

    Returns
    -------
    pandas.DataFrame
        ``demand_id``, ``school_id`` (text), ``part`` (``primary``, ``junior`` or ``None``),
        ``pupils`` (float), ``row`` (the Excel row), plus ``village`` and ``school`` when given.
        Rows of the same village, school and part are added up.

    Raises
    ------
    InputValidationError
        Listing every problem (file, Excel row, column, value, fix): missing columns, blank codes,
        text or negative counts, unknown 学段.
    """
    own = problems if problems is not None else Problems()
    known = [a for names in ORIGIN_ALIASES.values() for a in names] + list((columns or {}).values())
    raw = read_table(path, sheet=sheet, header_row=header_row, encoding=encoding, known_headers=known)
    file = str(path) if sheet is None else f"{path} [{raw.attrs['sheet']}]"
    df, colmap = map_columns(raw, ORIGIN_ALIASES, explicit=columns,
                             required=["demand_id", "school_id", "pupils"], file=file, problems=own)
    parse_codes(df, ["demand_id", "school_id", "village", "school"])
    parse_numbers(df, ["pupils"], colmap=colmap, file=file, problems=own, required=("pupils",))
    for col in ("demand_id", "school_id"):
        if col not in df:
            continue
        for row in df.index[df[col].isna()]:
            own.error("blank_value", file, row=int(row), column=colmap.get(col, col),
                      en=f"{col} is blank", zh=f"{colmap.get(col, col)}为空",
                      fix_en="fill in the code or delete the row", fix_zh="请填写代码或删除该行")
    parts: list[str | None] = []
    if "part" in df:
        for row, v in df["part"].items():
            text = None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
            p = _PARTS.get(text.lower() if text else "") if text else None
            if text and p is None:
                own.error("unknown_part", file, row=int(row), column=colmap["part"], value=text,
                          en=f"学段 '{text}' is neither 小学 (primary) nor 初中 (junior)",
                          zh=f"学段“{text}”不是小学或初中", fix_en="write 小学 or 初中", fix_zh="请填写小学或初中")
            parts.append(p)
    else:
        parts = [None] * len(df)
    if problems is None:
        own.raise_if_errors()
    if own.errors:
        return pd.DataFrame(columns=["demand_id", "school_id", "part", "pupils", "row"])
    df = df.assign(part=parts, row=df.index.astype(int))
    keep = [c for c in ("demand_id", "school_id", "part", "pupils", "row", "village", "school") if c in df]
    df = df[keep]
    agg = {"pupils": "sum", "row": "first", **{c: "first" for c in ("village", "school") if c in df}}
    out = df.groupby(["demand_id", "school_id", "part"], dropna=False, as_index=False, sort=False).agg(agg)
    out["pupils"] = out["pupils"].astype(float)
    out.attrs["file"] = file
    return out.reset_index(drop=True)
