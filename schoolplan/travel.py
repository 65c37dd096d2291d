"""Travel costs between demand points and schools on a road network, by mode.

Outputs are long tables (r5py's layout): one row per origin–destination pair with ``from_id``,
``to_id``, ``distance_m`` (metres), ``time_s`` (seconds), ``mode``, plus ``estimate`` (True when
no road network was used) and ``status``.

How distances are counted
-------------------------
* Each point is joined to the nearest point of the nearest edge of the network's main
  component (:func:`schoolplan.network.snap`) and that edge is split there virtually: the point
  reaches the edge's end nodes by its straight snap leg plus the part of the edge on each side
  (a one-way edge only in its direction), and two points on one edge reach each other along it
  (:mod:`schoolplan.network.legs`). The snap legs are **added** to the road distance and
  travelled at the mode's speed (walking speed ``walk_speed_g4_9_mps`` for the ``bus`` mode:
  the walk to and from the road).
* ``status`` is ``"ok"``, ``"too_far"`` (an end lies farther than ``max_snap_distance_m`` from
  any road; the distance is still computed with the long snap leg, so it is never silently short),
  ``"off_main_component"`` (the nearest road of an end is cut off from the rest of the network;
  the end was joined to the main network instead), or ``"estimate"``.
* Walking (grades 1–3 and 4–9) and cycling take the shortest path; time is distance / speed.
* ``bus`` takes the **fastest** path: edge speed is the OSM ``maxspeed`` when present, else the
  ``bus_speed_kph_by_road_class`` setting for the edge's class; ``distance_m`` is the length of
  that fastest path (summed exactly along its shortest-path tree), ``time_s`` its time.
* Without a network (``network=None``): straight-line distance × ``circuity_factor``,
  ``estimate=True`` and ``status="estimate"`` on every row.

Engine: ``scipy.sparse.csgraph.dijkstra`` on the network's CSR arrays, run from whichever side
has fewer distinct nodes (on the reversed graph when running from schools of a one-way network),
sources in batches, optionally split over processes (scipy holds the GIL, so threads do not help).
Nearest school for every demand point is **one** Dijkstra run from a virtual node joined to the
end nodes of every school's edge by its legs, so the school's own snap leg takes part in
choosing it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from schoolplan._reassign import Reassigner
from schoolplan.cache import cached_arrays, content_digest
from schoolplan.coords import metric_crs_for
from schoolplan.errors import NetworkError
from schoolplan.network import NetworkMode, RoadNetwork, point_coordinates, snap_xy
from schoolplan.network.graph import dijkstra_pairs, edge_keys, tree_sums
from schoolplan.network.legs import SNAP_EDGE_COLUMNS, best_per_pair, end_legs, same_edge_pairs
from schoolplan.network.snapping import network_digest
from schoolplan.settings import Settings

__all__ = [
    "TRAVEL_MODES",
    "PairCosts",
    "Reassigner",
    "TravelMode",
    "edge_speed_kph",
    "mode_speed_mps",
    "nearest",
    "network_digest",
    "network_mode",
    "pair_costs",
    "resolve_workers",
    "straight_line_costs",
    "travel_costs",
]

logger = logging.getLogger(__name__)

TravelMode = Literal["walk_g1_3", "walk_g4_9", "bicycle", "bus"]
TRAVEL_MODES: tuple[str, ...] = get_args(TravelMode)
_COLUMNS = ["from_id", "to_id", "distance_m", "time_s", "mode", "estimate", "status",
            "from_snap_m", "to_snap_m"]


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings()


def _check_mode(mode: str) -> None:
    if mode not in TRAVEL_MODES:
        raise NetworkError(f"`mode` was {mode!r} but is expected to be in {list(TRAVEL_MODES)}")


def network_mode(travel_mode: str) -> NetworkMode:
    """The road network a travel mode uses: ``drive`` for ``bus``, else ``walk``."""
    return "drive" if travel_mode == "bus" else "walk"


def mode_speed_mps(mode: TravelMode, *, settings: Settings | None = None) -> float:
    """Speed in m/s of the walking or cycling ``mode``, or of the snap legs of ``bus`` (walking)."""
    _check_mode(mode)
    s = _settings(settings)
    if mode == "walk_g1_3":
        return float(s["walk_speed_g1_3_mps"])
    if mode == "bicycle":
        return float(s["bicycle_speed_kph"]) / 3.6
    return float(s["walk_speed_g4_9_mps"])


def _class_speed(classes: Sequence[str], table: dict[str, float]) -> np.ndarray:
    other = float(table.get("other", 25.0))
    out = []
    for c in classes:
        base = c.removesuffix("_link")
        out.append(float(table.get(c, table.get(base, other))))
    return np.asarray(out, dtype=np.float64)


def edge_speed_kph(network: RoadNetwork, *, settings: Settings | None = None) -> np.ndarray:
    """School-bus speed of every edge in km/h: OSM ``maxspeed`` where given, else by road class.

    Classes come from the ``bus_speed_kph_by_road_class`` setting (``*_link`` roads take their
    road's speed; unknown classes the ``other`` speed).
    """
    table = _settings(settings)["bus_speed_kph_by_road_class"]
    by_class = _class_speed(network.highway_classes, table)[network.highway_code]
    posted = np.asarray(network.maxspeed_kph, dtype=np.float64)
    speed = np.where(np.isfinite(posted) & (posted > 0), posted, by_class)
    # the bus does not go faster than the class speed allows either way round: keep posted speed
    return speed


# ---------------------------------------------------------------------------------------------
# graph preparation
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Prepared:
    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray  # metres (walk/bicycle) or seconds (bus)
    second: np.ndarray | None  # metres along the time-optimal path (bus)
    xy: tuple[np.ndarray, np.ndarray] | None = None
    radius_m: float = np.inf  # no path within the search limit leaves this disc


def _search_radius_m(network: RoadNetwork, limit: float, mode: str, settings: Settings) -> float:
    """Straight-line radius (metres) that no path within ``limit`` can leave, or ``inf``.

    Road length is at least the straight line between an edge's nodes times ``r`` (the smallest
    ratio over the network's edges; 1 for planar lengths, ~0.997 for great-circle lengths in
    UTM), so a path of length ``L`` stays within ``L / r`` of its start.
    """
    if not np.isfinite(limit):
        return np.inf
    src = network.edge_source
    chord = np.hypot(network.x[src] - network.x[network.indices],
                     network.y[src] - network.y[network.indices])
    ok = chord > 0
    ratio = float(np.min(network.length_m[ok] / chord[ok])) if ok.any() else 1.0
    if ratio < 0.05:
        return np.inf
    reach_m = limit
    if mode == "bus":
        reach_m = limit * float(edge_speed_kph(network, settings=settings).max()) / 3.6
    return reach_m / min(ratio, 1.0) * (1 + 1e-9) + 1.0


def _prepare(network: RoadNetwork, mode: str, settings: Settings, *, reverse: bool) -> _Prepared:
    if mode == "bus":
        weight = network.length_m / (edge_speed_kph(network, settings=settings) / 3.6)
        second: np.ndarray | None = network.length_m
    else:
        weight, second = network.length_m, None
    if not reverse or network.symmetric:
        return _Prepared(network.indptr, network.indices, weight, second)
    n = network.n_nodes
    tag = csr_matrix((np.arange(1, network.n_edges + 1, dtype=np.float64), network.indices,
                      network.indptr), shape=(n, n)).T.tocsr()
    tag.sort_indices()
    perm = tag.data.astype(np.int64) - 1
    return _Prepared(tag.indptr, tag.indices, weight[perm],
                     None if second is None else second[perm])


# ---------------------------------------------------------------------------------------------
# many-to-many
# ---------------------------------------------------------------------------------------------
def _worker_rows(args):  # pragma: no cover - runs in a child process
    prep, sources, targets, limit, batch = args
    return _rows(prep, sources, targets, limit=limit, batch=batch, workers=1)


def _rows(prep: _Prepared, sources, targets, *, limit, batch, workers):
    """Reached ``(source_pos, target_pos, cost, second)`` pairs, optionally over processes."""
    if workers > 1 and len(sources) >= 4 * workers:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        chunks = np.array_split(np.asarray(sources), workers)
        offsets = np.cumsum([0] + [len(c) for c in chunks[:-1]])
        ctx = mp.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            parts = list(ex.map(_worker_rows,
                                [(prep, c, targets, limit, batch) for c in chunks]))
        return (
            np.concatenate([p[0] + off for p, off in zip(parts, offsets, strict=True)]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            None if prep.second is None else np.concatenate([p[3] for p in parts]),
        )
    return dijkstra_pairs(prep.indptr, prep.indices, prep.weight, sources, targets, limit=limit,
                          batch_size=batch, second=prep.second, xy=prep.xy,
                          radius_m=prep.radius_m)


def _expand(pair_group: np.ndarray, group_of_point: np.ndarray, n_groups: int):
    """Expand pairs over groups into pairs over the points of each group.

    Returns ``(pair_index, point_index)``: one entry per (pair, point of the pair's group).
    """
    order = np.argsort(group_of_point, kind="stable")
    count = np.bincount(group_of_point, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    c = count[pair_group]
    pair = np.repeat(np.arange(len(pair_group)), c)
    offs = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
    return pair, order[start[pair_group][pair] + offs]


def _status(o_snap: pd.DataFrame, d_snap: pd.DataFrame, oi: np.ndarray, di: np.ndarray
            ) -> np.ndarray:
    far = o_snap["too_far"].to_numpy()[oi] | d_snap["too_far"].to_numpy()[di]
    off = (o_snap["off_main_component"].to_numpy()[oi]
           | d_snap["off_main_component"].to_numpy()[di])
    out = np.full(len(oi), "ok", dtype=object)
    out[off] = "off_main_component"
    out[far] = "too_far"
    return out


_SNAP_COLUMNS = {*SNAP_EDGE_COLUMNS, "too_far", "off_main_component"}


def _is_snapped(points: Any) -> bool:
    import geopandas as gpd

    return (isinstance(points, pd.DataFrame) and not isinstance(points, gpd.GeoDataFrame)
            and set(points.columns) >= _SNAP_COLUMNS)


def _snap_both(network, origins, destinations, origin_id, destination_id, settings):
    """Snap origins and destinations with one KD-tree; pre-snapped frames are used as they are."""
    parts, todo = [], []
    for pts, col, what in ((origins, origin_id, "origins"),
                           (destinations, destination_id, "destinations")):
        if _is_snapped(pts):
            parts.append(pts)
        else:
            ids, xy = point_coordinates(pts, network.crs, id_column=col, what=what)
            parts.append((ids, xy))
            todo.append(len(parts) - 1)
    if todo:
        xy = np.vstack([parts[i][1] for i in todo])
        snapped = snap_xy(network, xy, None, settings=settings)
        start = 0
        for i in todo:
            ids, pxy = parts[i]
            frame = snapped.iloc[start:start + len(pxy)].copy()
            frame.index = ids
            parts[i] = frame
            start += len(pxy)
    return parts[0], parts[1]


def travel_costs(
    network: RoadNetwork | None,
    origins: Any,
    destinations: Any,
    *,
    mode: TravelMode = "walk_g4_9",
    origin_id: str | None = None,
    destination_id: str | None = None,
    cutoff_m: float | None = None,
    cutoff_s: float | None = None,
    k: int | None = None,
    settings: Settings | None = None,
    batch_size: int = 16,
    workers: int = 1,
) -> pd.DataFrame:
    """Travel costs from every origin (demand point) to every destination (school), long format.

    Parameters
    ----------
    network
        The road network, or ``None`` for straight-line estimates (:func:`straight_line_costs`).
    origins, destinations
        GeoDataFrames in any CRS (reprojected to the network's; refused without a CRS),
        ``n x 2`` arrays of metric coordinates in the network's CRS, or frames returned by
        :func:`schoolplan.network.snap` (snap once, reuse for every mode and scenario).
    mode
        ``"walk_g1_3"``, ``"walk_g4_9"``, ``"bicycle"`` or ``"bus"`` (see the module notes).
    origin_id, destination_id
        Id columns (default: the index).
    cutoff_m, cutoff_s
        Keep pairs with ``distance_m <= cutoff_m`` and ``time_s <= cutoff_s`` (both include the
        snap legs). The search stops at the cut-off, which is what makes it fast.
    k
        Keep each origin's ``k`` nearest destinations (by ``time_s`` for ``bus``, else by
        ``distance_m``) within the cut-offs.
    settings
        Speeds, ``max_snap_distance_m``, ``circuity_factor``.
    batch_size
        Sources per Dijkstra call (each returns ``batch_size x n_nodes`` float64).
    workers
        Processes to split the sources over (2 on a 2-core machine halves the time for large
        runs; 1 = in this process).

    Returns
    -------
    pandas.DataFrame
        ``from_id``, ``to_id``, ``distance_m``, ``time_s``, ``mode``, ``estimate``, ``status``,
        ``from_snap_m``, ``to_snap_m``; sorted by origin then cost. Pairs beyond the cut-offs are
        left out; an origin with no destination within them has no row.
    """
    _check_mode(mode)
    s = _settings(settings)
    if network is None:
        return straight_line_costs(origins, destinations, mode=mode, origin_id=origin_id,
                                   destination_id=destination_id, cutoff_m=cutoff_m,
                                   cutoff_s=cutoff_s, k=k, settings=s)
    o_snap, d_snap = _snap_both(network, origins, destinations, origin_id, destination_id, s)
    oi, di, dist, time = _snapped_pairs(network, o_snap, d_snap, mode=mode, cutoff_m=cutoff_m,
                                        cutoff_s=cutoff_s, settings=s, batch_size=batch_size,
                                        workers=workers)
    return _long(oi, di, dist, time, o_snap, d_snap, mode=mode, cutoff_m=cutoff_m, cutoff_s=cutoff_s,
                 k=k, estimate=False)


def _snapped_pairs(network, o_snap, d_snap, *, mode, cutoff_m, cutoff_s, settings, batch_size,
                    workers):
    """Reached origin/destination point pairs ``(oi, di, distance_m, time_s)`` incl. snap legs."""
    speed = mode_speed_mps(mode, settings=settings)
    weight = _edge_weights(network, mode, settings)
    o_snapc, d_snapc = _snap_costs(o_snap, mode, speed), _snap_costs(d_snap, mode, speed)
    o_pt, o_node, o_cost, o_dist = end_legs(o_snap, weight, network.length_m, o_snapc,
                                            inbound=False)
    d_pt, d_node, d_cost, d_dist = end_legs(d_snap, weight, network.length_m, d_snapc,
                                            inbound=True)
    uo, o_inv = np.unique(o_node, return_inverse=True)
    ud, d_inv = np.unique(d_node, return_inverse=True)
    if mode == "bus":
        speeds = edge_speed_kph(network, settings=settings) / 3.6
        limit = np.inf
        if cutoff_s is not None:
            limit = float(cutoff_s)
        if cutoff_m is not None:  # a path of length <= cutoff_m takes at most cutoff_m / v_min
            limit = min(limit, float(cutoff_m) / float(speeds.min()))
    else:
        limit = np.inf
        if cutoff_m is not None:
            limit = float(cutoff_m)
        if cutoff_s is not None:
            limit = min(limit, float(cutoff_s) * speed)
    from_dest = len(ud) < len(uo)
    prep = _prepare(network, mode, settings, reverse=from_dest)
    radius = _search_radius_m(network, limit, mode, settings)
    if np.isfinite(radius):
        prep = _Prepared(prep.indptr, prep.indices, prep.weight, prep.second,
                         (network.x, network.y), radius)
    if from_dest:
        pd_, po_, cost, second = _rows(prep, ud, uo, limit=limit, batch=batch_size,
                                       workers=workers)
    else:
        po_, pd_, cost, second = _rows(prep, uo, ud, limit=limit, batch=batch_size,
                                       workers=workers)
    along = cost if second is None else second
    # node pairs -> leg pairs (several legs may share a node) -> point pairs, cheapest kept
    pair, ol = _expand(po_, o_inv.ravel(), len(uo))
    pair2, dl = _expand(pd_[pair], d_inv.ravel(), len(ud))
    pair, ol = pair[pair2], ol[pair2]
    s_oi, s_di, s_cost, s_dist = same_edge_pairs(o_snap, d_snap, weight, network.length_m,
                                                 o_snapc, d_snapc, network.n_nodes)
    oi = np.concatenate([o_pt[ol], s_oi])
    di = np.concatenate([d_pt[dl], s_di])
    total = np.concatenate([o_cost[ol] + cost[pair] + d_cost[dl], s_cost])
    dist = np.concatenate([o_dist[ol] + along[pair] + d_dist[dl], s_dist])
    oi, di, total, dist = best_per_pair(oi, di, total, dist)
    time = total if mode == "bus" else dist / speed
    ok = np.ones(len(oi), dtype=bool)  # legs may take a pair reached within the limit beyond it
    if cutoff_m is not None:
        ok &= dist <= cutoff_m
    if cutoff_s is not None:
        ok &= time <= cutoff_s
    return oi[ok], di[ok], dist[ok], time[ok]


def _edge_weights(network: RoadNetwork, mode: str, settings: Settings):
    """Per-edge cost of a pass: metres, or seconds for ``bus``."""
    if mode == "bus":
        return network.length_m / (edge_speed_kph(network, settings=settings) / 3.6)
    return network.length_m


def _snap_costs(snapped: pd.DataFrame, mode: str, speed: float) -> np.ndarray:
    """Cost of each point's snap leg: metres, or seconds at walking speed for ``bus``."""
    leg = snapped["snap_distance_m"].to_numpy(np.float64)
    return leg / speed if mode == "bus" else leg


def _in_order(oi: np.ndarray, rank: np.ndarray, di: np.ndarray) -> bool:
    """Whether the rows are already sorted by (``oi``, ``rank``, ``di``), as ``np.lexsort``
    would put them: one O(n) comparison instead of an O(n log n) sort (1 s for a prefecture's
    1.8 million pairs, which every grade group's table would sort again)."""
    if len(oi) < 2:
        return True
    same_o, same_r = oi[1:] == oi[:-1], rank[1:] == rank[:-1]
    return bool(np.all((oi[1:] > oi[:-1]) | (same_o & ((rank[1:] > rank[:-1])
                                                        | (same_r & (di[1:] >= di[:-1]))))))


def _ordered(oi: np.ndarray, di: np.ndarray, dist: np.ndarray, time: np.ndarray, mode: str
             ) -> dict[str, np.ndarray]:
    """The pairs sorted by origin, then rank (time for the bus, else distance), then
    destination: the order :func:`_long` gives its table, so that it need not sort again."""
    rank = time if mode == "bus" else dist
    order = np.lexsort((di, np.where(np.isfinite(rank), rank, np.inf), oi))
    return {"oi": oi[order], "di": di[order], "distance_m": dist[order], "time_s": time[order]}


def _long(oi, di, dist, time, o_snap, d_snap, *, mode, cutoff_m, cutoff_s, k, estimate
          ) -> pd.DataFrame:
    ok = np.isfinite(dist)
    if cutoff_m is not None:
        ok &= dist <= cutoff_m
    if cutoff_s is not None:
        ok &= time <= cutoff_s
    oi, di, dist, time = oi[ok], di[ok], dist[ok], time[ok]
    rank_by = time if mode == "bus" else dist
    if not _in_order(oi, rank_by, di):  # a shared pass is kept in order (see pair_costs)
        order = np.lexsort((di, rank_by, oi))
        oi, di, dist, time = oi[order], di[order], dist[order], time[order]
    if k is not None:
        if k < 1:
            raise NetworkError(f"`k` was {k!r} but must be a positive integer")
        first = np.ones(len(oi), dtype=bool)
        first[1:] = oi[1:] != oi[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(len(oi)), 0))
        keep = (np.arange(len(oi)) - start) < k
        oi, di, dist, time = oi[keep], di[keep], dist[keep], time[keep]
    out = pd.DataFrame(
        {
            "from_id": o_snap.index.to_numpy()[oi],
            "to_id": d_snap.index.to_numpy()[di],
            "distance_m": dist,
            "time_s": time,
            "mode": mode,
            "estimate": estimate,
            "status": "estimate" if estimate else _status(o_snap, d_snap, oi, di),
            "from_snap_m": o_snap["snap_distance_m"].to_numpy()[oi],
            "to_snap_m": d_snap["snap_distance_m"].to_numpy()[di],
        }
    )
    return out


# ---------------------------------------------------------------------------------------------
# one pass shared by several uses
# ---------------------------------------------------------------------------------------------
def resolve_workers(workers: int | None, *, settings: Settings | None = None) -> int:
    """Processes to use: ``workers``, else the ``workers`` setting; ``0`` means every core."""
    import os

    w = int(_settings(settings)["workers"]) if workers is None else int(workers)
    if w < 0:
        raise NetworkError(f"`workers` was {w} but must be 0 (every core) or a positive number")
    return w if w > 0 else max(os.cpu_count() or 1, 1)


@dataclass(frozen=True, eq=False)
class PairCosts:
    """Reached (origin, destination) point pairs of one shortest-path pass, as arrays.

    ``oi``/``di`` are positions in ``o_snap``/``d_snap`` (snapped frames indexed by id; ids may
    repeat when several point sets were stacked); ``distance_m`` and ``time_s`` include the snap
    legs. Walking and cycling modes share one pass: :meth:`retimed` gives the times of another
    of them from the same distances, :meth:`select` a subset of origins and destinations, and
    :meth:`long` the long table :func:`travel_costs` returns (cut-offs and ``k`` applied).
    Cost of each step: linear in the number of pairs (they are kept sorted by origin, then
    distance, so that the tables of :meth:`long` need no sort).
    """

    o_snap: pd.DataFrame
    d_snap: pd.DataFrame
    oi: np.ndarray
    di: np.ndarray
    distance_m: np.ndarray
    time_s: np.ndarray
    mode: str

    def retimed(self, mode: TravelMode, *, settings: Settings | None = None) -> PairCosts:
        """The same pairs for another walking or cycling ``mode`` (time = distance / speed)."""
        _check_mode(mode)
        if mode == self.mode:
            return self
        if "bus" in (mode, self.mode):
            raise NetworkError("bus costs take the fastest path: they need their own pass")
        speed = mode_speed_mps(mode, settings=settings)
        return PairCosts(self.o_snap, self.d_snap, self.oi, self.di, self.distance_m,
                         self.distance_m / speed, mode)

    def select(self, origins: np.ndarray, destinations: np.ndarray) -> PairCosts:
        """Keep the origins and destinations whose boolean masks (over the rows of ``o_snap``
        and ``d_snap``) are True; positions are renumbered, order is kept."""
        origins = np.asarray(origins, dtype=bool)
        destinations = np.asarray(destinations, dtype=bool)
        keep = origins[self.oi] & destinations[self.di]
        new_o = np.cumsum(origins) - 1
        new_d = np.cumsum(destinations) - 1
        return PairCosts(self.o_snap[origins], self.d_snap[destinations],
                         new_o[self.oi[keep]], new_d[self.di[keep]], self.distance_m[keep],
                         self.time_s[keep], self.mode)

    def long(self, *, cutoff_m: float | None = None, cutoff_s: float | None = None,
             k: int | None = None) -> pd.DataFrame:
        """The long table of :func:`travel_costs` (same columns, order and cut-offs)."""
        return _long(self.oi, self.di, self.distance_m, self.time_s, self.o_snap, self.d_snap,
                     mode=self.mode, cutoff_m=cutoff_m, cutoff_s=cutoff_s, k=k, estimate=False)


def pair_costs(
    network: RoadNetwork,
    o_snap: pd.DataFrame,
    d_snap: pd.DataFrame,
    *,
    mode: TravelMode = "walk_g4_9",
    cutoff_m: float | None = None,
    settings: Settings | None = None,
    batch_size: int = 16,
    workers: int | None = 1,
    use_cache: bool | None = None,
    cache_dir: Any = None,
) -> PairCosts:
    """One shortest-path pass between snapped origins and destinations (:func:`snap`).

    Dijkstra runs from whichever side has fewer distinct nodes, bounded by ``cutoff_m`` (which
    also limits each batch to the nodes within reach), sources split over ``workers`` processes
    (``None``: the ``workers`` setting). Cost: ``O(S * R log R)`` for ``S`` distinct source
    nodes and ``R`` nodes within the cut-off of a source, plus linear work in the pairs.

    With ``use_cache`` (``None``: the ``travel_cache`` setting) the pairs are kept in the cache
    folder (:func:`schoolplan.cache.default_cache_dir`) under a digest of the network's arrays,
    both ends' snap nodes and snap distances, the mode, its speeds and the cut-off: a second run,
    or a scenario with other actions on the same inputs, reads them back; a change to any of
    these computes them anew.
    """
    _check_mode(mode)
    s = _settings(settings)

    def build() -> dict[str, np.ndarray]:
        oi, di, dist, time = _snapped_pairs(network, o_snap, d_snap, mode=mode,
                                            cutoff_m=cutoff_m, cutoff_s=None, settings=s,
                                            batch_size=batch_size,
                                            workers=resolve_workers(workers, settings=s))
        return _ordered(oi, di, dist, time, mode)

    use = bool(s["travel_cache"]) if use_cache is None else bool(use_cache)
    key = _pairs_key(network, o_snap, d_snap, mode, cutoff_m, s) if use else ""
    got = cached_arrays("travel", key, build, cache_dir=cache_dir, use_cache=use)
    oi, di = got["oi"].astype(np.int64), got["di"].astype(np.int64)
    dist, time = got["distance_m"], got["time_s"]
    rank = time if mode == "bus" else dist
    if not _in_order(oi, np.where(np.isfinite(rank), rank, np.inf), di):
        got = _ordered(oi, di, dist, time, mode)  # a cache written before the pairs were sorted
        oi, di, dist, time = got["oi"], got["di"], got["distance_m"], got["time_s"]
    return PairCosts(o_snap, d_snap, oi, di, dist, time, mode)


def _pairs_key(network, o_snap, d_snap, mode, cutoff_m, settings) -> str:
    speeds: Any = mode_speed_mps(mode, settings=settings)
    if mode == "bus":
        speeds = [speeds, settings["bus_speed_kph_by_road_class"]]
    return content_digest(
        "pairs-2", network_digest(network), mode, speeds, cutoff_m,
        *(o_snap[c].to_numpy() for c in SNAP_EDGE_COLUMNS),
        *(d_snap[c].to_numpy() for c in SNAP_EDGE_COLUMNS),
    )


# ---------------------------------------------------------------------------------------------
# nearest destination for every origin: one pass
# ---------------------------------------------------------------------------------------------
def nearest(
    network: RoadNetwork | None,
    origins: Any,
    destinations: Any,
    *,
    mode: TravelMode = "walk_g4_9",
    origin_id: str | None = None,
    destination_id: str | None = None,
    cutoff_m: float | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The nearest destination of every origin, in **one** shortest-path pass.

    One Dijkstra runs from a virtual node joined to every destination node by that
    destination's snap leg (on the reversed graph for one-way networks), so the result is the
    destination with the least total cost (snap legs included): by distance for walking and
    cycling, by time for ``bus``.

    Returns
    -------
    pandas.DataFrame
        One row per origin, indexed by origin id: ``to_id``, ``distance_m``, ``time_s``,
        ``mode``, ``estimate``, ``status`` and snap distances. An origin with no destination
        within ``cutoff_m`` gets ``to_id`` NA, NaN costs and ``status="none_within_cutoff"``.
    """
    _check_mode(mode)
    s = _settings(settings)
    if network is None:
        long = straight_line_costs(origins, destinations, mode=mode, origin_id=origin_id,
                                   destination_id=destination_id, cutoff_m=cutoff_m, k=1,
                                   settings=s)
        o_ids, _ = point_coordinates(origins, _metric_for(origins), id_column=origin_id)
        out = long.set_index("from_id").reindex(o_ids)
        out.index.name = "from_id"
        out["mode"] = mode
        out["estimate"] = True
        out["status"] = out["status"].where(out["to_id"].notna(), "none_within_cutoff")
        return out
    o_snap, d_snap = _snap_both(network, origins, destinations, origin_id, destination_id, s)
    return _nearest_snapped(network, o_snap, d_snap, mode=mode, cutoff_m=cutoff_m, settings=s)


def _nearest_snapped(network, o_snap, d_snap, *, mode, cutoff_m, settings) -> pd.DataFrame:
    speed = mode_speed_mps(mode, settings=settings)
    prep = _prepare(network, mode, settings, reverse=True)
    n = network.n_nodes
    weight = _edge_weights(network, mode, settings)
    o_snapc, d_snapc = _snap_costs(o_snap, mode, speed), _snap_costs(d_snap, mode, speed)
    d_pt, d_nodes, leg_cost, leg_m = end_legs(d_snap, weight, network.length_m, d_snapc,
                                              inbound=True)
    # one virtual edge per node that ends a destination's edge: its cheapest destination
    order = np.lexsort((d_pt, leg_cost, d_nodes))
    first = np.ones(len(order), dtype=bool)
    first[1:] = d_nodes[order][1:] != d_nodes[order][:-1]
    best = order[first]  # leg chosen at each distinct node (sorted by node)
    vnodes = d_nodes[best]
    indptr = np.concatenate([prep.indptr.astype(np.int64), [prep.indptr[-1] + len(best)]])
    indices = np.concatenate([prep.indices.astype(np.int64), vnodes])
    graph = csr_matrix((np.concatenate([prep.weight, leg_cost[best]]), indices, indptr),
                       shape=(n + 1, n + 1))
    limit = np.inf
    if cutoff_m is not None:
        limit = float(cutoff_m)
        if mode == "bus":  # a path of length <= cutoff_m takes at most cutoff_m / v_min
            speeds = edge_speed_kph(network, settings=settings) / 3.6
            limit = float(cutoff_m) / float(min(speeds.min(), speed))
    cost, pred = dijkstra(graph, directed=True, indices=n, limit=limit,
                          return_predecessors=True)
    # which destination each node's path starts from: walk the tree up to a child of the root
    p = pred.astype(np.int64)
    p[p == n] = -1  # children of the virtual root are the roots of the forest
    root = np.where(p >= 0, p, np.arange(n + 1, dtype=np.int64))
    while True:  # pointer doubling: log2(depth) rounds
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    node_dest = np.full(n + 1, -1, dtype=np.int64)
    node_dest[vnodes] = d_pt[best]
    if mode == "bus":
        keys = edge_keys(indptr, indices, n + 1)
        step = np.zeros(n + 1)
        hit = pred >= 0
        kids = np.flatnonzero(hit)
        step[kids] = np.concatenate([prep.second, leg_m[best]])[
            np.searchsorted(keys, pred[kids].astype(np.int64) * (n + 1) + kids)]
        along = tree_sums(np.where(hit, pred, -1), step)
    else:
        along = cost
    # every origin: its legs to the ends of its edge, then the tree; or along its own edge
    o_pt, o_nodes, o_cost, o_dist = end_legs(o_snap, weight, network.length_m, o_snapc,
                                             inbound=False)
    reach = np.isfinite(cost[o_nodes])
    o_pt, o_nodes, o_cost, o_dist = o_pt[reach], o_nodes[reach], o_cost[reach], o_dist[reach]
    s_oi, s_di, s_cost, s_dist = same_edge_pairs(o_snap, d_snap, weight, network.length_m,
                                                 o_snapc, d_snapc, n)
    oi = np.concatenate([o_pt, s_oi])
    di = np.concatenate([node_dest[root[o_nodes]], s_di])
    total = np.concatenate([o_cost + cost[o_nodes], s_cost])
    dist_all = np.concatenate([o_dist + along[o_nodes], s_dist])
    chosen = np.lexsort((di, total, oi))
    first = np.ones(len(chosen), dtype=bool)
    first[1:] = oi[chosen][1:] != oi[chosen][:-1]
    chosen = chosen[first]
    m = len(o_snap)
    dest = np.full(m, -1, dtype=np.int64)
    dist = np.full(m, np.nan)
    time = np.full(m, np.nan)
    dest[oi[chosen]] = di[chosen]
    dist[oi[chosen]] = dist_all[chosen]
    time[oi[chosen]] = total[chosen] if mode == "bus" else dist_all[chosen] / speed
    o_leg = o_snap["snap_distance_m"].to_numpy()
    d_leg = d_snap["snap_distance_m"].to_numpy()
    if cutoff_m is not None:
        within = dist <= cutoff_m
        dest = np.where(within, dest, -1)
        dist = np.where(within, dist, np.nan)
        time = np.where(within, time, np.nan)
    found = dest >= 0
    safe = np.where(found, dest, 0)
    status = np.where(found, _status(o_snap, d_snap, np.arange(m), safe),
                      "none_within_cutoff")
    to_id = pd.Series(d_snap.index.to_numpy()[safe], index=o_snap.index).where(found)
    out = pd.DataFrame(
        {
            "to_id": to_id,
            "distance_m": dist,
            "time_s": time,
            "mode": mode,
            "estimate": False,
            "status": status,
            "from_snap_m": o_leg,
            "to_snap_m": np.where(found, d_leg[safe], np.nan),
        },
        index=o_snap.index,
    )
    out.index.name = "from_id"
    return out


# ---------------------------------------------------------------------------------------------
# no roads: straight line x circuity
# ---------------------------------------------------------------------------------------------
def _metric_for(points: Any):
    """The UTM zone of GeoDataFrame points (``None`` for arrays, taken as metric already)."""
    import geopandas as gpd


    if not isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return None
    if points.crs is None:
        raise NetworkError("points have no coordinate system: set one with set_crs() first")
    geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    import shapely

    xy = shapely.get_coordinates(geo.to_crs(4326).to_numpy())
    return metric_crs_for(xy[:, 0], xy[:, 1])


def straight_line_costs(
    origins: Any,
    destinations: Any,
    *,
    mode: TravelMode = "walk_g4_9",
    origin_id: str | None = None,
    destination_id: str | None = None,
    cutoff_m: float | None = None,
    cutoff_s: float | None = None,
    k: int | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Estimated travel costs without a road network: straight line × ``circuity_factor``.

    Every row has ``estimate=True`` and ``status="estimate"``. Times use the mode's speed (for
    ``bus`` the ``other`` class speed of ``bus_speed_kph_by_road_class``). GeoDataFrames are
    measured in the UTM zone of the origins; arrays must be metric coordinates.
    """
    _check_mode(mode)
    s = _settings(settings)
    metric = _metric_for(origins)
    o_ids, oxy = point_coordinates(origins, metric, id_column=origin_id, what="origins")
    d_ids, dxy = point_coordinates(destinations, metric, id_column=destination_id,
                                   what="destinations")
    factor = float(s["circuity_factor"])
    dist = np.hypot(oxy[:, 0, None] - dxy[None, :, 0], oxy[:, 1, None] - dxy[None, :, 1]) * factor
    if mode == "bus":
        speed = float(s["bus_speed_kph_by_road_class"].get("other", 25.0)) / 3.6
    else:
        speed = mode_speed_mps(mode, settings=s)
    time = dist / speed
    o_snap = pd.DataFrame({"snap_distance_m": np.zeros(len(oxy))}, index=o_ids)
    d_snap = pd.DataFrame({"snap_distance_m": np.zeros(len(dxy))}, index=d_ids)
    oi, di = np.divmod(np.arange(dist.size), dist.shape[1])
    return _long(oi, di, dist.ravel(), time.ravel(), o_snap, d_snap, mode=mode, cutoff_m=cutoff_m, cutoff_s=cutoff_s,
                 k=k, estimate=True)
