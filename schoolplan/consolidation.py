"""撤并 consolidation candidates: which schools may be closed or merged, why, and what closing
each would do to its pupils, by road — inside the town and into its 中心校, as Shandong counties do
it ("一镇一策", Liaocheng 2025: only once transport, meals and 午休 are secured).

For every open school the module lists the reasons it may be a candidate, each with its evidence:

* ``small``: rural (``small_school_area_types``) and under a tier (``small_school_tiers``);
* ``scattered``: another open school of the **same town** teaching all of its grades within
  ``scattered_within_min`` on foot (grades 4–9 speed) by road;
* ``weak``: below the 优质均衡 resource standards (fewer than ``balance_min_met`` of 7) where the
  ledger has them;
* ``shrinking``: the enrolment history (``inputs.history``) shows a fall of at least
  ``shrinking_decline_share`` from its first to its last year (not computed without a history).

and what closing it would do, from the catchment model (no new shortest-path run): the pupils it
has in **today's assignment** (:func:`schoolplan.diagnosis.today_assignment`: the calibrated flows
by default, the uncalibrated nearest-school rows with ``assignment_method: nearest``; the column
``assignment_method`` says which) move to a **receiver**:

* with ``consolidation_within_town`` (default) a school of the closing school's town (or of the
  village's own town, for pupils who come from another town's village); another town's school only
  when none of the village's candidate schools is in those towns — the row then says so;
* with ``consolidation_prefer_central`` (default) grades 4–6 go to the town's central school
  (:func:`schoolplan.rules.central_schools`) when it is among their candidates; grades 1–3 and 7–9
  to the nearest allowed school;
* never a school that is itself closing: candidates are taken in order of score in **one pass**; a
  school closes into schools not already closing, and once it closes its receivers may not close
  (``keep: receiver``): no chains, no mutual pairs;
* within their seats: each village group takes the seats left at its allowed schools, nearest
  first; pupils left without a seat **block** the closure (``keep: seats``) and the row gives the
  classes to add at the receiver that would unblock it.

For each closure: the receiving school(s) with their share, the seats left there, the added road
distance and time (pupil-weighted mean and worst), grade 1–3 pupils who would walk over
``walk_limit_g1_3_min``, pupils who would need a bus (beyond the 2.5 km / 5 km trip limits) or
boarding (beyond ``boarding_beyond_km``), the school-bus riders by receiving school, and at the main
receiver the boarding places needed (all its pupils beyond the boarding distance after the closure)
and canteen seats needed (its pupils after the closure × ``lunch_at_school_share``) against the
ledger's 寄宿床位 and 食堂座位.

``recommendation``:

* ``close``: its pupils all have an acceptable alternative with a seat (grades 1–3 stay within the
  walking limit; older pupils may take a bus or board);
* ``to_satellite``: closing it would put grade 1–3 pupils over the walking limit, but it can keep
  grades 1–3 and send grades 4–6 to the central school (the planet–satellite idea);
* ``keep: remote``: a teaching point whose grade 1–3 pupils would walk over the limit, or a school
  whose pupils would be left with no school within the cut-off; a teaching point whose pupils have
  an alternative is closed like any school;
* ``keep: seats``: the receivers lack seats (classes to add in ``classes_to_add_at_receiver``);
* ``keep: receiver``: it receives the pupils of a school recommended for closure;
* ``keep: rule``: the last school teaching grades 7–9 of its town;
* ``keep``: no reason to consider it.

Only ``small`` or ``scattered`` make a school a candidate; ``weak`` and ``shrinking`` add to the
score. Score (transparent, in ``score_explained``): small tier lt50 = 3, lt100 = 2, lt200 = 1;
+1 scattered; +1 weak; +1 shrinking; −1 per km of mean added distance. Candidates
(``close`` or ``to_satellite``) are ranked by score.

Cost (n schools, V villages, k candidates per village and grade group): O(V k log(V k)) to rank
the candidates once, then O(k) per village group and O(n log n) for the order of the pass; see
:func:`candidates`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan import rules as _rules
from schoolplan import travel
from schoolplan.diagnosis import today_assignment
from schoolplan.forked import Aside
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
    "pupils_needing_boarding_after", "pupils_without_school_after", "receiver_in_town",
    "receiver_note", "classes_to_add_at_receiver", "boarding_needed_at_receiver",
    "boarding_beds_at_receiver", "canteen_needed_at_receiver", "canteen_seats_at_receiver",
    "bus_riders_by_receiver", "score", "score_explained", "score_explained_zh", "reasons_zh", "reasons_en",
    "assignment_method",
]

_TIER_POINTS = {"lt50": 3, "lt100": 2, "lt200": 1}


def _today(result: Result) -> pd.DataFrame:
    """Today's assignment the diagnosis used (:func:`schoolplan.diagnosis.today_assignment`): the
    calibrated flows, or the uncalibrated ``nearest`` rows with ``assignment_method: nearest``."""
    today = today_assignment(result)
    assert today is not None  # called only with travel costs
    return today


def _open_costs(costs: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """The cost rows of open schools teaching the row's grade group (as
    :func:`schoolplan.diagnosis.open_costs`), vectorised: one mask per (level, group) pair, O(E)."""
    level = costs["to_id"].map(schools[schools["status"] != "closed"].set_index("school_id")["level"])
    keep = np.zeros(len(costs), bool)
    group = costs["group"].to_numpy()
    lv = level.to_numpy()
    for name in LEVEL_GRADES:
        for g in ca.GRADE_GROUPS:
            if ca.serves(name, g):
                keep |= (lv == name) & (group == g)
    return costs[keep]


def _ranked(costs: pd.DataFrame) -> pd.DataFrame:
    key = np.where(costs["mode"] == "bus", costs["time_s"], costs["distance_m"])
    c = costs.assign(_k=key).sort_values(["from_id", "group", "_k"], kind="stable")
    c["_rank"] = c.groupby(["from_id", "group"]).cumcount()
    return c


def _others(base: Base, schools: pd.DataFrame, settings: Settings,
            same_town: bool) -> dict[str, list[tuple[str, float, float]]]:
    """School -> the other open schools teaching all of its grades, nearest first by walking
    time at the grades 4–9 speed: (school, minutes, road metres), within ``catchment_cutoff_m``
    and (``same_town``) in its own town.

    Cost: one shortest-path run per scenario (cached in ``base.cache``, 12 nearest schools each),
    then a sort of its E = 12 n rows: O(E log E)."""
    if "school_to_school" not in base.cache:  # one shortest-path run per scenario, then reused
        every = base.inputs.schools[np.isfinite(base.inputs.schools["lon"])]
        base.cache["school_to_school"] = travel.travel_costs(
            base.networks.get("walk"), every, every, mode="walk_g4_9", origin_id="school_id",
            destination_id="school_id", cutoff_m=settings["catchment_cutoff_m"], k=12,
            settings=settings)
    costs = base.cache["school_to_school"]
    open_s = schools[schools["status"] != "closed"]
    grades = {sid: set(LEVEL_GRADES.get(lv, ())) for sid, lv in zip(open_s["school_id"], open_s["level"], strict=True)}
    town = dict(zip(open_s["school_id"], open_s["town_code"], strict=True))
    c = costs[(costs["from_id"] != costs["to_id"]) & costs["from_id"].isin(grades)
              & costs["to_id"].isin(grades)].sort_values("time_s", kind="stable")
    out: dict[str, list[tuple[str, float, float]]] = {}
    for f, t, ts, dm in zip(c["from_id"], c["to_id"], c["time_s"], c["distance_m"], strict=True):
        if same_town and town[f] != town[t]:
            continue
        if grades[f] and grades[f] <= grades[t]:
            out.setdefault(f, []).append((t, float(ts) / 60, float(dm)))
    return out


def _split_with_seats(sid: str, keys: list, pupils: np.ndarray, lists: dict, left: dict,
                      allowed, first: np.ndarray | None = None
                      ) -> tuple[dict[str, float], dict[str, float], dict]:
    """Where the pupils of a closed school go when every receiver keeps to its seats.

    Each of its villages' grade groups, nearest to the closing school first, goes to its chosen
    receiver (``first[i]``: the central school for grades 4–6, see :func:`_evaluate`) and then its
    next allowed candidate schools in order of road distance, as far as their seats left allow
    (unknown seats do not limit). ``left`` ((school, part) -> seats left, built once for the
    whole table) is read, never written: the seats taken are returned as an overlay.

    Cost: O(m log m + m k) for the m village grade groups of the school and k candidates each;
    no look-up depends on the number of schools.

    Returns pupils by receiving school (largest first), pupils left without a seat by part
    (``primary``, ``junior``) and the overlay of seats taken.
    """
    taken: dict[tuple[str, str], float] = {}
    split: dict[str, float] = {}
    short = {"primary": 0.0, "junior": 0.0}
    order = sorted(range(len(keys)), key=lambda i: float(lists[keys[i]][1][0]))
    for i in order:
        key, need = keys[i], float(pupils[i])
        part = ca.PART_OF_GROUP[key[1]]
        pick = first[i] if first is not None else None
        cands = lists[key][0]
        if pick is not None:
            cands = [pick, *(o for o in cands if o != pick)]
        for school in cands if need > 1e-9 else ():
            if school == sid or not allowed(school, key):
                continue
            room = left.get((school, part), np.inf) - taken.get((school, part), 0.0)
            take = min(need, max(room, 0.0))
            if take > 0:
                split[school] = split.get(school, 0.0) + take
                taken[(school, part)] = taken.get((school, part), 0.0) + take
                need -= take
                if need <= 1e-9:
                    break
        short[part] += need
    return dict(sorted(split.items(), key=lambda kv: -kv[1])), short, taken


def _shrinking(base: Base, settings: Settings) -> dict[str, tuple[int, float, int, float]]:
    """School -> (first year, enrolment, last year, enrolment) where the enrolment history shows a
    fall of at least ``shrinking_decline_share``. O(rows of the history)."""
    hist = base.inputs.history
    if hist is None or not len(hist):
        return {}
    tot = hist.groupby(["school_id", "year"])["pupils"].sum().reset_index().sort_values(["school_id", "year"])
    first = tot.groupby("school_id").first()
    last = tot.groupby("school_id").last()
    out = {}
    for sid in first.index:
        y0, p0 = int(first.at[sid, "year"]), float(first.at[sid, "pupils"])
        y1, p1 = int(last.at[sid, "year"]), float(last.at[sid, "pupils"])
        if y1 > y0 and p0 > 0 and (p0 - p1) / p0 >= settings["shrinking_decline_share"]:
            out[str(sid)] = (y0, p0, y1, p1)
    return out


def _sum_by(keys, values) -> dict:
    """Sum of ``values`` by ``keys``, largest first (plain dict: no pandas per call)."""
    out: dict = {}
    for k, v in zip(keys, values, strict=True):
        out[k] = out.get(k, 0.0) + float(v)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


class _Lists:
    """Everything :func:`candidates` looks up, built once (cost in brackets; n schools, V village
    grade groups, k candidate schools per village and group, E = V k cost rows):

    * ``lists``: (village, group) -> candidate schools, distances, times, nearest first
      [sort O(E log E), then slices];
    * ``mine``: school -> the (village, group) keys it teaches in today's assignment, ``today``:
      (school, key) -> its pupils and trip there [O(rows of today's assignment)];
    * ``left``: (school, part) -> seats left after today's assignment [O(n + V)];
    * ``pupils``, ``boarders`` and ``load`` per school, ``town`` per school, central school
      per town [O(n + V)].
    """

    def __init__(self, base: Base, result: Result, open_s: pd.DataFrame, settings: Settings):
        ranked = _ranked(_open_costs(base.costs, result.schools))
        f, g = ranked["from_id"].to_numpy(object), ranked["group"].to_numpy(object)
        to = ranked["to_id"].to_numpy(object)
        d, t = ranked["distance_m"].to_numpy(float), ranked["time_s"].to_numpy(float)
        starts = np.flatnonzero(np.r_[True, (f[1:] != f[:-1]) | (g[1:] != g[:-1])]) if len(f) else np.array([], int)
        ends = np.r_[starts[1:], len(f)]
        # ids as lists: the loops of _evaluate and _split_with_seats walk them (numpy object
        # arrays iterate 3x slower)
        self.lists = {(f[a], g[a]): (to[a:b].tolist(), d[a:b], t[a:b]) for a, b in zip(starts, ends, strict=True)}
        gr, assignments = base.groups, result.assignments
        assert gr is not None and assignments is not None  # with costs come groups and assignments
        self.vtown = dict(zip(gr["demand_id"], gr["town_code"], strict=False))
        today = _today(result)
        self.method = str(today["method"].iloc[0]) if len(today) else "nearest"
        near = today[today["school_id"].notna()]
        # school -> the (village, group) keys it teaches today, with their pupils and trip there
        self.mine: dict[str, list] = {}
        self.today: dict[tuple, tuple[float, float, float]] = {}
        for sid, v, grp, pup, dm, ts in zip(  # numpy arrays: iterating pandas' string arrays costs
                near["school_id"].to_numpy(object), near["demand_id"].to_numpy(object),  # 1 µs a row
                near["group"].to_numpy(object), near["pupils"].to_numpy(float),
                near["distance_m"].to_numpy(float), near["time_s"].to_numpy(float), strict=True):
            key = (v, grp)
            if key not in self.lists:
                continue
            if (sid, key) not in self.today:
                self.mine.setdefault(sid, []).append(key)
                self.today[(sid, key)] = (0.0, dm, ts)
            p0, _, _ = self.today[(sid, key)]
            self.today[(sid, key)] = (p0 + pup, dm, ts)
        by_part = near.groupby(["school_id", "level"])["pupils"].sum().to_dict()
        self.assigned = by_part
        board_m = settings["boarding_beyond_km"] * 1000
        far = near[(near["group"] != "g1_3") & (near["distance_m"] > board_m)]
        self.boarders = far.groupby("school_id")["pupils"].sum().to_dict()
        self.load = near.groupby("school_id")["pupils"].sum().to_dict()
        seats = ca.seats_by_part(open_s)
        self.left: dict[tuple[str, str], float] = {}
        for sid, sp, sj in zip(seats.index, seats["seats_primary"], seats["seats_junior"], strict=True):
            for part, cap in (("primary", sp), ("junior", sj)):
                self.left[(sid, part)] = (cap - by_part.get((sid, part), 0.0)) if np.isfinite(cap) else np.inf
        self.seats = seats
        self.cap = {(sid, part): float(seats.at[sid, f"seats_{part}"])
                    for sid in seats.index for part in ("primary", "junior")}
        self.town = dict(zip(open_s["school_id"], open_s["town_code"], strict=True))
        self.services = {c: dict(zip(open_s["school_id"], pd.to_numeric(open_s[c], errors="coerce"), strict=True))
                         for c in ("boarding_beds", "canteen_seats") if c in open_s}
        central = open_s[_rules.central_schools(open_s, settings).to_numpy(bool)]
        central = central.sort_values(["enrollment", "school_id"], ascending=[False, True],
                                      kind="stable").drop_duplicates("town_code")
        self.central: dict[str, str] = dict(zip(central["town_code"], central["school_id"], strict=True))


def _evaluate(sid: str, L: _Lists, excluded: set, settings: Settings,
              moving: tuple[str, ...] | None = None) -> dict:
    """What closing ``sid`` does to its pupils of today's assignment, its receivers
    chosen among open schools not in ``excluded``: O(m k) for its m village grade groups.
    ``moving`` (grade groups) limits it to those groups: ``("g4_6", "g7_9")`` for a satellite,
    whose grades 1–3 stay."""
    within = settings["consolidation_within_town"]
    prefer = settings["consolidation_prefer_central"]
    town = L.town.get(sid)
    central = L.central.get(town) if prefer and town is not None else None
    keys = [k for k in L.mine.get(sid, []) if moving is None or k[1] in moving]
    n = len(keys)
    p = np.array([L.today[(sid, k)][0] for k in keys], float)
    d0, t0 = np.full(n, np.nan), np.full(n, np.nan)
    d1, t1 = np.full(n, np.nan), np.full(n, np.nan)
    recv = np.full(n, None, dtype=object)
    crossed = np.zeros(n, bool)
    for i, key in enumerate(keys):
        ids, d, t = L.lists[key]
        d0[i], t0[i] = L.today[(sid, key)][1:]
        pick = first_any = None
        for j, o in enumerate(ids):
            if o == sid or o in excluded:
                continue
            if first_any is None:
                first_any = j
            if key[1] == "g4_6" and o == central:
                pick = j
                break
            if pick is None and (not within or L.town.get(o) in (town, L.vtown.get(key[0]))):
                pick = j
                if key[1] != "g4_6" or central is None or central not in ids:
                    break
        if pick is None and first_any is not None:
            pick, crossed[i] = first_any, True
        if pick is not None:
            recv[i], d1[i], t1[i] = ids[pick], d[pick], t[pick]
    cross_keys = {keys[i] for i in range(n) if crossed[i]}

    def allowed(school, key):
        if school in excluded:
            return False
        return not within or key in cross_keys or L.town.get(school) in (town, L.vtown.get(key[0]))

    split, short, taken = _split_with_seats(sid, keys, p, L.lists, L.left, allowed, recv)
    return {"keys": keys, "p": p, "d0": d0, "t0": t0, "d1": d1, "t1": t1, "recv": recv,
            "crossed": crossed, "split": split, "short": short, "taken": taken,
            "groups": np.array([g for _, g in keys], dtype=object)}


def _services(ev: dict, L: _Lists, open_s: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """Boarding beds, canteen seats and school-bus riders the closure needs at its receivers."""
    trip = {"g1_3": settings["trip_limit_lower_grades_km"] * 1000,
            "g4_6": settings["trip_limit_upper_grades_km"] * 1000,
            "g7_9": settings["trip_limit_upper_grades_km"] * 1000}
    board_m = settings["boarding_beyond_km"] * 1000
    ok = ev["recv"] != None  # noqa: E711
    lim = np.array([trip[g] for g in ev["groups"]], float)
    rides = ok & (ev["d1"] > lim)
    boards = ok & (ev["groups"] != "g1_3") & (ev["d1"] > board_m)
    moved = _sum_by(ev["recv"][ok], ev["p"][ok])
    out: dict[str, Any] = {"bus_riders_by_receiver": "; ".join(
        f"{k} {v:.0f}" for k, v in _sum_by(ev["recv"][rides], ev["p"][rides]).items())}
    if not moved:
        return out
    top = next(iter(moved))
    new_board = float(ev["p"][boards & (ev["recv"] == top)].sum())
    out["boarding_needed_at_receiver"] = round(L.boarders.get(top, 0.0) + new_board, 0)
    out["canteen_needed_at_receiver"] = round((L.load.get(top, 0.0) + moved[top])
                                              * settings["lunch_at_school_share"], 0)
    for col in ("boarding_beds", "canteen_seats"):
        v = L.services.get(col, {}).get(top, np.nan)
        out[f"{col}_at_receiver"] = float(v) if pd.notna(v) else None
    return out


def candidates(base: Base, result: Result) -> pd.DataFrame:
    """The consolidation table of the layout in ``result`` (one row per open school).

    Cost: the look-ups of :class:`_Lists` once (O(E log E)), then per school O(m k) for its m
    village grade groups (together O(V k)), and one sort of the candidates by score
    (O(n log n)): about n log n in schools and villages, no per-school pass over all schools.

    With ``workers`` > 1 and at least ``fork_diagnosis_min_rows`` cost rows, half of the
    schools' first look is taken in a forked process (:class:`schoolplan.forked.Aside`).

    Receivers are resolved in one pass over the candidates in order of score: a school closes
    into open schools not already closing; once it closes, its receivers may not close
    (``keep: receiver``), and the seats its pupils take are no longer free for the next.
    """
    settings = base.settings
    schools = result.schools
    open_s = schools[schools["status"] != "closed"]
    names = dict(zip(schools["school_id"], schools["name"], strict=True))
    limit_s = settings["walk_limit_g1_3_min"] * 60
    lim_min = f"{settings['walk_limit_g1_3_min']:g}"
    trip = {"g1_3": settings["trip_limit_lower_grades_km"] * 1000,
            "g4_6": settings["trip_limit_upper_grades_km"] * 1000,
            "g7_9": settings["trip_limit_upper_grades_km"] * 1000}
    board_m = settings["boarding_beyond_km"] * 1000
    within = settings["consolidation_within_town"]
    have_travel = base.costs is not None and result.assignments is not None
    L = _Lists(base, result, open_s, settings) if have_travel else None
    others = _others(base, schools, settings, same_town=within) if have_travel else {}
    scattered = {k: v[0] for k, v in others.items() if v and v[0][1] <= settings["scattered_within_min"]}
    shrinking = _shrinking(base, settings)
    weak: dict[str, int] = {}
    if result.balance is not None:
        b = result.balance[result.balance["meets_standard"] == False]  # noqa: E712
        weak = b.groupby("school_id")["indicators_met"].min().to_dict()
    junior_count = open_s[open_s["level"].map(teaches_junior)].groupby("town_code").size()
    has_history = base.inputs.history is not None

    def fill(rec: dict, s: dict, ev: dict | None, zh: list, en: list) -> tuple[bool, bool, float]:
        """Travel figures of a closure into ``rec``; returns (keep_remote, satellite, added km)."""
        sid = s["school_id"]
        if ev is None or not len(ev["keys"]):
            lst = [o for o in others.get(sid, []) if o[0] not in excluded]
            if lst:
                top = lst[0][0]
                rec.update(receiving_school_id=top, receiving_school=names.get(top, top),
                           receiving_split=f"{names.get(top, top)} (no catchment in the model)",
                           receiver_in_town=L.town.get(top) == L.town.get(sid) if L else None)
                zh.append("模型中没有村庄以其为最近学校")
                en.append("no village has it as its nearest school in the model")
            return False, False, 0.0
        assert L is not None  # an evaluation exists only with travel costs
        p, d0, t0, d1, t1, groups = ev["p"], ev["d0"], ev["t0"], ev["d1"], ev["t1"], ev["groups"]
        lost = ~np.isfinite(d1)
        ok = ~lost
        added_km = 0.0
        if ok.any():
            w = p[ok]
            rec["added_distance_mean_m"] = round(float(np.sum((d1 - d0)[ok] * w) / w.sum()), 0)
            rec["added_distance_max_m"] = round(float(np.max((d1 - d0)[ok])), 0)
            rec["added_time_mean_min"] = round(float(np.sum((t1 - t0)[ok] * w) / w.sum()) / 60, 1)
            rec["added_time_max_min"] = round(float(np.max((t1 - t0)[ok])) / 60, 1)
            added_km = rec["added_distance_mean_m"] / 1000
            central = L.central.get(str(L.town.get(sid)))
            recv = dict(sorted(_sum_by(ev["recv"][ok], w).items(),  # ties: the central school, then id
                               key=lambda kv: (-round(kv[1], 6), kv[0] != central, str(kv[0]))))
            total = sum(recv.values())
            top = next(iter(recv))
            rec["receiving_school_id"] = top
            rec["receiving_school"] = names.get(top, top)
            rec["receiving_split"] = "; ".join(f"{names.get(k, k)} {v / total:.0%}" for k, v in recv.items())
            rec["receiver_in_town"] = L.town.get(top) == L.town.get(sid)
            home = np.array([L.town.get(r) != L.town.get(sid) and L.town.get(r) == L.vtown.get(k[0])
                             for r, k in zip(ev["recv"], ev["keys"], strict=True)], bool)
            if home.any():
                zh.append(f"{p[home].sum():.0f} 名学生来自外乡镇村庄，回本乡镇学校就读")
                en.append(f"{p[home].sum():.0f} pupils from villages of another town go to their own "
                          "town's school")
                if not rec["receiver_in_town"]:
                    rec["receiver_note"] = "own town of the pupils"
            if ev["crossed"].any():
                rec["receiver_note"] = "crossed"
                zh.append(f"本乡镇内没有其他同学段学校可接收 {p[ev['crossed']].sum():.0f} 名学生，跨乡镇安置")
                en.append(f"no other school of its town teaches the grades of {p[ev['crossed']].sum():.0f} "
                          "pupils: they go to another town's school")
            parts = [ca.PART_OF_GROUP[g] for g in groups[ok]]
            moved = _sum_by(list(zip(ev["recv"][ok], parts, strict=True)), w)
            left = 0.0
            for part in ("primary", "junior"):
                cap = L.cap.get((top, part), np.nan)
                if np.isfinite(cap) and cap > 0:
                    left += L.left[(top, part)] - moved.get((top, part), 0.0)
            rec["seats_left_at_receiver"] = round(left, 0)
            rec["receiver_has_seats"] = bool(left >= 0)
            rec["receiving_split_with_seats"] = "; ".join(f"{names.get(k, k)} {v:.0f}" for k, v in ev["split"].items())
            short = ev["short"]
            rec["pupils_without_seat_after"] = round(short["primary"] + short["junior"], 1)
            rec["classes_to_add_at_receiver"] = (math.ceil(short["primary"] / settings["class_size_primary"] - 1e-9)
                                                 + math.ceil(short["junior"] / settings["class_size_junior"] - 1e-9))
            rec.update(_services(ev, L, open_s, settings))
            bus = rec.get("bus_riders_by_receiver") or ""
            rec["bus_riders_by_receiver"] = "; ".join(
                f"{names.get(x.rsplit(' ', 1)[0], x)} {x.rsplit(' ', 1)[1]}" for x in bus.split("; ") if x)
        g13 = groups == "g1_3"
        rec["g1_3_over_limit_before"] = round(float(p[g13 & (t0 > limit_s)].sum()), 1)
        rec["g1_3_over_limit_after"] = round(float(p[g13 & (lost | (t1 > limit_s))].sum()), 1)
        lim = np.array([trip[g] for g in groups], float)
        rec["pupils_needing_bus_after"] = round(float(p[ok & (d1 > lim)].sum()), 1)
        rec["pupils_needing_boarding_after"] = round(float(p[ok & ~g13 & (d1 > board_m)].sum()), 1)
        rec["pupils_without_school_after"] = round(float(p[lost].sum()), 1)
        newly_over = rec["g1_3_over_limit_after"] - rec["g1_3_over_limit_before"]
        keep_remote = satellite = False
        if rec["pupils_without_school_after"] > 0 or (newly_over > 0.5 and s["level"] == "teaching_point"):
            keep_remote = True
            zh.append(f"保留（偏远）：撤并后 {newly_over:.0f} 名1-3年级学生步行将超过 {lim_min} 分钟"
                      if newly_over > 0.5 else "保留（偏远）：撤并后部分学生在距离上限内无学校")
            en.append(f"keep: remote: closing would put {newly_over:.0f} more grade 1-3 pupils "
                      f"over the {lim_min}-minute walk" if newly_over > 0.5 else
                      "keep: remote: closing would leave pupils with no school within the cut-off")
        elif newly_over > 0.5:
            satellite = True
            zh.append(f"宜改为卫星校（保留1-3年级的附设校）：撤并后 {newly_over:.0f} 名1-3年级学生步行将超过 "
                      f"{lim_min} 分钟，保留1-3年级，4-6年级并入中心校")
            en.append(f"to satellite: closing would put {newly_over:.0f} more grade 1-3 pupils over the "
                      f"{lim_min}-minute walk; keep grades 1-3, move 4-6 to the central school")
        return keep_remote, satellite, added_km

    excluded: set = set()

    def first_pass(records: list[dict]) -> tuple[list[dict], dict[str, tuple]]:
        """Each school's reasons and the figures of closing it into the open schools."""
        rows: list[dict] = []
        evidence: dict[str, tuple] = {}
        for s in records:
            sid = s["school_id"]
            rec: dict[str, Any] = {c: None for c in CANDIDATE_COLUMNS}
            tier = s.get("small_tier") or ""
            rec.update(school_id=sid, name=s["name"], level=s["level"], town_code=s["town_code"],
                       town=s["town"], enrollment=s["enrollment"], small_tier=tier,
                       assignment_method=L.method if L is not None else None)
            reasons, zh, en = [], [], []
            if tier:
                n = tier[2:]
                reasons.append("small")
                zh.append(f"小规模：乡村学校在校生 {s['enrollment']:.0f} 人，少于 {n} 人")
                en.append(f"small: rural school with {s['enrollment']:.0f} pupils, under {n}")
            if sid in scattered:
                near_id, minutes, _ = scattered[sid]
                reasons.append("scattered")
                zh.append(f"布点分散：本乡镇{names.get(near_id, near_id)}（同学段）步行 {minutes:.0f} 分钟可达")
                en.append(f"scattered: {names.get(near_id, near_id)} (same grades, same town) is "
                          f"{minutes:.0f} min walk away")
            if sid in weak:
                reasons.append("weak")
                zh.append(f"办学条件弱：优质均衡7项指标仅 {weak[sid]} 项达标")
                en.append(f"weak: meets only {weak[sid]} of the 7 resource standards")
            if sid in shrinking:
                y0, p0, y1, p1 = shrinking[sid]
                reasons.append("shrinking")
                zh.append(f"生源萎缩：在校生由 {y0} 年 {p0:.0f} 人降至 {y1} 年 {p1:.0f} 人")
                en.append(f"shrinking: enrolment fell from {p0:.0f} ({y0}) to {p1:.0f} ({y1})")
            elif not has_history:
                zh.append("在校生趋势：未提供多年在校生数据，未计算")
                en.append("shrinking: not computed (no enrolment history given)")
            breaks = bool(teaches_junior(s["level"]) and junior_count.get(s["town_code"], 0) <= 1)
            if breaks:
                zh.append("撤并将使本乡镇失去唯一开设7-9年级的学校（不作为初中部撤并候选）")
                en.append("closing would leave its town without a school teaching grades 7-9 "
                          "(never a candidate for its junior part)")
            if L is not None:
                rec["catchment_pupils"] = round(float(sum(L.assigned.get((sid, lv), 0.0)
                                                          for lv in ("primary", "junior"))), 1)
            ev = _evaluate(sid, L, set(), settings) if L is not None else None
            tzh: list[str] = []
            ten: list[str] = []
            keep_remote, satellite, added_km = fill(rec, s, ev, tzh, ten)
            tier_pts = _TIER_POINTS.get(tier, 0)
            score = (tier_pts + ("scattered" in reasons) + ("weak" in reasons) + ("shrinking" in reasons)
                     - max(added_km, 0.0))
            eligible = bool({"small", "scattered"} & set(reasons))
            rec.update(reasons=",".join(reasons), breaks_rule=breaks, score=round(score, 2),
                       score_explained=f"tier {tier_pts} + scattered {int('scattered' in reasons)} + weak "
                                       f"{int('weak' in reasons)} + shrinking {int('shrinking' in reasons)}"
                                       f" - added km {max(added_km, 0.0):.2f}",
                       score_explained_zh=f"规模档 {tier_pts} + 布点分散 {int('scattered' in reasons)} + 办学薄弱 "
                                          f"{int('weak' in reasons)} + 生源减少 {int('shrinking' in reasons)}"
                                          f" − 增加路程 {max(added_km, 0.0):.2f} 公里")
            rows.append(rec)
            evidence[sid] = (s, reasons, zh, en, tzh, ten, eligible, breaks, keep_remote, satellite)
        return rows, evidence

    # the first pass is each school on its own: half of the schools in a forked process
    records = pd.DataFrame(open_s.drop(columns="geometry", errors="ignore")).to_dict("records")
    half = len(records) // 2
    workers = (travel.resolve_workers(None, settings=settings)
               if base.costs is not None and len(base.costs) >= settings["fork_diagnosis_min_rows"] else 1)
    with Aside(first_pass, records[half:], workers=workers) as second:
        rows, evidence = first_pass(records[:half])
        rows_b, evidence_b = second.result()
    rows += rows_b
    evidence.update(evidence_b)

    # one pass in order of score: receivers are never closing, closing schools never receive
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["score"], str(rows[i]["school_id"])))
    receiving: dict[str, list[str]] = {}
    for i in order:
        rec = rows[i]
        sid = rec["school_id"]
        s, _reasons, zh0, en0, tzh, ten, eligible, breaks, keep_remote, satellite = evidence[sid]
        zh, en = list(zh0), list(en0)
        recommendation = "keep"
        if eligible and breaks:
            recommendation = "keep: rule"
        elif eligible and sid in receiving:
            recommendation = "keep: receiver"
            who = "、".join(names.get(x, x) for x in receiving[sid])
            zh.append(f"保留（接收校）：接收{who}的学生")
            en.append(f"keep: receives the pupils of {who}")
        elif eligible and L is not None:
            ev = _evaluate(sid, L, excluded, settings)
            if excluded:  # re-evaluate without the schools already closing
                tzh, ten = [], []
                for c in CANDIDATE_COLUMNS[CANDIDATE_COLUMNS.index("receiving_school_id"):]:
                    if c not in ("score", "score_explained", "score_explained_zh", "reasons_zh", "reasons_en",
                                 "assignment_method"):
                        rec[c] = None
                keep_remote, satellite, _ = fill(rec, s, ev, tzh, ten)
            zh, en = zh + tzh, en + ten
            if keep_remote:
                recommendation = "keep: remote"
            elif not satellite and (rec["pupils_without_seat_after"] or 0) > 0.5:
                recommendation = "keep: seats"
                n_cls = rec["classes_to_add_at_receiver"]
                zh.append(f"暂缓撤并（学位不足）：{rec['receiving_school']}等接收校缺 "
                          f"{rec['pupils_without_seat_after']:.0f} 个学位，增加 {n_cls} 个班后可撤并")
                en.append(f"not yet (no seats): the receivers lack {rec['pupils_without_seat_after']:.0f} "
                          f"seats; adding {n_cls} classes at {rec['receiving_school']} would unblock it")
            else:
                recommendation = "to_satellite" if satellite else "close"
                if satellite:  # the seat figures of a satellite: grades 1-3 stay, 4-9 move
                    before = rec["g1_3_over_limit_before"]
                    for c in CANDIDATE_COLUMNS[CANDIDATE_COLUMNS.index("receiving_school_id"):]:
                        if c not in ("score", "score_explained", "score_explained_zh", "reasons_zh", "reasons_en",
                                     "assignment_method"):
                            rec[c] = None
                    ev = _evaluate(sid, L, excluded, settings, moving=("g4_6", "g7_9"))
                    fill(rec, s, ev, [], [])
                    rec["g1_3_over_limit_before"] = rec["g1_3_over_limit_after"] = before
                    zh.append("学位、接收校与食宿数据按卫星校计算（1-3年级留校，4年级及以上转入接收校）")
                    en.append("seats, receivers, boarding and canteen figures are those of a "
                              "satellite (grades 1-3 stay, grades 4 and up move)")
                excluded.add(sid)
                for key, sc in ev["taken"].items():
                    L.left[key] = L.left.get(key, np.inf) - sc
                for r in set(ev["recv"][ev["recv"] != None]) | set(ev["split"]):  # noqa: E711
                    receiving.setdefault(r, []).append(sid)
                if rec["receiving_school_id"] is not None and not len(ev["keys"]):
                    receiving.setdefault(rec["receiving_school_id"], []).append(sid)
        elif eligible:
            recommendation = "close"
            excluded.add(sid)
        if not (eligible and L is not None and recommendation not in ("keep: rule", "keep: receiver")):
            zh, en = zh + tzh, en + ten
        rec.update(keep_remote=recommendation == "keep: remote", candidate=recommendation in ("close", "to_satellite"),
                   recommendation=recommendation, reasons_zh="；".join(zh), reasons_en="; ".join(en))
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    out = out.sort_values(["candidate", "score"], ascending=[False, False], kind="stable").reset_index(drop=True)
    out["rank"] = pd.Series(np.arange(1, len(out) + 1), dtype=object).where(out["candidate"].astype(bool), None)
    return out
