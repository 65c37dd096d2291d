"""撤并 consolidation candidates: which schools may be closed or merged, why, and what closing
each would do to its pupils, by road.

For every open school the module lists the reasons it may be a candidate, each with its evidence:

* ``small``: rural (``small_school_area_types``) and under a tier (``small_school_tiers``);
* ``scattered``: another school teaching the same grades within ``scattered_within_min`` on foot
  (grades 4–9 speed) by road;
* ``weak``: below the 优质均衡 resource standards (fewer than ``balance_min_met`` of 7) where the
  ledger has them;
* ``shrinking``: enrolment falling where the ledger has several years (not computed without).

and what closing it would do, from the catchment model (the villages whose nearest school it is
move to their next nearest school teaching the same grades, found in the candidate costs
already computed — no new shortest-path run): the receiving school(s) with their share of the
pupils, the seats left there, the added road distance and time (pupil-weighted mean and worst),
grade 1–3 pupils who would walk over ``walk_limit_g1_3_min``, pupils who would need a bus
(beyond the 2.5 km / 5 km trip limits) or boarding, and whether closing breaks a rule (the
last school teaching grades 7–9 of a town is never a candidate for its junior part).

``recommendation``:

* ``close``: its pupils all have an acceptable alternative (grades 1–3 stay within the walking
  limit; older pupils may take a bus or board);
* ``to_satellite``: closing it would put grade 1–3 pupils over the walking limit, but it can keep
  grades 1–3 and send grades 4–6 to a larger school (the planet–satellite idea);
* ``keep: remote`` (strategically important small school): a teaching point whose grade 1–3
  pupils would walk over the limit, or a school whose pupils would be left with no school within
  the cut-off;
* ``keep: rule``: the last school teaching grades 7–9 of its town;
* ``keep``: no reason to consider it.

Only ``small`` or ``scattered`` make a school a candidate; ``weak`` and ``shrinking`` add to the
score. Score (transparent, in ``score_explained``): small tier lt50 = 3, lt100 = 2, lt200 = 1;
+1 scattered; +1 weak; +1 shrinking; −1 per km of mean added distance. Candidates
(``close`` or ``to_satellite``) are ranked by score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan import travel
from schoolplan.diagnosis import open_costs
from schoolplan.schema import LEVEL_GRADES, Base, Result, teaches_junior
from schoolplan.settings import Settings

__all__ = ["CANDIDATE_COLUMNS", "candidates"]

CANDIDATE_COLUMNS = [
    "rank", "school_id", "name", "level", "town_code", "town", "enrollment", "small_tier",
    "catchment_pupils", "reasons", "recommendation", "candidate", "keep_remote", "breaks_rule",
    "receiving_school_id", "receiving_school", "receiving_split", "seats_left_at_receiver",
    "receiver_has_seats", "receiving_split_with_seats", "pupils_without_seat_after",
    "added_distance_mean_m", "added_distance_max_m", "added_time_mean_min", "added_time_max_min",
    "g1_3_over_limit_after", "g1_3_over_limit_before", "pupils_needing_bus_after",
    "pupils_needing_boarding_after", "pupils_without_school_after", "score", "score_explained",
    "reasons_zh", "reasons_en",
]

_TIER_POINTS = {"lt50": 3, "lt100": 2, "lt200": 1}


def _ranked(costs: pd.DataFrame) -> pd.DataFrame:
    key = np.where(costs["mode"] == "bus", costs["time_s"], costs["distance_m"])
    c = costs.assign(_k=key).sort_values(["from_id", "group", "_k"], kind="stable")
    c["_rank"] = c.groupby(["from_id", "group"]).cumcount()
    return c


def _nearest_other(base: Base, schools: pd.DataFrame, settings: Settings) -> dict[str, tuple[str, float, float]]:
    """School -> (nearest other open school teaching some of the same grades, walking minutes at
    the grades 4–9 speed, road metres) within ``catchment_cutoff_m``."""
    if "school_to_school" not in base.cache:  # one shortest-path run per scenario, then reused
        every = base.inputs.schools[np.isfinite(base.inputs.schools["lon"])]
        base.cache["school_to_school"] = travel.travel_costs(
            base.networks.get("walk"), every, every, mode="walk_g4_9", origin_id="school_id",
            destination_id="school_id", cutoff_m=settings["catchment_cutoff_m"], k=12,
            settings=settings)
    costs = base.cache["school_to_school"]
    open_ids = set(schools.loc[schools["status"] != "closed", "school_id"])
    costs = costs[(costs["from_id"] != costs["to_id"]) & costs["from_id"].isin(open_ids)
                  & costs["to_id"].isin(open_ids)]
    open_s = schools[schools["school_id"].isin(open_ids)]
    grades = open_s.set_index("school_id")["level"].map(
        lambda lv: set(LEVEL_GRADES[lv]) if lv in LEVEL_GRADES else set())
    out: dict[str, tuple[str, float, float]] = {}
    for r in costs.sort_values("time_s").itertuples():
        if r.from_id in out:
            continue
        if grades.get(r.from_id, set()) & grades.get(r.to_id, set()):
            out[r.from_id] = (r.to_id, r.time_s / 60, r.distance_m)
    return out


def _split_with_seats(sid, keys, pupils, ranked_by_key, seats, assigned):
    """Where the pupils of a closed school go when every receiver keeps to its seats: each
    village's grade group, nearest first, goes to its next candidate schools in order of road
    distance, as far as their seats left allow (unknown seats do not limit). Returns pupils by
    school and the pupils left without a seat among the candidates."""
    left: dict[tuple[str, str], float] = {}
    for (school, part), n in assigned.items():
        if school in seats.index:
            cap = seats.at[school, f"seats_{part}"]
            left[(school, part)] = (cap - n) if np.isfinite(cap) else np.inf
    split: dict[str, float] = {}
    short = 0.0
    order = sorted(range(len(keys)), key=lambda i: float(ranked_by_key[keys[i]][0][1]))
    for i in order:
        key, need = keys[i], float(pupils[i])
        part = ca.PART_OF_GROUP[key[1]]
        for school, _ in ranked_by_key[key]:
            if school == sid or need <= 1e-9:
                continue
            room = left.get((school, part), np.inf if school not in seats.index else
                            (seats.at[school, f"seats_{part}"]
                             if np.isfinite(seats.at[school, f"seats_{part}"]) else np.inf))
            take = min(need, max(room, 0.0))
            if take > 0:
                split[school] = split.get(school, 0.0) + take
                left[(school, part)] = room - take
                need -= take
        short += need
    return dict(sorted(split.items(), key=lambda kv: -kv[1])), short


def candidates(base: Base, result: Result) -> pd.DataFrame:
    """The consolidation table of the layout in ``result`` (one row per open school)."""
    settings = base.settings
    schools = result.schools
    open_s = schools[schools["status"] != "closed"]
    names = schools.set_index("school_id")["name"]
    seats = ca.seats_by_part(open_s)
    limit_s = settings["walk_limit_g1_3_min"] * 60
    trip = {"g1_3": settings["trip_limit_lower_grades_km"] * 1000,
            "g4_6": settings["trip_limit_upper_grades_km"] * 1000,
            "g7_9": settings["trip_limit_upper_grades_km"] * 1000}
    board_m = settings["boarding_beyond_km"] * 1000
    have_travel = base.costs is not None and result.assignments is not None
    if have_travel:
        ranked = _ranked(open_costs(base.costs, schools))
        first = ranked[ranked["_rank"] == 0].set_index(["from_id", "group"])
        second = ranked[ranked["_rank"] == 1].set_index(["from_id", "group"])
        ranked_by_key = {k: g[["to_id", "distance_m"]].to_numpy()
                         for k, g in ranked.groupby(["from_id", "group"], sort=False)}
        first_by_school = {sid: g for sid, g in first.groupby("to_id")}
        pupils = base.groups.set_index(["demand_id", "group"])["pupils"]
        near = result.assignments[result.assignments["method"] == "nearest"]
        assigned = near.groupby(["school_id", "level"])["pupils"].sum()
    other = _nearest_other(base, schools, settings) if have_travel else {}
    scattered = {k: v for k, v in other.items() if v[1] <= settings["scattered_within_min"]}
    weak = {}
    if result.balance is not None:
        b = result.balance[result.balance["meets_standard"] == False]  # noqa: E712
        weak = b.groupby("school_id")["indicators_met"].min().to_dict()
    town_key = "town_code"
    junior_count = open_s[open_s["level"].map(teaches_junior)].groupby(town_key).size()
    rows = []
    for _, s in open_s.iterrows():
        sid = s["school_id"]
        rec = {c: None for c in CANDIDATE_COLUMNS}
        rec.update(school_id=sid, name=s["name"], level=s["level"], town_code=s["town_code"],
                   town=s["town"], enrollment=s["enrollment"], small_tier=s.get("small_tier", ""))
        reasons, zh, en = [], [], []
        if s.get("small_tier"):
            n = s["small_tier"][2:]
            reasons.append("small")
            zh.append(f"小规模：乡村学校在校生 {s['enrollment']:.0f} 人，少于 {n} 人")
            en.append(f"small: rural school with {s['enrollment']:.0f} pupils, under {n}")
        if sid in scattered:
            near_id, minutes, _ = scattered[sid]
            reasons.append("scattered")
            zh.append(f"布点分散：{names.get(near_id, near_id)} 步行 {minutes:.0f} 分钟可达")
            en.append(f"scattered: {names.get(near_id, near_id)} is {minutes:.0f} min walk away")
        if sid in weak:
            reasons.append("weak")
            zh.append(f"办学条件弱：优质均衡7项指标仅 {weak[sid]} 项达标")
            en.append(f"weak: meets only {weak[sid]} of the 7 resource standards")
        zh.append("在校生趋势：台账无多年数据，未计算")
        en.append("shrinking: not computed (the ledger has one year only)")
        breaks = bool(teaches_junior(s["level"]) and junior_count.get(s["town_code"], 0) <= 1)
        if breaks:
            zh.append("撤并将使本乡镇失去唯一开设7-9年级的学校（不作为初中部撤并候选）")
            en.append("closing would leave its town without a school teaching grades 7-9 "
                      "(never a candidate for its junior part)")
        keep_remote = satellite = False
        added_km = 0.0
        if have_travel:
            mine = first_by_school.get(sid, first.iloc[0:0])
            rec["catchment_pupils"] = round(float(sum(assigned.get((sid, lv), 0.0)
                                                      for lv in ("primary", "junior"))), 1)
            if len(mine):
                keys = list(mine.index)
                alt = second.reindex(mine.index)
                p = pupils.reindex(keys).to_numpy(float)
                d0, t0 = mine["distance_m"].to_numpy(float), mine["time_s"].to_numpy(float)
                d1, t1 = alt["distance_m"].to_numpy(float), alt["time_s"].to_numpy(float)
                lost = ~np.isfinite(d1)
                ok = ~lost
                groups = np.array([g for _, g in keys])
                if ok.any():
                    w = p[ok]
                    rec["added_distance_mean_m"] = round(float(np.sum((d1 - d0)[ok] * w) / w.sum()), 0)
                    rec["added_distance_max_m"] = round(float(np.max((d1 - d0)[ok])), 0)
                    rec["added_time_mean_min"] = round(float(np.sum((t1 - t0)[ok] * w) / w.sum()) / 60, 1)
                    rec["added_time_max_min"] = round(float(np.max((t1 - t0)[ok])) / 60, 1)
                    added_km = rec["added_distance_mean_m"] / 1000
                    recv = pd.Series(w, index=alt["to_id"].to_numpy()[ok]).groupby(level=0).sum()
                    recv = recv.sort_values(ascending=False)
                    top = recv.index[0]
                    rec["receiving_school_id"] = top
                    rec["receiving_school"] = names.get(top, top)
                    rec["receiving_split"] = "; ".join(f"{names.get(k, k)} {v / recv.sum():.0%}"
                                                       for k, v in recv.items())
                    moved = pd.Series(w, index=list(zip(alt["to_id"].to_numpy()[ok],
                                                        [ca.PART_OF_GROUP[g] for g in groups[ok]], strict=True)))
                    moved = moved.groupby(level=0).sum()
                    left = 0.0
                    for part in ("primary", "junior"):
                        cap = seats.at[top, f"seats_{part}"] if top in seats.index else np.nan
                        if np.isfinite(cap) and cap > 0:
                            left += cap - assigned.get((top, part), 0.0) - moved.get((top, part), 0.0)
                    rec["seats_left_at_receiver"] = round(left, 0)
                    split, short = _split_with_seats(sid, keys, p, ranked_by_key, seats, assigned)
                    rec["receiving_split_with_seats"] = "; ".join(
                        f"{names.get(k, k)} {v:.0f}" for k, v in split.items())
                    rec["pupils_without_seat_after"] = round(short, 1)
                g13 = groups == "g1_3"
                rec["g1_3_over_limit_before"] = round(float(p[g13 & (t0 > limit_s)].sum()), 1)
                over_after = g13 & (lost | (t1 > limit_s))
                rec["g1_3_over_limit_after"] = round(float(p[over_after].sum()), 1)
                lim = np.array([trip[g] for g in groups])
                rec["pupils_needing_bus_after"] = round(float(p[ok & (d1 > lim)].sum()), 1)
                rec["pupils_needing_boarding_after"] = round(float(p[ok & ~g13 & (d1 > board_m)].sum()), 1)
                rec["pupils_without_school_after"] = round(float(p[lost].sum()), 1)
                newly_over = rec["g1_3_over_limit_after"] - rec["g1_3_over_limit_before"]
                lim_min = f"{settings['walk_limit_g1_3_min']:g}"
                if rec["pupils_without_school_after"] > 0 or (newly_over > 0.5 and s["level"] == "teaching_point"):
                    keep_remote = True
                    zh.append(f"保留（偏远）：撤并后 {newly_over:.0f} 名1-3年级学生步行将超过 {lim_min} 分钟"
                              if newly_over > 0.5 else "保留（偏远）：撤并后部分学生在距离上限内无学校")
                    en.append(f"keep: remote: closing would put {newly_over:.0f} more grade 1-3 pupils "
                              f"over the {lim_min}-minute walk" if newly_over > 0.5 else
                              "keep: remote: closing would leave pupils with no school within the cut-off")
                elif newly_over > 0.5:
                    satellite = True
                    zh.append(f"宜改为教学点（卫星校）：撤并后 {newly_over:.0f} 名1-3年级学生步行将超过 "
                              f"{lim_min} 分钟，"
                              "保留1-3年级，4-6年级并入中心校")
                    en.append(f"to satellite: closing would put {newly_over:.0f} more grade 1-3 pupils over the "
                              f"{lim_min}-minute walk; keep grades 1-3, move 4-6 to a larger school")
            elif sid in other:
                # no village has it as its nearest school: its pupils would go to the nearest
                # other school teaching the same grades
                top = other[sid][0]
                rec.update(receiving_school_id=top, receiving_school=names.get(top, top),
                           receiving_split=f"{names.get(top, top)} (no catchment in the model)")
                zh.append("模型中没有村庄以其为最近学校")
                en.append("no village has it as its nearest school in the model")
            if rec["seats_left_at_receiver"] is not None:
                rec["receiver_has_seats"] = bool(rec["seats_left_at_receiver"] >= 0)
        score = _TIER_POINTS.get(s.get("small_tier") or "", 0) + ("scattered" in reasons) + \
            ("weak" in reasons) - max(added_km, 0.0)
        eligible = bool({"small", "scattered"} & set(reasons))
        candidate = eligible and not keep_remote and not breaks
        recommendation = ("keep: rule" if eligible and breaks else "keep: remote" if eligible and keep_remote
                          else ("to_satellite" if satellite else "close") if candidate else "keep")
        rec.update(reasons=",".join(reasons), keep_remote=keep_remote, breaks_rule=breaks,
                   candidate=candidate, recommendation=recommendation,
                   score=round(score, 2),
                   score_explained=f"tier {_TIER_POINTS.get(s.get('small_tier') or '', 0)}"
                                   f" + scattered {int('scattered' in reasons)} + weak {int('weak' in reasons)}"
                                   f" + shrinking 0 (not computed) - added km {max(added_km, 0.0):.2f}",
                   reasons_zh="；".join(zh), reasons_en="; ".join(en))
        rows.append(rec)
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    out = out.sort_values(["candidate", "score"], ascending=[False, False], kind="stable").reset_index(drop=True)
    out["rank"] = np.where(out["candidate"], np.arange(1, len(out) + 1), None)
    return out
