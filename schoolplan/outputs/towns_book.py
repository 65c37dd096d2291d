"""Per-town pages (一镇一策): ``towns.xlsx``, one sheet per town, for the meeting at which a town's
schools are discussed.

Each sheet, printable on one A4 landscape page width, holds the town's key figures, its schools
(level, status, pupils, seats, seat warning, small-school tier, travel), the planet and satellites
of its layout, its consolidation candidates, the rule checks and warnings of the town, its schools
and its villages, and a small map (the town, its neighbours' outlines, its schools by level,
closures). A first sheet (目录 / Contents) lists the towns. Words come from
:mod:`schoolplan.outputs.labels`; the page renders results, it never computes them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schoolplan import __version__
from schoolplan.outputs.drawing import MAP_LEGEND, draw_outlines
from schoolplan.outputs.excel import COLUMN_LABELS, _created, label_value
from schoolplan.outputs.files import atomic_write, xlsx_bytes
from schoolplan.outputs.labels import TOWN_BOOK_TEXT
from schoolplan.outputs.print_setup import setup_town_print
from schoolplan.outputs.summary import (
    FontMissingError,
    Page,
    _draw_map,
    cjk_context,
    cjk_fonts,
    glyphs_logged,
)

__all__ = ["TOWN_SCHOOL_COLUMNS", "sheet_name", "write_towns_xlsx"]

#: The columns of a town's school table.
TOWN_SCHOOL_COLUMNS = ["name", "level", "status", "enrollment", "seats", "utilisation", "seat_warning",
                       "small_tier", "mean_time_min"]
_CANDIDATE_COLUMNS = ["rank", "name", "enrollment", "recommendation", "receiving_school",
                      "added_time_mean_min", "pupils_needing_bus_after"]
_VIOLATION_COLUMNS = ["rule_id", "name", "message"]
_STATUS = {"open": ("开办", "open"), "closed": ("撤并", "closed"),
           "satellite": ("卫星校（保留1-3年级）", "satellite (grades 1-3)"), "new": ("新建", "new")}
_BOLD = Font(bold=True)
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_FILL = {"red": PatternFill("solid", fgColor="FFC7CE"), "yellow": PatternFill("solid", fgColor="FFEB9C")}
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _t(key: str, lang: str) -> str:
    zh, en = TOWN_BOOK_TEXT[key]
    return zh if lang == "zh" else en


def sheet_name(town: str, code: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name for a town: without ``[]:*?/\\``, at most 31 characters,
    the town code added when two towns share a name."""
    base = _BAD_SHEET.sub("_", str(town)).strip("'") or str(code)
    name = base[:31]
    if name in taken:
        name = f"{base[:31 - len(str(code)) - 1]}_{code}"[:31]
    n = 2
    while name in taken:
        name = f"{base[:27]}_{n}"
        n += 1
    taken.add(name)
    return name


def _cell_value(column: str, value: Any, lang: str) -> Any:
    if column == "status" and value in _STATUS:
        return _STATUS[value][0 if lang == "zh" else 1]
    shown = label_value(column, value, lang)
    if column in ("enrollment", "seats", "pupils_needing_bus_after") and isinstance(shown, float):
        return round(shown)  # whole pupils on paper (exact in the CSVs)
    if column in ("mean_time_min", "added_time_mean_min") and isinstance(shown, float):
        return round(shown, 1)
    return shown


def _table(ws: Worksheet, row: int, title: str, df: pd.DataFrame, columns: Sequence[str],
           lang: str, *, headers: dict[str, str] | None = None) -> int:
    """Write a titled table from ``row``; return the next free row."""
    ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12, color="1F3864")
    row += 1
    cols = [c for c in columns if c in df.columns]
    if not len(df) or not cols:
        ws.cell(row=row, column=1, value=_t("none", lang))
        return row + 2
    for j, c in enumerate(cols, 1):
        label = (headers or {}).get(c) or COLUMN_LABELS.get(c, (c, c))[0 if lang == "zh" else 1]
        cell = ws.cell(row=row, column=j, value=label)
        cell.font, cell.fill = _BOLD, _HEAD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for rec in df[cols].to_dict("records"):
        row += 1
        for j, c in enumerate(cols, 1):
            value = _cell_value(c, rec[c], lang)
            cell = ws.cell(row=row, column=j, value=None if pd.isna(value) else value)
            if c == "utilisation" and isinstance(value, float):
                cell.number_format = "0%"
            if c == "seat_warning" and rec[c] in _FILL:
                cell.fill = _FILL[rec[c]]
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # a name is never a formula
    return row + 2


def _frame(mine) -> tuple[float, float, float, float]:
    """The frame of a town's map: its outline's bounds and 8 % around them (a town given as a
    point: 0.02 degrees, about 2 km, around it)."""
    minx, miny, maxx, maxy = mine.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.08 or 0.02
    return minx - pad, miny - pad, maxx + pad, maxy + pad


class _TownMaps:
    """The small maps of the town sheets, drawn on one figure reused for every town.

    A prefecture's book has 135 maps; a new figure and axes for each, and matplotlib laying out
    the legend in each, were 60 % of drawing them. Here the axes are emptied between towns, and
    each distinct legend (its entries and their marker sizes) is rendered once, opaque, on an
    empty map, and its pixels pasted into every map that has the same entries. The PNG holds the
    same picture as a figure drawn whole with an opaque legend."""

    def __init__(self, lang: str):
        self.lang = lang
        self.fig: Any = None  # matplotlib's Figure, Axes and canvas, made at the first map
        self.ax: Any = None
        self.canvas: Any = None
        self.legends: dict[tuple, tuple[int, int, np.ndarray]] = {}
        try:
            self.fonts: list[str] | None = list(cjk_fonts())
        except FontMissingError:
            self.fonts = None

    def png(self, towns, mine, schools) -> bytes | None:
        """A small map of the town: its outline over its neighbours', its schools by level,
        closures. ``towns`` are the towns whose outlines cross the map's frame."""
        if self.fonts is None or not len(mine):
            return None
        from matplotlib.image import imsave

        code = str(mine["town_code"].iloc[0])
        with glyphs_logged(f"towns.xlsx ({code})"), cjk_context(self.fonts):
            ax = self._empty_axes()
            x0, y0, x1, y1 = _frame(mine)
            draw_outlines(ax, towns.geometry, color="#bbbbbb", linewidth=0.4)
            _draw_map(ax, Page(lang=self.lang, title="", subtitle="", date="", synthetic=False,
                               lines=(), sections=(), sources=(), towns=mine, schools=schools),
                      legend=False)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            handles, labels = ax.get_legend_handles_labels()
            key = tuple((lab, float(np.min(h.get_sizes())), float(np.max(h.get_sizes())))
                        for h, lab in zip(handles, labels, strict=True))
            if key and key not in self.legends:
                self.legends[key] = self._legend_pixels(handles, labels)
            self.canvas.draw()
            rgba = np.array(self.canvas.buffer_rgba())
            if key and not self._paste(rgba, *self.legends[key]):
                ax.legend(handles, labels, **{**MAP_LEGEND, "framealpha": 1.0})  # cannot happen
                self.canvas.draw()
                rgba = np.array(self.canvas.buffer_rgba())
            buf = io.BytesIO()
            no_software: Any = {"Software": None}  # no version in the bytes
            imsave(buf, rgba, format="png", dpi=self.fig.dpi, metadata=no_software)
        return buf.getvalue()

    def _empty_axes(self):
        if self.fig is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            self.fig = Figure(figsize=(3.6, 3.6), dpi=110)
            self.canvas = FigureCanvasAgg(self.fig)
            self.ax = self.fig.add_axes((0, 0, 1, 1))
        ax = self.ax
        for artist in [*ax.collections, *ax.texts, *ax.lines, *ax.patches, *ax.images]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.relim()
        return ax

    def _paste(self, rgba: np.ndarray, dx: int, dy: int, pixels: np.ndarray) -> bool:
        """Put a legend's pixels at its place in this map: (``dx``, ``dy``) from the lower left
        corner of the axes, whose box the town's aspect sets. False when it would not fit."""
        box = self.ax.get_window_extent(self.canvas.get_renderer())
        h, w = rgba.shape[:2]
        x0, y0 = round(box.x0) + dx, round(box.y0) + dy
        ph, pw = pixels.shape[:2]
        if x0 < 0 or y0 < 0 or x0 + pw > w or y0 + ph > h:
            return False
        rgba[h - y0 - ph:h - y0, x0:x0 + pw] = pixels
        return True

    def _legend_pixels(self, handles, labels) -> tuple[int, int, np.ndarray]:
        """The legend alone (opaque, on an empty map): its place from the lower left corner of
        the axes, in pixels, and its pixels (one pixel of margin)."""
        ax = self.ax
        legend = ax.legend(handles, labels, **{**MAP_LEGEND, "framealpha": 1.0})  # copies the
        shown = [a for a in [*ax.collections, *ax.texts] if a.get_visible()]  # handles' looks
        for a in shown:
            a.set_visible(False)
        self.canvas.draw()
        rgba = np.asarray(self.canvas.buffer_rgba())
        renderer = self.canvas.get_renderer()
        box, axes = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        h, w = rgba.shape[:2]
        x0, y0 = max(0, int(np.floor(box.x0)) - 1), max(0, int(np.floor(box.y0)) - 1)
        x1, y1 = min(w, int(np.ceil(box.x1)) + 1), min(h, int(np.ceil(box.y1)) + 1)
        pixels = rgba[h - y1:h - y0, x0:x1].copy()
        legend.remove()
        for a in shown:
            a.set_visible(True)
        return x0 - round(axes.x0), y0 - round(axes.y0), pixels


class _ByTown:
    """The rows of each table of a result, split by town once (``O(rows)``), so that the book of a
    prefecture's 135 towns does not filter every table 135 times."""

    def __init__(self, result, lang: str):
        def split(df: pd.DataFrame | None, key: pd.Series | None = None) -> dict[str, pd.DataFrame]:
            if df is None or (key is None and "town_code" not in df):
                return {}
            key = df["town_code"].astype(str) if key is None else key
            return {str(k): g for k, g in df.groupby(key.to_numpy(), sort=False)}

        sch = result.schools
        self.schools_geo = split(sch)
        plain = pd.DataFrame(sch.drop(columns=sch.geometry.name))
        if "mean_time_s" in plain:
            plain["mean_time_min"] = pd.to_numeric(plain["mean_time_s"], errors="coerce") / 60.0
        self.schools = split(plain)
        self.no_schools, self.no_violations = plain.iloc[:0], pd.DataFrame(columns=_VIOLATION_COLUMNS)
        self.layouts = split(result.layouts)
        self.candidates = split(result.candidates)
        self.violations: dict[str, pd.DataFrame] = {}
        v = result.violations
        if len(v):
            # the checks of a town: its own, its schools' and its villages' (an id may be both)
            owners = [pd.DataFrame({"object_id": sch["school_id"].astype(str).to_numpy(),
                                    "_town": sch["town_code"].astype(str).to_numpy()}),
                      pd.DataFrame({"object_id": result.towns["town_code"].astype(str).to_numpy(),
                                    "_town": result.towns["town_code"].astype(str).to_numpy()})]
            demand = result.inputs.demand
            if demand is not None and "town_code" in demand:
                owners.append(pd.DataFrame({"object_id": demand["demand_id"].astype(str).to_numpy(),
                                            "_town": demand["town_code"].astype(str).to_numpy()}))
            own = pd.concat(owners, ignore_index=True).drop_duplicates()
            vv = v.assign(object_id=v["object_id"].astype(str), _order=range(len(v)))
            hit = vv.merge(own, on="object_id").sort_values("_order", kind="mergesort")
            hit["message"] = hit["message_zh" if lang == "zh" else "message_en"]
            self.violations = split(hit.drop(columns=["_order"]), hit["_town"])
        towns = result.towns
        self.towns = towns
        self._rows = split(towns)
        self._index = towns.sindex

    def town(self, code: str):
        """The town's own row (a GeoDataFrame; empty when the code is not among the towns)."""
        return self._rows.get(code, self.towns.iloc[:0])

    def neighbours(self, mine) -> pd.DataFrame:
        """The towns whose outlines cross the frame of ``mine``'s map (``O(log towns)`` each)."""
        from shapely.geometry import box

        hits = self._index.query(box(*_frame(mine)), predicate="intersects")
        return self.towns.iloc[sorted(hits)]


def _town_sheet(wb: Workbook, result, town: pd.Series, name: str, lang: str, by: _ByTown,
                maps: _TownMaps) -> None:
    code = str(town["town_code"])
    ws = wb.create_sheet(name)
    schools = by.schools.get(code, by.no_schools)
    open_s = schools[schools.get("status", pd.Series("open", index=schools.index)) != "closed"]
    ws.cell(row=1, column=1, value=_t("title", lang).format(town=town["town"])).font = Font(bold=True, size=16)
    facts = _t("facts", lang).format(
        n=len(open_s), pupils=round(float(pd.to_numeric(open_s["enrollment"], errors="coerce").sum())),
        small=int((open_s.get("small_tier", pd.Series("", index=open_s.index)).fillna("") != "").sum()),
        closed=len(schools) - len(open_s))
    ws.cell(row=2, column=1, value=facts)
    if result.scenario.synthetic:
        ws.cell(row=3, column=1, value=_t("synthetic", lang)).font = Font(bold=True, color="C00000")
    row = 5
    row = _table(ws, row, _t("schools", lang), schools, TOWN_SCHOOL_COLUMNS, lang,
                 headers={"status": _t("status", lang)})
    if result.layouts is not None and "town_code" in result.layouts:
        lay = by.layouts.get(code, result.layouts.iloc[:0])
        row = _table(ws, row, _t("layout", lang), lay,
                     ["planet", "satellites", "closed", "seats_left_at_planet", "g4_6_pupils_needing_bus",
                      "g4_6_pupils_needing_boarding"], lang)
    if result.candidates is not None and "town_code" in result.candidates:
        cand = by.candidates.get(code, result.candidates.iloc[:0])
        row = _table(ws, row, _t("candidates", lang), cand, _CANDIDATE_COLUMNS, lang)
    if len(result.violations):
        mine = by.violations.get(code, by.no_violations)
        row = _table(ws, row, _t("checks", lang), mine, _VIOLATION_COLUMNS, lang)
    widths = {"A": 26, "B": 13, "C": 16, "D": 11, "E": 11, "F": 11, "G": 11, "H": 13, "I": 12}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    outline = by.town(code)
    located = len(outline) and bool(np.isfinite(outline.total_bounds).all())  # no outline: no map
    png = maps.png(by.neighbours(outline), outline,
                   by.schools_geo.get(code, result.schools.iloc[:0])) if located else None
    if png is not None:
        img = XLImage(io.BytesIO(png))
        img.width, img.height = 330, 330
        ws.add_image(img, "K1")
    setup_town_print(ws, last_column="Q" if png is not None else get_column_letter(9), lang=lang)


def write_towns_xlsx(result, path: str | Path, *, lang: str = "zh") -> Path:
    """Write ``towns.xlsx``: a contents sheet, then one sheet per town (一镇一策)."""
    wb = Workbook()
    toc = wb.active
    toc.title = _t("contents", lang)
    toc.append([_t("town", lang), _t("code", lang), _t("sheet", lang)])
    for cell in toc[1]:
        cell.font, cell.fill = _BOLD, _HEAD
    taken = {toc.title}
    towns = pd.DataFrame(result.towns.drop(columns=result.towns.geometry.name))
    by = _ByTown(result, lang)
    maps = _TownMaps(lang)
    for _, town in towns.iterrows():
        name = sheet_name(str(town["town"]), str(town["town_code"]), taken)
        toc.append([town["town"], str(town["town_code"]), name])
        toc.cell(row=toc.max_row, column=3).hyperlink = f"#'{name}'!A1"
        _town_sheet(wb, result, town, name, lang, by, maps)
    toc.column_dimensions["A"].width = 20
    toc.column_dimensions["B"].width = 14
    toc.column_dimensions["C"].width = 20
    setup_town_print(toc, last_column="C", lang=lang)
    return atomic_write(path, xlsx_bytes(wb, _created(result), creator=f"schoolplan {__version__}"))
