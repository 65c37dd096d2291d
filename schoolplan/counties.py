"""County-level provision rules of the provincial and city plans, checked per county.

One row per county and rule (:data:`COUNTY_COLUMNS`), with the value, the limit, the verdict and
the rule's source:

* ``public_high_school``: the county runs at least ``county_public_high_schools_min`` (1) public
  general high schools (支持每个县至少办好一所公办普通高中: Shandong 2023, Liaocheng 2025). Schools of
  level ``senior``, ``complete`` or ``twelve_year`` whose ``ownership`` is not ``private``
  count (a school without an ownership is taken as public, as a bureau ledger lists its own);
* ``senior_seat_supply``: senior-secondary entry seats (grade 10: senior seats / 3) per junior
  graduate (grade 9 pupils) at least ``county_senior_seat_supply_min`` (1.0: 高中阶段学校学位供给率
  ≥ 100 %, Liaocheng 2025). Senior seats: a ``senior`` school's seats; a ``complete``
  school's seats x its grades 10–12 share (1 − grades 7–9 pupils / enrolment, else 1/2); a
  ``twelve_year`` school's x (1 − grades 1–9 / enrolment, else 3/12). Graduates: ``enrollment_g9``
  where given, else a third of the junior part (junior: all, nine-year: 1/3, complete: 1/2,
  twelve-year: 1/4 of the enrolment). Vocational schools (中职) are not in a school ledger: the
  ratio counts general high schools only;
* ``special_school``: a county above ``county_special_school_population`` (200,000) people has
  a ``special`` school (Jining 2024). Population: the ``population`` argument, else the
  ``county_population`` setting; without it the verdict is ``unknown``;
* ``kindergarten_public_share``: the share of kindergarten children in public kindergartens is
  at least ``kindergarten_public_share_min`` (60 %: Shandong 2023, Liaocheng 2025; Jining 2024
  asks 80 %). Kindergartens without an ownership are left out of the share (and counted).

Level names used: ``senior``, ``complete``, ``twelve_year``, ``special``, ``kindergarten``,
``junior``, ``nine_year``; ownership ``public`` / ``private``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from schoolplan.settings import SETTINGS, Settings

if TYPE_CHECKING:
    from schoolplan.schema import Result

__all__ = ["COUNTY_COLUMNS", "RULES", "VERDICTS", "county_checks", "result_counties"]

COUNTY_COLUMNS = ["county", "rule_id", "rule_zh", "rule_en", "value", "limit", "verdict", "verdict_zh",
                  "verdict_en", "message_zh", "message_en", "setting", "source", "source_zh"]
#: rule id -> (Chinese, English, the setting holding its limit)
RULES: dict[str, tuple[str, str, str]] = {
    "public_high_school": ("公办普通高中数", "public general high schools", "county_public_high_schools_min"),
    "senior_seat_supply": ("高中阶段学位供给率（高一学位/初三学生）",
                           "senior-secondary seat supply (grade-10 seats per grade-9 pupil)",
                           "county_senior_seat_supply_min"),
    "special_school": ("特殊教育学校数", "special-education schools", "county_special_school_population"),
    "kindergarten_public_share": ("公办园在园幼儿占比", "share of kindergarten children in public kindergartens",
                                  "kindergarten_public_share_min"),
}
VERDICTS = {"ok": ("达标", "met"), "fail": ("未达标", "not met"), "unknown": ("无法判断", "unknown"),
            "not_applicable": ("不适用", "not applicable")}
_SENIOR = ("senior", "complete", "twelve_year")
_JUNIOR_SHARE = {"junior": 1.0, "nine_year": 1 / 3, "complete": 1 / 2, "twelve_year": 1 / 4}


def _num(v: Any) -> float:
    try:
        out = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _grades(r: pd.Series, first: int, last: int) -> float:
    cols = [f"enrollment_g{g}" for g in range(first, last + 1)]
    vals = [_num(r[c]) if c in r.index else float("nan") for c in cols]
    return float(sum(vals)) if all(np.isfinite(vals)) else float("nan")


def _senior_seats(r: pd.Series) -> float:
    seats, enr = _num(r["seats"]), _num(r["enrollment"])
    if r["level"] == "senior":
        return seats
    lower = _grades(r, 7, 9) if r["level"] == "complete" else _grades(r, 1, 9)
    default = 1 / 2 if r["level"] == "complete" else 3 / 12
    share = 1 - lower / enr if enr > 0 and np.isfinite(lower) and lower <= enr else default
    return seats * share


def _graduates(r: pd.Series) -> float:
    g9 = _num(r["enrollment_g9"]) if "enrollment_g9" in r.index else float("nan")
    if np.isfinite(g9):
        return g9
    enr = _num(r["enrollment"])
    return enr * _JUNIOR_SHARE[r["level"]] / 3 if np.isfinite(enr) else 0.0


def county_checks(
    schools: pd.DataFrame,
    *,
    population: Mapping[str, float] | pd.Series | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Check every county of ``schools`` against the county-level rules (see the module notes).

    Parameters
    ----------
    schools
        Schools with ``county``, ``level``, ``seats``, ``enrollment`` and optionally
        ``ownership`` (``public``/``private``), ``enrollment_g1`` … ``enrollment_g9`` and
        ``status`` (``closed`` schools are left out).
    population
        Persons by county name; default the ``county_population`` setting.
    settings
        Limits; default :class:`~schoolplan.settings.Settings`.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNTY_COLUMNS`, one row per county and rule.
    """
    s = settings or Settings()
    df = pd.DataFrame(schools)
    if "status" in df:
        df = df[df["status"] != "closed"]
    if "ownership" not in df:
        df = df.assign(ownership=None)
    county = df["county"] if "county" in df else pd.Series(None, index=df.index, dtype=object)
    df = df.assign(county=county.fillna("（县未知）").astype(str))
    given = s["county_population"] if population is None else population
    pop = {str(k): float(v) for k, v in dict(given).items()}
    rows = []
    for name, g in df.groupby("county", sort=True):
        for rule_id, (value, limit, verdict, zh, en) in _check_county(g, pop.get(str(name)), s).items():
            rule_zh, rule_en, setting = RULES[rule_id]
            rows.append({"county": name, "rule_id": rule_id, "rule_zh": rule_zh, "rule_en": rule_en,
                         "value": value, "limit": limit, "verdict": verdict,
                         "verdict_zh": VERDICTS[verdict][0], "verdict_en": VERDICTS[verdict][1],
                         "message_zh": zh, "message_en": en, "setting": setting,
                         "source": SETTINGS[setting].source, "source_zh": SETTINGS[setting].source_in("zh")})
    return pd.DataFrame(rows, columns=COUNTY_COLUMNS)


def _check_county(g: pd.DataFrame, population: float | None, s: Settings) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    senior = g[g["level"].isin(_SENIOR)]
    public = senior[senior["ownership"] != "private"]
    need = s["county_public_high_schools_min"]
    ok = len(public) >= need
    names = "、".join(map(str, public["name"])) if "name" in public else ""
    out["public_high_school"] = (
        float(len(public)), float(need), "ok" if ok else "fail",
        f"公办普通高中 {len(public)} 所（至少 {need} 所）{'：' + names if names else ''}",
        f"{len(public)} public general high school(s) (at least {need})")
    seats = float(sum(_senior_seats(r) for _, r in senior.iterrows()))
    grads = float(sum(_graduates(r) for _, r in g[g["level"].isin(list(_JUNIOR_SHARE))].iterrows()))
    limit = s["county_senior_seat_supply_min"]
    if grads <= 0:
        out["senior_seat_supply"] = (np.nan, limit, "not_applicable", "无初三学生", "no grade-9 pupils")
    elif not np.isfinite(seats):
        out["senior_seat_supply"] = (np.nan, limit, "unknown", "有高中学校无学位数，无法计算",
                                     "a high school has no seat count")
    else:
        ratio = seats / 3 / grads
        out["senior_seat_supply"] = (
            round(ratio, 3), limit, "ok" if ratio >= limit - 1e-9 else "fail",
            f"高一学位约 {seats / 3:,.0f} 个，初三学生 {grads:,.0f} 人，供给率 {ratio:.0%}（不低于 {limit:.0%}；"
            "仅计普通高中，未含中职）",
            f"about {seats / 3:,.0f} grade-10 seats for {grads:,.0f} grade-9 pupils: {ratio:.0%} (at least "
            f"{limit:.0%}; general high schools only, vocational schools not in the ledger)")
    special = int((g["level"] == "special").sum())
    threshold = s["county_special_school_population"]
    if population is None or not math.isfinite(population):
        out["special_school"] = (float(special), 1.0, "unknown" if special == 0 else "ok",
                                 f"特殊教育学校 {special} 所；县人口未提供（设置 county_population）",
                                 f"{special} special-education school(s); county population not given "
                                 "(setting county_population)")
    elif population <= threshold:
        out["special_school"] = (float(special), 0.0, "not_applicable",
                                 f"县人口 {population:,.0f} 人，未超过 {threshold:,.0f} 人",
                                 f"county population {population:,.0f}, not above {threshold:,.0f}")
    else:
        out["special_school"] = (float(special), 1.0, "ok" if special else "fail",
                                 f"县人口 {population:,.0f} 人，超过 {threshold:,.0f} 人，特殊教育学校 {special} 所"
                                 "（至少 1 所）",
                                 f"county population {population:,.0f} is above {threshold:,.0f}: "
                                 f"{special} special-education school(s) (at least 1)")
    kg = g[g["level"] == "kindergarten"]
    known = kg[kg["ownership"].isin(["public", "private"])]
    children = pd.to_numeric(known["enrollment"], errors="coerce").fillna(0)
    share_min = s["kindergarten_public_share_min"]
    unknown_note = (f"；{len(kg) - len(known)} 所未注明办学性质，未计入", f"; {len(kg) - len(known)} without "
                    "an ownership left out") if len(known) < len(kg) else ("", "")
    if children.sum() <= 0:
        out["kindergarten_public_share"] = (np.nan, share_min, "unknown", "台账无幼儿园在园幼儿（或办学性质）",
                                            "no kindergarten children (or ownership) in the ledger")
    else:
        share = float(children[known["ownership"] == "public"].sum() / children.sum())
        out["kindergarten_public_share"] = (
            round(share, 3), share_min, "ok" if share >= share_min - 1e-9 else "fail",
            f"公办园在园幼儿 {children[known['ownership'] == 'public'].sum():,.0f} 人 / {children.sum():,.0f} 人 = "
            f"{share:.0%}（不低于 {share_min:.0%}）{unknown_note[0]}",
            f"{children[known['ownership'] == 'public'].sum():,.0f} of {children.sum():,.0f} kindergarten children in "
            f"public kindergartens = {share:.0%} (at least {share_min:.0%}){unknown_note[1]}")
    return out


def result_counties(result: Result) -> pd.DataFrame:
    """The county checks the diagnosis computed once (``Result.counties``), else, for a result
    built without them, computed now."""
    if result.counties is not None:
        return result.counties
    return county_checks(result.schools, settings=result.settings)
