"""Rules a planner steers the optimiser with (issue 14 item 5), shared by the exact model and
the heuristic: which candidate pairs are allowed, and the presets.

Limits on the candidate pairs (:func:`allowed_pairs`):

* a **time cap per grade group** (``max_time_s``: ``{"g1_3": 1800, "g4_6": 2400}``; grades 1–3
  default to the setting ``walk_limit_g1_3_min``): a pair longer than its group's cap is not
  allowed;
* a limit on the **added travel per pupil** (``max_added_time_s``) against today's assignment
  (``baseline_time_s``, seconds per village and grade group, from
  :func:`schoolplan.diagnosis.today_assignment`): a pair longer than today's trip plus the limit is
  not allowed.

A village group that no layout can bring within a limit, even with every school open, is exempt
from that limit (listed in the model's ``exemptions`` with the reason): no layout can help it.

Presets (:func:`close_under`, :func:`village_clusters`):

* ``close_only_under``: only schools with fewer pupils than ``optimise_close_only_under``
  (default 50) may close; every other school is kept;
* ``keep_one_per_cluster``: villages of the same town lying within ``optimise_cluster_link_m`` of
  each other (straight line, chained: single linkage) form a cluster; a school belongs to the
  cluster that sends it most of its grade 1–3 pupils today; every cluster keeps at least one of
  its schools open (``keep_one_of`` lists of :meth:`LocationModel.solve`).

Cost: the limits O(P) over the P candidate pairs (plus O(P log P) for the exemption report); the
clusters O(V log V) for V villages (a k-d tree and connected components).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from schoolplan.optimize.model import LocationModel

__all__ = ["allowed_pairs", "baseline_by_group", "close_under", "village_clusters"]

_GROUP_LABEL = {"g1_3": "grades 1–3", "g4_6": "grades 4–6", "g7_9": "grades 7–9"}
_JUNIOR_LEVELS = ("junior", "nine_year", "complete")


def _exempt(model: LocationModel, over: np.ndarray, applies: np.ndarray) -> np.ndarray:
    """Village groups (by row) with pairs where ``applies``, none of them within the limit."""
    pr, n_k = model.pairs, len(model.demand)
    k = pr["k"].to_numpy()
    has = np.bincount(k[applies], minlength=n_k) > 0
    reach = np.bincount(k[applies & ~over], minlength=n_k) > 0
    return has & ~reach


def allowed_pairs(model: LocationModel, limits: Mapping[str, float], close: set,
                  max_added_time_s: float | None = None,
                  baseline_k: np.ndarray | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Mask of the usable pairs of ``model``, and the objects a rule could not apply to."""
    pr, dem, sch = model.pairs, model.demand, model.schools
    k = pr["k"].to_numpy()
    t = pr["time_s"].to_numpy(float)
    group_k = dem["group"].to_numpy()
    rows: list[tuple[str, Any, str]] = []
    allowed = np.ones(len(pr), dtype=bool)
    for g, limit in limits.items():
        if limit is None or not np.isfinite(limit):
            continue
        applies = group_k[k] == g
        over = applies & (t > limit)
        out = _exempt(model, over, applies)
        hit = np.flatnonzero(out)
        best = pd.Series(t[np.isin(k, hit)]).groupby(k[np.isin(k, hit)]).min() if len(hit) else {}
        for kk in hit:
            label = _GROUP_LABEL[g]
            rows.append((f"{g}_time_limit", dem.at[kk, "demand_id"],
                         f"nearest school teaching {label} is {best[kk] / 60:.0f} min away (limit "
                         f"{limit / 60:.0f} min) even with every school open: needs a bus or "
                         "boarding; the limit is not applied"))
        allowed &= ~(over & ~out[k])
    if max_added_time_s is not None and np.isfinite(max_added_time_s) and baseline_k is not None:
        base = baseline_k[k]
        applies = np.isfinite(base)
        over = applies & (t > base + max_added_time_s)
        out = _exempt(model, over, applies)
        for kk in np.flatnonzero(out):
            rows.append(("added_time_limit", dem.at[kk, "demand_id"],
                         f"{_GROUP_LABEL[group_k[kk]]}: no school within {max_added_time_s / 60:.0f} "
                         f"min of today's {baseline_k[kk] / 60:.0f} min trip; the limit is not applied"))
        allowed &= ~(over & ~out[k])
    allowed &= ~np.isin(sch.index.to_numpy()[pr["j"].to_numpy()], list(close))
    has_pair = np.bincount(k, minlength=len(dem)) > 0
    for kk in np.flatnonzero(~has_pair):
        rows.append(("no_candidate", dem.at[kk, "demand_id"],
                     f"{_GROUP_LABEL[group_k[kk]]}: no school within the cut-off in the cost "
                     "table; not assigned"))
    junior_towns = set(sch.loc[sch["level"].isin(_JUNIOR_LEVELS), "town_code"])
    for town in model.towns:
        if town not in junior_towns:
            rows.append(("junior_school_per_town", town,
                         "no school teaching grades 7–9 in the town at all; the rule is not applied"))
    return allowed, pd.DataFrame(rows, columns=["rule", "object_id", "detail"])


def baseline_by_group(today: pd.DataFrame) -> pd.Series:
    """Today's trip (seconds) per (village, grade group): the pupil-weighted mean time of its rows
    in today's assignment (a village group split over schools has several). O(rows)."""
    a = today[today["school_id"].notna() & today["time_s"].notna()]
    w = a["pupils"].astype(float).clip(lower=1e-9)
    num = (a["time_s"].astype(float) * w).groupby([a["demand_id"], a["group"]]).sum()
    den = w.groupby([a["demand_id"], a["group"]]).sum()
    return num / den


def close_under(schools: pd.DataFrame, under: float) -> list[Any]:
    """The school ids that must stay open when only schools under ``under`` pupils may close."""
    pupils = pd.to_numeric(schools["enrollment"], errors="coerce")
    return schools.loc[~(pupils < under), "school_id"].tolist()


def village_clusters(villages: pd.DataFrame, link_m: float) -> pd.Series:
    """Cluster number of each village (index as ``villages``): villages of the same town within
    ``link_m`` of each other, chained (single linkage), by straight line on ``x``/``y`` metres.
    O(V log V + pairs within the link)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xy = villages[["x", "y"]].to_numpy(float)
    n = len(xy)
    if n == 0:
        return pd.Series([], dtype=int)
    pairs = cKDTree(xy).query_pairs(float(link_m), output_type="ndarray")
    town = villages["town_code"].astype(str).to_numpy()
    same = town[pairs[:, 0]] == town[pairs[:, 1]] if len(pairs) else np.zeros(0, bool)
    p = pairs[same]
    graph = coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels, index=villages.index)


def cluster_keep_lists(clusters: pd.Series, today: pd.DataFrame, open_ids: set) -> list[list[Any]]:
    """For each cluster, the open schools that belong to it (the cluster sending them most of
    their grade 1–3 pupils today): each list must keep one school open. ``clusters`` is indexed
    by village id. O(rows of ``today``)."""
    a = today[(today["group"] == "g1_3") & today["school_id"].notna()
              & today["school_id"].isin(open_ids)]
    a = a.assign(cluster=a["demand_id"].map(clusters))
    a = a[a["cluster"].notna()]
    by = a.groupby(["school_id", "cluster"])["pupils"].sum().reset_index()
    top = by.sort_values(["school_id", "pupils", "cluster"], ascending=[True, False, True],
                         kind="stable").drop_duplicates("school_id")
    lists = top.groupby("cluster")["school_id"].agg(lambda s: sorted(s, key=str))
    return [list(v) for v in lists.tolist() if len(v)]
