"""Checks of the optimiser's constraints with numbers: before solving (:func:`precheck`: towns,
villages, ``p``, seats and caps in total) and after HiGHS finds the programme infeasible
(:func:`diagnose`: the fewest schools, or a least-violation re-solve naming what cannot be met).

Split from :mod:`schoolplan.optimize.model` (module size); both functions take the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from schoolplan.catchments import PART_OF_GROUP, serves

if TYPE_CHECKING:
    from schoolplan.optimize.model import LocationModel

__all__ = ["diagnose", "precheck"]

_JUNIOR_LEVELS = ("junior", "nine_year", "complete")
_GROUP_LABEL = {"g1_3": "grades 1–3", "g4_6": "grades 4–6", "g7_9": "grades 7–9"}
_LIST_MAX = 8  # objects named in one message before "and N more"


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _names(ids) -> str:
    ids = [str(i) for i in ids]
    more = len(ids) - _LIST_MAX
    return ", ".join(ids[:_LIST_MAX]) + (f" and {more} more" if more > 0 else "")


def precheck(self: LocationModel, objective, p, keep, close, allowed, limit, opts) -> list[str]:
    reasons: list[str] = []
    sch, dem, pr = self.schools, self.demand, self.pairs
    both = [i for i in keep if i in set(close)]
    if both:
        reasons.append(f"schools on both must_keep and must_close: {_names(both)}")
    close_set = set(close)
    # village groups whose every candidate is excluded
    k_all = pr["k"].to_numpy()
    has_pair = np.bincount(k_all, minlength=len(dem)) > 0
    has_allowed = np.bincount(k_all[allowed], minlength=len(dem)) > 0
    for k in np.flatnonzero(has_pair & ~has_allowed & (objective != "least_shortage")):
        sub = pr[pr["k"] == k]
        closed = [sch.index[j] for j in sub["j"] if sch.index[j] in close_set]
        vid, group = dem.at[k, "demand_id"], dem.at[k, "group"]
        why = f" (must_close removes {_names(closed)})" if closed else ""
        if group == "g1_3" and np.isfinite(limit):
            reasons.append(f"village {vid} has no allowed school within {limit / 60:.0f} min "
                           f"for grades 1–3{why}")
        else:
            reasons.append(f"village {vid} has no allowed school for {_GROUP_LABEL[group]} "
                           f"among its candidates{why}")
    # junior school per town
    needing = self._needing_towns(close_set) if opts["junior"] else {}
    junior_all = sch[sch["level"].isin(_JUNIOR_LEVELS)]
    for town, ids in needing.items():
        if not ids:
            removed = junior_all.index[junior_all["town_code"] == town].tolist()
            reasons.append(f"town {town} has no school teaching grades 7–9 among the allowed "
                           f"ones (must_close removes {_names(removed)})")
    for ids in opts.get("keep_one_of", []):
        if all(i in close_set for i in ids):
            reasons.append(f"a village cluster has no school left to keep open (must_close "
                           f"removes {_names(ids)})")
    n_allowed = len(sch) - len(close_set)
    if p is not None:
        if p > n_allowed:
            reasons.append(f"p={p} is above the {n_allowed} schools allowed to open "
                           f"({len(sch)} schools, {len(close_set)} on must_close)")
        keep_set = set(keep)
        towns_kept = {t for t, ids in needing.items() if keep_set & set(ids)}
        extra = sum(1 for t, ids in needing.items() if ids and t not in towns_kept)
        if len(keep_set) + extra > p:
            if not keep_set:
                reasons.append(f"p={p} is below the {extra} towns that each need a school "
                               "teaching grades 7–9")
            else:
                reasons.append(f"p={p} is below the {len(keep_set) + extra} schools that must "
                               f"open: {len(keep_set)} on must_keep and one school teaching "
                               f"grades 7–9 in each of {extra} further towns")
    # seats and size caps in total
    assignable = has_allowed
    pupils = dem["pupils"].to_numpy()
    ok_school = ~sch.index.isin(list(close_set))
    kept = sch.index.isin(list(keep))
    checks = []
    if opts["capacitated"]:
        for part in ("primary", "junior"):
            groups = [g for g, pt in PART_OF_GROUP.items() if pt == part]
            need = pupils[assignable & dem["group"].isin(groups).to_numpy()].sum()
            teach = np.array([any(serves(lv, g) for g in groups) for lv in sch["level"]],
                             dtype=bool)
            cap = sch[f"seats_{part}"].fillna(np.inf).to_numpy()
            checks.append((f"{part} pupils", f"{part} seats", need, np.where(teach, cap, 0.0)))
    if opts["caps"]:
        checks.append(("pupils", "size-cap places", pupils[assignable].sum(),
                       sch["size_cap"].to_numpy(float)))
    for what, of, need, cap in checks:
        if need <= 0 or objective == "least_shortage":
            continue
        total = cap[ok_school].sum()
        if total < need - 1e-6:
            reasons.append(f"seats: {_fmt(need - total)} {what} more than the allowed "
                           f"schools' {of} ({_fmt(need)} pupils, {_fmt(total)} {of})"
                           if of != "size-cap places" else
                           f"size caps: {_fmt(need - total)} pupils more than the allowed "
                           f"schools' size caps ({_fmt(need)} pupils, {_fmt(total)} places)")
        elif objective == "p_median" and p <= n_allowed:
            rest = np.sort(cap[ok_school & ~kept])[::-1]
            best = cap[kept].sum() + rest[: max(p - int(kept.sum()), 0)].sum()
            if best < need - 1e-6:
                label = "seats" if of != "size-cap places" else "size caps"
                reasons.append(f"{label}: with p={p} open schools at most {_fmt(best)} {of} "
                               f"for {_fmt(need)} {what} ({_fmt(need - best)} short)")
    return reasons



def diagnose(self: LocationModel, objective, p, keep, close, allowed, opts) -> list[str]:
    """Why the programme is infeasible, with numbers.

    For ``p_median``, first the fewest schools that meet every other constraint: when that
    many exist and exceed ``p``, ``p`` is the reason. Otherwise a least-violation re-solve
    (slack on assignment, seats, size caps and towns) names what cannot be met.
    """
    if objective == "p_median":
        prob = self._build("min_schools", None, keep, close, allowed, opts)
        res, _ = self._run(prob, opts)
        if res.x is not None:
            limit = opts["limit"]
            rules = [f"grades 1–3 within {limit / 60:.0f} min" if np.isfinite(limit) else "",
                     "seats" if opts["capacitated"] else "",
                     "size caps" if opts["caps"] else "",
                     "a school teaching grades 7–9 in every town" if opts["junior"] else "",
                     *[f"{_GROUP_LABEL[g]} within {v / 60:.0f} min"
                       for g, v in opts.get("limits", {}).items()
                       if g != "g1_3" and np.isfinite(v)],
                     (f"at most {opts['added'] / 60:.0f} min added to today's trip"
                      if opts.get("added") is not None else ""),
                     (f"one school in each of {len(opts['keep_one_of'])} village clusters"
                      if opts.get("keep_one_of") else ""),
                     f"{len(keep)} must-keep" if keep else "",
                     f"{len(close)} must-close" if close else ""]
            if res.status == 0:
                need = f"the {round(float(res.x[: len(self.schools)].sum()))}"
            else:  # time limit: any layout needs more than p; the dual bound may say more
                bound = float(res.mip_dual_bound or 0.0)
                need = f"at least {max(p + 1, int(np.ceil(bound - 1e-6)))}"
            return [(f"p={p} is below {need} schools needed to meet the constraints "
                     f"({', '.join(r for r in rules if r)})")]
    prob = self._build("min_schools", None, keep, close, allowed, opts, elastic=True)
    res, _ = self._run(prob, opts)
    if res.x is None:
        return [("the programme is infeasible and the least-violation re-solve found no "
                 f"answer either ({res.message})")]
    sch, dem = self.schools, self.demand
    refs = {b[0]: b[4] for b in prob["blocks"]}
    reasons = []
    for name, start, n in prob["slack_of"]:
        v = res.x[start:start + n]
        hit = np.flatnonzero(v > 1e-6)
        if not len(hit):
            continue
        ref = refs[name]
        if name.startswith("seats"):
            part = name.split("_", 1)[1]
            items = [f"{sch.index[ref[i]]} by {_fmt(v[i])}" for i in hit]
            reasons.append(f"seats: {_fmt(v[hit].sum())} {part} pupils more than the open "
                           f"schools' seats can take (short at {_names(items)})")
        elif name == "size_cap":
            items = [f"{sch.index[ref[i]]} by {_fmt(v[i])}" for i in hit]
            reasons.append(f"size caps: {_fmt(v[hit].sum())} pupils above the caps "
                           f"(at {_names(items)})")
        elif name == "assign":
            items = [f"{dem.at[ref[i], 'demand_id']} {_GROUP_LABEL[dem.at[ref[i], 'group']]} "
                     f"({_fmt(v[i] * dem.at[ref[i], 'pupils'])})" for i in hit]
            reasons.append(f"{_fmt(sum(v[i] * dem.at[ref[i], 'pupils'] for i in hit))} pupils "
                           f"cannot be placed in any allowed open school with room: "
                           f"{_names(items)}")
        elif name == "keep_one_of":
            reasons.append(f"{len(hit)} village cluster(s) cannot keep a school open")
        elif name == "town":
            reasons.append("no open school teaching grades 7–9 can be kept in town(s) "
                           f"{_names([ref[i] for i in hit])}")
    return reasons or [("the programme is infeasible (HiGHS) but no single constraint "
                        "family could be named; check must_keep/must_close against p")]

