"""The 学位预警 map layers: one layer per year of the seat-warning table, the user picks the year in
the layer control; a school's parts (小学部, 初中部) share one marker whose tooltip lists both.

Every name is html-escaped. Called once from :func:`schoolplan.outputs.maps.overview_map`.
"""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd

from schoolplan.outputs._map_layers import PointLayer
from schoolplan.settings import Settings

__all__ = ["add_seat_warning_layers"]

_COLOURS = {"red": "#d62728", "yellow": "#e6a800"}
# a square badge down and to the right of the school (the current-year badge is up and right)
_STYLES = [{"badge": "red", "anchor": [-3, -3]}, {"badge": "yellow", "anchor": [-3, -3]}]
_WORDS = {"red": ("红色预警", "red warning"), "yellow": ("黄色预警", "yellow warning")}
_PART_EN = {"小学": "primary", "小学部": "primary part", "初中": "junior", "初中部": "junior part"}


def add_seat_warning_layers(m: folium.Map, result: Any, *, lang: str = "zh",
                            year: int | str | None = None) -> list[str]:
    """Add a ``学位预警 <year>`` layer per year of ``result.seat_warnings`` to ``m``.

    Only ``year`` (default: the scenario's year when the table has it, else the first year) is
    shown when the map opens. Returns the names of the layers added (none without a table).
    """
    table = result.seat_warnings
    if table is None or not len(table):
        return []
    years = list(table.attrs.get("years") or [c[len("warning_"):] for c in table if c.startswith("warning_")])
    if year is None:
        year = result.scenario.year if result.scenario.year in years else years[0]
    located = result.schools.drop_duplicates("school_id").set_index("school_id")[["lat", "lon"]]
    where = {sid: (float(la), float(lo)) for sid, la, lo in  # plain dicts: O(rows), no .at per school
             zip(located.index, located["lat"], located["lon"], strict=True) if pd.notna(la)}
    zh = lang == "zh"
    settings = getattr(result, "settings", None) or Settings()
    dec = int(settings["map_coordinate_decimals"])
    added = []
    for y in years:
        col = f"warning_{y}"
        hit = table[table[col].isin(list(_COLOURS))]
        label = ("学位预警 " + ("现状" if y == "today" else f"{y}年")) if zh else (
            "Seat warnings " + str(y))
        points = []
        by_school: dict[Any, list[tuple]] = {}
        for rec in zip(hit["school_id"], hit["name"], hit["part_zh"], hit["part"], hit[f"entry_util_{y}"],
                       hit[f"whole_util_{y}"], hit[col], strict=True):
            by_school.setdefault(rec[0], []).append(rec)
        for sid in sorted(by_school):
            if sid not in where:
                continue
            rows = by_school[sid]
            worst = "red" if any(r[6] == "red" for r in rows) else "yellow"
            lines = []
            for _, name, part_zh, part_code, eu, wu, band in rows:
                part = part_zh if zh else _PART_EN.get(part_zh, part_code)
                word = _WORDS[band][0 if zh else 1]
                ratio = (f"入学需求/起始年级学位 {eu:.0%}，在校需求/学位 {wu:.0%}" if zh else
                         f"entry cohort / intake {eu:.0%}, all pupils / seats {wu:.0%}")
                lines.append(f"{name} {part}: {word} ({ratio})")
            lat, lon = where[sid]
            points.append([round(lat, dec), round(lon, dec), 0 if worst == "red" else 1, 6, "\n".join(lines), 0, None])
        fg = PointLayer(f"{label} ({hit['school_id'].nunique()})", points, _STYLES, show=y == year)
        fg.add_to(m)
        added.append(fg.get_name())
    return added
