"""Private: stream a GraphML road graph straight into arrays (no networkx graph is built).

Reads files written by osmnx (``ox.save_graphml``: a directed multigraph, OSM tags as edge data,
lists written as ``"['a', 'b']"``) and by networkx or schoolplan itself. The XML is parsed with
the standard library's ``xml.etree.ElementTree.iterparse`` (expat), each node and edge dropped
from the tree once read, so memory holds the arrays and the id table only: linear in nodes +
edges, one pass over the file. (lxml's ``iterparse`` measured no faster on a prefecture's file.)

Way filter: the same :func:`schoolplan.network._osm.way_allowed` as for OpenStreetMap files, on the
edge's tags (``highway``, ``access``, ``foot``, ``area``, ...; the first value of a list). A file
that records a ``highway`` key drops edges without one (building rings and other non-roads of an
unfiltered ``ox.graph_from_xml``); a file with no ``highway`` key at all (a plain networkx graph)
keeps every edge as class ``unclassified``.
"""

from __future__ import annotations

import ast
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from schoolplan.network._osm import parse_maxspeed_kph, way_allowed

__all__ = ["GraphmlEdges", "read_graphml_edges"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphmlEdges:
    """Edges of a GraphML file by node position, with the tags the network keeps."""

    node_id: np.ndarray  # int64 (the file's ids when they are integers, else 0..n-1)
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray  # nan where the file gives none
    highway: list[str]
    maxspeed_kph: np.ndarray
    name: list[str]
    crs: str | None
    directed: bool
    n_read: int  # edges in the file
    n_dropped: int  # edges the way filter dropped


def _tag(value: str | None) -> str | None:
    """First value of an osmnx list string (``"['a', 'b']"``), else the value itself."""
    if value is None:
        return None
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):
        try:
            items = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v
        if isinstance(items, (list, tuple)):
            return str(items[0]) if items else None
    return v


#: Tags the way filter reads (:func:`schoolplan.network._osm.way_allowed`); its answer is
#: memoised on their values, so the filter costs one dict look-up per edge.
_FILTER_TAGS = ("highway", "area", "access", "foot", "motor_vehicle", "motorcar")


def read_graphml_edges(path: Path, mode: str, *,
                       private_residential_walk: bool | None = None) -> GraphmlEdges:
    """Read ``path`` for ``mode``; raises ``ValueError`` (with the reason) on a malformed file.
    ``private_residential_walk``: see :func:`schoolplan.network._osm.way_allowed`.

    One ``iterparse`` pass; each node or edge is read when it ends and then dropped from the
    tree (the ``<graph>`` element is emptied), so memory stays flat on large files.
    """
    keys: dict[str, str] = {}
    pos: dict[str, int] = {}
    xs: list[float] = []
    ys: list[float] = []
    us: list[str] = []
    vs: list[str] = []
    lens: list[float] = []
    hws: list[str] = []
    spd: list[float] = []
    nms: list[str] = []
    graph_data: dict[str, str] = {}
    directed = True
    has_highway = False
    n_read = n_dropped = 0
    decided: dict[tuple, bool] = {}
    x_key = y_key = "x"
    graph: ET.Element | None = None
    depth = 0
    try:
        for event, elem in ET.iterparse(str(path), events=("start", "end")):
            if event == "start":
                depth += 1
                if graph is None and elem.tag.endswith("graph") and depth == 2:
                    graph = elem
                    directed = elem.get("edgedefault", "directed") != "undirected"
                continue
            depth -= 1
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "data":
                if depth == 2:  # a child of <graph>: graph data (the CRS)
                    graph_data[keys.get(elem.get("key", ""), elem.get("key", ""))] = \
                        elem.text or ""
                continue
            if tag == "edge":
                n_read += 1
                data = {keys.get(d.get("key", ""), d.get("key", "")): (d.text or "")
                        for d in elem}
                if graph is not None:
                    graph.clear()
                if has_highway:
                    fkey = tuple(data.get(t) for t in _FILTER_TAGS)
                    ok = decided.get(fkey)
                    if ok is None:
                        ok = decided[fkey] = way_allowed(
                            {t: _tag(v) for t, v in zip(_FILTER_TAGS, fkey, strict=True)
                             if v is not None}, mode,
                            private_residential_walk=private_residential_walk)
                    if not ok:
                        n_dropped += 1
                        continue
                    hw = _tag(data.get("highway")) or "unclassified"
                else:
                    hw = "unclassified"
                us.append(elem.get("source", ""))
                vs.append(elem.get("target", ""))
                raw_len = data.get("length")
                try:
                    lens.append(float(raw_len) if raw_len else np.nan)
                except ValueError:
                    lens.append(np.nan)
                hws.append(hw)
                raw = data.get("maxspeed")
                spd.append(_speed(raw) if raw else np.nan)
                nms.append(_tag(data.get("name")) or "")
            elif tag == "node":
                if not pos:
                    names = {v: k for k, v in keys.items()}
                    x_key, y_key = names.get("x", "x"), names.get("y", "y")
                got = {d.get("key"): d.text for d in elem}
                try:
                    xs.append(float(got[x_key]))
                    ys.append(float(got[y_key]))
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"node {elem.get('id')!r} has no numeric 'x'/'y' data"
                                     ) from None
                pos[elem.get("id", "")] = len(pos)
                if graph is not None:
                    graph.clear()
            elif tag == "key":
                keys[elem.get("id", "")] = elem.get("attr.name", elem.get("id", ""))
                if elem.get("attr.name") == "highway" and elem.get("for") in ("edge", "all"):
                    has_highway = True
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    if graph is None:
        raise ValueError("no GraphML <graph> element")
    try:
        u = np.fromiter((pos[a] for a in us), dtype=np.int64, count=len(us))
        v = np.fromiter((pos[b] for b in vs), dtype=np.int64, count=len(vs))
    except KeyError as exc:
        raise ValueError(f"an edge refers to node {exc.args[0]!r}, which the file does not "
                         "define") from None
    ids = list(pos)
    try:
        node_id = np.array([int(i) for i in ids], dtype=np.int64)
    except ValueError:
        node_id = np.arange(len(ids), dtype=np.int64)
    return GraphmlEdges(
        node_id=node_id, x=np.asarray(xs), y=np.asarray(ys), u=u, v=v,
        length_m=np.asarray(lens, dtype=np.float64), highway=hws,
        maxspeed_kph=np.asarray(spd, dtype=np.float64), name=nms,
        crs=graph_data.get("crs") or None, directed=directed, n_read=n_read, n_dropped=n_dropped,
    )


def _speed(raw: str) -> float:
    v = raw.strip()
    if v.startswith("["):
        try:
            return parse_maxspeed_kph(list(ast.literal_eval(v)))
        except (ValueError, SyntaxError):
            pass
    return parse_maxspeed_kph(v)
