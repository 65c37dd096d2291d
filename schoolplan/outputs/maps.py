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
from schoolplan.outputs import _layout_layers
from schoolplan.outputs import offline as _offline
from schoolplan.outputs.escape import GeoJsonTooltip, Markup, Popup, Tooltip, html_text
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
TIER_COLOURS = {"lt50": "#d62728", "lt100": "#ff7f0e", "lt200": "#f2c12e"}

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


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return f"{int(v)}"
    return html_text(str(v))


def _school_popup(s: pd.Series, lang: str) -> str:
    lv = LEVEL_LABELS.get(s["level"], {}).get("zh" if lang == "zh" else "en", s["level"])
    rows = [
        (_t("level", lang), lv), (_t("town", lang), s.get("town")),
        (_t("enrollment", lang), s.get("enrollment")), (_t("classes", lang), s.get("classes")),
        (_t("seats", lang), s.get("seats")),
        (_t("area", lang), AREA_TYPE_LABELS.get(s.get("area_type"), {}).get(
            "zh" if lang == "zh" else "en", s.get("area_type"))),
    ]
    if "assigned_pupils" in s:
        rows += [(_t("assigned", lang), round(float(s["assigned_pupils"]))),
                 (_t("utilisation", lang), f"{s['utilisation']:.0%}" if pd.notna(s["utilisation"]) else None),
                 (_t("mean_dist", lang), s.get("mean_distance_m"))]
    if pd.notna(s.get("model_ratio")):
        rows += [(_t("model_vs_ledger", lang),
                  f"{s['modelled_pupils']:.0f} / {s['ledger_enrollment']:.0f} ({s['model_ratio']:.2f})")]
    flags = []
    i = 0 if lang == "zh" else 1
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
        flags.append(f"{_t('over_class', lang)} ({_fmt(s.get('avg_class_size'))})")
    body = "".join(f"<tr><th style='text-align:left;padding-right:6px'>{html_text(k)}</th>"
                   f"<td>{_fmt(v)}</td></tr>" for k, v in rows)
    flag_html = "".join(f"<div style='color:#b00'>⚑ {html_text(f)}</div>" for f in flags)
    return (f"<div class='school-popup' data-school-id='{html_text(str(s['school_id']))}' "
            f"style='font-family:{_FONT};min-width:180px'>"
            f"<b>{html_text(str(s['name']))}</b> <small>({html_text(str(s['school_id']))})</small>"
            f"<table>{body}</table>{flag_html}</div>")


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
    """Towns, schools by level (size = pupils, colour = small tier) and villages, with a legend.

    No base tiles by default: the map works with no network (``tiles`` from
    :func:`base_layer` adds one). Returns a ``folium.Map``.
    """
    schools = result.schools
    towns = result.towns
    located = schools[schools.geometry.notna() & ~schools.geometry.is_empty
                      & np.isfinite(schools["lon"])]
    bounds_src = towns if towns.attrs.get("geometry_kind") == "polygon" else located
    x0, y0, x1, y1 = bounds_src.total_bounds
    # marker sizes shrink for a prefecture so that 2,000 schools do not merge into blobs
    scale = float(np.clip(math.sqrt(120.0 / max(len(located), 1)), 0.35, 1.0))
    # maxZoom must be given when there is no tile layer (Leaflet plugins need it)
    m = _OverviewMap(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=10, tiles=None,
                     control_scale=True, maxZoom=18)
    _figure(m).header.add_child(folium.Element(
        "<style>.leaflet-container{background:#f4f1ea}</style>"))
    if tiles is not None:
        folium.TileLayer(tiles=tiles[0], attr=tiles[1], name="base map / 底图", max_zoom=18,
                         overlay=False, control=True).add_to(m)
        m.attrs_remote = tiles[2]
        m.attrs_local = not tiles[2]
    # Towns
    tg = folium.FeatureGroup(name=_t("towns", lang), show=True)
    if towns.attrs.get("geometry_kind") == "polygon":
        tj = towns[["town_code", "town", "junior_middle_schools", "junior_middle_rule_ok",
                    "geometry"]].copy()
        tj["junior_middle_rule_ok"] = tj["junior_middle_rule_ok"].astype(bool)
        if "junior_middle_per_town" in result.settings["rules_disabled"]:
            tj["junior_middle_rule_ok"] = True  # the rule is switched off for this scenario
        tj["geometry"] = tj.geometry.simplify(0.0002)
        folium.GeoJson(
            tj.to_json(),
            name=_t("towns", lang),
            style_function=lambda f: {
                "color": "#444" if f["properties"]["junior_middle_rule_ok"] else "#d62728",
                "weight": 1.2 if f["properties"]["junior_middle_rule_ok"] else 3,
                "fillColor": "#ffffff" if f["properties"]["junior_middle_rule_ok"] else "#f7c6c6",
                "fillOpacity": 0.25,
            },
            tooltip=GeoJsonTooltip(fields=["town", "junior_middle_schools"],
                                          aliases=[_t("town", lang), _t("junior_ok", lang)]),
        ).add_to(tg)
    else:
        for _, t in towns[np.isfinite(towns["lon"])].iterrows():
            folium.CircleMarker([t["lat"], t["lon"]], radius=4, color="#444", fill=True,
                                tooltip=Tooltip.plain(t["town"])).add_to(tg)
    tg.add_to(m)
    # Villages
    demand = result.inputs.demand
    if demand is not None and len(demand):
        # one GeoJSON layer (not one marker object per village): a prefecture's 6,500 villages
        # stay light; coordinates rounded to 1e-5 degrees (about 1 m)
        vg = folium.FeatureGroup(name=_t("villages", lang), show=False)
        v = demand[np.isfinite(demand["lon"])]
        feats = {"type": "FeatureCollection", "features": [
            {"type": "Feature",
             "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
             "properties": {"name": str(n), "p": float(pp), "j": float(pj),
                            "r": round(1.5 + math.sqrt(max(float(pp), 0.0)) / 3, 1)}}
            for x, y, n, pp, pj in zip(v["lon"], v["lat"], v["name"], v["pupils_primary"],
                                       v["pupils_junior"], strict=True)]}
        folium.GeoJson(
            feats, marker=folium.CircleMarker(radius=3, color="#777", weight=0.5, fill=True,
                                              fill_opacity=0.5),
            style_function=lambda f: {"radius": f["properties"]["r"], "color": "#777",
                                      "weight": 0.5, "fillOpacity": 0.5},
            tooltip=GeoJsonTooltip(fields=["name", "p", "j"],
                                          aliases=[_t("villages_n", lang).rstrip("数") if lang == "zh" else "Village",
                                                   _t("pupils_primary", lang), _t("pupils_junior", lang)]),
        ).add_to(vg)
        vg.add_to(m)
    # Catchment areas
    catchment_layers: list[folium.GeoJson] = []
    areas = getattr(result, "catchments", None)
    if areas is not None and len(areas):
        names = result.schools.set_index("school_id")["name"]
        palette = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
                   "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"]
        for group in ("g1_3", "g7_9"):
            sub = areas[areas["group"] == group].copy()
            if sub.empty:
                continue
            sub["school"] = sub["school_id"].map(names)
            sub["colour"] = [palette[i % len(palette)] for i in range(len(sub))]
            sub["geometry"] = sub.geometry.simplify(0.0003)
            gj = folium.GeoJson(
                sub[["school_id", "school", "villages", "colour", "geometry"]].to_json(drop_id=True),
                name=_t(f"catch_{group}", lang), show=group == "g1_3",
                style_function=lambda f: {"color": "#555", "weight": 0.8,
                                          "fillColor": f["properties"]["colour"], "fillOpacity": 0.35},
                tooltip=GeoJsonTooltip(fields=["school", "villages"],
                                              aliases=[_t("school", lang), _t("villages_n", lang)]),
            )
            gj.add_to(m)
            catchment_layers.append(gj)
    if "seat_warning" in located:
        sg = folium.FeatureGroup(name=_t("seat_layer", lang), show=True)
        for _, s in located[located["seat_warning"].isin(list(SEAT_COLOURS))].iterrows():
            folium.CircleMarker(
                [round(s["lat"], 6), round(s["lon"], 6)],
                radius=(8 + math.sqrt(max(s["enrollment"] if pd.notna(s["enrollment"]) else 0, 0)) / 3) * scale,
                color=SEAT_COLOURS[s["seat_warning"]], weight=2.5, dash_array="4 3", fill=False,
                tooltip=Tooltip(f"{html_text(s['name'])}: {html_text(_t('seat_' + s['seat_warning'], lang))}"),
            ).add_to(sg)
        sg.add_to(m)
    add_seat_warning_layers(m, result, lang=lang)
    if getattr(result, "candidates", None) is not None:
        rec = result.candidates.set_index("school_id")["recommendation"]
        located = located.assign(recommendation=located["school_id"].map(rec))
    closed = located[located.get("status", "open") == "closed"] if "status" in located else located.iloc[0:0]
    if len(closed):
        cg = folium.FeatureGroup(name=f"{_t('closed_layer', lang)} ({len(closed)})", show=True)
        for _, s in closed.iterrows():
            folium.CircleMarker([round(s["lat"], 6), round(s["lon"], 6)], radius=5, color="#555",
                                weight=1.5, dash_array="2 2", fill=True, fill_color="#bbb",
                                fill_opacity=0.6, tooltip=Tooltip.plain(s["name"]),
                                popup=Popup(_school_popup(s, lang), max_width=320,
                                                   autoPanPaddingTopLeft=[60, _TITLE_H + 20])).add_to(cg)
        cg.add_to(m)
    layouts = getattr(result, "layouts", None)
    if layouts is not None and len(layouts):
        pos = located.set_index("school_id")[["lat", "lon"]]
        lg = folium.FeatureGroup(name=_t("links", lang), show=True)
        for r in layouts.itertuples():
            if not isinstance(r.planet_id, str) or r.planet_id not in pos.index:
                continue
            p = pos.loc[r.planet_id]
            for ids, dashed in ((r.satellite_ids, False), (r.closed_ids, True)):
                for sid in [i for i in str(ids or "").split(";") if i and i in pos.index]:
                    q = pos.loc[sid]
                    folium.PolyLine([[round(q["lat"], 6), round(q["lon"], 6)],
                                     [round(p["lat"], 6), round(p["lon"], 6)]],
                                    color="#444", weight=1.5, opacity=0.8,
                                    dash_array="5 5" if dashed else None).add_to(lg)
        lg.add_to(m)
    _layout_layers.add_layout_layers(m, result, lang)
    located = located[located["status"] != "closed"] if "status" in located else located
    # Schools by level
    for level, colour in LEVEL_COLOURS.items():
        sub = located[located["level"] == level]
        if sub.empty:
            continue
        label = LEVEL_LABELS[level]["zh" if lang == "zh" else "en"]
        g = folium.FeatureGroup(name=f"{label} ({len(sub)})", show=True)
        # large schools first, so that small ones are drawn on top and stay clickable
        for _, s in sub.sort_values("enrollment", ascending=False).iterrows():
            tier = s.get("small_tier") or ""
            folium.CircleMarker(
                [round(s["lat"], 6), round(s["lon"], 6)],
                radius=(3 + math.sqrt(max(s["enrollment"] if pd.notna(s["enrollment"]) else 0, 0)) / 3) * scale,
                color=TIER_COLOURS.get(tier, colour), weight=3 if tier else 1.5,
                fill=True, fill_color=colour, fill_opacity=0.75,
                tooltip=Tooltip.plain(s["name"]),
                popup=Popup(_school_popup(s, lang), max_width=320,
                                   autoPanPaddingTopLeft=[60, _TITLE_H + 20]),
            ).add_to(g)
        g.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if catchment_layers:
        # a child of the map, so that it is rendered after the layers it refers to
        m.add_child(_CatchmentHighlight(catchment_layers))
    _figure(m).html.add_child(Markup(_title_block(result, lang)))
    _figure(m).html.add_child(Markup(_legend(result, lang)))
    # keep the county clear of the title block (top left) and the layer control and legend (right)
    m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=[10, _TITLE_H + 10],
                 padding_bottom_right=[_RIGHT_W, 10])
    return m


class _CatchmentHighlight(folium.MacroElement):
    """Clicking a school outlines its catchment areas; closing the popup restores them. The
    layers are named at render time (after :func:`~schoolplan.outputs.escape.stable_ids`)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function () {
  var layers = [{% for layer in this.layers %}{{ layer.get_name() }}{{ "," if not loop.last }}{% endfor %}];
  function restyle(id) {
    layers.forEach(function (gj) {
      gj.eachLayer(function (l) {
        var mine = id !== null && l.feature && l.feature.properties.school_id === id;
        l.setStyle(mine ? {weight: 4, color: "#000", fillOpacity: 0.55}
                        : {weight: 0.8, color: "#555", fillOpacity: id === null ? 0.35 : 0.2});
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

    def __init__(self, layers: list[folium.GeoJson]):
        super().__init__()
        self._name = "CatchmentHighlight"
        self.layers = layers


_TITLE_H = 120  # px reserved at the top for the title block
_RIGHT_W = 270  # px reserved at the right for the layer control and the legend


def _title_block(result, lang: str) -> str:
    sc = result.scenario
    year = getattr(sc, "year", None)
    title = sc.title if not year or str(year) in sc.title else f"{sc.title} ({year})"
    synthetic = (f"<div style='color:#b00;font-weight:bold'>{_t('synthetic', lang)}</div>"
                 if sc.synthetic else "")
    sources = ", ".join(Path(f["path"]).name for f in result.inputs.files.values())
    label = "数据" if lang == "zh" else "Data"
    return (f"<div id='schoolplan-title' style='position:fixed;top:10px;left:50px;z-index:1000;"
            f"background:rgba(255,255,255,.92);padding:5px 10px;border:1px solid #999;"
            f"max-width:520px;font-family:{_FONT};font-size:12px'>"
            f"<div style='font-size:15px;font-weight:bold'>{html_text(title)}</div>{synthetic}"
            f"<div style='font-size:11px;color:#444'>{output_time(result.created):%Y-%m-%d} · schoolplan · "
            f"{label}: {html_text(sources)}</div></div>")


def _legend(result, lang: str) -> str:
    items = [f"<div><span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
             f"background:{c};margin-right:5px'></span>{LEVEL_LABELS[lv]['zh' if lang == 'zh' else 'en']}</div>"
             for lv, c in LEVEL_COLOURS.items() if (result.schools["level"] == lv).any()]
    for tier in sorted(TIER_COLOURS, key=lambda t: -int(t[2:])):
        items.append(f"<div><span style='display:inline-block;width:9px;height:9px;border-radius:50%;"
                     f"border:3px solid {TIER_COLOURS[tier]};margin-right:5px'></span>"
                     f"{_t('small', lang)} {_tier_label(tier, lang)}</div>")
    items.append(f"<div><span style='display:inline-block;width:14px;height:10px;border:3px solid #d62728;"
                 f"background:#f7c6c6;margin-right:5px'></span>{_t('no_junior', lang)}</div>")
    if "seat_warning" in result.schools:
        for band, colour in SEAT_COLOURS.items():
            items.append(f"<div><span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
                         f"border:2px dashed {colour};margin-right:5px'></span>{_t('seat_' + band, lang)}</div>")
    if "status" in result.schools and (result.schools["status"] == "closed").any():
        items.append(f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
                     "border:1.5px dashed #555;background:#bbb;margin-right:5px'></span>"
                     f"{_t('closed_legend', lang)}</div>")
    if getattr(result, "layouts", None) is not None:
        items.append(f"<div><span style='display:inline-block;width:16px;border-top:2px solid #444;"
                     f"margin:0 5px 3px 0'></span>{_t('link_legend', lang)}</div>")
    items.append(f"<div style='color:#555'>{_t('size_note', lang)}</div>")
    return (f"<div id='schoolplan-legend' style='position:fixed;bottom:20px;right:10px;z-index:1000;"
            f"width:{_RIGHT_W - 30}px;"
            f"background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #999;"
            f"font-family:{_FONT};font-size:12px'><b>{_t('legend', lang)}</b>{''.join(items)}</div>")


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` as one self-contained HTML file, atomically. Only a base layer asked for with
    an online or intranet URL (:func:`base_layer`) is left remote."""
    remote = m.attrs_remote if isinstance(m, _OverviewMap) else ""
    local = ("'self'", "file:") if isinstance(m, _OverviewMap) and m.attrs_local else ()
    return _offline.save_offline(m, path, allow_remote=(remote,) if remote else (), images=local)
