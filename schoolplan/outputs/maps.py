"""Maps of a run as self-contained HTML (folium/Leaflet, no network needed).

Maps render results; they never compute them. :func:`overview_map` returns a ``folium.Map`` so a
notebook can add to it; :func:`save_map` writes one self-contained file that opens on an intranet
PC with no internet (every script, style sheet, font and icon inlined).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import folium
import numpy as np
import pandas as pd
from branca.element import Figure, Template

from schoolplan.errors import SchoolplanError
from schoolplan.outputs import _layout_layers, map_data
from schoolplan.outputs import offline as _offline
from schoolplan.outputs._map_layers import LabelLayer, PointLayer, add_furniture
from schoolplan.outputs.escape import GeoJsonTooltip, Markup, html_text
from schoolplan.outputs.files import output_time
from schoolplan.outputs.seat_map import add_seat_warning_layers
from schoolplan.schema import AREA_TYPE_LABELS, LEVEL_LABELS

__all__ = ["LEVEL_COLOURS", "TIER_COLOURS", "base_layer", "overview_map", "save_map"]

#: Online base layers (options, never the default). 天地图 needs a key; 高德 tiles are GCJ-02,
#: so WGS-84 data sit ~500 m off them in Shandong.
ONLINE_TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "tianditu": ("https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=%s", "© 天地图"),
    "amap": ("https://webrd01.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}", "© 高德地图 (GCJ-02)"),
}

#: One colour per school level, shared by the map, the one-page summary and the town pages.
LEVEL_COLOURS = {
    "primary": "#1f77b4", "teaching_point": "#17becf", "nine_year": "#9467bd",
    "junior": "#2ca02c", "complete": "#8c564b", "twelve_year": "#6a3d9a",
    "senior": "#7f7f7f", "special": "#bcbd22", "kindergarten": "#e377c2",
}
#: Small-school tiers as a grey ring round the marker, darker and thicker the smaller the school
#: (a sequence, and a palette of its own: red and yellow mean seat warnings)
TIER_COLOURS = {"lt50": "#111111", "lt100": "#555555", "lt200": "#999999"}
TIER_WEIGHTS = {"lt50": 3.5, "lt100": 2.5, "lt200": 2.0}

_FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'

_T = {
    "towns": {"zh": "乡镇", "en": "Towns"},
    "villages": {"zh": "村庄（学龄人口）", "en": "Villages (school-age children)"},
    "small": {"zh": "小规模学校", "en": "small school"},
    "no_junior": {"zh": "无初中（违反每镇一所初中）", "en": "no junior middle school (rule broken)"},
    "enrollment": {"zh": "在校生", "en": "Pupils"},
    "seats": {"zh": "学位", "en": "Seats"},
    "classes": {"zh": "班级", "en": "Classes"},
    "town": {"zh": "乡镇", "en": "Town"},
    "level": {"zh": "学段", "en": "Level"},
    "area": {"zh": "城乡", "en": "Area"},
    "tier": {"zh": "小规模分档", "en": "Small-school tier"},
    "over_cap": {"zh": "超规模", "en": "Above size cap"},
    "over_class": {"zh": "超标准班额", "en": "Above standard class size"},
    "junior_ok": {"zh": "初中（7-9年级）学校数", "en": "Schools teaching grades 7-9"},
    "synthetic": {"zh": "合成示范数据，非真实学校", "en": "Synthetic demo data, not real schools"},
    "legend": {"zh": "图例", "en": "Legend"},
    "size_note": {"zh": "圆的大小表示在校生数", "en": "circle size = pupils"},
    "pupils_primary": {"zh": "小学适龄", "en": "Primary-age"},
    "pupils_junior": {"zh": "初中适龄", "en": "Junior-age"},
    "catch_g1_3": {"zh": "小学片区（1-3年级，就近）", "en": "Primary catchments (grades 1-3, nearest)"},
    "catch_g7_9": {"zh": "初中片区（就近）", "en": "Junior catchments (nearest)"},
    "seat_layer": {"zh": "学位预警", "en": "Seat warnings"},
    "model_vs_ledger": {"zh": "模型/台账学生数", "en": "modelled / ledger pupils"},
    "seat_red": {"zh": "红色预警（需求≥学位）", "en": "red: demand ≥ seats"},
    "seat_yellow": {"zh": "黄色预警（需求≥90%学位）", "en": "yellow: demand ≥ 90 % of seats"},
    "assigned": {"zh": "就近入学需求", "en": "Children nearest to it"},
    "utilisation": {"zh": "需求/学位", "en": "Demand / seats"},
    "mean_dist": {"zh": "平均距离（米）", "en": "Mean distance (m)"},
    "school": {"zh": "学校", "en": "School"},
    "villages_n": {"zh": "村庄数", "en": "Villages"},
    "closed_layer": {"zh": "撤并学校", "en": "Closed schools"},
    "links": {"zh": "行星-卫星联系", "en": "Planet-satellite links"},
    "closed_legend": {"zh": "撤并学校（方案）", "en": "closed in this scenario"},
    "link_legend": {"zh": "卫星校→中心校（虚线：撤并校）", "en": "satellite → planet (dashed: closed school)"},
    "recommendation": {"zh": "撤并评估", "en": "Consolidation"},
    "status": {"zh": "方案状态", "en": "Status in scenario"},
    "roads": {"zh": "道路（主要等级）", "en": "Roads (main classes)"},
    "far_layer": {"zh": "远离道路的点", "en": "Points far from any road"},
    "far_tip": {"zh": "距最近道路 {d} 米", "en": "{d} m from the nearest road"},
    "far_legend": {"zh": "远离道路的点（该段按直线计）", "en": "far from any road (counted as a straight line)"},
    "road_legend": {"zh": "道路（本次运行的路网）", "en": "roads (the run's network)"},
    "catch_legend": {"zh": "片区边界（蓝：小学，绿：初中）",
                     "en": "catchment outline (blue: primary, green: junior)"},
    "catch_fill_legend": {"zh": "片区（按学校填色）", "en": "catchment (a colour per school)"},
    "tier_legend": {"zh": "灰色外圈：小规模学校（越深越小）", "en": "grey ring: small school (darker = smaller)"},
    "seat_legend": {"zh": "方块标记：学位预警", "en": "square badge: seat warning"},
    "label_note": {"zh": "放大至{z}级显示校名", "en": "school names from zoom {z}"},
}
REC_LABELS = {"close": ("建议撤并", "candidate: close"),
              "to_satellite": ("建议改为教学点（卫星校）", "candidate: to satellite"),
              "keep: remote": ("保留（偏远）", "keep: remote"), "keep: rule": ("保留（唯一初中）", "keep: rule")}
STATUS_LABELS = {"satellite": ("卫星校（保留1-3年级）", "satellite (grades 1-3)"), "new": ("新建", "new"),
                 "closed": ("撤并", "closed")}
SEAT_COLOURS = {"red": "#d62728", "yellow": "#f2c12e"}


def _t(key: str, lang: str) -> str:
    return _T[key]["zh" if lang == "zh" else "en"]


def _tier_label(tier: str, lang: str) -> str:
    n = tier[2:]
    return f"少于{n}人" if lang == "zh" else f"under {n} pupils"


def _plain(v) -> str:
    """A popup value as plain text (the page sets it with ``textContent``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return f"{int(v)}"
    return str(v)


def _popup_labels(lang: str, with_model: bool) -> list[str]:
    keys = ["level", "town", "enrollment", "classes", "seats", "area", "assigned", "utilisation", "mean_dist"]
    return [_t(k, lang) for k in keys] + ([_t("model_vs_ledger", lang)] if with_model else [])


def _school_popup(s: pd.Series, lang: str, with_model: bool) -> list:
    """``[id, name, values, flags]`` of a school's popup (values against :func:`_popup_labels`)."""
    i = 0 if lang == "zh" else 1
    lv = LEVEL_LABELS.get(s["level"], {}).get("zh" if lang == "zh" else "en", s["level"])
    values = [lv, s.get("town"), s.get("enrollment"), s.get("classes"), s.get("seats"),
              AREA_TYPE_LABELS.get(s.get("area_type"), {}).get("zh" if lang == "zh" else "en", s.get("area_type"))]
    if "assigned_pupils" in s:
        values += [round(float(s["assigned_pupils"])),
                   f"{s['utilisation']:.0%}" if pd.notna(s["utilisation"]) else None, s.get("mean_distance_m")]
    else:
        values += [None, None, None]
    if with_model:
        values.append(f"{s['modelled_pupils']:.0f} / {s['ledger_enrollment']:.0f} ({s['model_ratio']:.2f})"
                      if pd.notna(s.get("model_ratio")) else None)
    flags = []
    if s.get("status") in STATUS_LABELS:
        flags.append(f"{_t('status', lang)}: {STATUS_LABELS[s['status']][i]}")
    if isinstance(s.get("recommendation"), str) and s["recommendation"] in REC_LABELS:
        flags.append(f"{_t('recommendation', lang)}: {REC_LABELS[s['recommendation']][i]}")
    if s.get("small_tier"):
        flags.append(f"{_t('small', lang)}: {_tier_label(s['small_tier'], lang)}")
    if s.get("seat_warning") in SEAT_COLOURS:
        flags.append(f"{_t('seat_layer', lang)}: {_t('seat_' + s['seat_warning'], lang)}")
    if bool(s.get("over_size_cap")):
        flags.append(_t("over_cap", lang))
    if bool(s.get("over_class_size")) is True:
        flags.append(f"{_t('over_class', lang)} ({_plain(s.get('avg_class_size'))})")
    return [str(s["school_id"]), str(s["name"]), [_plain(v) for v in values], flags]


class _OverviewMap(folium.Map):
    """The overview map, with what :func:`save_map` needs to know about its base layer."""

    attrs_remote: str = ""    # the tile server's origin, if the base layer is online
    attrs_local: bool = False  # a tile folder next to the page (CSP: 'self')


def _figure(m: folium.Map) -> Figure:
    """The page (branca Figure) a map is drawn in."""
    return cast(Figure, m.get_root())


def base_layer(tiles: str | None, *, out_dir: str | Path | None = None) -> tuple[str, str, str] | None:
    """The base layer for ``tiles``: ``None``/``"none"`` (no base map: works offline), a local tile
    folder (``local:<folder>`` holding ``{z}/{x}/{y}.png``, linked relative to the map so both
    can be copied together), an intranet or other URL template with ``{z}``, ``{x}``, ``{y}``, or
    an online provider: ``osm``, ``tianditu:<key>``, ``amap`` (GCJ-02: ~500 m off WGS-84 data).

    Returns ``(url template, attribution, remote prefix or "")`` or ``None``.
    """
    import os
    import warnings


    if tiles in (None, "", "none"):
        return None
    if tiles.startswith("local:"):
        folder = Path(tiles[6:])
        rel = os.path.relpath(folder, out_dir) if out_dir is not None else str(folder)
        return (Path(rel).as_posix().rstrip("/") + "/{z}/{x}/{y}.png", "local tiles", "")
    name, _, key = tiles.partition(":")
    if name in ONLINE_TILES:
        url, attribution = ONLINE_TILES[name]
        if name == "tianditu":
            if not key:
                raise SchoolplanError("tianditu tiles need a key: --tiles tianditu:<your key>")
            url = url % key
        if name == "amap":
            warnings.warn("高德 (amap) tiles are in GCJ-02: WGS-84 schools and roads appear about "
                          "500 m off them", stacklevel=2)
        return (url, attribution, url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
    if tiles.startswith(("http://", "https://")) and "{z}" in tiles:
        return (tiles, "tiles: " + tiles.split("/", 3)[2], tiles.split("/", 3)[0] + "//" + tiles.split("/", 3)[2])
    raise SchoolplanError(f"tiles was {tiles!r} but is expected to be none, local:<folder>, a URL "
                       "template with {z}/{x}/{y}, osm, tianditu:<key> or amap")


def overview_map(result, *, lang: str = "zh", tiles: tuple[str, str, str] | None = None) -> folium.Map:
    """Towns (named), schools by level (size = pupils; a grey ring = small-school tier; named from
    zoom ``map_school_label_zoom``), seat warnings as badges, catchment outlines, villages and the
    roads of the run, with a legend, a metric scale bar and a print layout (A4 landscape).

    No base tiles by default: the map works with no network (``tiles`` from
    :func:`base_layer` adds one). Returns a ``folium.Map``.
    """
    st = result.settings
    dec = int(st["map_coordinate_decimals"])
    tol = float(st["map_area_simplify_m"]) / 111_000.0  # metres to degrees (latitude)
    schools = result.schools
    towns = result.towns
    located = schools[schools.geometry.notna() & ~schools.geometry.is_empty
                      & np.isfinite(schools["lon"])]
    bounds_src = towns if towns.attrs.get("geometry_kind") == "polygon" else located
    x0, y0, x1, y1 = bounds_src.total_bounds
    # marker sizes shrink for a prefecture so that 2,000 schools do not merge into blobs
    scale = float(np.clip(math.sqrt(120.0 / max(len(located), 1)), 0.35, 1.0))
    # maxZoom must be given when there is no tile layer (Leaflet plugins need it)
    # a prefecture's thousands of markers and outlines draw faster on a canvas; SVG prints sharper
    m = _OverviewMap(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=10, tiles=None,
                     control_scale=False, maxZoom=18,
                     prefer_canvas=len(located) >= int(st["map_canvas_from_schools"]))
    if tiles is not None:
        folium.TileLayer(tiles=tiles[0], attr=tiles[1], name="base map / 底图", max_zoom=18,
                         overlay=False, control=True).add_to(m)
        m.attrs_remote = tiles[2]
        m.attrs_local = not tiles[2]
    # Roads (lowest), then towns
    network = map_data.map_network(result) if bool(st["map_roads"]) else None
    if network is not None:
        roads = map_data.road_lines(network, st)
        if len(roads):
            folium.GeoJson(roads.to_json(drop_id=True), name=_t("roads", lang), show=True,
                           interactive=False,
                           style_function=lambda f: _ROAD_STYLE.get(f["properties"]["highway"],
                                                                    _ROAD_STYLE["tertiary"])).add_to(m)
    tg = folium.FeatureGroup(name=_t("towns", lang), show=True)
    town_labels: list[list] = []
    if towns.attrs.get("geometry_kind") == "polygon":
        tj = towns[["town_code", "town", "junior_middle_schools", "junior_middle_rule_ok",
                    "geometry"]].copy()
        tj["junior_middle_rule_ok"] = tj["junior_middle_rule_ok"].astype(bool)
        if "junior_middle_per_town" in result.settings["rules_disabled"]:
            tj["junior_middle_rule_ok"] = True  # the rule is switched off for this scenario
        at = tj.geometry.representative_point()
        town_labels = [[round(p.y, dec), round(p.x, dec), str(n), 0]
                       for p, n in zip(at, tj["town"], strict=True) if p is not None and not p.is_empty]
        tj["geometry"] = map_data.round_geometry(tj.geometry.simplify(tol).values, dec)
        folium.GeoJson(
            tj.to_json(drop_id=True),
            name=_t("towns", lang),
            style_function=lambda f: {
                "color": "#444" if f["properties"]["junior_middle_rule_ok"] else "#d62728",
                "weight": 1.5 if f["properties"]["junior_middle_rule_ok"] else 3,
                "fillColor": "#ffffff" if f["properties"]["junior_middle_rule_ok"] else "#f7c6c6",
                "fillOpacity": 0.25,
            },
            tooltip=GeoJsonTooltip(fields=["town", "junior_middle_schools"],
                                   aliases=[_t("town", lang), _t("junior_ok", lang)]),
        ).add_to(tg)
    else:
        t = towns[np.isfinite(towns["lon"])]
        town_labels = [[round(float(b), dec), round(float(a), dec), str(n), 0]
                       for a, b, n in zip(t["lon"], t["lat"], t["town"], strict=True)]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r[1], r[0]]},
                 "properties": {"town": r[2]}} for r in town_labels]},
            marker=folium.CircleMarker(radius=4, color="#444", fill=True),
            tooltip=GeoJsonTooltip(fields=["town"], aliases=[_t("town", lang)])).add_to(tg)
    tg.add_to(m)
    if town_labels:
        m.add_child(LabelLayer(tg, town_labels, min_zoom=0, cls="sp-town"))
    # Villages
    demand = result.inputs.demand
    if demand is not None and len(demand):
        # one array (not one marker object per village), built when first switched on: a
        # prefecture's 6,500 villages stay light; coordinates rounded to 1e-5 degrees (about 1 m)
        v = demand[np.isfinite(demand["lon"])]
        words = (_t("pupils_primary", lang), _t("pupils_junior", lang))
        PointLayer(_t("villages", lang),
                   [[round(float(y), dec), round(float(x), dec), 0, round(1.5 + math.sqrt(max(float(pp), 0.0)) / 3, 1),
                     f"{n}\n{words[0]} {round(float(pp))} · {words[1]} {round(float(pj))}", 0, None]
                    for x, y, n, pp, pj in zip(v["lon"], v["lat"], v["name"], v["pupils_primary"],
                                               v["pupils_junior"], strict=True)],
                   [{"color": "#777", "weight": 0.5, "fill": True, "fillOpacity": 0.5}], show=False).add_to(m)
    # Catchment areas: outlines (a fill per school as an option)
    catchment_layers: list[folium.GeoJson] = []
    fill = bool(st["map_catchment_fill"])
    areas = getattr(result, "catchments", None)
    if areas is not None and len(areas):
        names = result.schools.drop_duplicates("school_id").set_index("school_id")["name"]
        for group in ("g1_3", "g7_9"):
            sub = areas[areas["group"] == group].copy()
            if sub.empty:
                continue
            sub["school"] = sub["school_id"].map(names)
            sub["c"] = [i % len(_PALETTE) for i in range(len(sub))]
            sub["geometry"] = map_data.round_geometry(sub.geometry.simplify(tol).values, dec)
            colour = _CATCH_COLOURS[group]
            gj = folium.GeoJson(
                sub[["school_id", "school", "villages", "c", "geometry"]].to_json(drop_id=True),
                name=_t(f"catch_{group}", lang), show=group == "g1_3",
                style_function=(lambda f: {"color": "#555", "weight": 0.8, "fillColor": _PALETTE[f["properties"]["c"]],
                                           "fillOpacity": 0.35}) if fill else
                               (lambda f, colour=colour: {"color": colour, "weight": 1.2, "opacity": 0.75,
                                                          "fillOpacity": 0}),
                tooltip=GeoJsonTooltip(fields=["school", "villages"],
                                       aliases=[_t("school", lang), _t("villages_n", lang)]),
            )
            gj.add_to(m)
            catchment_layers.append(gj)
    if "seat_warning" in located:
        warned = located[located["seat_warning"].isin(list(SEAT_COLOURS))]
        PointLayer(_t("seat_layer", lang),
                   [[round(float(s.lat), dec), round(float(s.lon), dec), 0 if s.seat_warning == "red" else 1, 6,
                     f"{s.name}: {_t('seat_' + s.seat_warning, lang)}", 0, None]
                    for s in warned.itertuples()],
                   [dict(_BADGE, badge="red"), dict(_BADGE, badge="yellow")]).add_to(m)
    add_seat_warning_layers(m, result, lang=lang)
    if getattr(result, "candidates", None) is not None:
        rec = result.candidates.set_index("school_id")["recommendation"]
        located = located.assign(recommendation=located["school_id"].map(rec))
    with_model = "model_ratio" in located and bool(located["model_ratio"].notna().any())
    labels = _popup_labels(lang, with_model)
    popup_options = {"maxWidth": 320, "autoPanPaddingTopLeft": [60, _TITLE_H + 20]}
    closed = located[located.get("status", "open") == "closed"] if "status" in located else located.iloc[0:0]
    if len(closed):
        PointLayer(f"{_t('closed_layer', lang)} ({len(closed)})",
                   [[round(float(s["lat"]), dec), round(float(s["lon"]), dec), 0, 5, str(s["name"]),
                     _school_popup(s, lang, with_model), None] for _, s in closed.iterrows()],
                   [{"color": "#555", "weight": 1.5, "dashArray": "2 2", "fill": True, "fillColor": "#bbb",
                     "fillOpacity": 0.6}],
                   popup_labels=labels, popup_options=popup_options).add_to(m)
    layouts = getattr(result, "layouts", None)
    if layouts is not None and len(layouts):
        pos = located.set_index("school_id")[["lat", "lon"]]
        lines: dict[bool, list] = {False: [], True: []}
        for r in layouts.itertuples():
            if not isinstance(r.planet_id, str) or r.planet_id not in pos.index:
                continue
            p = pos.loc[r.planet_id]
            for ids, dashed in ((r.satellite_ids, False), (r.closed_ids, True)):
                for sid in [i for i in str(ids or "").split(";") if i and i in pos.index]:
                    q = pos.loc[sid]
                    lines[dashed].append([[round(q["lat"], dec), round(q["lon"], dec)],
                                          [round(p["lat"], dec), round(p["lon"], dec)]])
        lg = folium.FeatureGroup(name=_t("links", lang), show=True)
        for dashed, segs in lines.items():
            if segs:
                folium.PolyLine(segs, color="#444", weight=1.5, opacity=0.8,
                                dash_array="5 5" if dashed else None).add_to(lg)
        lg.add_to(m)
    _layout_layers.add_layout_layers(m, result, lang)
    located = located[located["status"] != "closed"] if "status" in located else located
    # Schools by level: one layer per level, one array each, the styles shared
    label_zoom = int(st["map_school_label_zoom"])
    for level, colour in LEVEL_COLOURS.items():
        sub = located[located["level"] == level]
        if sub.empty:
            continue
        label = LEVEL_LABELS[level]["zh" if lang == "zh" else "en"]
        styles = [{"color": "#333", "weight": 1, "fill": True, "fillColor": colour, "fillOpacity": 0.8}]
        styles += [{"color": TIER_COLOURS[t], "weight": TIER_WEIGHTS[t], "fill": True, "fillColor": colour,
                    "fillOpacity": 0.8} for t in TIER_COLOURS]
        tier_style = {t: i + 1 for i, t in enumerate(TIER_COLOURS)}
        rows = []
        # large schools first, so that small ones are drawn on top and stay clickable
        for _, s in sub.sort_values("enrollment", ascending=False).iterrows():
            tier = s.get("small_tier") or ""
            pupils = s["enrollment"] if pd.notna(s["enrollment"]) else 0
            radius = round((3 + math.sqrt(max(pupils, 0)) / 3) * scale + (1 if tier else 0), 1)
            rows.append([round(float(s["lat"]), dec), round(float(s["lon"]), dec), tier_style.get(tier, 0),
                         radius, str(s["name"]), _school_popup(s, lang, with_model), str(s["name"])])
        PointLayer(f"{label} ({len(sub)})", rows, styles, popup_labels=labels, label_zoom=label_zoom,
                   popup_options=popup_options).add_to(m)
    far = map_data.far_from_road(result, network) if network is not None else None
    if far is not None and len(far):
        kinds = {"school": _t("school", lang), "village": _t("villages_n", lang).rstrip("数") if lang == "zh"
                 else "Village"}
        PointLayer(f"{_t('far_layer', lang)} ({len(far)})",
                   [[round(float(r.lat), dec), round(float(r.lon), dec), 0, 7,
                     f"{kinds[r.kind]} {r.name}: " + _t("far_tip", lang).format(d=int(r.distance_m)), 0, None]
                    for r in far.itertuples()],
                   [{"color": _FAR_COLOUR, "weight": 2, "dashArray": "2 3", "fill": False}]).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if catchment_layers:
        # a child of the map, so that it is rendered after the layers it refers to
        m.add_child(_CatchmentHighlight(catchment_layers, fill))
    _figure(m).html.add_child(Markup(_title_block(result, lang)))
    _figure(m).html.add_child(Markup(_legend(result, lang, roads=network is not None,
                                             far=far is not None and len(far) > 0, fill=fill)))
    # keep the county clear of the title block (top left) and the layer control and legend (right)
    padding = {"paddingTopLeft": [10, _TITLE_H + 10], "paddingBottomRight": [_RIGHT_W, 10]}
    bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
    m.fit_bounds(bounds, padding_top_left=padding["paddingTopLeft"],
                 padding_bottom_right=padding["paddingBottomRight"])
    add_furniture(m, attribution=_attribution(result, lang), bounds=bounds, padding=padding)
    return m


_ROAD_STYLE = {
    "motorway": {"color": "#a39e93", "weight": 2.6, "opacity": 0.9},
    "trunk": {"color": "#a39e93", "weight": 2.4, "opacity": 0.9},
    "primary": {"color": "#aaa59a", "weight": 2.0, "opacity": 0.85},
    "secondary": {"color": "#b3aea4", "weight": 1.5, "opacity": 0.85},
    "tertiary": {"color": "#bdb8ae", "weight": 1.0, "opacity": 0.8},
}
_PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
            "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"]
_CATCH_COLOURS = {"g1_3": "#2166ac", "g7_9": "#1b7837"}
_BADGE = {"anchor": [-3, 15]}  # a square badge up and to the right of the school
_FAR_COLOUR = "#e7298a"


def _attribution(result, lang: str) -> str:
    """Plain attribution text: schoolplan, synthetic data where it is, the data files."""
    parts = ["schoolplan"]
    if result.scenario.synthetic:
        parts.append("合成示范数据" if lang == "zh" else "synthetic demo data")
    files = [Path(f["path"]).name for f in result.inputs.files.values()]
    if files:
        parts.append(("数据：" if lang == "zh" else "data: ") + ("、" if lang == "zh" else ", ").join(files))
    return " · ".join(parts)


class _CatchmentHighlight(folium.MacroElement):
    """Clicking a school outlines its catchment areas; closing the popup restores them. The
    layers are named at render time (after :func:`~schoolplan.outputs.escape.stable_ids`)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function () {
  var layers = [{% for layer in this.layers %}{{ layer.get_name() }}{{ "," if not loop.last }}{% endfor %}];
  var fill = {{ "true" if this.fill else "false" }};
  layers.forEach(function (gj) {
    gj.eachLayer(function (l) { l.options.sp_default = L.extend({}, l.options); });
  });
  function restyle(id) {
    layers.forEach(function (gj) {
      gj.eachLayer(function (l) {
        var d = l.options.sp_default, mine = id !== null && l.feature && l.feature.properties.school_id === id;
        l.setStyle(mine ? {weight: 4, color: "#000", dashArray: null, fillOpacity: fill ? 0.55 : 0.12}
                        : {weight: d.weight, color: d.color, dashArray: d.dashArray || null,
                           fillOpacity: fill && id !== null ? 0.2 : d.fillOpacity});
      });
    });
  }
  {{ this._parent.get_name() }}.on("popupopen", function (e) {
    var el = e.popup.getElement && e.popup.getElement();
    var tag = el && el.querySelector("[data-school-id]");
    if (tag) restyle(tag.getAttribute("data-school-id"));
  });
  {{ this._parent.get_name() }}.on("popupclose", function () { restyle(null); });
})();
{% endmacro %}""")

    def __init__(self, layers: list[folium.GeoJson], fill: bool):
        super().__init__()
        self._name = "CatchmentHighlight"
        self.layers = layers
        self.fill = fill


_TITLE_H = 120  # px reserved at the top for the title block
_RIGHT_W = 270  # px reserved at the right for the layer control and the legend


def _title_lines(result, lang: str) -> tuple[str, str]:
    """The title and the line under it (date, schoolplan, data files), as escaped markup."""
    sc = result.scenario
    year = getattr(sc, "year", None)
    title = sc.title if not year or str(year) in sc.title else f"{sc.title} ({year})"
    sources = ", ".join(Path(f["path"]).name for f in result.inputs.files.values())
    label = "数据" if lang == "zh" else "Data"
    return (html_text(title),
            f"{output_time(result.created):%Y-%m-%d} · schoolplan · {label}: {html_text(sources)}")


def _title_block(result, lang: str) -> str:
    title, line = _title_lines(result, lang)
    synthetic = (f"<div style='color:#b00;font-weight:bold'>{_t('synthetic', lang)}</div>"
                 if result.scenario.synthetic else "")
    return (f"<div id='schoolplan-title' style='position:fixed;top:10px;left:50px;z-index:1000;"
            f"background:rgba(255,255,255,.92);padding:5px 10px;border:1px solid #999;"
            f"max-width:520px;font-family:{_FONT};font-size:12px'>"
            f"<div style='font-size:15px;font-weight:bold'>{title}</div>{synthetic}"
            f"<div style='font-size:11px;color:#444'>{line}</div></div>")


def _dot(style: str) -> str:
    return f"<span style='display:inline-block;vertical-align:middle;margin-right:5px;{style}'></span>"


def _legend(result, lang: str, *, roads: bool = False, far: bool = False, fill: bool = False) -> str:
    zh = lang == "zh"
    items = [f"<div>{_dot(f'width:11px;height:11px;border-radius:50%;background:{c}')}"
             f"{LEVEL_LABELS[lv]['zh' if zh else 'en']}</div>"
             for lv, c in LEVEL_COLOURS.items() if (result.schools["level"] == lv).any()]
    items.append(f"<div style='margin-top:3px'>{_t('tier_legend', lang)}</div>")
    for tier in sorted(TIER_COLOURS, key=lambda t: -int(t[2:])):
        ring = (f"width:9px;height:9px;border-radius:50%;background:#ccc;"
                f"border:{TIER_WEIGHTS[tier]:g}px solid {TIER_COLOURS[tier]}")
        items.append(f"<div>{_dot(ring)}{_t('small', lang)} {_tier_label(tier, lang)}</div>")
    items.append(f"<div>{_dot('width:14px;height:10px;border:3px solid #d62728;background:#f7c6c6')}"
                 f"{_t('no_junior', lang)}</div>")
    if "seat_warning" in result.schools:
        items.append(f"<div style='margin-top:3px'>{_t('seat_legend', lang)}</div>")
        for band in SEAT_COLOURS:
            items.append(f"<div><span class='sp-badge sp-badge-{band}' style='display:inline-block;"
                         f"width:12px;height:12px;margin-right:5px;vertical-align:middle'>!</span>"
                         f"{_t('seat_' + band, lang)}</div>")
    if "status" in result.schools and (result.schools["status"] == "closed").any():
        items.append(f"<div>{_dot('width:10px;height:10px;border-radius:50%;border:1.5px dashed #555;background:#bbb')}"
                     f"{_t('closed_legend', lang)}</div>")
    if getattr(result, "layouts", None) is not None:
        items.append(f"<div>{_dot('width:16px;border-top:2px solid #444')}{_t('link_legend', lang)}</div>")
    if getattr(result, "catchments", None) is not None and len(result.catchments):
        items.append(f"<div>{_dot('width:16px;height:10px;background:#bebada;border:1px solid #555')}"
                     f"{_t('catch_fill_legend', lang)}</div>" if fill else
                     f"<div>{_dot('width:16px;border-top:2px solid #2166ac')}{_t('catch_legend', lang)}</div>")
    if roads:
        items.append(f"<div>{_dot('width:16px;border-top:2px solid #aaa59a')}{_t('road_legend', lang)}</div>")
    if far:
        items.append(f"<div>{_dot(f'width:10px;height:10px;border-radius:50%;border:2px dotted {_FAR_COLOUR}')}"
                     f"{_t('far_legend', lang)}</div>")
    items.append(f"<div style='color:#555'>{_t('size_note', lang)}；"
                 f"{_t('label_note', lang).format(z=int(result.settings['map_school_label_zoom']))}</div>"
                 if zh else
                 f"<div style='color:#555'>{_t('size_note', lang)}; "
                 f"{_t('label_note', lang).format(z=int(result.settings['map_school_label_zoom']))}</div>")
    title, line = _title_lines(result, lang)
    synthetic = (f"<div style='color:#b00;font-weight:bold'>{_t('synthetic', lang)}</div>"
                 if result.scenario.synthetic else "")
    print_head = (f"<div class='sp-print-only' style='margin-bottom:6px'><div style='font-size:15px;"
                  f"font-weight:bold'>{title}</div>{synthetic}"
                  f"<div style='font-size:10px;color:#444'>{line}</div></div>")
    return (f"<div id='schoolplan-legend' style='position:fixed;bottom:20px;right:10px;z-index:1000;"
            f"width:{_RIGHT_W - 30}px;"
            f"background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #999;"
            f"font-family:{_FONT};font-size:12px'>{print_head}<b>{_t('legend', lang)}</b>{''.join(items)}</div>")


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` as one self-contained HTML file, atomically. Only a base layer asked for with
    an online or intranet URL (:func:`base_layer`) is left remote."""
    remote = m.attrs_remote if isinstance(m, _OverviewMap) else ""
    local = ("'self'", "file:") if isinstance(m, _OverviewMap) and m.attrs_local else ()
    return _offline.save_offline(m, path, allow_remote=(remote,) if remote else (), images=local)
