"""Private: turn road line layers into graph nodes and edges (planar noding with grade separation).

The junction rule (documented in :func:`schoolplan.network.network_from_lines`):

* every line has a **level**: its ``layer`` value when present and non-zero, else ``+1`` for a
  bridge, ``-1`` for a tunnel, else ``0``;
* lines of the **same level** meet at every shared vertex, at every crossing (a node is inserted
  into both lines even when the source has no vertex there), and where an end of one lies within
  ``tolerance_m`` of the other (an un-noded T-junction);
* lines of **different levels** meet only where their **ends** coincide (within ``tolerance_m``):
  a bridge joins its approach roads at its ends, never where it passes over another road, even if
  both lines happen to have a vertex at the same place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from schoolplan.coords import metric_crs_for
from schoolplan.errors import NetworkError

__all__ = ["LINE_CLASS_ALIASES", "NodedLines", "levels", "lines_to_edges", "node_lines"]

logger = logging.getLogger(__name__)

_ENDPOINT_LEVEL = np.int64(1 << 40)

#: Road classes of Chinese line layers mapped to OSM ``highway`` classes (for speeds by class).
LINE_CLASS_ALIASES: dict[str, str] = {
    "高速公路": "motorway", "高速": "motorway", "国道": "trunk", "一级公路": "trunk",
    "省道": "primary", "二级公路": "primary", "县道": "secondary", "三级公路": "secondary",
    "乡道": "tertiary", "四级公路": "tertiary", "村道": "unclassified", "专用公路": "service",
    "等外公路": "track", "城市快速路": "trunk", "快速路": "trunk", "主干路": "primary",
    "城市主干路": "primary", "次干路": "secondary", "城市次干路": "secondary", "支路": "residential",
    "城市支路": "residential", "街巷": "residential", "机耕路": "track", "小路": "path",
}

_TRUE = {"1", "yes", "y", "true", "t", "是", "桥", "bridge", "tunnel", "隧道", "viaduct"}


def _truthy(values: pd.Series) -> np.ndarray:
    s = values.astype(object).where(values.notna(), "")
    return s.map(lambda v: str(v).strip().lower() in _TRUE).to_numpy(dtype=bool)


def levels(gdf: pd.DataFrame, layer_column, bridge_column, tunnel_column) -> np.ndarray:
    n = len(gdf)
    level = np.zeros(n, dtype=np.int64)
    have_layer = np.zeros(n, dtype=bool)
    if layer_column in gdf.columns:
        lay = pd.to_numeric(gdf[layer_column], errors="coerce")
        have_layer = lay.notna().to_numpy() & (lay.fillna(0).to_numpy() != 0)
        level[have_layer] = lay[have_layer].round().astype(np.int64).to_numpy()
    if bridge_column in gdf.columns:
        level[~have_layer & _truthy(gdf[bridge_column])] = 1
    if tunnel_column in gdf.columns:
        level[~have_layer & _truthy(gdf[tunnel_column])] = -1
    return level


@dataclass(frozen=True)
class NodedLines:
    """Nodes (metric x, y) and undirected edges (``u``, ``v``, ``line`` row, ``length_m``)."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    line: np.ndarray
    length_m: np.ndarray
    n_inserted: int


def _union_find_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.arange(n)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return labels


def node_lines(
    geoms: np.ndarray, rows: np.ndarray, level: np.ndarray, *, tolerance_m: float = 0.5
) -> NodedLines:
    """Node single-part LineStrings ``geoms`` (metric CRS) from input rows ``rows`` at ``level``.

    Returns every vertex and inserted junction as a node and every consecutive vertex pair as an
    edge with its planar length in metres.
    """
    geoms = np.asarray(geoms, dtype=object)
    level = np.asarray(level, dtype=np.int64)
    n_lines = len(geoms)
    coords = [np.asarray(shapely.get_coordinates(g), dtype=np.float64) for g in geoms]

    # 1. ends closer than the tolerance are the same point (across levels too)
    ends = np.array([c[[0, -1]] for c in coords]).reshape(-1, 2) if n_lines else np.zeros((0, 2))
    if len(ends):
        pairs = cKDTree(ends).query_pairs(tolerance_m, output_type="ndarray")
        lab = _union_find_labels(len(ends), pairs[:, 0], pairs[:, 1])
        first = np.zeros(lab.max() + 1, dtype=np.int64)
        first[lab[::-1]] = np.arange(len(ends))[::-1]
        ends = ends[first[lab]]
        for i, c in enumerate(coords):
            c[0], c[-1] = ends[2 * i], ends[2 * i + 1]
        geoms = np.array([shapely.linestrings(c) for c in coords], dtype=object)

    extra: dict[int, list[np.ndarray]] = {}

    def add(i: int, pts: np.ndarray) -> None:
        extra.setdefault(int(i), []).append(pts)

    tree = shapely.STRtree(geoms)
    # 2. crossings and touches between lines of the same level
    if n_lines > 1:
        a, b = tree.query(geoms, predicate="intersects")
        keep = (a < b) & (level[a] == level[b])
        a, b = a[keep], b[keep]
        if len(a):
            inter = shapely.intersection(geoms[a], geoms[b])
            pts, which = shapely.get_coordinates(inter, return_index=True)
            for k in np.unique(which):
                p = pts[which == k]
                add(a[k], p)
                add(b[k], p)
    # 3. ends within the tolerance of another line of the same level (un-noded T)
    if n_lines > 1:
        end_pts = shapely.points(ends)
        e, j = tree.query(end_pts, predicate="dwithin", distance=tolerance_m)
        owner = e // 2
        keep = (owner != j) & (level[owner] == level[j])
        for ei, lj in zip(e[keep], j[keep], strict=True):
            add(lj, ends[ei][None, :])

    n_inserted = 0
    for i, pts_list in extra.items():
        c = coords[i]
        pts = np.vstack(pts_list)
        seg = np.hypot(np.diff(c[:, 0]), np.diff(c[:, 1]))
        along = np.concatenate([[0.0], np.cumsum(seg)])
        pos = shapely.line_locate_point(geoms[i], shapely.points(pts))
        allc = np.vstack([c, pts])
        alla = np.concatenate([along, pos])
        tie = np.concatenate([np.zeros(len(c)), np.ones(len(pts))])
        order = np.lexsort((tie, alla))
        merged = allc[order]
        same = np.all(np.abs(np.diff(merged, axis=0)) < 1e-9, axis=1)
        merged = merged[np.concatenate([[True], ~same])]
        n_inserted += len(merged) - len(c)
        coords[i] = merged

    # 4. node keys: (x, y, level) inside a line, (x, y, END) at its ends
    lens = np.array([len(c) for c in coords], dtype=np.int64)
    allxy = np.vstack(coords) if n_lines else np.zeros((0, 2))
    line_of = np.repeat(np.arange(n_lines), lens)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]) if n_lines else np.zeros(0, np.int64)
    is_end = np.zeros(len(allxy), dtype=bool)
    is_end[starts] = True
    is_end[starts + lens - 1] = True
    q = np.round(allxy / 1e-3).astype(np.int64)  # 1 mm grid
    lev = np.where(is_end, _ENDPOINT_LEVEL, level[line_of])
    key = np.column_stack([q, lev])
    # every end also belongs to its own level at that place
    key_own = np.column_stack([q[is_end], level[line_of[is_end]]])
    allkeys = np.vstack([key, key_own])
    uniq, inv = np.unique(allkeys, axis=0, return_inverse=True)
    inv = inv.ravel()
    n_vert = len(allxy)
    labels = _union_find_labels(len(uniq), inv[:n_vert][is_end], inv[n_vert:])
    node_of_vertex = labels[inv[:n_vert]]
    _, node_of_vertex = np.unique(node_of_vertex, return_inverse=True)
    node_of_vertex = node_of_vertex.ravel()
    n_nodes = int(node_of_vertex.max()) + 1 if n_vert else 0
    x = np.zeros(n_nodes)
    y = np.zeros(n_nodes)
    x[node_of_vertex[::-1]] = allxy[::-1, 0]
    y[node_of_vertex[::-1]] = allxy[::-1, 1]

    # 5. edges between consecutive vertices of each line
    nxt = np.arange(1, n_vert)
    same_line = line_of[1:] == line_of[:-1] if n_vert else np.zeros(0, bool)
    i0 = nxt[same_line] - 1
    i1 = nxt[same_line]
    seg_len = np.hypot(allxy[i1, 0] - allxy[i0, 0], allxy[i1, 1] - allxy[i0, 1])
    return NodedLines(
        x=x,
        y=y,
        u=node_of_vertex[i0],
        v=node_of_vertex[i1],
        line=np.asarray(rows)[line_of[i0]],
        length_m=seg_len,
        n_inserted=n_inserted,
    )


def lines_to_edges(
    gdf, *, where, road_class_column, name_column, maxspeed_column, layer_column, bridge_column,
    tolerance_m, tunnel_column, aliases, default_class, crs,
) -> dict:
    """Check a road line GeoDataFrame, node it, and return the arrays of a two-way network."""
    from pyproj import CRS

    if gdf.crs is None:
        raise NetworkError(
            f"{where}: the road layer has no coordinate system. Add its .prj file or set it "
            "(gdf.set_crs('EPSG:4490') for CGCS2000 degrees, 'EPSG:4326' for WGS-84)."
        )
    missing = [c for c in (road_class_column, name_column, maxspeed_column)
               if c is not None and c not in gdf.columns]
    if missing:
        raise NetworkError(
            f"{where}: column(s) {missing} not in the road layer; it has "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}."
        )
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gtypes = set(gdf.geom_type.unique())
    if not gtypes <= {"LineString", "MultiLineString"}:
        raise NetworkError(
            f"{where}: a road layer must hold lines, found {sorted(gtypes)}. Is this the "
            "right layer (layer=...)?"
        )
    if len(gdf) == 0:
        raise NetworkError(f"{where}: the road layer holds no lines.")
    if crs is not None:
        out_crs = CRS.from_user_input(crs)
    elif gdf.crs.is_projected and gdf.crs.axis_info[0].unit_name in ("metre", "meter"):
        out_crs = CRS.from_user_input(gdf.crs)
    else:
        xy = shapely.get_coordinates(gdf.to_crs(4326).geometry.to_numpy())
        out_crs = metric_crs_for(xy[:, 0], xy[:, 1])
    g = gdf.to_crs(out_crs).reset_index(drop=True)
    level = levels(g, layer_column, bridge_column, tunnel_column)
    parts = g.geometry.explode(index_parts=False)
    rows = parts.index.to_numpy()
    noded = node_lines(parts.to_numpy(), rows, level[rows], tolerance_m=tolerance_m)
    if road_class_column is not None:
        raw = g[road_class_column].astype(object).where(g[road_class_column].notna(), None)
        cls = [default_class if r is None or str(r).strip() == ""
               else aliases.get(str(r).strip(), str(r).strip()) for r in raw]
    else:
        cls = [default_class] * len(g)
    nm = g[name_column].fillna("").astype(str).tolist() if name_column else [""] * len(g)
    sp = (pd.to_numeric(g[maxspeed_column], errors="coerce").to_numpy(dtype=np.float64)
          if maxspeed_column else np.full(len(g), np.nan))
    line = noded.line
    hw = [cls[i] for i in line]
    names = [nm[i] for i in line]
    logger.info("%s: %d junction vertices inserted", where, noded.n_inserted)
    return {
        "node_id": np.arange(len(noded.x)), "x": noded.x, "y": noded.y, "crs": out_crs,
        "u": np.concatenate([noded.u, noded.v]), "v": np.concatenate([noded.v, noded.u]),
        "length_m": np.concatenate([noded.length_m, noded.length_m]), "highway": hw + hw,
        "maxspeed_kph": np.concatenate([sp[line], sp[line]]), "name": names + names,
    }
