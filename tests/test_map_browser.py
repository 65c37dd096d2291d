"""The demo's overview map (``schoolplan run``'s ``map.html``) in a real headless Chromium.

Runs only where Debian's ``chromium`` and the ``playwright`` Python package are installed
(``apt-get install -y chromium fonts-wqy-microhei``; ``pip install playwright``; never
``playwright install``); elsewhere every browser test here is skipped with the reason.

Markers and polygons are counted through Leaflet itself, not by guessing from the DOM: the page
script of the layer control (``layer_control_<id>_layers.overlays``) maps every layer name shown in
the control to its Leaflet layer. For each name the test walks that layer down to its leaves
(``getLayers()`` of feature groups and GeoJSON layers; a GeoJSON (Multi)Polygon feature is one leaf)
and counts a leaf as *drawn* when the map holds it and its SVG ``<path>`` is in the document. So
the school count is per layer name, independent of drawing order and of other layers' paths; the
sum over all layers is cross-checked against the DOM's ``path.leaflet-interactive`` count.

Screenshots (``map-zh.png``, ``map-en.png``, ``popup-zh.png``, ``popup-en.png``) land next to the
two HTML files in pytest's temp directory (``/tmp/pytest-of-<user>/pytest-<n>/demo-maps0/``).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from _browser import chromium_context

from schoolplan.outputs.maps import overview_map, save_map
from schoolplan.scenario import evaluate, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-county.yaml"
LANGS = ("zh", "en")
VIEWPORT = {"width": 1280, "height": 720}

# The layer control, top to bottom; school layers get " (<count>)" appended.
FIXED_LAYERS = {
    "zh": ["道路（主要等级）", "乡镇", "村庄（学龄人口）", "小学片区（1-3年级，就近）", "初中片区（就近）", "学位预警"],
    "en": [
        "Roads (main classes)",
        "Towns",
        "Villages (school-age children)",
        "Primary catchments (grades 1-3, nearest)",
        "Junior catchments (nearest)",
        "Seat warnings",
    ],
}
ROADS, TOWNS, VILLAGES, PRIMARY_CATCH, JUNIOR_CATCH, SEATS = range(6)
LEVEL_NAMES = {  # in the map's drawing order
    "primary": {"zh": "小学", "en": "primary"},
    "teaching_point": {"zh": "教学点", "en": "teaching point"},
    "nine_year": {"zh": "九年一贯制", "en": "nine-year"},
    "junior": {"zh": "初中", "en": "junior middle"},
    "complete": {"zh": "完全中学", "en": "complete middle (7-12)"},
}
SYNTHETIC = {"zh": "合成示范数据", "en": "Synthetic demo data"}
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


# Leaflet helpers installed in the page as window.__planner_test.
_HELPERS_JS = r"""
() => {
  const one = (re) => {
    const keys = Object.keys(window).filter(k => re.test(k));
    if (keys.length !== 1) throw new Error(`expected one global matching ${re}, got ${keys}`);
    return window[keys[0]];
  };
  const map = one(/^map_[0-9a-f]+$/);
  const overlays = one(/^layer_control_[0-9a-f]+_layers$/).overlays;
  const leaves = (layer) => layer.getLayers ? layer.getLayers().flatMap(leaves) : [layer];
  // an SVG path (circles, polygons, lines) or a div icon (the seat-warning badges)
  const drawn = (l) => map.hasLayer(l) && (!!l._path && l._path.isConnected
                                           || !!l._icon && l._icon.isConnected);
  const text = (content) => {
    const div = document.createElement('div');
    div.innerHTML = typeof content === 'string' ? content : (content ? content.outerHTML : '');
    return div.textContent.trim();
  };
  const page = (latlng) => {
    const p = map.latLngToContainerPoint(latlng);
    const r = map.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  };
  window.__planner_test = {
    map, overlays, leaves, drawn, text, page,
    layers: () => Object.entries(overlays).map(([name, layer]) => {
      const ls = leaves(layer);
      return {name, shown: map.hasLayer(layer), leaves: ls.length,
              drawn: ls.filter(drawn).length,
              inView: ls.filter(l => drawn(l) && l.getLatLng
                                     && map.getBounds().contains(l.getLatLng())).length,
              tooltips: ls.map(l => l.getTooltip() ? text(l.getTooltip().getContent()) : null),
              strokes: ls.filter(drawn).map(l => l.options.color)};
    }),
    marker: (layerName, tooltip) => {
      const found = leaves(overlays[layerName]).filter(
        l => l.getTooltip() && text(l.getTooltip().getContent()) === tooltip);
      if (found.length !== 1) throw new Error(`${found.length} markers named ${tooltip}`);
      return found[0];
    },
  };
  return true;
}
"""


@dataclass
class DemoMaps:
    result: object
    folder: Path
    html: dict[str, Path]
    located: object  # schools with a position: the ones the map can draw


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoMaps:
    result = evaluate(load_scenario(DEMO))
    folder = tmp_path_factory.mktemp("demo-maps")
    paths = {
        lang: save_map(overview_map(result, lang=lang), folder / f"map-{lang}.html")
        for lang in LANGS
    }
    s = result.schools
    located = s[s.geometry.notna() & ~s.geometry.is_empty & np.isfinite(s["lon"])]
    return DemoMaps(result, folder, paths, located)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), viewport=VIEWPORT) as context:
        yield context


class OpenMap:
    """One map page, with everything the browser complained about or tried to fetch."""

    def __init__(self, context, path: Path) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on(
            "request",
            lambda req: req.url.startswith(("file:", "data:")) or self.requests.append(req.url),
        )
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=15_000)
        self.page.evaluate("document.fonts.ready.then(() => true)")
        self.page.evaluate(_HELPERS_JS)
        # folium's fitBounds runs as an animated zoom (10 -> 11 for the demo) right after load;
        # while it runs Leaflet ignores setView and the view (screenshot, what is in view) is not
        # final yet. `_animatingZoom` is Leaflet's own flag for that.
        self.page.wait_for_function("() => !__planner_test.map._animatingZoom", timeout=10_000)

    def layers(self) -> dict[str, dict]:
        return {layer["name"]: layer for layer in self.page.evaluate("__planner_test.layers()")}

    def assert_quiet(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [], self.requests

    def toggle(self, name: str) -> None:
        """Click the layer control's checkbox for ``name``, like a user."""
        labels = self.page.locator(".leaflet-control-layers-overlays label")
        label = labels.filter(has=self.page.get_by_text(name, exact=True))
        assert label.count() == 1, name
        label.locator("input").click()


@pytest.fixture(scope="module", params=LANGS)
def opened(request, demo, browser_context):
    """The map as it opens (module-wide, one per language): tests on it must not change it."""
    lang = request.param
    view = OpenMap(browser_context, demo.html[lang])
    view.page.screenshot(path=str(demo.folder / f"map-{lang}.png"))
    yield lang, view
    view.page.close()


@pytest.fixture
def fresh(demo, browser_context):
    """A fresh page per test, for tests that click around."""
    views: list[OpenMap] = []

    def open_(lang: str) -> OpenMap:
        views.append(OpenMap(browser_context, demo.html[lang]))
        return views[-1]

    yield open_
    for view in views:
        view.page.close()


def expected_layers(demo: DemoMaps, lang: str) -> list[str]:
    counts = demo.located["level"].value_counts()
    levels = [f"{names[lang]} ({counts[lv]})" for lv, names in LEVEL_NAMES.items() if lv in counts]
    t = demo.result.seat_warnings
    warned = t.loc[t["warning_today"].isin(["red", "yellow"]), "school_id"].nunique()
    year_layer = f"学位预警 现状 ({warned})" if lang == "zh" else f"Seat warnings today ({warned})"
    far = _far_layer(demo, lang)
    return [*FIXED_LAYERS[lang], year_layer, *levels, *([far] if far else [])]


def _far_layer(demo: DemoMaps, lang: str) -> str | None:
    from schoolplan.outputs import map_data

    far = map_data.far_from_road(demo.result, map_data.map_network(demo.result))
    if not len(far):
        return None
    return f"{'远离道路的点' if lang == 'zh' else 'Points far from any road'} ({len(far)})"


def school_layer_names(demo: DemoMaps, lang: str) -> list[str]:
    names = expected_layers(demo, lang)[len(FIXED_LAYERS[lang]) + 1 :]  # + the year layer
    return [n for n in names if n != _far_layer(demo, lang)]


# --------------------------------------------------------------------------------- tests


def test_demo_has_what_the_map_tests_need(demo: DemoMaps) -> None:
    """Guard the premises, so a changed demo fails here rather than obscurely below."""
    assert demo.result.scenario.synthetic
    assert demo.result.towns.attrs.get("geometry_kind") == "polygon"
    assert len(demo.located) == len(demo.result.schools) > 20
    assert not demo.located["name"].duplicated().any()  # tooltips identify schools
    assert set(demo.located["level"]) <= set(LEVEL_NAMES)
    assert demo.located["seat_warning"].isin(["red", "yellow"]).any()
    groups = set(demo.result.catchments["group"])
    assert {"g1_3", "g7_9"} <= groups


def test_no_errors_and_no_network(opened) -> None:
    _lang, view = opened
    view.assert_quiet()


def test_layer_control_lists_every_layer(opened, demo: DemoMaps) -> None:
    lang, view = opened
    labels = [
        t.strip()
        for t in view.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]
    assert labels == expected_layers(demo, lang)
    assert list(view.layers()) == labels  # the control's names are the Leaflet layers'
    assert view.page.locator(".leaflet-control-layers-base label").count() == 0  # no tiles
    if lang == "en":
        assert not [t for t in labels if CJK.search(t)]
    else:
        assert all(CJK.search(t) for t in labels)


def test_title_block_and_legend(opened, demo: DemoMaps) -> None:
    lang, view = opened
    title = view.page.locator("#schoolplan-title")
    legend = view.page.locator("#schoolplan-legend")
    assert title.is_visible() and legend.is_visible()
    assert SYNTHETIC[lang] in title.inner_text()
    assert demo.result.scenario.title in title.inner_text()
    legend_text = legend.inner_text()
    for names in LEVEL_NAMES.values():
        assert names[lang] in legend_text
    if lang == "en":
        assert not CJK.search(legend_text), legend_text


def test_every_located_school_is_drawn_once(opened, demo: DemoMaps) -> None:
    lang, view = opened
    layers = view.layers()
    names = school_layer_names(demo, lang)
    drawn = sum(layers[n]["drawn"] for n in names)
    assert drawn == len(demo.located)
    for name in names:
        assert layers[name]["shown"]
        assert layers[name]["leaves"] == layers[name]["drawn"] == layers[name]["inView"]
    # the right schools, not just the right number: one marker per school, named by tooltip
    tooltips = sorted(t for n in names for t in layers[n]["tooltips"])
    assert tooltips == sorted(str(n) for n in demo.located["name"])
    # per level
    counts = demo.located["level"].value_counts()
    for level, label in LEVEL_NAMES.items():
        if level in counts:
            assert layers[f"{label[lang]} ({counts[level]})"]["drawn"] == counts[level]


def test_primary_catchments_drawn_junior_hidden(opened, demo: DemoMaps) -> None:
    lang, view = opened
    layers = view.layers()
    areas = demo.result.catchments
    primary = layers[FIXED_LAYERS[lang][PRIMARY_CATCH]]
    junior = layers[FIXED_LAYERS[lang][JUNIOR_CATCH]]
    assert primary["shown"]
    assert primary["drawn"] == primary["leaves"] == len(areas[areas.group == "g1_3"])
    assert not junior["shown"]
    assert junior["drawn"] == 0
    assert junior["leaves"] == len(areas[areas.group == "g7_9"])


def test_towns_villages_and_seat_warnings(opened, demo: DemoMaps) -> None:
    lang, view = opened
    layers = view.layers()
    towns = demo.result.towns
    town_layer = layers[FIXED_LAYERS[lang][TOWNS]]
    assert town_layer["drawn"] == len(towns)
    broken = int((~towns["junior_middle_rule_ok"].astype(bool)).sum())
    assert broken > 0  # the demo shows the red outline
    assert town_layer["strokes"].count("#d62728") == broken
    villages = layers[FIXED_LAYERS[lang][VILLAGES]]
    # hidden when the map opens, so not built yet (test_hidden_layers_appear_when_switched_on)
    assert not villages["shown"] and villages["drawn"] == villages["leaves"] == 0
    seats = layers[FIXED_LAYERS[lang][SEATS]]
    warned = demo.located[demo.located["seat_warning"].isin(["red", "yellow"])]
    assert seats["shown"] and seats["drawn"] == len(warned)
    # the DOM agrees with Leaflet: every interactive path or badge is one of the drawn leaves
    # (the road layer is not interactive)
    total = sum(layer["drawn"] for name, layer in layers.items() if name != FIXED_LAYERS[lang][ROADS])
    assert view.page.locator("path.leaflet-interactive, .leaflet-marker-icon.sp-badge").count() == total


def test_hidden_layers_appear_when_switched_on(fresh, demo: DemoMaps) -> None:
    view = fresh("zh")
    areas = demo.result.catchments
    view.toggle(FIXED_LAYERS["zh"][JUNIOR_CATCH])
    view.toggle(FIXED_LAYERS["zh"][VILLAGES])
    view.toggle(FIXED_LAYERS["zh"][PRIMARY_CATCH])  # off
    layers = view.layers()
    assert layers[FIXED_LAYERS["zh"][JUNIOR_CATCH]]["drawn"] == len(areas[areas.group == "g7_9"])
    assert layers[FIXED_LAYERS["zh"][PRIMARY_CATCH]]["drawn"] == 0
    n_villages = int(np.isfinite(demo.result.inputs.demand["lon"]).sum())
    assert layers[FIXED_LAYERS["zh"][VILLAGES]]["drawn"] == n_villages
    view.assert_quiet()


def _click_school(view: OpenMap, demo: DemoMaps, school, lang: str):
    """Centre ``school`` at zoom 16, click its marker with the mouse; return the open popup."""
    name = str(school["name"])
    level = school["level"]
    layer = f"{LEVEL_NAMES[level][lang]} ({(demo.located['level'] == level).sum()})"
    page = view.page
    # At the opening view the county town's markers overlap (the largest primary school lies
    # under a junior middle school drawn after it); at zoom 16 they are far apart.
    page.evaluate(
        "([lat, lon]) => { __planner_test.map.setView([lat, lon], 16, {animate: false}); }",
        [float(school["lat"]), float(school["lon"])],
    )
    assert page.evaluate("__planner_test.map.getZoom()") == 16
    x, y = page.evaluate(
        "([layer, name]) => __planner_test.page(__planner_test.marker(layer, name).getLatLng())",
        [layer, name],
    )
    on_top = page.evaluate(
        "([layer, name, x, y]) => document.elementFromPoint(x, y)"
        " === __planner_test.marker(layer, name)._path",
        [layer, name, x, y],
    )
    assert on_top, f"another element covers {name}'s marker at ({x:.0f}, {y:.0f})"
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    # Leaflet fades popups in; wait for the end so the screenshot shows it opaque
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'",
        timeout=5_000,
    )
    return popup


def _largest_school(demo: DemoMaps):
    return demo.located.sort_values("enrollment").iloc[-1]


@pytest.mark.parametrize("lang", LANGS)
def test_clicking_the_largest_school_opens_its_popup(fresh, demo: DemoMaps, lang: str) -> None:
    view = fresh(lang)
    school = _largest_school(demo)
    popup = _click_school(view, demo, school, lang)
    text = popup.inner_text()
    assert str(school["name"]) in text and str(school["school_id"]) in text
    assert f"{int(school['enrollment'])}" in text
    assert view.page.locator(".leaflet-popup-content .school-popup").count() == 1
    view.page.screenshot(path=str(demo.folder / f"popup-{lang}.png"))
    view.assert_quiet()


def test_popup_heading_is_not_hidden_under_title(fresh, demo: DemoMaps) -> None:
    view = fresh("zh")
    _click_school(view, demo, _largest_school(demo), "zh")
    covered_by = view.page.evaluate(
        r"""() => {
          const b = document.querySelector('.leaflet-popup-content .school-popup b');
          const r = b.getBoundingClientRect();
          const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return b.closest('.leaflet-popup').contains(top) ? null : top.closest('[id]')?.id;
        }"""
    )
    assert covered_by is None


def test_no_school_hidden_under_title_or_legend(opened, demo: DemoMaps) -> None:
    _lang, view = opened
    hidden = view.page.evaluate(
        r"""() => {
          const t = __planner_test;
          const boxes = ['#schoolplan-title', '#schoolplan-legend', '.leaflet-control-layers']
            .map(s => document.querySelector(s).getBoundingClientRect());
          const out = [];
          for (const layer of Object.values(t.overlays)) for (const l of t.leaves(layer)) {
            if (!l.getLatLng || !l.getPopup()) continue;  // school markers carry popups
            const [x, y] = t.page(l.getLatLng());
            if (boxes.some(b => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom))
              out.push(t.text(l.getTooltip().getContent()));
          }
          return out;
        }"""
    )
    assert hidden == []


def test_screenshots_saved(opened, demo: DemoMaps) -> None:
    lang, _view = opened
    shot = demo.folder / f"map-{lang}.png"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # not a blank page
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])


def test_clicking_a_school_outlines_its_catchment(fresh, demo: DemoMaps) -> None:
    """Opening a school's popup outlines the catchment areas it serves (weight 4); closing it
    restores them."""
    view = fresh("en")
    school = _largest_school(demo)
    _click_school(view, demo, school, "en")
    layer = FIXED_LAYERS["en"][PRIMARY_CATCH]
    weights = view.page.evaluate(
        "([layer, id]) => __planner_test.leaves(__planner_test.overlays[layer]).map("
        "l => [l.feature.properties.school_id === id, l.options.weight])",
        [layer, str(school["school_id"])],
    )
    mine = [w for is_mine, w in weights if is_mine]
    others = [w for is_mine, w in weights if not is_mine]
    assert mine and all(w == 4 for w in mine)
    assert others and all(w == 1.2 for w in others)  # the dashed outlines
    view.page.evaluate("__planner_test.map.closePopup()")
    after = view.page.evaluate(
        "(layer) => __planner_test.leaves(__planner_test.overlays[layer]).map(l => l.options.weight)",
        layer,
    )
    assert set(after) == {1.2}
    view.assert_quiet()
