"""The overview map read at a meeting and printed (issue 19 item 4, print CSS) and light at
prefecture scale (issue 15 item 7).

Hand-made cases for the computations (roads drawn once per road and class, points far from a
road); relations computed from the inputs for the demo map (one label per town, the encodings,
the settings); a real Chromium for the labels by zoom and the A4 print layout (skipped where
Debian's chromium or playwright is missing). No figure of the demo county is pinned.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from _browser import BROWSER_ARGS, chromium_context

from schoolplan.network import network_from_graph
from schoolplan.outputs import map_data
from schoolplan.outputs.maps import SEAT_COLOURS, TIER_COLOURS, overview_map, save_map
from schoolplan.scenario import evaluate, load_scenario
from schoolplan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-county.yaml"


def _grid_network(classes: dict[tuple[int, int], str]):
    """A walking network on the nodes 0..3 of a line along the equator, 1 km apart."""
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(4):
        G.add_node(i, x=116.0 + i * 0.009, y=36.0)
    for (u, v), hw in classes.items():
        G.add_edge(u, v, highway=hw)
        G.add_edge(v, u, highway=hw)
    return network_from_graph(G, mode="walk")


def test_road_lines_draw_each_road_once_and_only_the_classes_asked_for() -> None:
    net = _grid_network({(0, 1): "primary", (1, 2): "primary", (2, 3): "residential"})
    s = Settings.layered(("call", {"map_road_classes": "primary,secondary"}))
    lines = map_data.road_lines(net, s)
    assert list(lines["highway"]) == ["primary"]  # residential not asked for, secondary absent
    geom = lines.geometry.iloc[0]
    # both directions of both edges merged into one line from node 0 to node 2 (2 km)
    assert geom.geom_type == "LineString"
    xs = sorted(round(x, 5) for x, _ in geom.coords)
    assert xs[0] == 116.0 and xs[-1] == round(116.0 + 2 * 0.009, 5)
    assert all(len(str(c).split(".")[-1]) <= 5 for xy in geom.coords for c in xy)
    s_all = Settings.layered(("call", {"map_road_classes": "primary,residential"}))
    assert sorted(map_data.road_lines(net, s_all)["highway"]) == ["primary", "residential"]
    assert len(map_data.road_lines(net, Settings.layered(("call", {"map_road_classes": "trunk"})))) == 0


def test_far_from_road_flags_exactly_the_points_beyond_the_limit(demo_result) -> None:
    import dataclasses

    import geopandas as gpd

    net = _grid_network({(0, 1): "primary", (1, 2): "primary", (2, 3): "primary"})
    limit = float(demo_result.settings["max_snap_distance_m"])
    # a school on node 1, one 3 limits north of node 2 (about 3 * limit m)
    lat_far = 36.0 + 3 * limit / 111_000
    schools = gpd.GeoDataFrame(
        {"school_id": ["near", "far"], "name": ["近校", "远校"], "lon": [116.009, 116.018],
         "lat": [36.0, lat_far]}, geometry=gpd.points_from_xy([116.009, 116.018], [36.0, lat_far]), crs=4326)
    inputs = dataclasses.replace(demo_result.inputs, demand=None)
    r = dataclasses.replace(demo_result, schools=schools, inputs=inputs)
    far = map_data.far_from_road(r, net)
    assert list(far["id"]) == ["far"] and list(far["kind"]) == ["school"]
    assert far["distance_m"].iloc[0] == pytest.approx(3 * limit, rel=0.02)


@pytest.fixture(scope="module")
def demo_result():
    return evaluate(load_scenario(DEMO))


def _page(result, lang="zh") -> str:
    return overview_map(result, lang=lang).get_root().render()


def _arrays(page: str, var: str) -> list:
    """The JSON arrays handed to schoolplanPoints / schoolplanLabels (the page's data)."""
    out = []
    for m in re.finditer(var + r"\((map_[0-9a-f]+), ", page):
        start = m.end()
        if var == "schoolplanLabels":
            start = page.index(",", start) + 1  # skip the owner layer
        out.append(json.JSONDecoder().raw_decode(page[start:].lstrip())[0])
    return out


def test_every_town_is_named_and_schools_are_labelled_from_the_zoom_setting(demo_result) -> None:
    page = _page(demo_result)
    labels = _arrays(page, "schoolplanLabels")
    towns = demo_result.towns
    assert len(labels) == 1 and sorted(r[2] for r in labels[0]) == sorted(towns["town"].astype(str))
    points = _arrays(page, "schoolplanPoints")
    named = sorted(r[6] for rows in points for r in rows if r[6] is not None)
    s = demo_result.schools
    assert named == sorted(s.loc[s["status"] != "closed", "name"].astype(str))
    assert f'"labelZoom": {int(demo_result.settings["map_school_label_zoom"])}' in page


def test_tier_and_seat_warning_have_separate_encodings(demo_result) -> None:
    # small-school tiers are grey rings, seat warnings red/yellow badges: no colour is shared
    tier = {c.lower() for c in TIER_COLOURS.values()}
    assert not tier & {c.lower() for c in SEAT_COLOURS.values()}
    assert all(len(set(c[1:])) == 1 for c in tier)  # greys: r == g == b
    page = _page(demo_result)
    assert '"badge": "red"' in page and '"badge": "yellow"' in page
    legend = page[page.index("id='schoolplan-legend'"):]
    assert "灰色外圈" in legend and "方块标记" in legend


def test_catchments_are_outlines_unless_the_fill_setting_is_on(demo_result) -> None:
    import dataclasses

    def catchment_styles(result) -> list[dict]:
        m = overview_map(result, lang="en")
        layers = [c for c in m._children.values()
                  if getattr(c, "layer_name", "").startswith(("Primary catchments", "Junior catchments"))]
        assert len(layers) == 2
        feats = json.loads(layers[0].data) if isinstance(layers[0].data, str) else layers[0].data
        return [layers[0].style_function(f) for f in feats["features"]]

    outline = catchment_styles(demo_result)
    assert outline and all(st["fillOpacity"] == 0 for st in outline)
    filled_settings = demo_result.settings.replace({"map_catchment_fill": True})
    filled = catchment_styles(dataclasses.replace(demo_result, settings=filled_settings))
    assert all(st["fillOpacity"] > 0 for st in filled) and len({st["fillColor"] for st in filled}) > 1


def test_metric_scale_plain_attribution_and_rounded_coordinates(demo_result) -> None:
    page = _page(demo_result)
    assert "imperial: false" in page and '"control_scale": true' not in page
    assert "attributionControl.setPrefix(false)" in page
    assert "合成示范数据" in page[page.index("addAttribution("):][:400]
    assert "leafletjs.com" not in page.split("/* leaflet/leaflet.js")[0]
    decimals = int(demo_result.settings["map_coordinate_decimals"])
    for rows in _arrays(page, "schoolplanPoints"):
        for r in rows:
            assert round(r[0], decimals) == r[0] and round(r[1], decimals) == r[1]


def test_the_roads_setting_removes_the_road_layer(demo_result) -> None:
    import dataclasses

    assert map_data.map_network(demo_result) is not None
    names = [getattr(c, "layer_name", "") for c in overview_map(demo_result, lang="en")._children.values()]
    assert "Roads (main classes)" in names
    off = demo_result.settings.replace({"map_roads": False})
    names = [getattr(c, "layer_name", "") for c in
             overview_map(dataclasses.replace(demo_result, settings=off), lang="en")._children.values()]
    assert "Roads (main classes)" not in names


# ------------------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def demo_page(demo_result, tmp_path_factory) -> Path:
    return save_map(overview_map(demo_result, lang="zh"), tmp_path_factory.mktemp("meeting") / "map.html")


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("profile"), viewport={"width": 1280, "height": 720}) as ctx:
        yield ctx


_MAP = "Object.keys(window).filter(k => /^map_[0-9a-f]+$/.test(k)).map(k => window[k])[0]"


def test_school_labels_appear_from_zoom_12_and_town_labels_always(demo_page, demo_result, context) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(demo_page.as_uri())
    page.wait_for_selector(".sp-town", state="attached", timeout=15_000)
    n_towns = len(demo_result.towns)
    assert page.locator(".sp-town").count() == n_towns
    assert page.locator(".sp-label").count() == 0
    zoom = int(demo_result.settings["map_school_label_zoom"])
    page.evaluate(f"() => {{ const m = {_MAP}; m.setZoom({zoom}, {{animate: false}}); }}")
    s = demo_result.schools
    n_open = int((s["status"] != "closed").sum())
    assert page.locator(".sp-label").count() == n_open
    texts = sorted(t.strip() for t in page.locator(".sp-label").all_inner_texts())
    assert texts == sorted(s.loc[s["status"] != "closed", "name"].astype(str))
    page.evaluate(f"() => {{ const m = {_MAP}; m.setZoom({zoom - 1}, {{animate: false}}); }}")
    assert page.locator(".sp-label").count() == 0 and page.locator(".sp-town").count() == n_towns
    assert errors == []
    page.close()


def test_print_layout_hides_controls_and_puts_the_legend_beside_the_map(demo_page, context) -> None:
    page = context.new_page()
    page.goto(demo_page.as_uri())
    page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=15_000)
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    box = page.evaluate("""() => {
      const r = (s) => { const e = document.querySelector(s); const b = e.getBoundingClientRect();
                         return {l: b.left, r: b.right, t: b.top, b: b.bottom,
                                 shown: getComputedStyle(e).display !== 'none'}; };
      return {map: r('.folium-map'), legend: r('#schoolplan-legend'), title: r('#schoolplan-title'),
              layers: r('.leaflet-control-layers'), zoom: r('.leaflet-control-zoom'),
              printTitle: r('#schoolplan-legend .sp-print-only')};
    }""")
    assert not box["title"]["shown"] and not box["layers"]["shown"] and not box["zoom"]["shown"]
    assert box["printTitle"]["shown"]
    mm = 96 / 25.4
    assert box["map"]["r"] - box["map"]["l"] == pytest.approx(222 * mm, abs=2)
    assert box["map"]["b"] - box["map"]["t"] == pytest.approx(192 * mm, abs=2)
    assert box["legend"]["l"] >= box["map"]["r"]  # beside the map, not on it
    # the county was refitted to the printed map: every town is inside it
    inside = page.evaluate(f"""() => {{ const m = {_MAP}; const b = m.getBounds().pad(0.01); let all = true;
      m.eachLayer(l => {{ if (l.feature && l.feature.properties.town_code
                              && !b.contains(l.getBounds())) all = false; }});
      return all; }}""")
    assert inside
    page.close()


def test_chromium_prints_the_map_on_one_a4_landscape_page(demo_page, tmp_path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None or shutil.which("pdfinfo") is None:
        pytest.skip("Debian's chromium and poppler-utils (pdfinfo) are needed")
    pdf = tmp_path / "map.pdf"
    subprocess.run([chromium, *BROWSER_ARGS, f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", demo_page.as_uri()], check=True, capture_output=True, timeout=120)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", info), info
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (w, h) == pytest.approx((841.9, 595.0), abs=1.5)  # A4 landscape
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "图例" in text  # the legend is printed beside the map


# ------------------------------------------------------------------------------ prefecture


def test_a_prefecture_map_stays_under_8_mb(demo_result, tmp_path) -> None:
    """The demo tiled 32 times (about Liaocheng's 2,300 schools; benchmarks/bench_map.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_map import tiled_result
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    pref = tiled_result(demo_result, 32)
    assert len(pref.schools) == 32 * len(demo_result.schools) >= 2_000
    path = save_map(overview_map(pref, lang="zh"), tmp_path / "map.html")
    assert path.stat().st_size <= 8_000_000
    page = path.read_text(encoding="utf-8")
    # one compact array per layer, not one script object per marker
    assert page.count("L.circleMarker(") < 10 and page.count("L.popup(") == 0
    # drawn on a canvas from map_canvas_from_schools schools on; the county map stays SVG
    assert '"preferCanvas": true' in page
    assert len(demo_result.schools) < int(demo_result.settings["map_canvas_from_schools"])
    assert '"preferCanvas": true' not in _page(demo_result)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_map_data_speaks_the_users_language(demo_result, lang: str) -> None:
    """Tooltips, popups (labels, values, flags) and labels travel as JSON data that the page shows
    as text: in a zh map none holds an English word, in an en map none a Chinese character other
    than in names from the ledger."""
    page = _page(demo_result, lang)
    texts = [s for rows in _arrays(page, "schoolplanPoints") for s in _strings(rows)]
    texts += [s for m in re.finditer(r'"labels": (\[[^\]]*\])', page) for s in json.loads(m.group(1))]
    assert texts
    if lang == "zh":
        assert [t for t in texts if re.search(r"[A-Za-z_]{2,}", t)] == []
    else:
        names = set(demo_result.schools["name"].astype(str)) | set(demo_result.schools["town"].astype(str))
        names |= set(demo_result.inputs.demand["name"].astype(str))
        cjk = re.compile(r"[\u3400-\u9fff]+")
        stray = {w for t in texts for w in cjk.findall(t) if not any(w in n for n in names)}
        assert stray == set()
