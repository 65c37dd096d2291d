"""Road networks: one internal directed graph from every source a bureau has.

A :class:`RoadNetwork` holds plain arrays and nothing else: node ids and coordinates in a metric
CRS, directed edges in CSR order (``indptr``/``indices``, as :class:`scipy.sparse.csr_matrix`
uses them) with their length in metres, OSM ``highway`` class, ``maxspeed_kph`` and name (Chinese
names kept). Nodes are numbered along a Hilbert curve, which made Dijkstra 2.4x faster on a
300k-node road graph (memory locality; ``../shared/RECIPES.md``).

Constructors share one call shape::

    network_from_osm("liaocheng.osm.pbf", mode="walk")
    network_from_graphml("roads.graphml", mode="drive")
    network_from_lines("roads.gpkg", road_class_column="等级")
    network_from_graph(G)

File-based networks are cached by the sha256 of the input bytes and the options (never by path)
under ``~/.cache/schoolplan`` (``cache_dir=`` or ``$SCHOOLPLAN_CACHE_DIR`` to move it,
``use_cache=False`` to bypass it).

Edge lengths: for OSM data (geographic coordinates) the great-circle length between nodes, as
osmnx computes it, so distances equal osmnx/networkx ones; for line layers the planar length in
the network's metric CRS (UTM scale error below 0.04 %).

The network CRS is the ``crs`` given, else a projected CRS of the input, else the UTM zone of the
data's centre (:func:`schoolplan.coords.metric_crs_for`, EPSG:32650 for Liaocheng).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from schoolplan.cache import cached, default_cache_dir
from schoolplan.coords import metric_crs_for
from schoolplan.errors import NetworkError, UnreadableFileError
from schoolplan.network._graphml import read_graphml_edges
from schoolplan.network._noding import (
    LINE_CLASS_ALIASES,
    GradeSeparationWarning,
    check_lengths,
    lines_to_edges,
)
from schoolplan.network._osm import parse_maxspeed_kph, read_osm_ways
from schoolplan.network.graph import assemble_csr, haversine_m, hilbert_order
from schoolplan.settings import Settings

__all__ = [
    "LINE_CLASS_ALIASES",
    "GradeSeparationWarning",
    "NetworkMode",
    "RoadNetwork",
    "default_cache_dir",
    "network_from_graph",
    "network_from_graphml",
    "network_from_lines",
    "network_from_osm",
]

logger = logging.getLogger(__name__)

NetworkMode = Literal["walk", "drive", "all"]
_MODES = ("walk", "drive", "all")

@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph in compact arrays (no hidden state).

    Attributes
    ----------
    crs
        Metric CRS of ``x``/``y`` (e.g. EPSG:32650).
    node_id
        Original node id of each node (OSM id, GraphML id, or a running number for line layers).
    x, y
        Node coordinates in metres in ``crs``.
    indptr, indices
        CSR structure: the edges leaving node ``i`` are ``indptr[i]:indptr[i+1]``, their targets
        ``indices[...]`` (sorted within each row).
    length_m
        Edge length in metres (per CSR edge).
    highway_code, highway_classes
        Road class of each edge as a code into ``highway_classes`` (OSM ``highway`` values).
    maxspeed_kph
        Posted speed limit in km/h where the source gives one, else ``nan``.
    name_code, names
        Road name of each edge as a code into ``names`` (``""`` when unnamed).
    mode
        ``"walk"``, ``"drive"`` or ``"all"``: the way filter used to build the network.
    source
        Where the network came from (file name, sha256, options) for reports.
    symmetric
        True when every edge has a reverse edge of the same length (a two-way network).
    in_main_component
        Whether each node is in the main component (see :meth:`main_component`).
    """

    crs: CRS
    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    length_m: np.ndarray
    highway_code: np.ndarray
    highway_classes: tuple[str, ...]
    maxspeed_kph: np.ndarray
    name_code: np.ndarray
    names: tuple[str, ...]
    mode: str
    source: str = ""
    symmetric: bool = False
    in_main_component: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    # -- sizes and views ----------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.indices)

    @property
    def edge_source(self) -> np.ndarray:
        """Source node (index) of each CSR edge."""
        return np.repeat(np.arange(self.n_nodes, dtype=self.indices.dtype), np.diff(self.indptr))

    @property
    def highway(self) -> np.ndarray:
        """Road class (string) of each edge."""
        return np.asarray(self.highway_classes, dtype=object)[self.highway_code]

    def matrix(self, weight: np.ndarray | None = None) -> csr_matrix:
        """The graph as a ``scipy.sparse.csr_matrix`` of ``weight`` (default ``length_m``)."""
        w = self.length_m if weight is None else np.asarray(weight, dtype=np.float64)
        return csr_matrix((w, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))

    def edges(self) -> pd.DataFrame:
        """One row per directed edge: ``u``, ``v`` (original node ids), ``length_m``, ``highway``,
        ``maxspeed_kph``, ``name``."""
        src = self.edge_source
        return pd.DataFrame(
            {
                "u": self.node_id[src],
                "v": self.node_id[self.indices],
                "length_m": self.length_m,
                "highway": self.highway,
                "maxspeed_kph": self.maxspeed_kph,
                "name": np.asarray(self.names, dtype=object)[self.name_code],
            }
        )

    def main_component(self) -> np.ndarray:
        """Boolean mask of the nodes in the largest **strongly** connected component.

        From every node of it every other node of it can be reached and back. On a two-way (walk)
        network this is the largest connected component. Computed once, when the network is
        built (:attr:`in_main_component`).
        """
        return self.in_main_component

    def to_networkx(self):
        """A ``networkx.DiGraph`` with original node ids, ``x``/``y`` (metres, in :attr:`crs`) and
        edge ``length`` (metres). Of parallel edges between two nodes the shortest is kept, so
        shortest-path distances equal those of this network."""
        import networkx as nx  # optional here: only this export needs it

        g = nx.DiGraph(crs=self.crs.to_string())
        g.add_nodes_from(
            (int(i), {"x": float(a), "y": float(b)}) for i, a, b in zip(self.node_id, self.x, self.y, strict=True)
        )
        order = np.argsort(-self.length_m, kind="stable")  # longest first: the shortest is added last
        src, dst = self.edge_source[order], self.indices[order]
        g.add_weighted_edges_from(
            zip(self.node_id[src].tolist(), self.node_id[dst].tolist(),
                self.length_m[order].tolist(), strict=True),
            weight="length",
        )
        return g

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.n_nodes} nodes, {self.n_edges} edges, mode={self.mode!r}, "
            f"crs={self.crs.to_string()}, source={self.source!r})"
        )

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the network to a ``.npz`` file (no pickles)."""
        np.savez(
            path,
            crs=np.array(self.crs.to_wkt()),
            node_id=self.node_id, x=self.x, y=self.y, indptr=self.indptr, indices=self.indices,
            length_m=self.length_m, highway_code=self.highway_code,
            highway_classes=np.array(self.highway_classes, dtype=str),
            maxspeed_kph=self.maxspeed_kph, name_code=self.name_code,
            names=np.array(self.names, dtype=str), mode=np.array(self.mode),
            source=np.array(self.source), symmetric=np.array(self.symmetric),
            in_main_component=self.in_main_component,
        )

    @classmethod
    def load(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(
                crs=CRS.from_wkt(str(z["crs"])), node_id=z["node_id"], x=z["x"], y=z["y"],
                indptr=z["indptr"], indices=z["indices"], length_m=z["length_m"],
                highway_code=z["highway_code"],
                highway_classes=tuple(str(s) for s in z["highway_classes"]),
                maxspeed_kph=z["maxspeed_kph"], name_code=z["name_code"],
                names=tuple(str(s) for s in z["names"]), mode=str(z["mode"]),
                source=str(z["source"]), symmetric=bool(z["symmetric"]),
                in_main_component=z["in_main_component"],
            )


# ---------------------------------------------------------------------------------------------
# assembly shared by every constructor
# ---------------------------------------------------------------------------------------------
def _main_component(n: int, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=bool)
    m = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))
    _, labels = connected_components(m, directed=True, connection="strong")
    return labels == np.bincount(labels).argmax()


def _encode(values: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    cat = pd.Categorical(pd.Series(list(values), dtype=object).fillna("").astype(str))
    codes = np.asarray(cat.codes)
    return codes.astype(np.int16 if len(cat.categories) < 32000 else np.int32), tuple(
        str(c) for c in cat.categories
    )


def _build(
    *,
    node_id: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    crs: CRS,
    u: np.ndarray,
    v: np.ndarray,
    length_m: np.ndarray,
    highway: Sequence[str],
    maxspeed_kph: np.ndarray,
    name: Sequence[str],
    mode: str,
    source: str,
    where: str,
) -> RoadNetwork:
    """Renumber nodes in Hilbert order, drop unused nodes, assemble CSR and encode attributes."""
    if len(u) == 0:
        raise NetworkError(
            f"{where}: no road edges for mode={mode!r}. The file holds no roads of that kind "
            "(or only roads outside the extract); check the file, or try mode='all'."
        )
    used = np.zeros(len(x), dtype=bool)
    used[u] = True
    used[v] = True
    keep = np.flatnonzero(used)
    order = keep[hilbert_order(x[keep], y[keep])]
    new_of_old = np.full(len(x), -1, dtype=np.int64)
    new_of_old[order] = np.arange(len(order))
    nu, nv = new_of_old[u], new_of_old[v]
    length_m = np.asarray(length_m, dtype=np.float64)
    indptr, indices, take = assemble_csr(len(order), nu, nv, length_m)
    hw_code, hw_classes = _encode([highway[i] for i in take])
    nm_code, names = _encode([name[i] for i in take])
    lengths = length_m[take]
    # two-way if every edge has its reverse with the same length
    fwd = nu[take] * len(order) + nv[take]
    rev = nv[take] * len(order) + nu[take]
    o = np.argsort(fwd)
    pos = np.searchsorted(fwd[o], rev)
    pos = np.minimum(pos, len(fwd) - 1)
    symmetric = bool(
        np.all(fwd[o][pos] == rev) and np.allclose(lengths[o][pos], lengths, rtol=0, atol=1e-9)
    )
    net = RoadNetwork(
        crs=crs, node_id=np.asarray(node_id, dtype=np.int64)[order], x=np.asarray(x)[order],
        y=np.asarray(y)[order], indptr=indptr, indices=indices, length_m=lengths,
        highway_code=hw_code, highway_classes=hw_classes,
        maxspeed_kph=np.asarray(maxspeed_kph, dtype=np.float32)[take], name_code=nm_code,
        names=names, mode=mode, source=source, symmetric=symmetric,
        in_main_component=_main_component(len(order), indptr, indices),
    )
    logger.info("built %r", net)
    return net


def _metric_crs(crs: Any, lon: np.ndarray, lat: np.ndarray) -> CRS:
    return CRS.from_user_input(crs) if crs is not None else metric_crs_for(lon, lat)


def _private_walk(value: bool | None) -> bool:
    """The gated-estate walking rule in force: ``value``, else the setting's default."""
    return bool(Settings()["walk_private_residential_roads"]) if value is None else bool(value)


def _check_mode(mode: str, where: str) -> None:
    if mode not in _MODES:
        raise NetworkError(f"{where}: `mode` was {mode!r} but is expected to be in {list(_MODES)}")


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------
def _cached(kind, files, options, build, *, cache_dir, use_cache) -> RoadNetwork:
    return cached(kind, files, options, build, load=RoadNetwork.load,
                  save=lambda net, path: net.save(path), cache_dir=cache_dir,
                  use_cache=use_cache)


def _existing(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise UnreadableFileError(f"{what} file {str(p)!r} does not exist or is not a file.")
    return p


# ---------------------------------------------------------------------------------------------
# OpenStreetMap files
# ---------------------------------------------------------------------------------------------
def network_from_osm(
    path: str | Path,
    *,
    mode: NetworkMode = "walk",
    crs: Any = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    private_residential_walk: bool | None = None,
) -> RoadNetwork:
    """Build a network from a local OpenStreetMap file (``.osm``, ``.osm.bz2``, ``.osm.pbf``).

    Parameters
    ----------
    path
        The OSM file. Read with pyosmium (libosmium), which keeps OSM node ids.
    mode
        Which ways to keep:

        * ``"walk"``: every highway except motorways, bus guideways and non-roads (proposed,
          construction, platforms, ...), without ``foot=no`` or ``access=no/private``; two-way;
        * ``"drive"``: motorway to residential, living_street, service, track, road without
          ``access``/``motor_vehicle``/``motorcar`` = ``no``/``private``; ``oneway`` and
          roundabouts respected (osmnx's one-way rule);
        * ``"all"``: every way with a ``highway`` tag; two-way.

        Only ``highway=*`` ways are read (buildings and land use are skipped); relations are
        ignored; a reference to a node missing from a clipped extract splits the way there.
    crs
        Metric CRS of the network; default the UTM zone of the data's centre.
    cache_dir, use_cache
        Cache folder (default :func:`default_cache_dir`) and whether to use it.
    private_residential_walk
        Keep ``access=private`` service/residential ways for walking (gated estates); default
        the ``walk_private_residential_roads`` setting's default (pass the value in force).

    Returns
    -------
    RoadNetwork
        Edge ``length_m`` is the great-circle length between OSM nodes (as osmnx computes it).
    """
    p = _existing(path, "OpenStreetMap")
    _check_mode(mode, f"network_from_osm({str(p)!r})")
    name = p.name.lower()
    if not name.endswith((".osm", ".osm.bz2", ".pbf", ".osm.gz")):
        raise UnreadableFileError(
            f"{str(p)!r} is not an OpenStreetMap file: expected .osm, .osm.bz2 or .osm.pbf. "
            "For a road line layer use network_from_lines(); for GraphML network_from_graphml()."
        )

    def build(source: str) -> RoadNetwork:
        try:
            ways = read_osm_ways(p, mode, private_residential_walk=private)
        except ImportError as exc:  # pragma: no cover - osmium is a dependency
            raise UnreadableFileError(
                f"reading {str(p)!r} needs pyosmium: pip install osmium ({exc})"
            ) from None
        except (RuntimeError, OSError, ValueError) as exc:
            raise UnreadableFileError(
                f"{str(p)!r} could not be read as OpenStreetMap data ({exc}). Is it a complete "
                ".osm/.osm.pbf download? Re-export it, or convert it with `osmium cat`."
            ) from None
        where = f"network_from_osm({str(p)!r})"
        if ways.n_missing_refs:
            logger.info("%s: %d way references to nodes outside the extract dropped", where,
                        ways.n_missing_refs)
        if len(ways.u) == 0:
            raise NetworkError(
                f"{where}: the file holds no highway ways for mode={mode!r} ({ways.n_ways} ways "
                "kept). Is the extract empty or of the wrong area? Try mode='all' or a larger "
                "extract."
            )
        out_crs = _metric_crs(crs, ways.lon, ways.lat)
        x, y = Transformer.from_crs(4326, out_crs, always_xy=True).transform(ways.lon, ways.lat)
        length = haversine_m(ways.lon[ways.u], ways.lat[ways.u], ways.lon[ways.v],
                             ways.lat[ways.v])
        return _build(
            node_id=ways.node_id, x=np.asarray(x), y=np.asarray(y), crs=out_crs, u=ways.u,
            v=ways.v, length_m=length, highway=ways.highway, maxspeed_kph=ways.maxspeed_kph,
            name=ways.name, mode=mode, source=source, where=where,
        )

    private = _private_walk(private_residential_walk)
    opts = {"mode": mode, "crs": None if crs is None else CRS.from_user_input(crs).to_string(),
            "private_residential_walk": private}
    return _cached("osm", [p], opts, build, cache_dir=cache_dir, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------
# networkx / osmnx graphs and GraphML
# ---------------------------------------------------------------------------------------------
def _first(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def network_from_graph(
    G: Any, *, crs: Any = None, mode: NetworkMode | None = None, source: str = "graph"
) -> RoadNetwork:
    """Build a network from a networkx graph (e.g. an osmnx graph).

    Parameters
    ----------
    G
        A networkx ``Graph``/``DiGraph``/``MultiDiGraph`` whose nodes have ``x`` and ``y`` in the
        CRS ``G.graph["crs"]`` (osmnx graphs have it; pass ``crs=`` otherwise: a CRS-less graph
        is refused). Edge ``length`` (metres) is used when present, else computed (great-circle
        for geographic coordinates, planar otherwise). ``highway``, ``maxspeed`` and ``name``
        are kept (the first value when osmnx merged several).
    crs
        CRS of the node coordinates when the graph does not say.
    mode
        ``"walk"``/``"all"`` make every edge two-way (walk also drops motorways); ``"drive"``
        (default for directed graphs) keeps edge directions as they are.
    source
        Label kept in :attr:`RoadNetwork.source`.
    """
    import networkx as nx

    where = f"network_from_graph({source})"
    if mode is not None:
        _check_mode(mode, where)
    graph_crs = G.graph.get("crs") if hasattr(G, "graph") else None
    if graph_crs is None and crs is None:
        raise NetworkError(
            f"{where}: the graph has no CRS (G.graph['crs']). Pass crs='EPSG:4326' (or the CRS "
            "of its x/y) to network_from_graph."
        )
    in_crs = CRS.from_user_input(graph_crs if graph_crs is not None else crs)
    if mode is None:
        mode = "drive" if G.is_directed() else "all"
    nodes = list(G.nodes)
    if not nodes or G.number_of_edges() == 0:
        raise NetworkError(f"{where}: the graph is empty ({len(nodes)} nodes, no edges).")
    try:
        xs = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ys = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError:
        raise NetworkError(
            f"{where}: nodes need 'x' and 'y' coordinates (as osmnx graphs have)."
        ) from None
    try:
        node_id = np.array([int(n) for n in nodes], dtype=np.int64)
    except (TypeError, ValueError):
        node_id = np.arange(len(nodes), dtype=np.int64)
    pos = {n: i for i, n in enumerate(nodes)}
    us, vs, lens, hws, spd, nms = [], [], [], [], [], []

    edge_iter = G.edges(data=True)
    for a, b, d in edge_iter:
        hw = _first(d.get("highway")) or "unclassified"
        if mode == "walk" and hw in {"motorway", "motorway_link"}:
            continue
        us.append(pos[a])
        vs.append(pos[b])
        lens.append(float(d["length"]) if d.get("length") is not None else np.nan)
        hws.append(str(hw))
        spd.append(parse_maxspeed_kph(d.get("maxspeed")))
        nms.append(str(_first(d.get("name")) or ""))
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    length = np.asarray(lens, dtype=np.float64)
    if in_crs.is_geographic:
        lon, lat = xs, ys
        missing = np.isnan(length)
        length[missing] = haversine_m(lon[u[missing]], lat[u[missing]], lon[v[missing]],
                                      lat[v[missing]])
        out_crs = _metric_crs(crs if graph_crs is not None else None, lon, lat)
        x, y = Transformer.from_crs(in_crs, out_crs, always_xy=True).transform(xs, ys)
    else:
        out_crs = in_crs
        x, y = xs, ys
        missing = np.isnan(length)
        length[missing] = np.hypot(x[u[missing]] - x[v[missing]], y[u[missing]] - y[v[missing]])
    if (~np.isfinite(length) | (length < 0)).any():  # the labels only when there is a problem
        check_lengths(length, np.asarray([f"{nodes[a]}-{nodes[b]}" for a, b in
                                          zip(u, v, strict=True)], dtype=object), where + " (edge)")
    spd_arr = np.asarray(spd, dtype=np.float64)
    if mode in ("walk", "all") or not G.is_directed():
        u, v = np.concatenate([u, v]), np.concatenate([v, u])
        length = np.concatenate([length, length])
        hws, nms = hws + hws, nms + nms
        spd_arr = np.concatenate([spd_arr, spd_arr])
    _ = nx  # networkx is the input type; imported to fail early when it is missing
    return _build(
        node_id=node_id, x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64),
        crs=out_crs, u=u, v=v, length_m=length, highway=hws, maxspeed_kph=spd_arr, name=nms,
        mode=mode, source=source, where=where,
    )


def network_from_graphml(
    path: str | Path,
    *,
    crs: Any = None,
    mode: NetworkMode = "walk",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    private_residential_walk: bool | None = None,
) -> RoadNetwork:
    """Build a network from a GraphML file saved by osmnx (``ox.save_graphml``) or networkx.

    Parameters
    ----------
    path
        The ``.graphml`` file.
    crs
        CRS of the node ``x``/``y`` when the file does not record one.
    mode
        The way filter of :func:`network_from_osm`, applied to each edge's OSM tags (the
        same rules for both file kinds: motorways, private and construction roads are not
        walked, an edge without ``highway`` in a file that has that key is not a road):
        ``"walk"`` and ``"all"`` ignore one-way edges, ``"drive"`` keeps the file's directions.
    cache_dir, use_cache, private_residential_walk
        As in :func:`network_from_osm`.

    The file is streamed into arrays (:mod:`schoolplan.network._graphml`), never loaded as a
    networkx graph: one pass, memory linear in nodes + edges.
    """
    p = _existing(path, "GraphML")
    _check_mode(mode, f"network_from_graphml({str(p)!r})")

    def build(source: str) -> RoadNetwork:
        where = f"network_from_graphml({str(p)!r})"
        try:
            g = read_graphml_edges(p, mode, private_residential_walk=private)
        except (ValueError, OSError) as exc:
            raise UnreadableFileError(
                f"{str(p)!r} is not a readable GraphML road network ({exc}). Save graphs with "
                "osmnx.save_graphml; for OSM files use network_from_osm(), for line layers "
                "network_from_lines()."
            ) from None
        if g.crs is None and crs is None:
            raise NetworkError(
                f"{where}: the file records no CRS (graph data 'crs'). Pass crs='EPSG:4326' (or "
                "the CRS of its x/y), or set coordinate_system: for the roads in the scenario."
            )
        if g.n_dropped:
            logger.info("%s: %d of %d edges are not %s ways (way filter of OSM files) and were "
                        "dropped", where, g.n_dropped, g.n_read, mode)
        if len(g.u) == 0:
            raise NetworkError(f"{where}: no road edges for mode={mode!r} ({g.n_read} edges in "
                               "the file). Check the file, or try mode='all'.")
        in_crs = CRS.from_user_input(g.crs if g.crs is not None else crs)
        u, v, length = g.u, g.v, g.length_m.copy()
        missing = np.isnan(length)
        if in_crs.is_geographic:
            length[missing] = haversine_m(g.x[u[missing]], g.y[u[missing]], g.x[v[missing]],
                                          g.y[v[missing]])
            out_crs = _metric_crs(crs if g.crs is not None else None, g.x, g.y)
            x, y = Transformer.from_crs(in_crs, out_crs, always_xy=True).transform(g.x, g.y)
        else:
            out_crs = in_crs
            x, y = g.x, g.y
            length[missing] = np.hypot(x[u[missing]] - x[v[missing]], y[u[missing]] - y[v[missing]])
        if (~np.isfinite(length) | (length < 0)).any():
            check_lengths(length, np.asarray([f"{g.node_id[a]}-{g.node_id[b]}" for a, b in
                                              zip(u, v, strict=True)], dtype=object),
                          where + " (edge)")
        hws, nms, spd = g.highway, g.name, g.maxspeed_kph
        if mode in ("walk", "all") or not g.directed:
            u, v = np.concatenate([u, v]), np.concatenate([v, u])
            length = np.concatenate([length, length])
            hws, nms = hws + hws, nms + nms
            spd = np.concatenate([spd, spd])
        return _build(
            node_id=g.node_id, x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64), crs=out_crs, u=u, v=v, length_m=length,
            highway=hws, maxspeed_kph=spd, name=nms, mode=mode, source=source, where=where,
        )

    private = _private_walk(private_residential_walk)
    opts = {"mode": mode, "crs": None if crs is None else CRS.from_user_input(crs).to_string(),
            "private_residential_walk": private}
    return _cached("graphml", [p], opts, build, cache_dir=cache_dir, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------
# road line layers
# ---------------------------------------------------------------------------------------------
def _line_files(p: Path) -> list[Path]:
    if p.suffix.lower() == ".shp":
        return [q for q in (p.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
                if q.exists()]
    return [p]


def network_from_lines(
    lines: Any,
    *,
    road_class_column: str | None = None,
    name_column: str | None = None,
    maxspeed_column: str | None = None,
    layer_column: str = "layer",
    bridge_column: str = "bridge",
    tunnel_column: str = "tunnel",
    class_aliases: dict[str, str] | None = None,
    default_class: str = "unclassified",
    tolerance_m: float = 0.5,
    crs: Any = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    mode: NetworkMode = "all",
    from_node_column: str | None = None,
    to_node_column: str | None = None,
    oneway_column: str | None = None,
    grade_separated_classes: str | None = None,
    max_scale_error: float | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> RoadNetwork:
    """Build a network from a road line layer (GeoPackage, Shapefile, GeoJSON, or a
    GeoDataFrame).

    **The file's own topology first.** When the layer has from/to node columns
    (``from_node``/``to_node``, ``FNODE_``/``TNODE_``, ``snodeid``/``enodeid``, ``u``/``v`` …,
    found like a ledger's headers, or named with ``from_node_column``/``to_node_column``), every
    line is one edge between its two nodes and nothing else is joined: interchanges and viaducts
    stay as the data has them. A one-way column (``oneway``: yes/1/true, -1 against the line;
    or ``direction`` codes of navigation data: 2 along, 3 against, 0/1 both) is honoured for
    ``mode="drive"``; walking is always both ways.

    Otherwise lines are noded by the rule below.

    Lines are split into edges at their vertices and joined into junctions by this rule:

    * a line's **level** is its ``layer_column`` value when present and non-zero, else ``+1``
      when ``bridge_column`` is true (``yes``/``1``/``true``/``是``), ``-1`` when
      ``tunnel_column`` is true, else ``0``;
    * lines of the **same level** meet at every shared vertex, at every crossing (a node is
      inserted where the source has none) and where an end of one lies within ``tolerance_m`` of
      the other (an un-noded T-junction);
    * lines of **different levels** meet only where their **ends** meet (within
      ``tolerance_m``): a bridge joins its approach roads at its ends, never where it passes over
      another road, even where both lines have a vertex at the same place.

    Parameters
    ----------
    lines
        A path or a GeoDataFrame of (Multi)LineStrings with a CRS (a layer without one is
        refused: set it with ``gdf.set_crs(...)`` or add the ``.prj`` file).
    road_class_column
        Column with the road class: OSM classes (``primary``...) or Chinese ones (``国道``,
        ``县道``, ``村道``..., see :data:`LINE_CLASS_ALIASES`; extend with ``class_aliases``).
        Speeds by class come from the ``bus_speed_kph_by_road_class`` setting.
    name_column, maxspeed_column
        Optional road name and posted speed (km/h) columns.
    layer_column, bridge_column, tunnel_column
        Grade-separation columns (used when present). When the layer has none of them (and no
        node columns), lines of a limited-access class (setting ``road_grade_separated_classes``:
        motorway, trunk, 高速, 快速路, 高架, 立交 …; ``grade_separated_classes`` overrides it) join
        other lines only where one of the two ends on the other (ramps, the next piece), never
        where they cross; a :class:`GradeSeparationWarning` gives the number of crossings left
        unjoined.
    default_class
        Class of lines without one.
    tolerance_m
        Ends closer than this (metres) to another line or end are joined to it.
    crs
        Metric CRS of the network; default the layer's CRS if projected with a scale error at the
        data below ``max_scale_error`` (setting ``metric_crs_max_scale_error``, 0.5 %: Gauss-Krüger
        and UTM zones pass), else the UTM zone of its centre. Web Mercator (EPSG:3857) is thus
        always reprojected: its "metres" are 1/cos(latitude) too long (+24 % at 36°N).
    mode
        ``"all"`` or ``"walk"`` (both directions of every line) or ``"drive"`` (one-way lines
        in their direction only).
    layer, encoding
        Passed to :func:`geopandas.read_file` (Chinese Shapefiles without ``.cpg`` are often GBK).
    cache_dir, use_cache
        As in :func:`network_from_osm` (only for paths; a GeoDataFrame is built directly).
    """
    import geopandas as gpd

    _check_mode(mode, "network_from_lines")
    aliases = {**LINE_CLASS_ALIASES, **(class_aliases or {})}
    defaults = Settings()
    separated = (defaults["road_grade_separated_classes"] if grade_separated_classes is None
                 else grade_separated_classes)
    scale_error = defaults["metric_crs_max_scale_error"] if max_scale_error is None else max_scale_error
    options = {
        "road_class_column": road_class_column, "name_column": name_column,
        "maxspeed_column": maxspeed_column, "layer_column": layer_column,
        "bridge_column": bridge_column, "tunnel_column": tunnel_column,
        "class_aliases": class_aliases, "default_class": default_class,
        "tolerance_m": tolerance_m, "crs": None if crs is None else str(crs), "layer": layer,
        "encoding": encoding, "mode": mode, "from_node_column": from_node_column,
        "to_node_column": to_node_column, "oneway_column": oneway_column,
        "grade_separated_classes": separated, "max_scale_error": scale_error,
    }

    def from_frame(gdf: Any, where: str, source: str, path: str | None = None) -> RoadNetwork:
        arrays = lines_to_edges(
            gdf, where=where, road_class_column=road_class_column, name_column=name_column,
            maxspeed_column=maxspeed_column, layer_column=layer_column,
            bridge_column=bridge_column, tunnel_column=tunnel_column, aliases=aliases,
            default_class=default_class, tolerance_m=tolerance_m, crs=crs, mode=mode,
            from_node_column=from_node_column, to_node_column=to_node_column,
            oneway_column=oneway_column, grade_separated_classes=separated,
            max_scale_error=scale_error, source=path,
        )
        return _build(**arrays, mode=mode, source=source, where=where)

    if isinstance(lines, pd.DataFrame):
        return from_frame(lines, "network_from_lines(GeoDataFrame)", "lines:GeoDataFrame")
    p = _existing(lines, "road line layer")
    where = f"network_from_lines({str(p)!r})"

    def build(source: str) -> RoadNetwork:
        try:
            kwargs: dict[str, Any] = {}
            if layer is not None:
                kwargs["layer"] = layer
            if encoding is not None:
                kwargs["encoding"] = encoding
            gdf = gpd.read_file(p, **kwargs)
        except Exception as exc:
            raise UnreadableFileError(
                f"{str(p)!r} could not be read as a road line layer ({type(exc).__name__}: "
                f"{exc}). Use a GeoPackage, Shapefile or GeoJSON of lines."
            ) from None
        return from_frame(gdf, where, source, str(p))

    return _cached("lines", _line_files(p), options, build, cache_dir=cache_dir,
                   use_cache=use_cache)
