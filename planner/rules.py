"""Policy rules as plain functions of a set of schools and towns.

Each rule has an id, the setting it uses and its source, and returns a table of violations with
columns ``rule_id``, ``object_id``, ``value``, ``limit``, ``message_zh``, ``message_en``. Rules are
plain functions of a proposed set of open schools, so scenarios and optimisers share them.

This module holds the rules of the spine: small-school tiers, one school teaching grades 7-9 in
every town, and school and class sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.schema import teaches_junior
from planner.settings import SETTINGS, Settings

__all__ = [
    "Rule",
    "RULES",
    "small_tier",
    "junior_middle_per_town",
    "size_checks",
    "VIOLATION_COLUMNS",
]

VIOLATION_COLUMNS = ["rule_id", "object_type", "object_id", "name", "value", "limit",
                     "message_zh", "message_en", "source"]


@dataclass(frozen=True)
class Rule:
    """A declarative policy rule: id, the settings it reads, its source, bilingual title."""

    rule_id: str
    settings: tuple[str, ...]
    source: str
    title_zh: str
    title_en: str


RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in [
        Rule("junior_middle_per_town", (),
             "山东省/聊城市 2023-2025 规划：原则上每个乡镇至少保留一所初中学校",
             "每个乡镇至少保留一所初中", "every town keeps at least one junior middle school"),
        Rule("school_size_cap", ("school_size_cap", "school_size_cap_nine_year"),
             SETTINGS["school_size_cap"].source, "办学规模超标", "school larger than the size cap"),
        Rule("class_size", ("class_size_primary", "class_size_junior"),
             SETTINGS["class_size_primary"].source, "平均班额超标", "average class size above standard"),
    ]
}


def small_tier(schools: pd.DataFrame, settings: Settings | None = None) -> pd.Series:
    """The small-school tier of each school: ``lt50``, ``lt100``, ``lt200`` (by default) or ``""``.

    Only schools whose ``area_type`` is in the setting ``small_school_area_types`` (``rural``
    by default) are flagged; the tier is the smallest threshold the enrolment is below.
    """
    settings = settings or Settings()
    tiers = sorted(settings["small_school_tiers"])
    areas = {a.strip() for a in settings["small_school_area_types"].split(",") if a.strip()}
    out = pd.Series("", index=schools.index, dtype=object)
    eligible = schools["area_type"].isin(areas) & schools["enrollment"].notna()
    for t in sorted(tiers, reverse=True):
        out[eligible & (schools["enrollment"] < t)] = f"lt{t}"
    return out


def junior_middle_per_town(schools: pd.DataFrame, towns: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count schools teaching grades 7-9 (初中, 九年一贯制, 完全中学) in every town.

    Every town of ``towns`` is counted, including towns with no school at all.

    Returns
    -------
    counts, violations
        ``counts``: ``town_code``, ``town``, ``junior_middle_schools``, ``junior_middle_rule_ok``;
        ``violations``: one row per town without such a school.
    """
    key = "town_code" if towns["town_code"].notna().all() else "town"
    junior = schools[schools["level"].map(lambda lv: teaches_junior(lv) if isinstance(lv, str) else False)]
    per_town = junior.groupby(key).size()
    counts = towns[["town_code", "town"]].copy()
    counts["junior_middle_schools"] = counts[key].map(per_town).fillna(0).astype(int)
    counts["junior_middle_rule_ok"] = counts["junior_middle_schools"] >= 1
    rule = RULES["junior_middle_per_town"]
    bad = counts[~counts["junior_middle_rule_ok"]]
    violations = pd.DataFrame(
        {
            "rule_id": rule.rule_id,
            "object_type": "town",
            "object_id": bad[key].astype(str).values,
            "name": bad["town"].values,
            "value": 0,
            "limit": 1,
            "message_zh": [f"{t}没有任何开设7-9年级的学校（初中、九年一贯制或完全中学）" for t in bad["town"]],
            "message_en": [f"{t} has no school teaching grades 7-9 (junior, nine-year or complete)"
                           for t in bad["town"]],
            "source": rule.source,
        },
        columns=VIOLATION_COLUMNS,
    )
    return counts, violations


def size_checks(schools: pd.DataFrame, settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """School size against the caps and average class size against the standard class sizes.

    Returns
    -------
    columns, violations
        ``columns`` indexed like ``schools``: ``size_cap``, ``over_size_cap``,
        ``avg_class_size``, ``class_size_limit``, ``over_class_size``; ``violations`` one row per
        breach.
    """
    settings = settings or Settings()
    cap = np.where(schools["level"] == "nine_year", settings["school_size_cap_nine_year"],
                   settings["school_size_cap"]).astype(float)
    limit_by_level = {
        "primary": settings["class_size_primary"],
        "teaching_point": settings["class_size_primary"],
        "nine_year": settings["class_size_primary"],
        "junior": settings["class_size_junior"],
        "complete": settings["class_size_junior"],
    }
    classes = schools["classes"].astype(float)
    avg = (schools["enrollment"] / classes.where(classes > 0)).round(1)
    limit = schools["level"].map(limit_by_level).astype(float)
    cols = pd.DataFrame(index=schools.index)
    cols["size_cap"] = cap
    cols["over_size_cap"] = schools["enrollment"] > cap
    cols["avg_class_size"] = avg
    cols["class_size_limit"] = limit
    cols["over_class_size"] = avg > limit
    rows = []
    src_size, src_class = RULES["school_size_cap"].source, RULES["class_size"].source
    for i in schools.index[cols["over_size_cap"]]:
        s = schools.loc[i]
        rows.append(["school_size_cap", "school", s["school_id"], s["name"], s["enrollment"], cap[schools.index.get_loc(i)],
                     f"{s['name']}在校生{s['enrollment']:.0f}人，超过规模上限{cap[schools.index.get_loc(i)]:.0f}人",
                     f"{s['name']} has {s['enrollment']:.0f} pupils, above the cap of {cap[schools.index.get_loc(i)]:.0f}",
                     src_size])
    for i in schools.index[cols["over_class_size"].fillna(False).astype(bool)]:
        s = schools.loc[i]
        rows.append(["class_size", "school", s["school_id"], s["name"], avg[i], limit[i],
                     f"{s['name']}平均班额{avg[i]:.1f}人，超过标准班额{limit[i]:.0f}人",
                     f"{s['name']} averages {avg[i]:.1f} pupils per class, above {limit[i]:.0f}",
                     src_class])
    return cols, pd.DataFrame(rows, columns=VIOLATION_COLUMNS)
