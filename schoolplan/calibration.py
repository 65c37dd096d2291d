"""Today's picture: villages' children assigned so that every school gets its ledger enrolment.

The ledger's enrolment per school is the truth for today. Children do not all go to the school
nearest to them (parents bypass village schools for the town), so a nearest-school assignment
does not reproduce it. This module reconciles the two:

* with **observed origins** (生源: pupils by village x school, from 学籍 records;
  :func:`schoolplan.io.read_origins`) those flows *are* today's assignment;
* otherwise a **doubly-constrained spatial-interaction model** (Wilson 1971) is fitted::

      T_ij = A_i O_i  B_j D_j  exp(-beta d_ij)

  ``O_i`` the children of village ``i`` in a grade group (scaled so that the county's children
  equal the ledger's pupils), ``D_j`` the ledger enrolment of school ``j``'s part (grades 1–6 or
  7–9), ``d_ij`` the road distance in km over the candidate schools of the travel costs, ``beta``
  the setting ``calibration_decay_per_km``. ``A_i`` and ``B_j`` are found by iterative
  proportional fitting (Furness balancing): every village sends all its children, and every
  school receives its ledger enrolment where the candidates allow it.

When origins are given, ``beta`` is fitted to them by the mean trip length (Hyman 1969): the
value at which the model's mean distance equals the observed one. For an exponential
doubly-constrained model this is the maximum-likelihood (Poisson GLM) estimate that PySAL's
``spint.Doubly`` computes, without its dependencies.

Scenarios keep the fitted attractiveness ``W_j = B_j D_j`` of every school and send each
village's children over the schools open in the scenario by ``W_j exp(-beta d_ij)``
(production-constrained): with nothing changed this reproduces today's flows; a closed school's
pupils go to the other schools in proportion; a ``merge`` sends them to the receiving school;
``calibration_reassign: nearest_with_seats`` sends them to the nearest school with free seats
instead. New schools get the median attractiveness per seat of their part.

It never reads files except the origins file named by the scenario (:func:`calibrate`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan.errors import Problems, SchoolplanError
from schoolplan.io.origins import read_origins
from schoolplan.schema import Base
from schoolplan.settings import Settings

__all__ = [
    "FIT_COLUMNS",
    "BalanceResult",
    "Calibration",
    "balance_flows",
    "calibrate",
    "fit_decay",
    "fit_model",
    "flows_for_state",
    "ledger_targets",
    "observed_flows",
]

logger = logging.getLogger(__name__)

FIT_COLUMNS = ["school_id", "part", "ledger", "modelled", "ratio", "within_band", "candidate_villages"]

_REASON = {
    "more_children": (
        "villages have more children than the ledger's schools enrol: the difference goes to "
        "private schools, schools of other counties, or is a count error in the village data",
        "村庄适龄儿童多于台账在校生：差额就读于民办学校、外县学校，或村庄数据有误"),
    "fewer_children": (
        "the ledger's schools enrol more pupils than the villages have children: pupils from "
        "other counties, migrant children not in the village data, or a count error",
        "台账在校生多于村庄适龄儿童：来自外县的学生、未计入村庄数据的随迁子女，或数据有误"),
    "equal": ("village children and ledger pupils agree", "村庄儿童与台账在校生一致"),
}


@dataclass
class BalanceResult:
    """Flows of a doubly-constrained model on a sparse set of pairs."""

    flows: np.ndarray
    row_factors: np.ndarray
    column_factors: np.ndarray
    iterations: int
    converged: bool
    max_column_error: float


def balance_flows(origin: np.ndarray, destination: np.ndarray, cost_km: np.ndarray,
                  origin_totals: np.ndarray, destination_totals: np.ndarray, *,
                  decay_per_km: float, max_iterations: int = 500,
                  tolerance: float = 1e-3,
                  free_weights: np.ndarray | None = None) -> BalanceResult:
    """Fit ``T_ij = A_i O_i B_j D_j exp(-beta c_ij)`` on the given pairs by IPF.

    Parameters
    ----------
    origin, destination
        Integer positions (into ``origin_totals`` / ``destination_totals``) of each pair.
    cost_km
        Cost of each pair (km).
    origin_totals, destination_totals
        ``O_i`` and ``D_j`` (pupils). A destination with total ``NaN`` is not constrained:
        ``B_j`` stays 1 and its attractiveness is ``free_weights[j]`` (default 1).
    decay_per_km
        ``beta``.

    Returns
    -------
    BalanceResult
        ``flows`` per pair; rows always sum to ``origin_totals`` (where a row has pairs); the
        columns to ``destination_totals`` within ``tolerance`` when ``converged``.
    """
    o = np.asarray(origin, int)
    d = np.asarray(destination, int)
    f = np.exp(-decay_per_km * np.asarray(cost_km, float))
    big_o = np.asarray(origin_totals, float)
    big_d = np.asarray(destination_totals, float)
    free = ~np.isfinite(big_d)
    target = np.where(free, 0.0, big_d)
    fw = np.ones(len(big_d)) if free_weights is None else np.asarray(free_weights, float)
    weight_d = np.where(free, fw, big_d)
    n_o, n_d = len(big_o), len(big_d)
    b = np.ones(n_d)
    a = np.zeros(n_o)
    converged, err, it = False, np.inf, 0
    for it in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        row = np.bincount(o, weights=f * b[d] * weight_d[d], minlength=n_o)
        a = np.divide(1.0, row, out=np.zeros(n_o), where=row > 0)
        col = np.bincount(d, weights=f * a[o] * big_o[o], minlength=n_d) * b * weight_d
        rel = np.abs(col - target) / np.maximum(target, 1.0)
        err = float(rel[~free].max()) if (~free).any() else 0.0
        if err <= tolerance:
            converged = True
            break
        scale = np.divide(target, col, out=np.ones(n_d), where=col > 0)
        scale[free] = 1.0
        b = b * scale
    # finish on the rows: every village sends all its children
    row = np.bincount(o, weights=f * b[d] * weight_d[d], minlength=n_o)
    a = np.divide(1.0, row, out=np.zeros(n_o), where=row > 0)
    flows = a[o] * big_o[o] * b[d] * weight_d[d] * f
    received = np.bincount(d, weights=flows, minlength=n_d)
    rel = np.abs(received - target) / np.maximum(target, 1.0)
    err = float(rel[~free].max()) if (~free).any() else 0.0
    return BalanceResult(flows, a, b, it, converged or err <= tolerance, err)


def fit_decay(distance_km: np.ndarray, pupils: np.ndarray, origin: np.ndarray,
              destination: np.ndarray, pairs_distance_km: np.ndarray, pairs_origin: np.ndarray,
              pairs_destination: np.ndarray, *, bounds: tuple[float, float] = (1e-3, 20.0),
              max_iterations: int = 500) -> float:
    """``beta`` at which the doubly-constrained model's mean trip distance over the candidate
    pairs equals the observed mean (Hyman 1969; the Poisson maximum-likelihood estimate).

    ``distance_km``, ``pupils``, ``origin``, ``destination``: observed flows (positions as in
    :func:`balance_flows`); ``pairs_*``: every candidate pair the model may use. Returns the
    bound when the observed mean lies beyond what the model can reach.
    """
    obs = np.asarray(pupils, float)
    target_mean = float((obs * distance_km).sum() / obs.sum())
    n_o = int(max(np.max(origin), np.max(pairs_origin))) + 1
    n_d = int(max(np.max(destination), np.max(pairs_destination))) + 1
    o_tot = np.bincount(origin, weights=obs, minlength=n_o)
    d_tot = np.bincount(destination, weights=obs, minlength=n_d)

    def gap(beta: float) -> float:
        r = balance_flows(pairs_origin, pairs_destination, pairs_distance_km, o_tot, d_tot,
                          decay_per_km=beta, max_iterations=max_iterations, tolerance=1e-6)
        return float((r.flows * pairs_distance_km).sum() / r.flows.sum()) - target_mean

    lo, hi = bounds
    g_lo, g_hi = gap(lo), gap(hi)
    if g_lo <= 0:
        return lo
    if g_hi >= 0:
        return hi
    from scipy.optimize import brentq  # here, not at the top: a slow import (start-up)

    return float(brentq(gap, lo, hi, xtol=1e-4))


@dataclass
class Calibration:
    """Today's assignment reconciled with the ledger, and the model scenarios move pupils by."""

    #: ``observed`` (生源 given) or ``model`` (doubly-constrained fit)
    method: Literal["observed", "model"]
    #: today's flows in :data:`schoolplan.catchments.ASSIGNMENT_COLUMNS`, ``method`` ``calibrated``
    flows: pd.DataFrame
    #: per school and part (``primary``, ``junior``): :data:`FIT_COLUMNS`
    fit: pd.DataFrame
    #: fitted attractiveness ``W_j`` by ``(school_id, part)``
    attractiveness: pd.Series
    #: per part: village children, ledger pupils, the factor children were scaled by, and why
    scale: dict[str, dict[str, Any]]
    decay_per_km: float
    decay_source: str
    iterations: int
    converged: bool
    #: today's (scaled) children by ``(demand_id, group)``
    origin_totals: pd.Series
    summary: dict[str, Any] = field(default_factory=dict)


def ledger_targets(schools: pd.DataFrame) -> pd.DataFrame:
    """Ledger pupils of each school's primary (grades 1–6) and junior (7–9) part.

    Uses ``enrollment_ledger`` when a ``year:`` scenario replaced ``enrollment`` by its
    projection; a nine-year school is split by its grade 7–9 enrolment (else 3/9), a complete
    middle school's junior part likewise (else half): :func:`schoolplan.catchments.seats_by_part`.
    Indexed by ``school_id`` with ``primary`` and ``junior`` (NaN: enrolment unknown).
    """
    s = schools.copy()
    share = ca.seats_by_part(s)["junior_share"]  # (projected) grades 7-9 over (projected) total
    enr = s.set_index("school_id")["enrollment_ledger" if "enrollment_ledger" in s else "enrollment"].astype(float)
    out = pd.DataFrame({"primary": enr * (1 - share), "junior": enr * share})
    levels = s.set_index("school_id")["level"]
    out.loc[levels.isin(["primary", "teaching_point"]), "junior"] = 0.0
    out.loc[levels == "junior", "primary"] = 0.0
    return out


def _pairs(costs: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    c = costs.drop_duplicates(["from_id", "group", "to_id"])
    c = c.merge(groups[["demand_id", "group"]].rename(columns={"demand_id": "from_id"}),
                on=["from_id", "group"])
    return c.assign(part=c["group"].map(ca.PART_OF_GROUP),
                    cost_km=c["distance_m"].astype(float) / 1000.0).reset_index(drop=True)


def _flow_frame(pairs: pd.DataFrame, pupils: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame({
        "demand_id": pairs["from_id"].values, "group": pairs["group"].values,
        "school_id": pairs["to_id"].values, "pupils": pupils,
        "distance_m": pairs["distance_m"].values, "time_s": pairs["time_s"].values,
        "mode": pairs["mode"].values,
        "estimate": pairs["estimate"].values if "estimate" in pairs else False,
        "status": pairs["status"].values if "status" in pairs else None,
    })
    out["level"] = out["group"].map(ca.PART_OF_GROUP)
    out["method"] = "calibrated"
    return out[out["pupils"] > 1e-9][ca.ASSIGNMENT_COLUMNS].reset_index(drop=True)


def _scale(groups: pd.DataFrame, targets: pd.DataFrame) -> tuple[pd.Series, dict[str, dict[str, Any]]]:
    """Scale village children per part so that the county's total equals the ledger's."""
    origin = groups.set_index(["demand_id", "group"])["pupils"].astype(float)
    part = origin.index.get_level_values("group").map(ca.PART_OF_GROUP)
    scaled = origin.copy()
    info: dict[str, dict[str, Any]] = {}
    for p in ("primary", "junior"):
        children = float(origin[part == p].sum())
        ledger = float(np.nansum(targets[p].to_numpy(float)))
        factor = ledger / children if children > 0 and ledger > 0 else 1.0
        scaled[part == p] = origin[part == p] * factor
        key = "equal" if abs(factor - 1) < 0.005 else ("more_children" if factor < 1 else "fewer_children")
        info[p] = {"village_children": round(children, 1), "ledger_pupils": round(ledger, 1),
                   "factor": round(factor, 4), "reason_en": _REASON[key][0], "reason_zh": _REASON[key][1]}
    return scaled, info


def _fit_table(flows: pd.DataFrame, targets: pd.DataFrame, pairs: pd.DataFrame,
               band: float) -> pd.DataFrame:
    got = flows.groupby(["school_id", "level"])["pupils"].sum()
    reach = pairs.groupby(["to_id", "part"])["from_id"].nunique()
    rows = []
    for sid, r in targets.iterrows():
        for p in ("primary", "junior"):
            ledger = r[p]
            if not (pd.notna(ledger) and ledger > 0):
                continue
            m = float(got.get((sid, p), 0.0))
            ratio = m / ledger
            rows.append([sid, p, float(ledger), round(m, 1), round(ratio, 3), abs(ratio - 1) <= band,
                         int(reach.get((sid, p), 0))])
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def fit_model(costs: pd.DataFrame, groups: pd.DataFrame, schools: pd.DataFrame, *,
              decay_per_km: float | None = None, settings: Settings | None = None) -> Calibration:
    """Fit the doubly-constrained model to the ledger (no observed origins).

    Parameters
    ----------
    costs
        Candidate travel costs of the open schools (``from_id``, ``to_id``, ``group``,
        ``distance_m``, ``time_s``, ``mode``), as :func:`schoolplan.catchments.catchment_costs`.
    groups
        Children by village and grade group (:func:`schoolplan.catchments.demand_by_group`).
    schools
        The ledger (``school_id``, ``level``, ``enrollment``, grade columns).
    decay_per_km
        ``beta``; default ``calibration_decay_per_km``.
    """
    s = settings or Settings()
    beta = s["calibration_decay_per_km"] if decay_per_km is None else float(decay_per_km)
    targets = ledger_targets(schools)
    origin, info = _scale(groups, targets)
    pairs = _pairs(costs, groups)
    o_key = pd.MultiIndex.from_frame(pairs[["from_id", "group"]])
    o_pos = origin.index.get_indexer(o_key)
    d_index = pd.MultiIndex.from_frame(pairs[["to_id", "part"]].drop_duplicates())
    d_pos = d_index.get_indexer(pd.MultiIndex.from_frame(pairs[["to_id", "part"]]))
    d_tot = np.array([targets.at[sid, p] if sid in targets.index else np.nan for sid, p in d_index],
                     float)
    unknown = ~np.isfinite(d_tot)
    if unknown.any():  # enrolment unknown: not constrained, median attractiveness of its part
        parts = np.array([p for _, p in d_index])
        for p in ("primary", "junior"):
            known = d_tot[(parts == p) & ~unknown]
            d_tot[(parts == p) & unknown] = -(np.median(known) if len(known) else 1.0)
    free = d_tot < 0
    weight = np.abs(d_tot)
    res = balance_flows(o_pos, d_pos, pairs["cost_km"].to_numpy(),
                        origin.to_numpy(), np.where(free, np.nan, d_tot), decay_per_km=beta,
                        max_iterations=s["calibration_max_iterations"], tolerance=s["calibration_tolerance"],
                        free_weights=weight)
    attractiveness = pd.Series(res.column_factors * weight, index=d_index)
    flows = _flow_frame(pairs, res.flows)
    fit = _fit_table(flows, targets, pairs, s["calibration_band"])
    cal = Calibration("model", flows, fit, attractiveness, info, beta,
                      "setting calibration_decay_per_km", res.iterations, res.converged, origin)
    cal.summary = _summary(cal, s)
    return cal


def observed_flows(origins: pd.DataFrame, costs: pd.DataFrame, groups: pd.DataFrame,
                   schools: pd.DataFrame, *, settings: Settings | None = None,
                   file: str = "origins", problems: Problems | None = None) -> Calibration:
    """Today's assignment from observed origins (生源), and the model fitted to them.

    ``origins``: :func:`schoolplan.io.read_origins` (``demand_id``, ``school_id``, ``part``,
    ``pupils``, ``row``). Primary pupils are split into grades 1–3 and 4–6 by the village's
    children (else ``share_g1_3_of_primary``). Pairs beyond the travel costs' candidates are
    reported and kept with a straight estimate of their distance left blank. ``beta`` is fitted
    to the observed flows (:func:`fit_decay`).
    """
    s = settings or Settings()
    probs = problems if problems is not None else Problems()
    known_d = set(groups["demand_id"])
    level = schools.set_index("school_id")["level"]
    bad = origins[~origins["demand_id"].isin(known_d)]
    for r in bad.itertuples():
        probs.error("unknown_village", file, row=int(r.row), column="村庄代码", value=r.demand_id,
                    en=f"village '{r.demand_id}' is not in the villages input",
                    zh=f"村庄“{r.demand_id}”不在村庄数据中",
                    fix_en="use the village codes of the demand file", fix_zh="请使用村庄数据中的村庄代码")
    bad = origins[~origins["school_id"].isin(level.index)]
    for r in bad.itertuples():
        probs.error("unknown_school", file, row=int(r.row), column="学校代码", value=r.school_id,
                    en=f"school '{r.school_id}' is not in the school ledger",
                    zh=f"学校“{r.school_id}”不在学校台账中",
                    fix_en="use the school codes of the ledger", fix_zh="请使用学校台账中的学校代码")
    ok = origins[origins["demand_id"].isin(known_d) & origins["school_id"].isin(level.index)].copy()
    parts = []
    for r in ok.itertuples():
        p = r.part
        lv = level[r.school_id]
        if p is None:
            p = "junior" if lv == "junior" else "primary" if lv in ("primary", "teaching_point") else None
        if p is None or (not ca.serves(lv, "g1_3" if p == "primary" else "g7_9") and not (
                p == "primary" and lv == "teaching_point")):
            probs.error("origin_part", file, row=int(r.row), column="学段", value=r.part,
                        en=f"school '{r.school_id}' ({lv}) needs a 学段 (小学/初中) it teaches",
                        zh=f"学校“{r.school_id}”需填写其开设的学段（小学/初中）",
                        fix_en="add a 学段 column with 小学 or 初中", fix_zh="请增加“学段”列，填写小学或初中")
        parts.append(p)
    probs.raise_if_errors()
    ok["part"] = parts
    g = groups.set_index(["demand_id", "group"])["pupils"]
    rows = []
    share_default = s["share_g1_3_of_primary"]
    for r in ok.itertuples():
        if r.part == "junior":
            rows.append((r.demand_id, "g7_9", r.school_id, float(r.pupils)))
            continue
        g13, g46 = float(g.get((r.demand_id, "g1_3"), 0.0)), float(g.get((r.demand_id, "g4_6"), 0.0))
        share = g13 / (g13 + g46) if g13 + g46 > 0 else share_default
        if level[r.school_id] == "teaching_point":
            share = 1.0
        rows.append((r.demand_id, "g1_3", r.school_id, float(r.pupils) * share))
        if share < 1:
            rows.append((r.demand_id, "g4_6", r.school_id, float(r.pupils) * (1 - share)))
    obs = pd.DataFrame(rows, columns=["from_id", "group", "to_id", "pupils"])
    obs = obs.groupby(["from_id", "group", "to_id"], as_index=False)["pupils"].sum()
    obs = obs[obs["pupils"] > 0]
    cost_cols = ["from_id", "group", "to_id", "distance_m", "time_s", "mode", "estimate", "status"]
    c = costs.drop_duplicates(["from_id", "group", "to_id"])
    c = c.reindex(columns=cost_cols)
    obs = obs.merge(c, on=["from_id", "group", "to_id"], how="left")
    beyond = obs["distance_m"].isna()
    if beyond.any():
        probs.warning("origin_beyond_candidates", file, ids=sorted(set(obs.loc[beyond, "to_id"])),
                      en=f"{beyond.sum()} observed village-school pair(s) ({obs.loc[beyond, 'pupils'].sum():.0f} "
                         "pupils) are beyond the travel costs' candidate schools: kept, without a distance",
                      zh=f"{beyond.sum()} 条生源记录（{obs.loc[beyond, 'pupils'].sum():.0f} 人）"
                         "超出出行成本的候选学校范围：保留，但无距离",
                      fix_en="raise catchment_candidates or catchment_cutoff_m",
                      fix_zh="请增大 catchment_candidates 或 catchment_cutoff_m")
    obs_groups = obs.groupby(["from_id", "group"], as_index=False)["pupils"].sum().rename(
        columns={"from_id": "demand_id"})
    pairs = _pairs(costs, obs_groups)
    origin = obs_groups.set_index(["demand_id", "group"])["pupils"]
    o_pos_p = origin.index.get_indexer(pd.MultiIndex.from_frame(pairs[["from_id", "group"]]))
    d_index = pd.MultiIndex.from_frame(pairs[["to_id", "part"]].drop_duplicates())
    d_pos_p = d_index.get_indexer(pd.MultiIndex.from_frame(pairs[["to_id", "part"]]))
    within = obs[~beyond].assign(part=lambda d: d["group"].map(ca.PART_OF_GROUP))
    o_pos = origin.index.get_indexer(pd.MultiIndex.from_frame(within[["from_id", "group"]]))
    d_pos = d_index.get_indexer(pd.MultiIndex.from_frame(within[["to_id", "part"]]))
    keep = d_pos >= 0
    beta = fit_decay(within["distance_m"].to_numpy(float)[keep] / 1000, within["pupils"].to_numpy(float)[keep],
                     o_pos[keep], d_pos[keep], pairs["cost_km"].to_numpy(), o_pos_p, d_pos_p,
                     max_iterations=s["calibration_max_iterations"])
    d_tot = np.bincount(d_pos[keep], weights=within["pupils"].to_numpy(float)[keep], minlength=len(d_index))
    res = balance_flows(o_pos_p, d_pos_p, pairs["cost_km"].to_numpy(), origin.to_numpy(), d_tot,
                        decay_per_km=beta, max_iterations=s["calibration_max_iterations"],
                        tolerance=s["calibration_tolerance"])
    attractiveness = pd.Series(res.column_factors * d_tot, index=d_index)
    flows = obs.rename(columns={"from_id": "demand_id", "to_id": "school_id"}).assign(
        level=lambda d: d["group"].map(ca.PART_OF_GROUP), method="calibrated")
    flows["status"] = flows["status"].where(~beyond.to_numpy(), "observed_beyond_candidates")
    flows = flows[ca.ASSIGNMENT_COLUMNS].reset_index(drop=True)
    targets = ledger_targets(schools)
    fit = _fit_table(flows, targets, pairs, s["calibration_band"])
    ledger = targets.stack()
    observed = flows.groupby("level")["pupils"].sum()
    info = {}
    for p in ("primary", "junior"):
        lp = float(ledger[ledger.index.get_level_values(1) == p].sum())
        op = float(observed.get(p, 0.0))
        info[p] = {"village_children": round(op, 1), "ledger_pupils": round(lp, 1), "factor": 1.0,
                   "reason_en": "observed origins (生源) used as they are, not scaled",
                   "reason_zh": "按生源数据原样使用，未缩放"}
    cal = Calibration("observed", flows, fit, attractiveness, info, beta,
                      "fitted to 生源 by the mean trip length (Hyman 1969)", res.iterations,
                      res.converged, origin)
    cal.summary = _summary(cal, s)
    return cal


def _summary(cal: Calibration, s: Settings) -> dict[str, Any]:
    fit = cal.fit
    schools = fit.groupby("school_id")[["ledger", "modelled"]].sum()
    ratio = schools["modelled"] / schools["ledger"]
    within = (ratio - 1).abs() <= s["calibration_band"]
    return {
        "method": cal.method, "decay_per_km": round(cal.decay_per_km, 4), "decay_source": cal.decay_source,
        "iterations": cal.iterations, "converged": bool(cal.converged),
        "schools": len(schools), "schools_within_band": int(within.sum()),
        "share_within_band": round(float(within.mean()), 4) if len(schools) else None,
        "band": s["calibration_band"],
        "median_abs_error": round(float((ratio - 1).abs().median()), 4) if len(schools) else None,
        "scale": cal.scale,
    }


def flows_for_state(cal: Calibration, costs: pd.DataFrame, groups: pd.DataFrame,
                    schools: pd.DataFrame, *, merge_into: dict[str, Any] | None = None,
                    settings: Settings | None = None) -> pd.DataFrame:
    """The children's flows for a state of the schools (a scenario), by the calibrated model.

    Parameters
    ----------
    cal
        :func:`calibrate`.
    costs
        Candidate costs of the schools open in the state that teach each group
        (:func:`schoolplan.diagnosis.open_costs`).
    groups
        Children by village and grade group in the state's year: each village's children are
        scaled by the calibration's factor of its part.
    schools
        The state (``status``, ``level``, ``seats``).
    merge_into
        Closed school -> receiving school (or ``(school, groups)``), as in
        :func:`schoolplan.diagnosis.diagnose`.

    Returns
    -------
    pandas.DataFrame
        :data:`schoolplan.catchments.ASSIGNMENT_COLUMNS`, ``method`` ``calibrated``. With every
        school of today open and today's children, today's flows (observed or fitted).
    """
    s = settings or Settings()
    factor = {p: v["factor"] for p, v in cal.scale.items()}
    origin = groups.set_index(["demand_id", "group"])["pupils"].astype(float)
    part = origin.index.get_level_values("group").map(ca.PART_OF_GROUP)
    origin = origin * np.array([factor.get(p, 1.0) for p in part])
    pairs = _pairs(costs, groups)
    today = cal.flows
    serving = {g: set(pairs.loc[pairs["group"] == g, "to_id"]) for g in ca.GRADE_GROUPS}
    known = set(cal.attractiveness.index.get_level_values(0))
    unchanged = (cal.method == "observed" and not merge_into and all(
        set(today.loc[today["group"] == g, "school_id"]) <= serving[g] for g in ca.GRADE_GROUPS)
        and not (set().union(*serving.values()) - known))
    if unchanged:  # today's observed flows, scaled by each village's change of children
        ratio = (origin / cal.origin_totals.reindex(origin.index)).replace([np.inf], np.nan)
        key = pd.MultiIndex.from_frame(today[["demand_id", "group"]])
        return today.assign(pupils=today["pupils"].to_numpy() * ratio.reindex(key).fillna(1.0).to_numpy())
    w = _attractiveness(cal, pairs, schools)
    pupils = _production_constrained(pairs, origin, w, cal.decay_per_km)
    flows = _flow_frame(pairs, pupils)
    if merge_into or s["calibration_reassign"] == "nearest_with_seats":
        flows = _redirect(cal, flows, pairs, origin, schools, merge_into or {}, s)
    return flows


def _attractiveness(cal: Calibration, pairs: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    w = cal.attractiveness
    seats = ca.seats_by_part(schools.drop_duplicates("school_id"))
    per_seat = {}
    for p, col in (("primary", "seats_primary"), ("junior", "seats_junior")):
        wp = w[w.index.get_level_values(1) == p]
        sp = seats[col].reindex(wp.index.get_level_values(0)).to_numpy(float)
        ok = np.isfinite(sp) & (sp > 0)
        per_seat[p] = float(np.median(wp.to_numpy()[ok] / sp[ok])) if ok.any() else float(
            wp.median() if len(wp) else 1.0)
    key = pd.MultiIndex.from_frame(pairs[["to_id", "part"]])
    out = w.reindex(key).to_numpy(float).copy()
    missing = ~np.isfinite(out)
    if missing.any():
        for i in np.flatnonzero(missing):
            sid, p = key[i]
            st = seats[f"seats_{p}"].get(sid, np.nan)
            out[i] = per_seat[p] * (st if np.isfinite(st) and st > 0 else 1.0)
    return out


def _production_constrained(pairs: pd.DataFrame, origin: pd.Series, w: np.ndarray,
                            beta: float) -> np.ndarray:
    o_pos = origin.index.get_indexer(pd.MultiIndex.from_frame(pairs[["from_id", "group"]]))
    u = w * np.exp(-beta * pairs["cost_km"].to_numpy())
    row = np.bincount(o_pos, weights=u, minlength=len(origin))
    return np.divide(u, row[o_pos], out=np.zeros(len(u)), where=row[o_pos] > 0) * origin.to_numpy()[o_pos]


def _redirect(cal: Calibration, flows: pd.DataFrame, pairs: pd.DataFrame, origin: pd.Series,
              schools: pd.DataFrame, merge_into: dict[str, Any], s: Settings) -> pd.DataFrame:
    """Pupils whose school of today is closed in the state: to the receiving school of a merge,
    or (``nearest_with_seats``) to the nearest open school with free seats."""
    today = cal.flows
    open_now = set(pairs["to_id"])
    gone = today[~today["school_id"].isin(open_now)]
    if gone.empty:
        return flows
    # look-ups built once (O(pairs)); a pandas look-up per closed trip, and a filter of every
    # pair per trip for ``nearest_with_seats``, made a prefecture's layout cost seconds
    f_id, g_id, t_id = (pairs[c].to_numpy(object) for c in ("from_id", "group", "to_id"))
    first_of: dict[tuple, int] = {}
    for i, k in enumerate(zip(f_id, g_id, t_id, strict=True)):
        first_of.setdefault(k, i)
    cand_of = pairs.groupby(["from_id", "group"], sort=False).indices
    dist, time_s = pairs["distance_m"].to_numpy(float), pairs["time_s"].to_numpy(float)
    mode = pairs["mode"].to_numpy(object)
    estimate = (pairs["estimate"].to_numpy(object) if "estimate" in pairs
                else np.zeros(len(pairs), dtype=bool))
    now_of = dict(zip(origin.index, origin.to_numpy(float), strict=True))
    was_of = dict(zip(cal.origin_totals.index, cal.origin_totals.to_numpy(float), strict=True))
    moved = []
    lost: dict[tuple[str, str], float] = {}
    seats = ca.seats_by_part(schools[schools["status"] != "closed"].drop_duplicates("school_id"))
    cap_of = {p: seats[f"seats_{p}"].to_dict() for p in ("primary", "junior")}
    load = flows.groupby(["school_id", "level"])["pupils"].sum().to_dict()
    for r in gone.sort_values("distance_m").itertuples():
        target = merge_into.get(r.school_id)
        if isinstance(target, tuple):
            target, only = target
            if r.group not in only:
                target = None
        part = ca.PART_OF_GROUP[r.group]
        now = float(now_of.get((r.demand_id, r.group), 0.0))
        was = float(was_of.get((r.demand_id, r.group), 0.0))
        pupils = float(r.pupils) * (now / was if was > 0 else 1.0)
        if target is None and s["calibration_reassign"] == "nearest_with_seats":
            pos = cand_of.get((r.demand_id, r.group), np.array([], dtype=np.int64))
            pos = pos[np.argsort(dist[pos], kind="quicksort")]  # as sort_values("distance_m")
            for to in t_id[pos]:
                cap = cap_of[part].get(to, np.nan)
                if not np.isfinite(cap) or load.get((to, part), 0.0) + pupils <= cap:
                    target = to
                    break
            if target is None and len(pos):
                target = t_id[pos[0]]
        at = first_of.get((r.demand_id, r.group, target)) if target is not None else None
        if at is None:
            continue
        lost[(r.demand_id, r.group)] = lost.get((r.demand_id, r.group), 0.0) + pupils
        load[(target, part)] = load.get((target, part), 0.0) + pupils
        moved.append({"demand_id": r.demand_id, "group": r.group, "school_id": target, "pupils": pupils,
                      "distance_m": dist[at], "time_s": time_s[at], "mode": mode[at],
                      "estimate": estimate[at], "status": "merged", "level": part,
                      "method": "calibrated"})
    if not moved:
        return flows
    # the redirected pupils leave the model's share of their village's other schools
    out = flows.copy()
    key = list(zip(out["demand_id"], out["group"], strict=True))
    tot = out.groupby(["demand_id", "group"])["pupils"].transform("sum").to_numpy()
    take = np.array([lost.get(k, 0.0) for k in key])
    keep = np.divide(tot - take, tot, out=np.ones(len(tot)), where=tot > 0).clip(min=0)
    out["pupils"] = out["pupils"].to_numpy() * keep
    return pd.concat([out, pd.DataFrame(moved)[ca.ASSIGNMENT_COLUMNS]], ignore_index=True)


def calibrate(base: Base, costs: pd.DataFrame) -> Calibration:
    """Today's calibrated assignment of a base, computed once and kept in ``base.cache``.

    ``costs``: the candidate costs of today's schools (all open). Uses the scenario's
    ``origins`` input (生源) when given, else :func:`fit_model`. Children are today's
    (``pupils_primary_base`` when a ``year:`` scenario projected them).
    """
    key = f"calibration beta={base.settings['calibration_decay_per_km']}"
    if key in base.cache:
        return base.cache[key]
    inputs = base.inputs
    demand = inputs.demand
    if demand is None:
        raise SchoolplanError("calibration needs villages (the demand input)")
    cols = {c: demand[f"{c}_base"] if f"{c}_base" in demand else demand[c]
            for c in ("pupils_primary", "pupils_junior")}
    today = demand.assign(**cols)
    groups = ca.demand_by_group(today, base.settings)
    spec = base.scenario.inputs.get("origins")
    if spec is not None:
        origins = read_origins(spec.path, **spec.reader_kwargs())
        cal = observed_flows(origins, costs, groups, inputs.schools, settings=base.settings,
                             file=str(spec.path), problems=inputs.problems)
    else:
        cal = fit_model(costs, groups, inputs.schools, settings=base.settings)
    logger.info("calibration (%s): %d of %d schools within +-%.0f %% of the ledger, beta %.3f/km",
                cal.method, cal.summary["schools_within_band"], cal.summary["schools"],
                100 * base.settings["calibration_band"], cal.decay_per_km)
    base.cache[key] = cal
    return cal
