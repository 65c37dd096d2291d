"""Joining points (schools, villages, estates) to a :class:`~schoolplan.network.RoadNetwork`."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyproj import CRS

from schoolplan.errors import NetworkError
from schoolplan.network.roads import RoadNetwork
from schoolplan.settings import Settings

__all__ = ["point_coordinates", "snap", "snap_xy"]

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
    """Join points to the nearest network node.

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
        ``"main"`` (default): snap to the nearest node of the main component (the largest
        strongly connected one, see :meth:`RoadNetwork.main_component`), so that every point
        reaches every other; ``"any"``: the nearest node of all.
    settings
        ``max_snap_distance_m`` is read from it.

    Returns
    -------
    pandas.DataFrame
        Indexed by point id: ``x``, ``y`` (metres), ``node`` (node index), ``node_id`` (original
        id), ``snap_distance_m`` (straight line from the point to its node, metres),
        ``too_far`` (``snap_distance_m > max_snap_distance_m``) and ``off_main_component`` (the
        nearest node of all is not in the main component; with ``component="main"`` the point
        was then joined to the nearest main-component node instead, and its longer snap distance
        is counted).
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
    from scipy.spatial import cKDTree

    s = settings if settings is not None else Settings()
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ids = pd.RangeIndex(len(xy)) if ids is None else ids
    nodes_xy = np.column_stack([network.x, network.y])
    main = network.main_component()
    if component == "main":
        main_idx = np.flatnonzero(main)
        tree = cKDTree(nodes_xy[main_idx], balanced_tree=False, compact_nodes=False)
        dist, k = tree.query(xy, workers=-1) if len(xy) else (np.zeros(0), np.zeros(0, np.int64))
        node = main_idx[k]
        # off the main component: is some node outside it nearer than the one chosen?
        others = np.flatnonzero(~main)
        off = np.zeros(len(xy), dtype=bool)
        if len(others) and len(xy):
            d_other, _ = cKDTree(nodes_xy[others]).query(xy)
            off = d_other < dist
    else:
        tree = cKDTree(nodes_xy)
        dist, node = tree.query(xy) if len(xy) else (np.zeros(0), np.zeros(0, np.int64))
        off = ~main[node] if len(xy) else np.zeros(0, bool)
    node = np.asarray(node, dtype=np.int64)
    out = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "node": node,
            "node_id": network.node_id[node] if len(node) else np.zeros(0, np.int64),
            "snap_distance_m": dist,
            "too_far": dist > float(s["max_snap_distance_m"]),
            "off_main_component": off,
        },
        index=ids,
    )
    n_far, n_off = int(out["too_far"].sum()), int(out["off_main_component"].sum())
    if n_far or n_off:
        logger.info("snap: %d point(s) too far from the network, %d off its main component",
                    n_far, n_off)
    return out
