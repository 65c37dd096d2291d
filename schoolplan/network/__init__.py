"""Road networks: built from every source a bureau has (OSM files, GraphML, line layers), cached
by content, and the points joined to them.

:class:`RoadNetwork` holds plain arrays; :func:`network_from_osm`, :func:`network_from_graphml`,
:func:`network_from_lines` and :func:`network_from_graph` share one call shape;
:func:`snap` joins points to the nearest road. :mod:`schoolplan.network.graph` holds the
array-graph algorithms (CSR assembly, Hilbert order, shortest-path batches) the travel model uses.
"""

from schoolplan.network._download import download_osm_graphml
from schoolplan.network.roads import (
    LINE_CLASS_ALIASES,
    NetworkMode,
    RoadNetwork,
    network_from_graph,
    network_from_graphml,
    network_from_lines,
    network_from_osm,
)
from schoolplan.network.snapping import point_coordinates, snap, snap_xy

__all__ = [
    "LINE_CLASS_ALIASES",
    "NetworkMode",
    "RoadNetwork",
    "download_osm_graphml",
    "network_from_graph",
    "network_from_graphml",
    "network_from_lines",
    "network_from_osm",
    "point_coordinates",
    "snap",
    "snap_xy",
]
