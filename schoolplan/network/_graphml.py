"""Private: stream a GraphML road graph straight into arrays (no networkx graph is built).

Reads files written by osmnx (``ox.save_graphml``: a directed multigraph, OSM tags as edge data,
lists written as ``"['a', 'b']"``) and by networkx or schoolplan itself. The XML is parsed with
the standard library's ``xml.etree.ElementTree.iterparse``, each element cleared once read, so
memory holds the arrays and the id table only: linear in nodes + edges, one pass over the file.

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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_graphml_edges(path: Path, mode: str) -> GraphmlEdges:
    """Read ``path`` for ``mode``; raises ``ValueError`` (with the reason) on a malformed file."""
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
    pending: list[tuple[str, str, dict[str, str]]] = []  # edges waiting to be filtered
    stack: list[str] = []
    graph_elem: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(str(path), events=("start", "end")):
            tag = _local(elem.tag)
            if event == "start":
                stack.append(tag)
                if tag == "graph":
                    directed = elem.get("edgedefault", "directed") != "undirected"
                    graph_elem = elem
                continue
            stack.pop()
            if tag == "key":
                keys[elem.get("id", "")] = elem.get("attr.name", elem.get("id", ""))
                if elem.get("attr.name") == "highway" and elem.get("for") in ("edge", "all"):
                    has_highway = True
            elif tag == "node":
                data = {keys.get(d.get("key", ""), d.get("key", "")): (d.text or "")
                        for d in elem if _local(d.tag) == "data"}
                try:
                    xs.append(float(data["x"]))
                    ys.append(float(data["y"]))
                except KeyError:
                    raise ValueError(f"node {elem.get('id')!r} has no 'x'/'y' data") from None
                pos[elem.get("id", "")] = len(pos)
                if graph_elem is not None:
                    graph_elem.clear()  # drop the finished element from the tree: flat memory
            elif tag == "edge":
                data = {keys.get(d.get("key", ""), d.get("key", "")): (d.text or "")
                        for d in elem if _local(d.tag) == "data"}
                pending.append((elem.get("source", ""), elem.get("target", ""), data))
                if graph_elem is not None:
                    graph_elem.clear()
                if len(pending) >= 4096:
                    n_read, n_dropped = _flush(pending, mode, has_highway, us, vs, lens, hws, spd,
                                               nms, n_read, n_dropped)
            elif tag == "data" and stack and stack[-1] == "graph":
                graph_data[keys.get(elem.get("key", ""), "")] = elem.text or ""
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    if graph_elem is None:
        raise ValueError("no GraphML <graph> element")
    n_read, n_dropped = _flush(pending, mode, has_highway, us, vs, lens, hws, spd, nms, n_read,
                               n_dropped)
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


def _flush(pending, mode, has_highway, us, vs, lens, hws, spd, nms, n_read, n_dropped):
    for a, b, data in pending:
        n_read += 1
        tags = {k: _tag(val) for k, val in data.items()}
        if has_highway:
            if not way_allowed(tags, mode):
                n_dropped += 1
                continue
            hw = tags.get("highway") or "unclassified"
        else:
            hw = "unclassified"
        us.append(a)
        vs.append(b)
        try:
            lens.append(float(data["length"]) if data.get("length") else np.nan)
        except ValueError:
            lens.append(np.nan)
        hws.append(str(hw))
        raw = data.get("maxspeed")
        if raw is not None and raw.strip().startswith("["):
            try:
                spd.append(parse_maxspeed_kph(list(ast.literal_eval(raw.strip()))))
            except (ValueError, SyntaxError):
                spd.append(parse_maxspeed_kph(raw))
        else:
            spd.append(parse_maxspeed_kph(raw))
        nms.append(str(tags.get("name") or ""))
    pending.clear()
    return n_read, n_dropped
