"""Private: road networks downloaded from OpenStreetMap online (an option, never the default).

Only used when a scenario says ``roads: osm`` (or a caller asks for it). The download goes
through osmnx with a short timeout and osmnx's rate-limit pause switched off, so a machine
without internet gets a clear error in seconds instead of a hang of minutes. The result is kept
as GraphML in the cache folder, keyed by the sha256 of the area and the network type, so the
next run works offline.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from schoolplan.errors import NetworkError

__all__ = ["download_osm_graphml"]

logger = logging.getLogger(__name__)


def download_osm_graphml(polygon, *, mode: str, timeout_s: float, cache_dir: Path) -> Path:
    """The GraphML of the OSM roads inside ``polygon`` (WGS-84), from the cache or downloaded.

    Raises
    ------
    NetworkError
        When the download fails (no connection, timeout, Overpass error, empty area), with the
        reason and what to do instead.
    """
    network_type = "drive" if mode == "drive" else "walk"
    key = hashlib.sha256(polygon.wkb + network_type.encode()).hexdigest()
    folder = Path(cache_dir) / "osm-online"
    path = folder / f"{key}.graphml"
    if path.is_file():
        logger.info("using the OSM roads downloaded earlier: %s", path)
        return path
    import osmnx as ox

    saved = (ox.settings.requests_timeout, ox.settings.overpass_rate_limit, ox.settings.use_cache)
    ox.settings.requests_timeout = timeout_s
    ox.settings.overpass_rate_limit = False
    ox.settings.use_cache = False
    try:
        graph = ox.graph_from_polygon(polygon, network_type=network_type, retain_all=True)
    except Exception as exc:  # requests, osmnx and Overpass all raise their own kinds
        raise NetworkError(
            f"could not download the road network from OpenStreetMap ({type(exc).__name__}: "
            f"{exc}). Without internet, give a local road file instead (roads: {{path: "
            "roads.osm.pbf | roads.graphml | roads.gpkg}}), or roads: none for straight-line "
            "estimates."
        ) from None
    finally:
        ox.settings.requests_timeout, ox.settings.overpass_rate_limit, ox.settings.use_cache = saved
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".graphml", dir=folder)
    os.close(fd)
    try:
        ox.save_graphml(graph, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
