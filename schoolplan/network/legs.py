"""The virtual split of the edge a point is snapped to: its legs to the edge's end nodes.

A point joined to an edge (:func:`schoolplan.network.snap`) at ``t`` (0 at node ``a``, 1 at
node ``b``) reaches ``b`` by its snap leg plus ``(1 - t)`` of the edge ``a -> b`` and ``a`` by
its snap leg plus ``t`` of the edge ``b -> a``; a one-way edge only one way. Its cost from a
node is the mirror image. Two points on one edge also reach each other along it directly.
Every function is linear (or ``n log n``) in the points, on plain arrays: the travel model
(:mod:`schoolplan.travel`) adds the node-to-node shortest paths in between.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SNAP_EDGE_COLUMNS", "best_per_pair", "end_legs", "same_edge_pairs"]

#: Columns of a snapped frame the legs are computed from (and the travel cache keys on).
SNAP_EDGE_COLUMNS = ("node_a", "node_b", "edge_ab", "edge_ba", "t", "snap_distance_m")


def _arrays(snapped: pd.DataFrame):
    return (snapped["node_a"].to_numpy(np.int64), snapped["node_b"].to_numpy(np.int64),
            snapped["edge_ab"].to_numpy(np.int64), snapped["edge_ba"].to_numpy(np.int64),
            snapped["t"].to_numpy(np.float64), snapped["snap_distance_m"].to_numpy(np.float64))


def end_legs(
    snapped: pd.DataFrame,
    weight: np.ndarray,
    length_m: np.ndarray,
    snap_cost: np.ndarray,
    *,
    inbound: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Legs between each snapped point and the end nodes of its edge.

    ``weight`` is the per-edge cost of the pass (metres or seconds), ``length_m`` the edge
    length, ``snap_cost`` the cost of each point's snap leg in the unit of ``weight``. Outbound
    (``inbound=False``) legs go from the point to a node, inbound ones from a node to the point.
    Returns ``(point, node, cost, distance_m)``, one row per usable leg (one or two per point).
    """
    a, b, ab, ba, t, snap_m = _arrays(snapped)
    lone = a == b
    # towards b along a -> b (outbound) / from a along a -> b (inbound); likewise for b -> a
    frac_ab = t if inbound else 1.0 - t
    frac_ba = 1.0 - t if inbound else t
    node_ab = a if inbound else b
    node_ba = b if inbound else a
    pts, nodes, costs, dists = [], [], [], []
    for edge, frac, node in ((ab, frac_ab, node_ab), (ba, frac_ba, node_ba)):  # each way along it
        use = ~lone & (edge >= 0)
        e = edge[use]
        pts.append(np.flatnonzero(use))
        nodes.append(node[use])
        costs.append(snap_cost[use] + frac[use] * weight[e])
        dists.append(snap_m[use] + frac[use] * length_m[e])
    pts.append(np.flatnonzero(lone))
    nodes.append(a[lone])
    costs.append(snap_cost[lone])
    dists.append(snap_m[lone])
    return (np.concatenate(pts).astype(np.int64), np.concatenate(nodes).astype(np.int64),
            np.concatenate(costs).astype(np.float64), np.concatenate(dists).astype(np.float64))


def same_edge_pairs(
    o_snap: pd.DataFrame,
    d_snap: pd.DataFrame,
    weight: np.ndarray,
    length_m: np.ndarray,
    o_snap_cost: np.ndarray,
    d_snap_cost: np.ndarray,
    n_nodes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin-destination pairs joined to one edge, travelling along it between them.

    From ``t_o`` to ``t_d >= t_o`` along ``a -> b``, else along ``b -> a`` (where that edge
    exists). Returns ``(oi, di, cost, distance_m)``; ``O(n log n + pairs)``.
    """
    oa, ob, oab, oba, ot, om = _arrays(o_snap)
    da, db, _, _, dt, dm = _arrays(d_snap)
    o_key = np.where(oa != ob, oa * n_nodes + ob, -1)
    d_key = np.where(da != db, da * n_nodes + db, -2)
    order = np.argsort(d_key, kind="stable")
    sorted_keys = d_key[order]
    lo = np.searchsorted(sorted_keys, o_key, side="left")
    hi = np.searchsorted(sorted_keys, o_key, side="right")
    count = hi - lo
    oi = np.repeat(np.arange(len(oa)), count)
    offs = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    di = order[np.repeat(lo, count) + offs]
    forward = dt[di] >= ot[oi]
    edge = np.where(forward, oab[oi], oba[oi])
    ok = edge >= 0
    oi, di, edge, forward = oi[ok], di[ok], edge[ok], forward[ok]
    frac = np.abs(dt[di] - ot[oi])
    cost = o_snap_cost[oi] + frac * weight[edge] + d_snap_cost[di]
    dist = om[oi] + frac * length_m[edge] + dm[di]
    return oi.astype(np.int64), di.astype(np.int64), cost, dist


def best_per_pair(oi: np.ndarray, di: np.ndarray, cost: np.ndarray, *others: np.ndarray):
    """Keep the cheapest row of every ``(oi, di)`` pair, ordered by ``oi`` then ``di``.

    Returns ``(oi, di, cost, *others)`` of the kept rows; ``O(n log n)``.
    """
    order = np.lexsort((cost, di, oi))
    oi, di = oi[order], di[order]
    first = np.ones(len(oi), dtype=bool)
    first[1:] = (oi[1:] != oi[:-1]) | (di[1:] != di[:-1])
    keep = order[first]
    return (oi[first], di[first], cost[keep], *(x[keep] for x in others))
