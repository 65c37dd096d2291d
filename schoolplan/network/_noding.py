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
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from schoolplan.coords import metric_crs_for
from schoolplan.errors import NetworkError
from schoolplan.schema import canonical_columns

__all__ = [
    "LINE_CLASS_ALIASES",
    "LINE_COLUMN_ALIASES",
    "GradeSeparationWarning",
    "NodedLines",
    "check_lengths",
    "find_line_columns",
    "levels",
    "limited_access",
    "lines_to_edges",
    "metric_crs",
    "node_lines",
    "travel_direction",
]

logger = logging.getLogger(__name__)

_ENDPOINT_LEVEL = np.int64(1 << 40)
_LIMITED_LEVEL = np.int64(1 << 32)

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
    n_separated: int = 0


def _union_find_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.arange(n)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return labels


def node_lines(
    geoms: np.ndarray, rows: np.ndarray, level: np.ndarray, *, tolerance_m: float = 0.5,
    limited: np.ndarray | None = None,
) -> NodedLines:
    """Node single-part LineStrings ``geoms`` (metric CRS) from input rows ``rows`` at ``level``.

    ``limited`` marks limited-access lines (motorways, expressways, viaducts): they are
    grade-separated from every other line, so they join a line only where one of the two
    **ends** on the other (a ramp, the next piece of the same road), never where they cross.

    Returns every vertex and inserted junction as a node and every consecutive vertex pair as an
    edge with its planar length in metres; ``n_separated`` counts the crossings not joined.
    """
    geoms = np.asarray(geoms, dtype=object)
    n_lines = len(geoms)
    limited = np.zeros(n_lines, dtype=bool) if limited is None else np.asarray(limited, dtype=bool)
    # every limited line is its own level: no crossing or shared vertex joins it to another
    level = np.where(limited, _LIMITED_LEVEL + np.arange(n_lines),
                     np.asarray(level, dtype=np.int64))
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
    n_separated = 0
    if n_lines > 1:
        a, b = tree.query(geoms, predicate="intersects")
        sep = (a < b) & (limited[a] | limited[b])
        if sep.any():  # crossings left unjoined by the grade-separation rule (ends excluded)
            inter = shapely.intersection(geoms[a[sep]], geoms[b[sep]])
            pts = shapely.get_coordinates(inter)
            if len(pts):
                d_end = cKDTree(ends).query(pts)[0] if len(ends) else np.full(len(pts), np.inf)
                n_separated = int((d_end > tolerance_m).sum())
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
        keep = (owner != j) & ((level[owner] == level[j]) | limited[owner] | limited[j])
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
    if limited.any() and n_lines:
        # where a line ends on a limited line, or a limited line ends on another line, the
        # vertex there is a junction (a ramp, a T): it is keyed like an end
        lim_v = limited[line_of]
        any_end = {(int(a), int(b)) for a, b in q[is_end]}
        lim_end = {(int(a), int(b)) for a, b in q[is_end & lim_v]}
        inner = np.flatnonzero(~is_end)
        hit = [i for i in inner
               if (int(q[i, 0]), int(q[i, 1])) in (any_end if lim_v[i] else lim_end)]
        is_end[np.asarray(hit, dtype=np.int64)] = True
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
        n_separated=n_separated,
    )


#: Column names of line layers, found like a ledger's headers (case, spaces, full-width ignored).
LINE_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "from_node": ("from_node", "fnode", "fnode_", "f_node", "snodeid", "snode", "s_node",
                  "start_node", "startnode", "u", "source", "起点", "起点编号", "起始节点", "起点节点"),
    "to_node": ("to_node", "tnode", "tnode_", "t_node", "enodeid", "enode", "e_node", "end_node",
                "endnode", "v", "target", "终点", "终点编号", "终止节点", "终点节点"),
    "oneway": ("oneway", "one_way", "单行", "单向", "是否单行", "单行线"),
    "direction": ("direction", "dir", "通行方向", "方向"),
}

_FORWARD = {"yes", "y", "true", "t", "1", "是", "单向", "单行", "forward", "ft", "f", "正向"}
_BACKWARD = {"-1", "reverse", "tf", "backward", "反向", "逆向"}


def find_line_columns(columns: list[str], explicit: dict[str, str | None]) -> dict[str, str]:
    """canonical name -> column of the layer, for node, one-way and direction columns."""
    given = {k: v for k, v in explicit.items() if v is not None}
    found, _ = canonical_columns([str(c) for c in columns], LINE_COLUMN_ALIASES)
    out = {canon: header for header, canon in found.items()}
    out.update(given)
    return out


def travel_direction(values: pd.Series, *, direction_codes: bool) -> np.ndarray:
    """+1 one-way along the line, -1 one-way against it, 0 both ways.

    OSM ``oneway`` semantics (``yes``/``1``/``true``/``-1``/``no``), or, for a ``direction``
    column, the codes of Chinese navigation road data: 0/1 both ways, 2 along (from -> to),
    3 against.
    """
    out = np.zeros(len(values), dtype=np.int8)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        text = str(v).strip().lower().removesuffix(".0")
        if direction_codes:
            out[i] = {"2": 1, "3": -1}.get(text, 0)
        elif text in _FORWARD:
            out[i] = 1
        elif text in _BACKWARD:
            out[i] = -1
    return out


def limited_access(raw_class: list[Any], mapped: list[str], classes: str) -> np.ndarray:
    """Lines whose class (as in the file, or mapped to OSM) is, or contains, one of ``classes``."""
    words = [w.strip().lower() for w in str(classes).split(",") if w.strip()]
    out = np.zeros(len(mapped), dtype=bool)
    for i, (r, m) in enumerate(zip(raw_class, mapped, strict=True)):
        texts = {str(m).strip().lower(), "" if r is None else str(r).strip().lower()}
        out[i] = any(w == x or (not w.isascii() and w in x) for w in words for x in texts if x)
    return out


def metric_crs(gdf: Any, crs: Any, max_scale_error: float) -> Any:
    """The CRS distances are measured in: ``crs`` if given; the layer's own projected CRS where
    its scale error at the data is below ``max_scale_error`` (a Gauss-Krüger or UTM zone);
    otherwise the local UTM zone. Web Mercator (EPSG:3857) is never used as metres: its scale
    is 1/cos(latitude), +24 % at 36°N."""
    from pyproj import CRS, Proj

    if crs is not None:
        return CRS.from_user_input(crs)
    lonlat = shapely.get_coordinates(gdf.to_crs(4326).geometry.to_numpy())
    own = CRS.from_user_input(gdf.crs)
    if own.is_projected and own.axis_info[0].unit_name in ("metre", "meter") and len(lonlat):
        x0, y0 = lonlat.min(axis=0)
        x1, y1 = lonlat.max(axis=0)
        lon = np.array([x0, x1, x0, x1, (x0 + x1) / 2])
        lat = np.array([y0, y0, y1, y1, (y0 + y1) / 2])
        try:
            f = Proj(own).get_factors(lon, lat)
            err = np.nanmax(np.abs(np.concatenate([np.asarray(f.meridional_scale) - 1,
                                                   np.asarray(f.parallel_scale) - 1])))
        except Exception:  # a CRS PROJ cannot give factors for: measure in UTM
            err = np.inf
        if np.isfinite(err) and err <= max_scale_error:
            return own
        logger.info("layer CRS %s has scale error %.3g at the data: measuring in UTM", own, err)
    return metric_crs_for(lonlat[:, 0], lonlat[:, 1])


def check_lengths(length_m: np.ndarray, labels: np.ndarray, where: str) -> None:
    """Refuse NaN, infinite and negative edge lengths, naming the first offenders."""
    length_m = np.asarray(length_m, dtype=np.float64)
    bad = ~np.isfinite(length_m) | (length_m < 0)
    if bad.any():
        shown = ", ".join(str(x) for x in np.asarray(labels)[bad][:10])
        raise NetworkError(
            f"{where}: {int(bad.sum())} road edge(s) have a negative, NaN or infinite length "
            f"({shown}{', …' if bad.sum() > 10 else ''}); fix the geometry or the length values. / "
            f"{int(bad.sum())} 条道路边长度为负数或无效（{shown}），请修正几何或长度字段。"
        )


def _no_crs_message(where: str, source: str | None) -> str:
    prj = ""
    if source and source.lower().endswith(".shp"):
        prj = (f" The Shapefile has no .prj file ({Path(source).with_suffix('.prj').name} is "
               "missing).")
    return (
        f"{where}: the road layer has no coordinate system.{prj} Declare it in the scenario file: "
        "inputs.roads.coordinate_system: (cgcs2000, wgs84, gcj02, EPSG:4548 …). / "
        "路网图层没有坐标系信息" + ("（缺少 .prj 文件）" if prj else "") + "。请在方案文件中填写 "
        "inputs.roads.coordinate_system（如 cgcs2000、wgs84、gcj02、EPSG:4548）。"
    )


def lines_to_edges(
    gdf, *, where, road_class_column, name_column, maxspeed_column, layer_column, bridge_column,
    tolerance_m, tunnel_column, aliases, default_class, crs, mode="all", from_node_column=None,
    to_node_column=None, oneway_column=None, grade_separated_classes="", max_scale_error=0.005,
    source=None,
) -> dict:
    """Check a road line GeoDataFrame and turn it into the arrays of a network.

    With from/to node columns the file's own topology is used (one edge per line between its
    nodes); else the lines are noded (:func:`node_lines`). For ``mode="drive"`` a one-way column
    keeps only the permitted direction.
    """
    if gdf.crs is None:
        raise NetworkError(_no_crs_message(where, source))
    missing = [c for c in (road_class_column, name_column, maxspeed_column)
               if c is not None and c not in gdf.columns]
    if missing:
        raise NetworkError(
            f"{where}: column(s) {missing} not in the road layer; it has "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}. / 路网图层中没有列 {missing}。"
        )
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gtypes = set(gdf.geom_type.unique())
    if not gtypes <= {"LineString", "MultiLineString"}:
        raise NetworkError(
            f"{where}: a road layer must hold lines, found {sorted(gtypes)}. Is this the "
            "right layer (layer=...)? / 路网图层应为线要素。"
        )
    if len(gdf) == 0:
        raise NetworkError(f"{where}: the road layer holds no lines. / 路网图层没有线要素。")
    xy_all = shapely.get_coordinates(gdf.geometry.to_numpy())
    if not np.isfinite(xy_all).all():
        raise NetworkError(f"{where}: some road lines have NaN or infinite coordinates. / "
                           "部分道路坐标无效（NaN）。")
    out_crs = metric_crs(gdf, crs, max_scale_error)
    g = gdf.to_crs(out_crs).reset_index(drop=True)
    if road_class_column is not None:
        raw = g[road_class_column].astype(object).where(g[road_class_column].notna(), None).tolist()
        cls = [default_class if r is None or str(r).strip() == ""
               else aliases.get(str(r).strip(), str(r).strip()) for r in raw]
    else:
        raw = [None] * len(g)
        cls = [default_class] * len(g)
    nm = g[name_column].fillna("").astype(str).tolist() if name_column else [""] * len(g)
    sp = (pd.to_numeric(g[maxspeed_column], errors="coerce").to_numpy(dtype=np.float64)
          if maxspeed_column else np.full(len(g), np.nan))
    cols = find_line_columns(list(g.columns), {"from_node": from_node_column,
                                               "to_node": to_node_column, "oneway": oneway_column})
    if "oneway" in cols:
        direction = travel_direction(g[cols["oneway"]], direction_codes=False)
    elif "direction" in cols:
        direction = travel_direction(g[cols["direction"]], direction_codes=True)
    else:
        direction = np.zeros(len(g), dtype=np.int8)
    if "from_node" in cols and "to_node" in cols:
        u, v, x, y, line, length = _own_topology(g, cols["from_node"], cols["to_node"], where)
    else:
        level = levels(g, layer_column, bridge_column, tunnel_column)
        has_levels = any(c in g.columns for c in (layer_column, bridge_column, tunnel_column))
        limited = (np.zeros(len(g), dtype=bool) if has_levels
                   else limited_access(raw, cls, grade_separated_classes))
        parts = g.geometry.explode(index_parts=False)
        rows = parts.index.to_numpy()
        noded = node_lines(parts.to_numpy(), rows, level[rows], tolerance_m=tolerance_m,
                           limited=limited[rows])
        u, v, x, y, line, length = noded.u, noded.v, noded.x, noded.y, noded.line, noded.length_m
        logger.info("%s: %d junction vertices inserted", where, noded.n_inserted)
        if noded.n_separated:
            warnings.warn(
                f"{where}: {noded.n_separated} crossing(s) of limited-access roads "
                f"({int(limited.sum())} lines of classes {grade_separated_classes}) were not made "
                "junctions (grade separation rule; the layer has no from/to node or bridge/layer "
                "columns). / 路网无起止节点或桥梁/层级字段：高速、快速路等 "
                f"{noded.n_separated} 处交叉按立体交叉处理，未设为路口。",
                GradeSeparationWarning, stacklevel=3,
            )
    check_lengths(length, line + 1, where + " (feature)")
    fwd_ok = direction[line] >= 0 if mode == "drive" else np.ones(len(line), dtype=bool)
    back_ok = direction[line] <= 0 if mode == "drive" else np.ones(len(line), dtype=bool)
    hw = np.array(cls, dtype=object)[line]
    names = np.array(nm, dtype=object)[line]
    return {
        "node_id": np.arange(len(x)), "x": x, "y": y, "crs": out_crs,
        "u": np.concatenate([u[fwd_ok], v[back_ok]]), "v": np.concatenate([v[fwd_ok], u[back_ok]]),
        "length_m": np.concatenate([length[fwd_ok], length[back_ok]]),
        "highway": list(hw[fwd_ok]) + list(hw[back_ok]),
        "maxspeed_kph": np.concatenate([sp[line][fwd_ok], sp[line][back_ok]]),
        "name": list(names[fwd_ok]) + list(names[back_ok]),
    }


class GradeSeparationWarning(UserWarning):
    """Crossings of limited-access roads were not joined (no node or level columns in the layer)."""


def _own_topology(g, from_col: str, to_col: str, where: str):
    """One edge per line between its from and to nodes (the file's own junctions)."""
    raw = pd.concat([g[from_col], g[to_col]])
    ids = raw.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                  else str(v).strip().removesuffix(".0")).astype(object)
    blank = ids == ""
    if blank.any():
        rows = sorted({int(i) + 1 for i in ids.index[blank.to_numpy()]})[:10]
        raise NetworkError(f"{where}: {int(blank.sum())} blank node id(s) in {from_col}/{to_col} "
                           f"(features {rows}). / 起止节点编号为空（第 {rows} 个要素）。")
    codes, uniq = pd.factorize(ids)
    n = len(g)
    u, v = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    geoms = g.geometry.to_numpy()
    xy, which = shapely.get_coordinates(geoms, return_index=True)
    start = np.searchsorted(which, np.arange(n), side="left")
    stop = np.searchsorted(which, np.arange(n), side="right") - 1
    # every vertex inside a line is a node of that line only (the road bends there, nothing
    # joins it), so that each edge is a straight segment: points snap to the road as drawn
    node = np.full(len(xy), -1, dtype=np.int64)
    node[start], node[stop] = u, v
    inner = node < 0
    node[inner] = len(uniq) + np.arange(int(inner.sum()))
    x = np.full(len(uniq) + int(inner.sum()), np.nan)
    y = np.full(len(x), np.nan)
    x[node], y[node] = xy[:, 0], xy[:, 1]
    x[u], y[u] = xy[start, 0], xy[start, 1]
    x[v], y[v] = xy[stop, 0], xy[stop, 1]
    seg = np.flatnonzero(which[1:] == which[:-1])  # vertex i -> i + 1 within one feature
    length = np.hypot(*(xy[seg + 1] - xy[seg]).T).astype(np.float64)
    return node[seg], node[seg + 1], x, y, which[seg], length
