"""Small drawing helpers shared by the printed pages (summary.pdf, towns.xlsx maps)."""

from __future__ import annotations

import numpy as np

__all__ = ["MAP_LEGEND", "draw_outlines"]

#: The map legend's style (the summary page and the maps of towns.xlsx).
MAP_LEGEND = {"loc": "lower left", "fontsize": 6, "frameon": True, "framealpha": 0.9, "markerscale": 1.0}


def draw_outlines(ax, geometries, *, color: str, linewidth: float) -> None:
    """The outlines of polygons as one line collection (``O(vertices)``; GeoSeries.plot builds
    one artist through pandas per part, 5x slower for a prefecture's 135 town maps)."""
    import shapely
    from matplotlib.collections import LineCollection

    rings = shapely.get_rings(shapely.get_parts(np.asarray(geometries, dtype=object)))
    lines = [shapely.get_coordinates(r) for r in rings if r is not None and not r.is_empty]
    if lines:
        ax.add_collection(LineCollection(lines, colors=color, linewidths=linewidth))
        ax.autoscale_view()
