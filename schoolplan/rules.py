"""Policy rules as plain functions of a set of schools and towns.

Each rule has an id, the setting it uses and its source, and returns a table of violations with
columns ``rule_id``, ``object_id``, ``value``, ``limit``, ``message_zh``, ``message_en``. Rules are
plain functions of a proposed set of open schools, so scenarios and optimisers share them.

This module holds the rules of the spine: small-school tiers, one school teaching grades 7-9 in
every town, and school and class sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from schoolplan.schema import CENTRAL_NO, CENTRAL_YES, LEVEL_GRADES, teaches_junior
from schoolplan.settings import SETTINGS, Settings

__all__ = [
    "ALERT_RULES",
    "RULES",
    "VIOLATION_COLUMNS",
    "Rule",
    "central_schools",
    "junior_middle_per_town",
    "size_checks",
    "small_tier",
    "sources_in",
]

VIOLATION_COLUMNS = ["rule_id", "object_type", "object_id", "name", "value", "limit",
                     "message_zh", "message_en", "source"]
#: Checks that warn rather than find a breach: listed as 预警与提示 (``Result.alerts``), apart
#: from the rule breaches (违规, ``Result.violations``). The bureau publishes 学位预警 as a 预警.
ALERT_RULES: frozenset[str] = frozenset({"seat_warning"})


@dataclass(frozen=True)
class Rule:
    """A declarative policy rule: id, the settings it reads, its source, bilingual title."""

    rule_id: str
    settings: tuple[str, ...]
    source: str
    title_zh: str
    title_en: str

    def source_in(self, lang: str) -> str:
        """The source in ``lang``: the Chinese wording of the setting it comes from where the
        rule cites that setting's source (:meth:`Setting.source_in`), else the source as it is."""
        first = SETTINGS.get(self.settings[0]) if self.settings else None
        if first is not None and first.source == self.source:
            return first.source_in(lang)
        return self.source


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

    Only schools of compulsory education (teaching any of grades 1-9: not a kindergarten, a
    general high school or a special-education school, which 国办发〔2018〕27号's 乡村小规模学校
    does not cover) whose ``area_type`` is in the setting ``small_school_area_types`` (``rural``
    by default) are flagged; the tier is the smallest threshold the enrolment is below.
    """
    settings = settings or Settings()
    tiers = sorted(settings["small_school_tiers"])
    areas = {a.strip() for a in settings["small_school_area_types"].split(",") if a.strip()}
    out = pd.Series("", index=schools.index, dtype=object)
    eligible = schools["area_type"].isin(areas) & schools["enrollment"].notna()
    if "level" in schools:  # a table without levels is taken as compulsory schools
        eligible &= schools["level"].map(lambda lv: any(g <= 9 for g in LEVEL_GRADES.get(lv, (1,)))).astype(bool)
    for t in sorted(tiers, reverse=True):
        out[eligible & (schools["enrollment"] < t)] = f"lt{t}"
    return out


_YES, _NO = CENTRAL_YES, CENTRAL_NO


def central_schools(schools: pd.DataFrame, settings: Settings | None = None) -> pd.Series:
    """Whether each school is its town's central school (中心校 / 中心小学), indexed like ``schools``.

    The ledger's ``is_central`` column (中心校, 是否中心校: 是/否, 1/0, yes/no) decides where it has a
    value; elsewhere the name must match ``central_school_pattern`` (default
    ``中心小学|中心校|中心学校``). Junior-only and complete schools are never central primaries.
    """
    settings = settings or Settings()
    pattern = re.compile(settings["central_school_pattern"])
    by_name = schools["name"].astype(str).map(lambda n: bool(pattern.search(n)))
    out = by_name.copy()
    if "is_central" in schools:
        flag = schools["is_central"].map(
            lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
            else True if str(v).strip().lower() in _YES else False if str(v).strip().lower() in _NO
            else None)
        given = flag.notna()
        out[given] = flag[given].astype(bool)
    return out & schools["level"].isin(["primary", "nine_year"])


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
        cap_i = cap[schools.index.get_loc(i)]
        rows.append(["school_size_cap", "school", s["school_id"], s["name"], s["enrollment"], cap_i,
                     f"{s['name']}在校生{s['enrollment']:.0f}人，超过规模上限{cap[schools.index.get_loc(i)]:.0f}人",
                     f"{s['name']} has {s['enrollment']:.0f} pupils, above the cap of {cap_i:.0f}",
                     src_size])
    for i in schools.index[cols["over_class_size"].fillna(False).astype(bool)]:
        s = schools.loc[i]
        rows.append(["class_size", "school", s["school_id"], s["name"], avg[i], limit[i],
                     f"{s['name']}平均班额{avg[i]:.1f}人，超过标准班额{limit[i]:.0f}人",
                     f"{s['name']} averages {avg[i]:.1f} pupils per class, above {limit[i]:.0f}",
                     src_class])
    return cols, pd.DataFrame(rows, columns=VIOLATION_COLUMNS)


RULES.update({
    r.rule_id: r
    for r in [
        Rule("rural_school_size", ("rural_school_sizes",), SETTINGS["rural_school_sizes"].source,
             "农村学校规模不在建标109-2008范围内（提示）", "rural school size outside 建标109-2008 (information)"),
        Rule("seat_warning", ("seat_warning_yellow", "seat_warning_red"),
             SETTINGS["seat_warning_red"].source, "学位预警", "seat warning"),
        Rule("walk_time_g1_3", ("walk_limit_g1_3_min", "walk_limit_extra_min"),
             SETTINGS["walk_limit_g1_3_min"].source, "1-3年级步行时间超限",
             "grades 1-3 walk longer than the limit"),
        Rule("service_radius", ("radius_primary_m", "radius_junior_m"),
             SETTINGS["radius_primary_m"].source, "城镇服务半径覆盖", "urban service-radius coverage"),
    ]
})


def seat_warnings(
    schools: pd.DataFrame,
    nearest: pd.DataFrame,
    seats: pd.DataFrame,
    settings: Settings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """学位预警: children whose nearest school it is (就近入学 demand) against its seats.

    Parameters
    ----------
    schools
        Canonical schools.
    nearest
        Nearest assignments (:func:`schoolplan.catchments.assign_nearest`).
    seats
        :func:`schoolplan.catchments.seats_by_part`.

    Returns
    -------
    columns, violations
        ``columns`` indexed like ``schools``: ``assigned_pupils``, ``utilisation`` (assigned /
        seats), ``seat_warning`` (``red`` from ``seat_warning_red``, ``yellow`` from
        ``seat_warning_yellow``, ``ok``, or ``unknown`` without seats), and per part
        ``assigned_primary``/``assigned_junior``; ``violations``: red schools.
    """
    s = settings or Settings()
    yellow, red = s["seat_warning_yellow"], s["seat_warning_red"]
    got = nearest[nearest["school_id"].notna()].groupby(["school_id", "level"])["pupils"].sum()
    ids = schools["school_id"]
    cols = pd.DataFrame(index=schools.index)
    cols["assigned_primary"] = [float(got.get((i, "primary"), 0.0)) for i in ids]
    cols["assigned_junior"] = [float(got.get((i, "junior"), 0.0)) for i in ids]
    cols["assigned_pupils"] = cols["assigned_primary"] + cols["assigned_junior"]
    seat_total = schools["seats"].astype(float)
    cols["utilisation"] = (cols["assigned_pupils"] / seat_total.where(seat_total > 0)).round(3)
    band = np.where(cols["utilisation"] >= red, "red",
                    np.where(cols["utilisation"] >= yellow, "yellow", "ok"))
    cols["seat_warning"] = np.where(cols["utilisation"].isna(), "unknown", band)
    bad = schools[cols["seat_warning"] == "red"]
    rule = RULES["seat_warning"]
    violations = pd.DataFrame({
        "rule_id": rule.rule_id, "object_type": "school", "object_id": bad["school_id"].values,
        "name": bad["name"].values, "value": cols.loc[bad.index, "utilisation"].values, "limit": red,
        "message_zh": [f"{n}：就近入学需求 {a:.0f} 人，学位 {st:.0f} 个（{u:.0%}）"
                       for n, a, st, u in zip(bad["name"], cols.loc[bad.index, "assigned_pupils"],
                                              seat_total[bad.index], cols.loc[bad.index, "utilisation"], strict=True)],
        "message_en": [f"{n}: {a:.0f} children nearest to it for {st:.0f} seats ({u:.0%})"
                       for n, a, st, u in zip(bad["name"], cols.loc[bad.index, "assigned_pupils"],
                                              seat_total[bad.index], cols.loc[bad.index, "utilisation"], strict=True)],
        "source": rule.source,
    }, columns=VIOLATION_COLUMNS)
    return cols, violations


def walk_time_g1_3(nearest: pd.DataFrame, demand: pd.DataFrame,
                   settings: Settings | None = None, *,
                   trips: pd.DataFrame | None = None) -> tuple[dict, pd.DataFrame]:
    """Grades 1–3 travel time against ``walk_limit_g1_3_min``.

    Parameters
    ----------
    nearest
        One row per (village, grade group): its nearest open school (the provision the rule
        judges). The breaches are read from it.
    trips
        Today's trips when they differ from ``nearest`` (the calibrated flows: a village's pupils
        split over several schools); the summary counts them. Default ``nearest``.

    Returns
    -------
    summary, violations
        ``summary``: pupils in grades 1–3, the pupils and share whose trip is beyond the limit and
        beyond each ``walk_limit_extra_min``, and whether times are estimates; ``violations``: one
        row per village whose nearest school is beyond the limit, with that time and the village's
        grades 1–3 pupils (a pupil who passes a near school by choice is in the summary, not a
        breach of provision). ``O(villages)``.
    """
    s = settings or Settings()
    limit = s["walk_limit_g1_3_min"]
    g = (nearest if trips is None else trips)
    g = g[g["group"] == "g1_3"]
    total = float(g["pupils"].sum())
    minutes = g["time_s"] / 60.0
    summary: dict = {"pupils_g1_3": round(total, 1), "limit_min": limit,
                     "mode": str(g["mode"].dropna().iloc[0]) if g["mode"].notna().any() else None,
                     "estimate": bool(g["estimate"].fillna(False).astype(bool).any())}
    no_school = g["school_id"].isna()
    summary["pupils_without_school"] = round(float(g.loc[no_school, "pupils"].sum()), 1)
    for lim in [limit, *s["walk_limit_extra_min"]]:
        over = (minutes > lim) | no_school
        summary[f"pupils_over_{lim:g}_min"] = round(float(g.loc[over, "pupils"].sum()), 1)
        summary[f"share_over_{lim:g}_min"] = round(float(g.loc[over, "pupils"].sum()) / total, 4) if total else 0.0
    near = nearest[nearest["group"] == "g1_3"]
    bad = near[(near["time_s"] / 60.0 > limit) | near["school_id"].isna()]
    names = demand.set_index("demand_id")["name"] if "name" in demand else pd.Series(dtype=object)
    rule = RULES["walk_time_g1_3"]
    violations = pd.DataFrame({
        "rule_id": rule.rule_id, "object_type": "village", "object_id": bad["demand_id"].values,
        "name": bad["demand_id"].map(names).values,
        "value": (bad["time_s"] / 60).round(1).values, "limit": limit,
        "message_zh": [f"{n}：1-3年级 {p:.0f} 名学生步行到最近学校需 {t / 60:.0f} 分钟" if pd.notna(t)
                       else f"{n}：{p:.0f} 名1-3年级学生在距离上限内没有学校"
                       for n, p, t in zip(bad["demand_id"].map(names), bad["pupils"], bad["time_s"], strict=True)],
        "message_en": [f"{n}: {p:.0f} pupils in grades 1-3 walk {t / 60:.0f} min to the nearest school"
                       if pd.notna(t) else f"{n}: {p:.0f} pupils in grades 1-3 have no school within the cut-off"
                       for n, p, t in zip(bad["demand_id"].map(names), bad["pupils"], bad["time_s"], strict=True)],
        "source": rule.source,
    }, columns=VIOLATION_COLUMNS)
    return summary, violations


def service_radius_coverage(nearest: pd.DataFrame, demand: pd.DataFrame,
                            settings: Settings | None = None) -> dict:
    """Share of urban children within the urban service radius of their nearest school.

    Primary (grade groups 1–3 and 4–6) against ``radius_primary_m``, junior against
    ``radius_junior_m``; distances are road walking distances (or estimates). Urban = demand
    points whose ``area_type`` is ``urban``; without that column the figure is not computed.
    """
    s = settings or Settings()
    if "area_type" not in demand or not (demand["area_type"] == "urban").any():
        return {"computed": False, "reason": "no urban demand points (area_type) in the input"}
    urban = set(demand.loc[demand["area_type"] == "urban", "demand_id"])
    out: dict = {"computed": True}
    for level, radius in (("primary", s["radius_primary_m"]), ("junior", s["radius_junior_m"])):
        g = nearest[(nearest["level"] == level) & nearest["demand_id"].isin(urban)]
        total = float(g["pupils"].sum())
        inside = float(g.loc[g["distance_m"] <= radius, "pupils"].sum())
        out[level] = {"radius_m": radius, "pupils": round(total, 1), "within": round(inside, 1),
                      "share_within": round(inside / total, 4) if total else None}
    return out


def rural_school_size(schools: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Informational check of rural schools against the sizes of 建标109-2008: a teaching point
    of at most 4 classes (120 pupils), a complete primary of 6–24 classes (at most 1,080 pupils),
    a junior middle school of 12–24 classes (at most 1,200). Returns violations (information,
    not a breach of policy)."""
    s = settings or Settings()
    lim = s["rural_school_sizes"]
    rule = RULES["rural_school_size"]
    rows = []
    rural = schools[schools["area_type"] == "rural"]
    for _, r in rural.iterrows():
        cls, enr, lv = r.get("classes"), r.get("enrollment"), r["level"]
        checks = []
        if lv == "teaching_point":
            checks = [("classes", cls, None, lim["teaching_point_max_classes"]),
                      ("pupils", enr, None, lim["teaching_point_max_pupils"])]
        elif lv == "primary":
            checks = [("classes", cls, lim["primary_min_classes"], lim["primary_max_classes"]),
                      ("pupils", enr, None, lim["primary_max_pupils"])]
        elif lv == "junior":
            checks = [("classes", cls, lim["junior_min_classes"], lim["junior_max_classes"]),
                      ("pupils", enr, None, lim["junior_max_pupils"])]
        for what, value, lo, hi in checks:
            if value is None or pd.isna(value):
                continue
            if (lo is not None and value < lo) or value > hi:
                rng = f"{lo:g}-{hi:g}" if lo is not None else f"≤{hi:g}"
                zh_what = "班" if what == "classes" else "人"
                rows.append([rule.rule_id, "school", r["school_id"], r["name"], value, rng,
                             f"{r['name']}：{value:.0f}{zh_what}，建标109-2008 为 {rng}{zh_what}（提示）",
                             f"{r['name']}: {value:.0f} {what}, 建标109-2008 gives {rng} (information)",
                             rule.source])
    return pd.DataFrame(rows, columns=VIOLATION_COLUMNS)


def sources_in(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A violations or alerts table with each row's source in ``lang``
    (:meth:`Rule.source_in`, by its ``rule_id``); rows of other rules keep theirs."""
    if not len(table) or "rule_id" not in table or "source" not in table:
        return table
    known = table["rule_id"].map(lambda r: RULES[r].source_in(lang) if r in RULES else None)
    return table.assign(source=known.where(known.notna(), table["source"]))
