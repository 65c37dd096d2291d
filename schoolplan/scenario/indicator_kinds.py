"""What each comparison indicator is: its group on the page (学校, 出行, 学位, 规则), whether more of
it is better, worse or neither, and its unit; and the headline rows a meeting reads first.

The indicators are the rows of :func:`schoolplan.scenario.compare.compare` (keys such as
``schools_closed``, ``g4_6_mean_time_min``, ``violations_class_size``). Their direction is a
planning judgement, kept here in one place so that every page colours the same way:

* fewer rule breaches, seat shortfalls, seat warnings, towns without a junior middle school, and
  shorter trips, fewer pupils over a time limit, needing a bus or boarding: better;
* counts of schools (open, closed, satellites, by level, small schools) and the median
  utilisation: neither. Closing or keeping a school is the decision under discussion, not a score
  ("小学数 −27" is not good or bad in itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["GROUP_NAMES", "IndicatorKind", "headline", "kind_of"]

Unit = Literal["count", "pupils", "min", "m", "share"]

#: Group key -> (Chinese, English) title. Travel is split by grade group so that no group is
#: longer than a printed page.
GROUP_NAMES: dict[str, tuple[str, str]] = {
    "schools": ("学校", "Schools"),
    "travel:g1_3": ("出行：1-3年级", "Travel: grades 1-3"),
    "travel:g4_6": ("出行：4-6年级", "Travel: grades 4-6"),
    "travel:g7_9": ("出行：7-9年级", "Travel: grades 7-9"),
    "seats": ("学位", "Seats"),
    "rules": ("规则", "Rules"),
}

_TRAVEL = ("g1_3_", "g4_6_", "g7_9_")


@dataclass(frozen=True)
class IndicatorKind:
    """The group, direction and unit of one indicator.

    ``direction`` is +1 when more is better, -1 when less is better, 0 when neither.
    """

    group: str
    direction: int
    unit: Unit


def kind_of(key: str) -> IndicatorKind:
    """The :class:`IndicatorKind` of indicator ``key`` (a row key of the comparison table)."""
    if key.startswith(_TRAVEL):
        unit: Unit = ("m" if key.endswith("_distance_m") else "min" if key.endswith("_time_min")
                      else "pupils")
        return IndicatorKind(f"travel:{key[:4]}", -1, unit)
    if key.startswith("seat_shortfall"):
        return IndicatorKind("seats", -1, "pupils")
    if key.startswith(("seat_red", "seat_yellow")):
        return IndicatorKind("seats", -1, "count")
    if key.startswith("utilisation"):
        return IndicatorKind("seats", 0, "share")
    if key.startswith(("towns_without", "violations_", "rules_")):
        return IndicatorKind("rules", -1, "count")
    return IndicatorKind("schools", 0, "count")  # schools open / closed / by level, satellites, small


#: Headline row key -> (Chinese, English) label.
_HEADLINE_LABELS: dict[str, tuple[str, str]] = {
    "schools_closed": ("撤并学校（所）", "schools closed"),
    "satellites": ("卫星校（所）", "satellites (grades 1-3 kept)"),
    "g1_3_mean_time_min": ("1-3年级平均上学时间（分钟）", "grades 1-3 mean time to school (min)"),
    "g4_6_mean_time_min": ("4-6年级平均上学时间（分钟）", "grades 4-6 mean time to school (min)"),
    "g7_9_mean_time_min": ("7-9年级平均上学时间（分钟）", "grades 7-9 mean time to school (min)"),
    "seat_shortfall_total": ("学位缺口合计（人）", "pupils without a seat, total"),
    "rules_breached": ("不符合的规则（条）", "rules not met"),
    "rules_breaches": ("不符合规则的对象（处）", "objects not meeting a rule"),
}


def _values(table: pd.DataFrame, names: list[str]) -> dict[str, list[float]]:
    out = {}
    for _, r in table.iterrows():
        out[str(r["indicator"])] = [_num(r[n]) for n in names]
    return out


def _num(v: Any) -> float:
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The few rows a meeting reads first, in the shape of the comparison table (``indicator``,
    ``label_zh``, ``label_en``, one column per scenario, ``<name> Δ`` after the first): schools
    closed (and satellites, where any), the mean time to school of each grade group, the seat
    shortfall (primary + junior), the rules not met and the objects (schools, towns, villages,
    the county) not meeting them. Computed from the table's rows only."""
    fixed = {"indicator", "label_zh", "label_en"}
    names = [c for c in table.columns if c not in fixed and not str(c).endswith(" Δ")]
    vals = _values(table, names)
    rows: list[tuple[str, list[float]]] = []
    for key in ("schools_closed", "satellites", "g1_3_mean_time_min", "g4_6_mean_time_min",
                "g7_9_mean_time_min"):
        if key in vals and not (key == "satellites" and not np.nansum(np.abs(vals[key]))):
            rows.append((key, vals[key]))
    short = [k for k in vals if k.startswith("seat_shortfall_")]
    if short:
        rows.append(("seat_shortfall_total", [float(np.nansum([vals[k][i] for k in short]))
                                              for i in range(len(names))]))
    rules = [k for k in vals if k.startswith("violations_")]
    rows.append(("rules_breached", [float(sum(1 for k in rules if vals[k][i] > 0)) for i in range(len(names))]))
    rows.append(("rules_breaches", [float(np.nansum([vals[k][i] for k in rules])) for i in range(len(names))]))
    out = pd.DataFrame({"indicator": [k for k, _ in rows],
                        "label_zh": [_HEADLINE_LABELS[k][0] for k, _ in rows],
                        "label_en": [_HEADLINE_LABELS[k][1] for k, _ in rows]})
    for i, n in enumerate(names):
        out[n] = [v[i] for _, v in rows]
        if i:
            out[f"{n} Δ"] = [round(v[i] - v[0], 3) for _, v in rows]
    return out
