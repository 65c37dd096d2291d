"""Private: the planet–satellite layers of the overview map (行星-卫星布局图层).

The planet of every laid-out town drawn as such (a star on a ring), the grade 4–6 catchments that
go to it, the satellites named 卫星校（保留1-3年级的附设校）and the closed schools dashed. Every name
put into HTML is escaped.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from schoolplan.outputs import map_data
from schoolplan.outputs._map_layers import PointLayer
from schoolplan.outputs.escape import GeoJsonTooltip, Tooltip, html_text
from schoolplan.outputs.labels import text

__all__ = ["add_layout_layers"]

_PLANET = "#6a3d9a"
_SATELLITE = "#1f78b4"


def _ids(value: object) -> list[str]:
    return [i for i in str(value or "").split(";") if i and i != "nan"]


def add_layout_layers(m: folium.Map, result, lang: str = "zh") -> int:
    """Add the layers of ``result.layouts`` to ``m``; returns the number of planets drawn."""
    layouts = result.layouts
    if layouts is None or not len(layouts):
        return 0
    s = result.schools
    located = s[np.isfinite(s["lon"])].set_index("school_id")
    planets = [p for p in layouts["planet_id"] if isinstance(p, str) and p in located.index]
    pg = folium.FeatureGroup(name=f"{text('planet_layer', lang)} ({len(planets)})", show=True)
    for pid in planets:
        r = located.loc[pid]
        name = html_text(r["name"])
        folium.CircleMarker([round(r["lat"], 6), round(r["lon"], 6)], radius=13, color=_PLANET, weight=3,
                            fill=False, tooltip=Tooltip(f"{text('planet_label', lang)}：{name}")).add_to(pg)
        folium.Marker([round(r["lat"], 6), round(r["lon"], 6)],
                      icon=folium.DivIcon(html=f"<div style='color:{_PLANET};font-size:18px;"
                                               "line-height:18px;margin:-9px 0 0 -7px'>★</div>"),
                      tooltip=Tooltip(f"{text('planet_label', lang)}：{name}")).add_to(pg)
    pg.add_to(m)
    sats = [i for v in layouts["satellite_ids"] for i in _ids(v) if i in located.index]
    dec = int(result.settings["map_coordinate_decimals"])
    PointLayer(f"{text('satellite_layer', lang)} ({len(sats)})",
               [[round(float(located.at[i, "lat"]), dec), round(float(located.at[i, "lon"]), dec), 0, 7,
                 f"{text('satellite_label', lang)}：{located.at[i, 'name']}", 0, None] for i in sats],
               [{"color": _SATELLITE, "weight": 2, "fill": True, "fillColor": "#a6cee3",
                 "fillOpacity": 0.9}]).add_to(m)
    closed = [i for v in layouts["closed_ids"] for i in _ids(v) if i in located.index]
    PointLayer(f"{text('layout_closed_layer', lang)} ({len(closed)})",
               [[round(float(located.at[i, "lat"]), dec), round(float(located.at[i, "lon"]), dec), 0, 7,
                 f"{text('closed_label', lang)}：{located.at[i, 'name']}", 0, None] for i in closed],
               [{"color": "#555", "weight": 2, "dashArray": "3 3", "fill": False}]).add_to(m)
    areas = map_data.planet_catchments(result, planets)
    if areas is not None and len(areas):
        # the tooltip sets textContent: the names go in as plain text, not as escaped markup
        areas = areas.assign(school=[str(located.at[i, "name"]) for i in areas["school_id"]],
                             villages=pd.to_numeric(areas["villages"], errors="coerce"))
        folium.GeoJson(
            areas[["school_id", "school", "villages", "geometry"]].to_json(drop_id=True),
            name=text("planet_catchment_layer", lang), show=True,
            style_function=lambda f: {"color": _PLANET, "weight": 2, "fillColor": _PLANET,
                                      "fillOpacity": 0.08},
            tooltip=GeoJsonTooltip(fields=["school", "villages"],
                                          aliases=[text("planet_label", lang), text("villages", lang)]),
        ).add_to(m)
    return len(planets)
