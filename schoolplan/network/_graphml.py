"""Private: stream a GraphML road graph straight into arrays (no networkx graph is built).

Reads files written by osmnx (``ox.save_graphml``: a directed multigraph, OSM tags as edge data,
lists written as ``"['a', 'b']"``) and by networkx or schoolplan itself. The XML is parsed with
lxml's ``iterparse`` (libxml2), each element cleared and unlinked once read, so memory holds the
arrays and the id table only: linear in nodes + edges, one pass over the file (plus a shallow
look for the graph's ``crs``, which writers put before the nodes).

Way filter: the same :func:`schoolplan.network._osm.way_allowed` as for OpenStreetMap files, on the
edge's tags (``highway``, ``access``, ``foot``, ``area``, ...; the first value of a list). A file
that records a ``highway`` key drops edges without one (building rings and other non-roads of an
unfiltered ``ox.graph_from_xml``); a file with no ``highway`` key at all (a plain networkx graph)
keeps every edge as class ``unclassified``.
"""

from __future__ import annotations

import ast
import logging
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


_NS = "{http://graphml.graphdrawing.org/xmlns}"
#: Tags the way filter reads (:func:`schoolplan.network._osm.way_allowed`); its answer is
#: memoised on their values, so the filter costs one dict look-up per edge.
_FILTER_TAGS = ("highway", "area", "access", "foot", "motor_vehicle", "motorcar")


def read_graphml_edges(path: Path, mode: str) -> GraphmlEdges:
    """Read ``path`` for ``mode``; raises ``ValueError`` (with the reason) on a malformed file.

    lxml's ``iterparse`` hands over only the ``key``, ``node``, ``edge`` and ``graph`` elements
    (with or without the GraphML namespace); each is cleared and unlinked once read.
    """
    from lxml import etree

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
    saw_graph = False
    n_read = n_dropped = 0
    decided: dict[tuple, bool] = {}
    x_key = y_key = None
    short = {f"{ns}{t}": t for ns in (_NS, "") for t in ("key", "node", "edge", "graph")}
    try:
        context = etree.iterparse(str(path), events=("end",), tag=list(short),
                                  resolve_entities=False, no_network=True, huge_tree=True)
        for _event, elem in context:
            tag = short[elem.tag]
            parent = elem.getparent() if not saw_graph and tag in ("node", "edge") else None
            if parent is not None:  # the <graph> around the first node: its edge default
                saw_graph = True
                directed = parent.get("edgedefault", "directed") != "undirected"
            if tag == "node":
                data = {d.get("key"): d.text for d in elem}
                if x_key is None:
                    names = {v: k for k, v in keys.items()}
                    x_key, y_key = names.get("x", "x"), names.get("y", "y")
                try:
                    xs.append(float(data[x_key]))
                    ys.append(float(data[y_key]))
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"node {elem.get('id')!r} has no numeric 'x'/'y' data"
                                     ) from None
                pos[elem.get("id", "")] = len(pos)
            elif tag == "edge":
                n_read += 1
                data = {keys.get(d.get("key"), d.get("key")): (d.text or "") for d in elem}
                if has_highway:
                    fkey = tuple(data.get(t) for t in _FILTER_TAGS)
                    ok = decided.get(fkey)
                    if ok is None:
                        ok = decided[fkey] = way_allowed(
                            {t: _tag(v) for t, v in zip(_FILTER_TAGS, fkey, strict=True)
                             if v is not None}, mode)
                    if not ok:
                        n_dropped += 1
                        _unlink(elem, keys, graph_data)
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
            elif tag == "key":
                keys[elem.get("id", "")] = elem.get("attr.name", elem.get("id", ""))
                if elem.get("attr.name") == "highway" and elem.get("for") in ("edge", "all"):
                    has_highway = True
                continue
            elif tag == "graph":  # graph data written after the nodes and edges
                saw_graph = True
                directed = elem.get("edgedefault", "directed") != "undirected"
                for d in elem:
                    if str(d.tag).endswith("data"):
                        graph_data[keys.get(d.get("key", ""), d.get("key", ""))] = d.text or ""
                continue
            _unlink(elem, keys, graph_data)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    if not saw_graph:
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


def _unlink(elem, keys: dict[str, str], graph_data: dict[str, str]) -> None:
    """Free a finished node or edge and its earlier siblings (flat memory on large files); the
    graph's own ``<data>`` written before the nodes (the CRS) is kept in ``graph_data``."""
    elem.clear()
    parent = elem.getparent()
    if parent is not None:
        while (prev := elem.getprevious()) is not None:
            if str(prev.tag).endswith("data"):
                graph_data[keys.get(prev.get("key", ""), prev.get("key", ""))] = prev.text or ""
            parent.remove(prev)


def _speed(raw: str) -> float:
    v = raw.strip()
    if v.startswith("["):
        try:
            return parse_maxspeed_kph(list(ast.literal_eval(v)))
        except (ValueError, SyntaxError):
            pass
    return parse_maxspeed_kph(v)
