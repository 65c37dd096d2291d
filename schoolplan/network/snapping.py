"""Joining points (schools, villages, estates) to a :class:`~schoolplan.network.RoadNetwork`."""

from __future__ import annotations

import logging
import weakref
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyproj import CRS

from schoolplan.cache import cached_arrays, content_digest
from schoolplan.errors import NetworkError
from schoolplan.network.roads import RoadNetwork
from schoolplan.settings import Settings

__all__ = ["network_digest", "point_coordinates", "snap", "snap_xy"]

logger = logging.getLogger(__name__)


def point_coordinates(
    points: Any, crs: CRS, *, id_column: str | None = None, what: str = "points"
) -> tuple[pd.Index, np.ndarray]:
    """Ids and ``n x 2`` coordinates (metres, in ``crs``) of ``points``.

    ``points`` is a GeoDataFrame/GeoSeries in any CRS (reprojected; refused without a CRS;
    polygons are replaced by their centroid) whose ids are ``id_column`` or the index, or an
    ``n x 2`` array already in ``crs`` (ids ``0..n-1``), or a DataFrame with ``x``/``y``.
    """
    import geopandas as gpd

    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if points.crs is None:
            raise NetworkError(
                f"{what} have no coordinate system: set one (gdf.set_crs('EPSG:4326')) before "
                "computing road distances."
            )
        geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        geo = geo.to_crs(crs)
        bad = geo.isna() | geo.is_empty
        if bad.any():
            raise NetworkError(
                f"{what}: {int(bad.sum())} row(s) have no geometry (index "
                f"{list(points.index[bad.to_numpy()][:10])}); drop or locate them first."
            )
        notpt = geo.geom_type != "Point"
        if notpt.any():
            geo = geo.where(~notpt, geo.centroid)
        xy = np.column_stack([geo.x.to_numpy(), geo.y.to_numpy()])
        if id_column is not None:
            if id_column not in points:
                raise NetworkError(f"{what}: id column {id_column!r} not found")
            ids = pd.Index(points[id_column])
        else:
            ids = points.index
        return ids, xy
    if isinstance(points, pd.DataFrame) and {"x", "y"} <= set(points.columns):
        ids = pd.Index(points[id_column]) if id_column else points.index
        return ids, points[["x", "y"]].to_numpy(dtype=np.float64)
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise NetworkError(
            f"{what}: expected a GeoDataFrame or an n x 2 array of metric x, y, got shape "
            f"{xy.shape}"
        )
    return pd.RangeIndex(len(xy)), xy


def snap(
    network: RoadNetwork,
    points: Any,
    *,
    id_column: str | None = None,
    component: Literal["main", "any"] = "main",
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Join points to the nearest point of the nearest road edge.

    Each point is joined to the nearest point of the nearest edge (a straight segment between
    two nodes; shapely's STRtree ``query_nearest`` and ``line_locate_point``, ``O(n log E)``),
    and the edge is split there virtually by the travel model: the point reaches the edge's
    two end nodes by its snap leg plus the part of the edge on each side (one-way edges only
    in their direction), and two points on one edge reach each other along it.

    Parameters
    ----------
    network
        The road network.
    points
        See :func:`point_coordinates` (GeoDataFrame in any CRS, or an ``n x 2`` array in the
        network's metric CRS).
    id_column
        Id column of a GeoDataFrame (default: its index).
    component
        ``"main"`` (default): snap to the nearest edge of the main component (the largest
        strongly connected one, see :meth:`RoadNetwork.main_component`), so that every point
        reaches every other; ``"any"``: the nearest edge of all.
    settings
        ``max_snap_distance_m`` is read from it.

    Returns
    -------
    pandas.DataFrame
        Indexed by point id: ``x``, ``y`` (metres), ``snap_distance_m`` (straight line from the
        point to the road, metres), ``too_far`` (``snap_distance_m > max_snap_distance_m``),
        ``off_main_component`` (the nearest edge of all is not in the main component; with
        ``component="main"`` the point was then joined to the main component instead, and its
        longer snap distance is counted); the edge: ``node_a``, ``node_b`` (its end nodes,
        ``a < b``; equal when the point was joined to a lone node), ``edge_ab``/``edge_ba``
        (CSR index of the edge each way, ``-1`` where the road is one-way), ``t`` (position
        along it from ``a``, 0–1), ``road_x``/``road_y`` (the joined point on the road); and
        ``node``/``node_id``, the end the point reaches first along the road.
    """
    s = settings if settings is not None else Settings()
    if component not in ("main", "any"):
        raise NetworkError(f"`component` was {component!r} but is expected to be 'main' or 'any'")
    ids, xy = point_coordinates(points, network.crs, id_column=id_column)
    return snap_xy(network, xy, ids, component=component, settings=s)


def snap_xy(
    network: RoadNetwork,
    xy: np.ndarray,
    ids: Any = None,
    *,
    component: Literal["main", "any"] = "main",
    settings: Settings | None = None,
) -> pd.DataFrame:
    """:func:`snap` for an ``n x 2`` array of coordinates in the network's CRS (ids optional)."""
    s = settings if settings is not None else Settings()
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ids = pd.RangeIndex(len(xy)) if ids is None else ids
    if len(xy) and s["travel_cache"]:  # kept with the travel costs: a warm run builds no edge index
        key = content_digest("snap-1", network_digest(network), component, xy)
        got = cached_arrays("snap", key, lambda: _snap_arrays(network, xy, component))
    else:
        got = _snap_arrays(network, xy, component)
    dist, off, t = got["dist"], got["off"], got["t"]
    node_a, node_b, edge_ab, edge_ba = got["node_a"], got["node_b"], got["edge_ab"], got["edge_ba"]
    return _snap_frame(network, xy, ids, dist, off, t, node_a, node_b, edge_ab, edge_ba, s)


def _snap_arrays(network: RoadNetwork, xy: np.ndarray, component: str) -> dict[str, np.ndarray]:
    """The nearest edge of each point: its ends, CSR edges each way, position, distance and
    whether a nearer edge lies off the main component (``O(n log E)``; the edge index is built
    once per network)."""
    n_pts = len(xy)
    main = network.main_component()
    seg = _segments(network)
    in_main = main[seg["a"]] & main[seg["b"]]
    pool = np.flatnonzero(in_main) if component == "main" else np.arange(len(seg["a"]))
    if n_pts and len(pool):
        k, dist, t = _nearest_segment(network, seg, pool, xy, kind=component)
        node_a, node_b = seg["a"][k], seg["b"][k]
        edge_ab, edge_ba = seg["ab"][k], seg["ba"][k]
    else:  # no segment to join (e.g. a one-way network whose main component is a single node)
        from scipy.spatial import cKDTree

        cand = np.flatnonzero(main) if component == "main" else np.arange(network.n_nodes)
        if n_pts:
            dist, j = cKDTree(np.column_stack([network.x[cand], network.y[cand]])).query(xy)
            node_a = node_b = cand[np.asarray(j, dtype=np.int64)]
        else:
            dist, node_a = np.zeros(0), np.zeros(0, dtype=np.int64)
            node_b = node_a
        t = np.zeros(n_pts)
        edge_ab = edge_ba = np.full(n_pts, -1, dtype=np.int64)
    dist = np.asarray(dist, dtype=np.float64)
    off = np.zeros(n_pts, dtype=bool)
    if component == "main":
        others = np.flatnonzero(~in_main)
        if len(others) and n_pts:
            # only segments nearer than the chosen one matter: a bounded search
            bound = float(dist.max()) + 1.0
            _, d_other, _ = _nearest_segment(network, seg, others, xy, kind="other",
                                             max_distance=bound)
            off = d_other < dist
    else:
        off = ~(main[node_a] & main[node_b]) if n_pts else off
    return {"dist": dist, "off": np.asarray(off, dtype=bool), "t": np.asarray(t, dtype=np.float64),
            "node_a": np.asarray(node_a, dtype=np.int64), "node_b": np.asarray(node_b, dtype=np.int64),
            "edge_ab": np.asarray(edge_ab, dtype=np.int64), "edge_ba": np.asarray(edge_ba, dtype=np.int64)}


def _snap_frame(network, xy, ids, dist, off, t, node_a, node_b, edge_ab, edge_ba, s) -> pd.DataFrame:
    """The frame :func:`snap` returns, from the arrays of :func:`_snap_arrays`."""
    n_pts = len(xy)
    # the end a point reaches first along its road (kept as ``node`` for node-based callers)
    length = network.length_m
    to_b = np.where(edge_ab >= 0, (1 - t) * length[np.maximum(edge_ab, 0)], np.inf)
    to_a = np.where(edge_ba >= 0, t * length[np.maximum(edge_ba, 0)], np.inf)
    to_a = np.where(node_a == node_b, 0.0, to_a)
    near_b = to_b < to_a
    node = np.where(near_b, node_b, node_a).astype(np.int64)
    ax, ay = network.x[node_a], network.y[node_a]
    bx, by = network.x[node_b], network.y[node_b]
    out = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "node": node,
            "node_id": network.node_id[node] if n_pts else np.zeros(0, np.int64),
            "snap_distance_m": dist,
            "too_far": dist > float(s["max_snap_distance_m"]),
            "off_main_component": off,
            "node_a": np.asarray(node_a, dtype=np.int64),
            "node_b": np.asarray(node_b, dtype=np.int64),
            "edge_ab": np.asarray(edge_ab, dtype=np.int64),
            "edge_ba": np.asarray(edge_ba, dtype=np.int64),
            "t": t,
            "road_x": ax + t * (bx - ax),
            "road_y": ay + t * (by - ay),
        },
        index=ids,
    )
    n_far, n_off = int(out["too_far"].sum()), int(out["off_main_component"].sum())
    if n_far or n_off:
        logger.info("snap: %d point(s) too far from the network, %d off its main component",
                    n_far, n_off)
    return out


def _segments(network: RoadNetwork) -> dict[str, Any]:
    """The network's undirected segments (one per node pair with an edge either way, ``a < b``)
    with the CSR index of the edge ``a -> b`` and of ``b -> a`` (``-1`` where there is none).

    Every edge is the straight segment between its two nodes: OSM ways and noded line layers are
    split at every vertex, and so are lines with their own from/to nodes
    (:mod:`schoolplan.network._noding`). Kept per network (weakly) for the next snap.
    """
    got = _SEGMENTS.get(network)
    if got is not None:
        return got
    n = network.n_nodes
    u = network.edge_source.astype(np.int64)
    v = network.indices.astype(np.int64)
    keys = u * n + v  # sorted: CSR rows are sorted and so are the targets within each row
    real = u != v
    a, b = np.minimum(u, v)[real], np.maximum(u, v)[real]
    pair = np.unique(a * n + b)
    a, b = pair // n, pair % n

    def edge(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        want = p * n + q
        pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        return np.where(len(keys) and keys[pos] == want, pos, -1) if len(keys) else \
            np.full(len(p), -1, dtype=np.int64)

    got = {"a": a, "b": b, "ab": edge(a, b), "ba": edge(b, a)}
    _SEGMENTS[network] = got
    return got


_SEGMENTS: weakref.WeakKeyDictionary[RoadNetwork, dict[str, Any]] = weakref.WeakKeyDictionary()


def _nearest_segment(network, seg, which, xy, *, kind: str,
                     max_distance: float | None = None):
    """Nearest of the segments ``which`` (the pool ``kind``: its lines and STRtree are kept
    with the network's segments) to each point: ``(segment index, distance, t)``.

    With ``max_distance``, points with no segment that near get index ``-1``, distance ``inf``.
    """
    import shapely

    got = seg.get(f"tree:{kind}")
    if got is None:
        a, b = seg["a"][which], seg["b"][which]
        coords = np.stack([np.column_stack([network.x[a], network.y[a]]),
                           np.column_stack([network.x[b], network.y[b]])], axis=1)
        lines = shapely.linestrings(coords)
        got = seg[f"tree:{kind}"] = (lines, shapely.STRtree(lines))
    lines, tree = got
    pts = shapely.points(xy)
    (inp, hit), d = tree.query_nearest(pts, return_distance=True, all_matches=False,
                                       max_distance=max_distance)
    k = np.full(len(xy), -1, dtype=np.int64)
    dist = np.full(len(xy), np.inf)
    k[inp], dist[inp] = hit, d
    t = np.zeros(len(xy))
    found = k >= 0
    t[found] = shapely.line_locate_point(lines[k[found]], pts[found], normalized=True)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)  # a zero-length segment: its start
    return np.where(found, which[np.maximum(k, 0)], -1), dist, t


def network_digest(network: RoadNetwork) -> str:
    """Content digest of a network's arrays (what every snap and shortest path on it depends
    on); computed once per network object."""
    got = _DIGESTS.get(network)
    if got is None:
        got = _DIGESTS[network] = content_digest(
            network.crs.to_wkt(), network.x, network.y, network.indptr, network.indices,
            network.length_m, network.highway_code, list(network.highway_classes),
            network.maxspeed_kph, network.in_main_component, network.symmetric,
        )
    return got


_DIGESTS: weakref.WeakKeyDictionary[RoadNetwork, str] = weakref.WeakKeyDictionary()
