"""Rendering an estate review: one offline HTML page per estate (with its map), ``estates.csv``
and ``report.xlsx``. Computes nothing: the figures come from :func:`schoolplan.siting.review_estates`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from schoolplan.errors import SchoolplanError
from schoolplan.outputs import excel as _excel
from schoolplan.outputs import offline as _offline
from schoolplan.outputs.escape import Markup, Popup, Tooltip, csv_safe, html_text
from schoolplan.outputs.excel import COLUMN_LABELS, label_value
from schoolplan.outputs.files import atomic_write
from schoolplan.outputs.folder import OutputFolder, moved
from schoolplan.siting import (
    LEVEL_COLUMNS,
    LEVEL_EN,
    LEVEL_ZH,
    LEVELS,
    VERDICT_LABELS,
    Review,
    number_text,
)

_PAGE = {
    "title": ("住宅小区配套学校审查", "Housing-estate school review"),
    "synthetic": ("合成示范数据，非真实小区和学校", "Synthetic demo data: not a real estate or school"),
    "figures": ("主要数据", "Figures"),
    "schools": ("服务学校（步行距离）", "Serving schools (walking distance)"),
    "sites": ("拟建校址", "Proposed sites"),
    "phases": ("分期交付与学生数（累计，按千人指标）", "Delivery by year and pupils (cumulative, at the rate)"),
    "phase_verdicts": ("分期结论（交付后逐年核算）", "Verdict by delivery phase (year by year after handover)"),
    "phase_years": ("逐年学生数与学位", "Children and seats by year"),
    "limits": ("采用的限值及依据", "Limits used and their sources"),
    "method": ("距离计算方法", "Distance method"),
    "from": ("距离起点", "Distances from"),
    "estate": ("小区", "Estate"),
    "radius_circle": ("服务半径（直线圆，仅示意）", "service radius (straight-line circle, for orientation)"),
    "walk_area": ("步行服务范围", "walking reach"),
    "site_area": ("拟建校址步行服务范围", "walking reach of the proposed site"),
    "m": ("米", "m"),
}


def _p(key: str, lang: str) -> str:
    return _PAGE[key][0 if lang == "zh" else 1]


def review_map(review: Review, estate_id: str, *, lang: str = "zh"):
    """A folium map of one estate: the estate, the radius, its walking reach, the serving
    schools (and the other schools nearby) and the proposed sites. No base tiles (offline)."""
    import folium

    e = review.estates.set_index("estate_id").loc[str(estate_id)]
    lat, lon = float(e["origin_lat"]), float(e["origin_lon"])
    m = folium.Map(location=[lat, lon], zoom_start=15, tiles=None, control_scale=True, maxZoom=19,
                   height=520)
    colours = {"kindergarten": "#9467bd", "primary": "#1f77b4", "junior": "#2ca02c"}
    folium.GeoJson(e.geometry.__geo_interface__, name=_p("estate", lang),
                   style_function=lambda _: {"color": "#d62728", "weight": 2, "fillOpacity": 0.25},
                   tooltip=Tooltip.plain(e["name"])).add_to(m)
    folium.CircleMarker([lat, lon], radius=4, color="#d62728", fill=True,
                        tooltip=Tooltip.plain(f"{_p('from', lang)}: {e['distance_from']}")).add_to(m)
    for level in [lv for lv in LEVELS if lv in set(review.levels["level"])]:
        name = f"{LEVEL_ZH[level] if lang == 'zh' else LEVEL_EN[level]}"
        group = folium.FeatureGroup(name=name)
        radius = review.settings[f"radius_{level}_m"]
        metres = f"{radius:g} {_p('m', lang)}"
        folium.Circle([lat, lon], radius=radius, color=colours[level], weight=1, dash_array="6",
                      fill=False,
                      tooltip=Tooltip.plain(f"{name} {_p('radius_circle', lang)} {metres}")).add_to(group)
        area = review.areas[(review.areas["kind"] == "estate") & (review.areas["estate_id"] == e.name)
                            & (review.areas["level"] == level)]
        if len(area) and not area.geometry.iloc[0].is_empty:
            folium.GeoJson(area.geometry.iloc[0].__geo_interface__,
                           style_function=lambda _, c=colours[level]: {"color": c, "weight": 0, "fillOpacity": 0.08},
                           tooltip=Tooltip.plain(f"{name} {_p('walk_area', lang)} {metres}")).add_to(group)
        rows = review.schools[(review.schools["estate_id"] == e.name) & (review.schools["level"] == level)] \
            if len(review.schools) else review.schools
        for _, r in rows.iterrows():
            pt = review.school_points.set_index("school_id").loc[r["school_id"]]
            tip = (f"<b>{html_text(str(r['school_name']))}</b><br>{number_text(r['distance_m'])} {_p('m', lang)}, "
                   f"{'剩余学位' if lang == 'zh' else 'seats left'} {number_text(r['seats_left_before'])} → "
                   f"{number_text(r['seats_left_after'])}")
            folium.CircleMarker([pt["lat"], pt["lon"]], radius=8, color=colours[level], fill=True,
                                fill_opacity=0.9, popup=Popup(tip, max_width=260),
                                tooltip=Tooltip(tip)).add_to(group)
        group.add_to(m)
    others = review.school_points
    near = others[((others["lat"] - lat).abs() < 0.03) & ((others["lon"] - lon).abs() < 0.03)]
    if len(near):
        g = folium.FeatureGroup(name="其他学校" if lang == "zh" else "other schools", show=True)
        for _, r in near.iterrows():
            level_word = label_value("level", r["level"], lang)
            folium.CircleMarker([r["lat"], r["lon"]], radius=4, color="#777", fill=True, weight=1,
                                tooltip=Tooltip.plain(f"{r['name']} ({level_word})")).add_to(g)
        g.add_to(m)
    if review.proposed is not None:
        mine = review.proposed[review.proposed["estate_id"].isna()
                               | (review.proposed["estate_id"].astype(str) == e.name)]
        g = folium.FeatureGroup(name=_p("sites", lang))
        for _, site in mine.iterrows():
            tip = html_text(f"{site['site_id']} {site['name']} ({label_value('level', site['level'], lang)})")
            folium.GeoJson(site.geometry.__geo_interface__, tooltip=Tooltip(tip),
                           marker=folium.CircleMarker(radius=7, color="#ff7f0e", fill=True),
                           style_function=lambda _: {"color": "#ff7f0e", "weight": 2,
                                                     "fillOpacity": 0.4}).add_to(g)
            site_areas = review.areas[(review.areas["kind"] == "site") & (review.areas["id"] == site["site_id"])
                                      & ~review.areas.geometry.is_empty]
            for _, a in site_areas.iterrows():
                area_tip = Tooltip(f"{tip}: {html_text(_p('site_area', lang))}")
                folium.GeoJson(a.geometry.__geo_interface__, tooltip=area_tip,
                               style_function=lambda _: {"color": "#ff7f0e", "weight": 1, "dashArray": "4",
                                                         "fillOpacity": 0.05}).add_to(g)
        g.add_to(m)
    b = review.areas[review.areas["estate_id"] == e.name].total_bounds
    if np.isfinite(b).all():
        m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _table_html(df: pd.DataFrame, cols: list[str], lang: str) -> str:
    head = "".join(f"<th>{html_text(str((COLUMN_LABELS.get(c) or (c, c))[0 if lang == 'zh' else 1]))}</th>"
                   for c in cols)
    body = ""
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = label_value(c, r[c], lang)
            v = "–" if v is None else (f"{v:,.1f}".removesuffix(".0") if isinstance(v, float) else v)
            cells.append(f"<td>{html_text(str(v))}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page_html(review: Review, estate_id: str, lang: str) -> str:
    e = review.estates.set_index("estate_id").loc[estate_id]
    lv = review.levels[review.levels["estate_id"] == estate_id]
    parts = [f"<h1>{_p('title', lang)}：{html_text(str(e['name']))} ({html_text(estate_id)})</h1>"]
    if review.synthetic:
        parts.append(f"<p class='synthetic'>{_p('synthetic', lang)}</p>")
    for _, r in lv.iterrows():
        cls = "served" if r["verdict"] == "served" else "short"
        label = VERDICT_LABELS[r["verdict"]][0 if lang == "zh" else 1]
        text = r["message_zh" if lang == "zh" else "message_en"]
        parts.append(f"<p class='verdict {cls}'><b>{html_text(label)}</b> {html_text(text)}</p>")
    parts.append(f"<h2>{_p('figures', lang)}</h2>")
    parts.append(_table_html(lv, ["level", "county", "town", "households", "residents", "residents_source",
                                  "rate_per_1000", "pupils", "radius_m", "schools_within_radius",
                                  "seats_left_before", "seats_left_after", "verdict", "short_by",
                                  "classes_needed", "classes_planned", "advice", "expand_school_id",
                                  "joint_estates", "nine_year_classes", "peak_year", "peak_pupils",
                                  "open_by_phase", "open_by_year"], lang))
    method = review.distance_method
    start = str(e["distance_from"])
    if lang == "zh":
        method = ("路网步行距离" if method.startswith("walking") else
                  f"直线距离 × 绕行系数 {review.settings['circuity_factor']}（估算）")
        start = start.replace("centroid", "小区中心点").replace("entrances", "小区出入口")
    parts.append(f"<p>{_p('method', lang)}: {html_text(method)}; "
                 f"{_p('from', lang)}: {html_text(start)}</p>")
    sch = review.schools[review.schools["estate_id"] == estate_id] if len(review.schools) else review.schools
    if len(sch):
        parts.append(f"<h2>{_p('schools', lang)}</h2>")
        parts.append(_table_html(sch, ["level", "school_id", "school_name", "distance_m", "time_min",
                                       "within_radius", "seats_left_before", "taken", "seats_left_after"], lang))
    sit = review.sites[review.sites["estate_id"] == estate_id]
    if len(sit):
        parts.append(f"<h2>{_p('sites', lang)}</h2>")
        parts.append(_table_html(sit, ["level", "site_id", "site_name", "site_distance_m", "site_within_radius",
                                       "site_seats", "site_covers_shortfall", "households_covered",
                                       "area_share_covered"], lang))
    ph = review.phases[review.phases["estate_id"] == estate_id]
    if len(ph):
        parts.append(f"<h2>{_p('phases', lang)}</h2>")
        parts.append(_table_html(ph, [c for c in ph.columns if c != "estate_id"], lang))
    pv = review.phase_verdicts
    pv = pv[pv["estate_id"] == estate_id] if len(pv) else pv
    if len(pv):
        parts.append(f"<h2>{_p('phase_verdicts', lang)}</h2>")
        parts.append(_table_html(pv, ["level", "phase", "delivery_year", "until_year", "worst_year",
                                      "pupils_max", "verdict", "short_by"], lang))
        py = review.phase_years[review.phase_years["estate_id"] == estate_id]
        parts.append(f"<h2>{_p('phase_years', lang)}</h2>")
        parts.append(_table_html(py, ["level", "year", "phase", "residents", "pupils", "seats_left", "verdict",
                                      "short_by"], lang))
    parts.append(f"<h2>{_p('limits', lang)}</h2>")
    lim = _limits(review, lang)
    parts.append(_table_html(lim, ["setting", "value", "unit", "source", "confidence", "origin",
                                   "description"], lang))
    style = ("font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
             "padding:8px 16px;font-size:13px")
    css = ("<style>#schoolplan-review table{border-collapse:collapse;margin:4px 0 10px}"
           "#schoolplan-review td,#schoolplan-review th{border:1px solid #bbb;padding:2px 6px;text-align:left}"
           "#schoolplan-review th{background:#ddebf7}#schoolplan-review .served{color:#1a7f37}"
           "#schoolplan-review .short{color:#b00}#schoolplan-review .synthetic{color:#b00;font-weight:bold}"
           "#schoolplan-review h1{font-size:20px}#schoolplan-review h2{font-size:16px}"
           # printed on A4 for a meeting: no map controls, headings kept with their table, rows
           # never split, a table's header repeated on each page
           "@page{size:A4 portrait;margin:12mm}"
           "@media print{.leaflet-control-container{display:none}"
           "#schoolplan-review{padding:0!important;font-size:10px!important}"
           "#schoolplan-review h2{break-after:avoid}#schoolplan-review tr{break-inside:avoid}"
           "#schoolplan-review thead{display:table-header-group}"
           ".folium-map{break-inside:avoid}}</style>")
    return f"{css}<div id='schoolplan-review' style=\"{style}\">{''.join(parts)}</div>"


def _limits(review: Review, lang: str) -> pd.DataFrame:
    """The limits used, with their description and source in ``lang``."""
    lim = review.limits
    zh = lang == "zh"
    return lim.rename(columns={"name": "setting"}).assign(
        description=lim["description_zh" if zh else "description_en"],
        source=lim["source_zh"] if zh and "source_zh" in lim else lim["source"])


def _file_id(estate_id: str) -> str:
    return re.sub(r"[^\w.-]+", "_", str(estate_id)).strip("_") or "estate"


def file_ids(estate_ids: Iterable[str]) -> dict[str, str]:
    """Estate id -> the ``<id>`` of its page ``review-<id>.html``: the id with characters a file
    name cannot hold replaced, and, where two ids clean to the same name (also when they differ
    only in case, as Windows and macOS compare names), a short hash of the id added to each, so
    no page overwrites another."""
    ids = [str(e) for e in estate_ids]
    clean = {e: _file_id(e) for e in ids}
    counts: dict[str, int] = {}
    for name in clean.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {e: f"{name}-{hashlib.sha256(e.encode('utf-8')).hexdigest()[:8]}"
            if counts[name.casefold()] > 1 else name for e, name in clean.items()}


COLUMN_LABELS_SITING: dict[str, tuple[str, str]] = {
    "estate_id": ("小区编号", "estate id"), "households": ("户数", "households"),
    "residents": ("居住人口（人）", "residents"), "residents_source": ("人口来源", "residents from"),
    "delivery_year": ("交付年份", "delivery year"),
    "rate_per_1000": ("千人学生数（人/千人）", "pupils per 1,000 residents"),
    "radius_m": ("服务半径（米）", "service radius (m)"), "distance_from": ("距离起点", "distances from"),
    "schools_within_radius": ("半径内学校数", "schools within the radius"),
    "within_radius": ("在服务半径内", "within the radius"), "serving_schools": ("服务学校", "serving schools"),
    "nearest_distance_m": ("最近学校步行距离（米）", "nearest school, walk (m)"),
    "seats_left_before": ("剩余学位（接收前）", "seats left before"),
    "seats_left_after": ("剩余学位（接收后）", "seats left after"),
    "verdict": ("结论", "verdict"), "short_by": ("学位缺口（个）", "short by (seats)"),
    "class_size": ("班额（人/班）", "class size"), "classes_needed": ("须配建班数", "classes needed"),
    "classes_planned": ("按整轨规划班数", "classes in whole streams"),
    "schools_needed": ("须配建学校数", "schools needed"), "max_classes": ("单校班数上限", "class cap per school"),
    "nine_year_classes": ("九年一贯制方案班数（负数为超上限）", "nine-year option classes (negative: above cap)"),
    "site_id": ("拟建校址", "proposed site"), "site_name": ("校址名称", "site name"),
    "site_level": ("校址学段", "site level"),
    "site_distance_m": ("校址步行距离（米）", "site walk (m)"),
    "site_within_radius": ("校址在半径内", "site within the radius"), "site_seats": ("校址学位", "site seats"),
    "site_covers_shortfall": ("校址学位足够", "site covers the shortfall"),
    "households_covered": ("校址覆盖户数", "households covered by the site"),
    "area_share_covered": ("校址覆盖面积比例", "share of the estate area covered"),
    "taken": ("本小区占用学位", "seats taken by the estate"),
    "estimate": ("直线估算", "straight-line estimate"),
    "beyond_school_id": ("半径外最近学校", "nearest school beyond the radius"),
    "beyond_distance_m": ("半径外学校步行距离（米）", "school beyond the radius, walk (m)"),
    "seats_beyond": ("半径外剩余学位", "seats left beyond the radius"),
    "public_required": ("须为公办园", "must be public"), "advice": ("建议", "advice"),
    "expand_school_id": ("可扩建学校", "school to expand"),
    "min_classes": ("最小办学规模（班）", "smallest size (classes)"),
    "joint_estates": ("可联合配建小区", "estates to provide jointly with"),
    "joint_seats": ("联合缺口（学位）", "joint gap (seats)"), "joint_classes": ("联合班数", "joint classes"),
    "peak_year": ("高峰年份", "peak year"), "peak_pupils": ("高峰人数", "peak children"),
    "peak_short_by": ("高峰缺口（学位）", "peak gap (seats)"), "first_short_year": ("首个缺位年份", "first year short"),
    "open_by_phase": ("须随第几期交付", "must open with phase"), "open_by_year": ("须交付年份", "must open by"),
    "phase": ("期次", "phase"), "until_year": ("至年份", "until"), "worst_year": ("最紧张年份", "tightest year"),
    "pupils_max": ("最多人数", "most children"), "seats_left": ("剩余学位", "seats left"),
    "year": ("年份", "year"), "pupils_kindergarten": ("幼儿（人）", "kindergarten children"),
}


def _register_labels() -> None:
    _excel.COLUMN_LABELS.update(COLUMN_LABELS_SITING)
    _excel.SHEET_TITLES.setdefault("estates", ("小区审查", "Estate review"))
    _excel.SHEET_TITLES.setdefault("estate_schools", ("小区服务学校", "Estate serving schools"))
    _excel.VALUE_LABELS.setdefault("verdict", {k: v for k, v in VERDICT_LABELS.items()})
    _excel.VALUE_LABELS.setdefault("residents_source", {
        "given": ("小区提供", "given"),
        "households x persons_per_household": ("户数×户均人口", "households x persons per household")})
    _excel.VALUE_LABELS.setdefault("site_level", _excel.VALUE_LABELS["level"])
    _excel.VALUE_LABELS["level"].setdefault("kindergarten", ("幼儿园", "kindergarten"))
    _excel.VALUE_LABELS.setdefault("advice", {
        "build": ("配建学校", "build a school"), "expand": ("扩建就近学校", "expand a named school"),
        "joint": ("与相邻小区联合配建", "provide jointly"),
        "build_min": ("配建最小规模学校", "build the smallest school")})
    _excel.VALUE_LABELS.setdefault("unit", {}).update({
        "persons per household": ("人/户", "persons per household"), "classes": ("班", "classes")})


def write_review(review: Review, out_dir: str | os.PathLike, *, lang: str = "zh",
                 inputs: Iterable[str | os.PathLike] = ()) -> dict[str, Path]:
    """Write ``estates.csv``, ``review-<id>.html`` per estate (offline) and ``report.xlsx`` into
    ``out_dir`` as a whole (:class:`~schoolplan.outputs.folder.OutputFolder`); a folder holding one
    of ``inputs`` (the estates, sites, scenario and its data) is refused."""

    if lang not in ("zh", "en"):
        raise SchoolplanError(f"`lang` was {lang!r} but is expected to be 'zh' or 'en'")
    with OutputFolder(out_dir, inputs=inputs, lang=lang) as tmp:
        paths = _write_all(review, tmp, lang)
    return moved(paths, tmp, out_dir)


def _write_all(review: Review, out: Path, lang: str) -> dict[str, Path]:
    from openpyxl import Workbook

    paths: dict[str, Path] = {}
    table = review.table(lang)
    paths["csv"] = atomic_write(out / "estates.csv", csv_safe(table).to_csv(index=False).encode("utf-8-sig"))

    names = file_ids(review.estates["estate_id"])
    for eid in review.estates["estate_id"]:
        m = review_map(review, eid, lang=lang)
        m.get_root().html.add_child(Markup(_page_html(review, eid, lang)))
        m.get_root().title = html_text(f"{_p('title', lang)} {eid}")
        paths[f"review-{eid}"] = _offline.save_offline(m, out / f"review-{names[str(eid)]}.html")
    wb = Workbook()
    wb.remove(wb.active)
    _excel.add_table_sheet(wb, "estates", table, LEVEL_COLUMNS, lang=lang, freeze_columns=3)
    if len(review.schools):
        _excel.add_table_sheet(wb, "estate_schools", review.schools,
                                ["estate_id", "level", "school_id", "school_name", "distance_m", "time_min",
                                 "within_radius", "seats_left_before", "taken", "seats_left_after"], lang=lang)
    lim = _limits(review, lang)
    _excel.add_table_sheet(wb, "settings", lim, _excel.SETTING_SHEET_COLUMNS, lang=lang, freeze_columns=1)
    paths["xlsx"] = atomic_write(out / "report.xlsx", _excel._to_bytes(wb, _excel._created(review)))
    return paths


_register_labels()
