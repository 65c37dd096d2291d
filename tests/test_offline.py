"""Offline folium maps: every CDN asset inlined, unknown remote resources refused.

The browser test runs only where Debian's ``chromium`` and the ``playwright`` Python package are
installed (``apt-get install -y chromium fonts-wqy-microhei``; ``pip install playwright``; never
``playwright install``); elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import branca.colormap
import folium
import pytest
from _browser import chromium_context
from folium.plugins import MarkerCluster

from schoolplan.errors import SchoolplanError
from schoolplan.outputs import offline as _offline
from schoolplan.outputs.offline import (
    AssetsMissingError,
    OfflineAssetError,
    inline_html,
    offline_repr_html,
    save_offline,
)

# The test map below inlines to 1.45 MB (measured with folium 0.20.0, branca 0.8.2): Leaflet,
# jQuery, Bootstrap 5 (CSS+JS), Font Awesome (3 woff2 fonts), glyphicons, awesome-markers
# sprites, d3 3.5.5 and leaflet.markercluster. 2 MB leaves room for data, not for a new library.
MAX_PAGE_BYTES = 2_000_000

TOWN_NAMES = ["城关镇", "青山乡"]
SCHOOL_POPUP = "城关小学"
SCHOOL_TOOLTIP = "小学：在校生 320 人"
MARKER_POPUP = "默认图标"


def _square(lon: float, lat: float, size: float) -> list[list[list[float]]]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
    return [[*ring, [lon, lat]]]


def build_test_map() -> folium.Map:
    """Build a county map with every feature schoolplan's maps use, Chinese text included."""
    # tiles=None: no online base layer. maxZoom then must be given to the map itself (folium's
    # max_zoom= only reaches a tile layer): without it MarkerCluster throws "Map has no maxZoom
    # specified" and every layer after it (and the LayerControl) is never drawn.
    m = folium.Map(location=[30.04, 110.045], zoom_start=12, tiles=None, maxZoom=18)
    towns = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "students": students, "website": "https://x.cn/"},
                "geometry": {"type": "Polygon", "coordinates": _square(lon, 30.0, 0.04)},
            }
            for name, students, lon in [(TOWN_NAMES[0], 320, 110.0), (TOWN_NAMES[1], 80, 110.05)]
        ],
    }
    linear = branca.colormap.LinearColormap(
        ["#ffffcc", "#800026"], vmin=0, vmax=400, caption="在校生（人）"
    )
    step = branca.colormap.StepColormap(
        ["green", "orange", "red"], index=[0, 100, 200, 400], vmin=0, vmax=400, caption="分档"
    )
    folium.GeoJson(
        towns,
        name="乡镇",
        style_function=lambda f: {
            "fillColor": linear(f["properties"]["students"]),
            "color": "#333",
            "weight": 1,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "students"], aliases=["乡镇", "学生"]),
        popup=folium.GeoJsonPopup(fields=["name"], aliases=["乡镇"]),
    ).add_to(m)
    linear.add_to(m)
    step.add_to(m)
    schools = folium.FeatureGroup(name="学校").add_to(m)
    folium.CircleMarker(
        [30.07, 110.02],
        radius=8,
        color="blue",
        fill=True,
        popup=SCHOOL_POPUP,
        tooltip=SCHOOL_TOOLTIP,
    ).add_to(schools)
    folium.Marker([30.07, 110.07], popup=MARKER_POPUP).add_to(schools)  # Leaflet default icon
    folium.Marker(
        [30.08, 110.045], icon=folium.Icon(icon="school", prefix="fa", color="red", angle=45)
    ).add_to(schools)
    folium.Marker([30.08, 110.085], icon=folium.Icon()).add_to(schools)  # glyphicon default
    folium.PolyLine([[30.055, 110.0], [30.055, 110.09]], color="black", tooltip="道路").add_to(m)
    cluster = MarkerCluster(name="教学点").add_to(m)
    for i in range(6):
        folium.Marker([29.99, 110.04 + i * 0.0005], tooltip=f"教学点{i}").add_to(cluster)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


@pytest.fixture(scope="module")
def page_html() -> str:
    return inline_html(build_test_map().get_root().render())


class _ResourceCollector(HTMLParser):
    """Collect every URL a browser would fetch from tags, plus inline CSS text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self.css: list[str] = []
        self._in_style = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for name in ("src", "srcset", "poster", "data"):
            if name in values:
                self.urls.append((tag, values[name]))
        if "href" in values and tag not in {"a", "area"}:
            self.urls.append((tag, values["href"]))
        if "style" in values:
            self.css.append(values["style"])
        self._in_style = tag == "style"
        self.scripts += tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css.append(data)


def _remote_resources(page: str) -> list[str]:
    parser = _ResourceCollector()
    parser.feed(page)
    remote = [url for _tag, url in parser.urls if re.match(r"\s*(https?:)?//", url)]
    for css in parser.css:
        remote += re.findall(r"url\(\s*[\"']?\s*((?:https?:)?//[^\"')]+)", css)
        remote += re.findall(r"@import\s+[\"']?((?:https?:)?//[^\"';]+)", css)
    return remote


def test_stock_folium_page_needs_cdns_that_are_all_mapped() -> None:
    raw = build_test_map().get_root().render()
    remote = _remote_resources(raw)
    assert len(remote) == 14  # what folium 0.20 emits for this map
    assert set(remote) <= set(_offline._CDN_ASSETS)


def test_inlined_page_has_no_remote_resource(page_html: str) -> None:
    assert _remote_resources(page_html) == []
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=\"(https?:)?//", page_html)
    assert "sourceMappingURL" not in page_html


def test_inlined_page_holds_the_libraries(page_html: str) -> None:
    assert "Leaflet 1.9.3" in page_html  # leaflet.js banner
    assert "jQuery v3.7.1" in page_html
    assert "Bootstrap v5.2.2" in page_html
    assert "Font Awesome Free 6.2.0" in page_html
    assert "MarkerClusterGroup" in page_html
    assert "/* d3/d3.min.js (vendored by schoolplan) */" in page_html
    assert 'version:"3.5.5"' in page_html  # d3
    assert "L.AwesomeMarkers" in page_html
    assert ".fa-rotate-45{transform:rotate(45deg)}" in page_html
    assert page_html.count("data:font/woff2;base64,") == 4  # 3 Font Awesome + glyphicons
    # Leaflet's default marker icon and the awesome-markers sprite as data: URIs
    assert re.search(r'iconUrl:"data:image/png;base64,', page_html)
    assert re.search(r'\.awesome-marker\s*\{\s*background:\s*url\("data:image/png', page_html)


def test_inlined_page_size_is_bounded(page_html: str) -> None:
    size = len(page_html.encode("utf-8"))
    assert 1_000_000 < size < MAX_PAGE_BYTES, size


def test_chinese_text_survives(tmp_path: Path) -> None:
    path = save_offline(build_test_map(), tmp_path / "地图.html")
    assert path.name == "地图.html"
    text = path.read_text(encoding="utf-8")
    for word in (SCHOOL_POPUP, SCHOOL_TOOLTIP, MARKER_POPUP):  # popups/tooltips: raw UTF-8
        assert word in text
    # folium JSON-escapes GeoJSON properties, colormap captions and layer names
    for word in (*TOWN_NAMES, "在校生（人）", "分档", "乡镇", "教学点"):
        assert json.dumps(word) in text, word


def test_save_offline_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")
    result = save_offline(build_test_map(), target)
    assert result == target.absolute()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (target.stat().st_mode & 0o777) != 0o600  # not mkstemp's private mode


def test_save_offline_failure_keeps_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_offline.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_offline(build_test_map(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]
    assert target.read_text(encoding="utf-8") == "old"


def test_save_offline_refuses_online_tiles_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(OfflineAssetError, match=r"tile\.openstreetmap\.org"):
        save_offline(folium.Map(), tmp_path / "map.html")
    assert list(tmp_path.iterdir()) == []


UNKNOWN = "https://cdn.example.com/new-plugin@1.0/plugin.min.js"


@pytest.mark.parametrize(
    ("snippet", "url"),
    [
        (f'<script src="{UNKNOWN}"></script>', UNKNOWN),
        (
            '<link rel="stylesheet" href="https://cdn.example.com/p.css"/>',
            "https://cdn.example.com/p.css",
        ),
        ('<script src="//cdn.example.com/p.js"></script>', "//cdn.example.com/p.js"),
        ('<img src="https://example.com/logo.png">', "https://example.com/logo.png"),
        (
            "<style>.x{background:url('https://example.com/a.png')}</style>",
            "https://example.com/a.png",
        ),
        ('<style>@import "https://example.com/b.css";</style>', "https://example.com/b.css"),
        (
            '<script>L.tileLayer("https://t.example.com/{z}/{x}/{y}.png", {}).addTo(m);</script>',
            "https://t.example.com/{z}/{x}/{y}.png",
        ),
        (
            # an image in a popup, JS-escaped inside a JSON string
            '<script>var p = "\\u003cimg src=\\"https://example.com/p.jpg\\"\\u003e";</script>',
            "https://example.com/p.jpg",
        ),
        (
            '<script>$.ajax("https://example.com/schools.geojson", {dataType: "json"});</script>',
            "https://example.com/schools.geojson",
        ),
        (
            '<link rel="preload" as="script" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">',
            "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        ),
    ],
)
def test_unknown_remote_resource_raises_naming_url(snippet: str, url: str) -> None:
    page = build_test_map().get_root().render().replace("</head>", snippet + "\n</head>", 1)
    with pytest.raises(OfflineAssetError) as info:
        inline_html(page)
    assert url in str(info.value)
    assert info.value.urls == [url]
    assert isinstance(info.value, SchoolplanError)
    assert isinstance(info.value, ValueError)


def test_all_unknown_urls_reported_at_once() -> None:
    page = (
        '<html><head><script src="https://a.example/x.js"></script>'
        '<link rel="stylesheet" href="https://b.example/y.css"></head><body></body></html>'
    )
    with pytest.raises(OfflineAssetError) as info:
        inline_html(page)
    assert info.value.urls == ["https://a.example/x.js", "https://b.example/y.css"]


@pytest.mark.parametrize(
    "snippet",
    [
        '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        '<script>var attr = "\\u0026copy; \\u003ca href=\\"https://osm.org/copyright\\"\\u003eOSM\\u003c/a\\u003e";</script>',
        '<script>var gj = {"properties": {"website": "https://school.example.cn/"}};</script>',
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "<p>见 https://example.cn/规划 说明</p>",
    ],
)
def test_hyperlinks_and_data_are_not_resources(snippet: str) -> None:
    page = build_test_map().get_root().render().replace("<body>", "<body>" + snippet, 1)
    assert snippet in inline_html(page)


def test_allow_remote_keeps_an_intranet_tile_server() -> None:
    tiles = "http://10.0.0.8/tiles/{z}/{x}/{y}.png"
    m = folium.Map(tiles=tiles, attr="县自然资源局")
    page = inline_html(m.get_root().render(), allow_remote=["http://10.0.0.8/tiles/"])
    assert tiles in page
    with pytest.raises(OfflineAssetError, match=re.escape(tiles)):
        inline_html(m.get_root().render())


def test_every_mapped_asset_is_vendored_with_a_licence() -> None:
    root = _offline._ASSETS_DIR
    for rel in _offline._CDN_ASSETS.values():
        assert (root / rel).is_file(), rel
    for folder in {rel.split("/")[0] for rel in _offline._CDN_ASSETS.values()}:
        assert any("LICEN" in p.name.upper() for p in (root / folder).iterdir()), folder
    assert (root / "README.md").is_file()


def test_missing_assets_fail_clearly(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_offline, "_ASSETS_DIR", tmp_path / "no-assets")
    with pytest.raises(AssetsMissingError, match="vendored web assets are missing"):
        inline_html(build_test_map().get_root().render())
    with pytest.raises(FileNotFoundError):
        save_offline(build_test_map(), tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()


def test_offline_repr_html_is_an_inlined_srcdoc_iframe() -> None:
    cell = offline_repr_html(build_test_map())
    assert cell.startswith("<div") and '<iframe srcdoc="' in cell
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', cell).group(1))
    assert srcdoc.startswith("<!DOCTYPE html>")
    assert _remote_resources(srcdoc) == []
    assert "Leaflet 1.9.3" in srcdoc


# --------------------------------------------------------------------------- real browser



@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def _watch(page) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"errors": [], "requests": []}
    page.on("console", lambda msg: msg.type == "error" and seen["errors"].append(msg.text))
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on(
        "request",
        lambda req: (
            req.url.startswith(("file:", "data:", "about:")) or seen["requests"].append(req.url)
        ),
    )
    return seen


_MAP_JS = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0]"


def test_offline_map_works_in_a_real_browser(browser_context, tmp_path: Path) -> None:
    path = save_offline(build_test_map(), tmp_path / "map.html")
    page = browser_context.new_page()
    seen = _watch(page)
    page.goto(path.as_uri())
    page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=15_000)
    page.evaluate("document.fonts.ready.then(() => true)")
    # 2 town polygons + 1 circle marker + 1 road
    assert page.locator("path.leaflet-interactive").count() == 4
    assert page.locator("img.leaflet-marker-icon[src^='data:image/png']").count() >= 1
    assert page.locator(".awesome-marker i.fa-school.fa-rotate-45").count() == 1
    assert page.locator(".awesome-marker i.glyphicon-info-sign").count() == 1
    assert page.locator(".marker-cluster").count() >= 1
    assert page.locator(".legend svg").count() == 2  # both colormaps drawn by d3
    assert page.locator(".leaflet-control-layers-overlays label").count() == 3
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("Font Awesome 6 Free" in f for f in loaded), loaded
    assert any("Glyphicons Halflings" in f for f in loaded), loaded
    # The awesome-markers sprite resolved (a data: background, no fetch)
    sprite = page.evaluate(
        "getComputedStyle(document.querySelector('.awesome-marker')).backgroundImage"
    )
    assert sprite.startswith('url("data:image/png')

    # Chinese text in a GeoJSON tooltip and a popup, via the mouse
    def point(lat: float, lon: float) -> tuple[float, float]:
        xy = page.evaluate(
            f"(() => {{const m = {_MAP_JS}; const p = m.latLngToContainerPoint"
            f"([{lat}, {lon}]); const r = m.getContainer().getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top];})()"
        )
        return xy[0], xy[1]

    page.mouse.move(*point(30.02, 110.02))
    page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
    assert TOWN_NAMES[0] in page.inner_text(".leaflet-tooltip")
    page.mouse.click(*point(30.07, 110.02))
    page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
    assert SCHOOL_POPUP in page.inner_text(".leaflet-popup-content")
    page.screenshot(path=str(tmp_path / "map.png"))
    assert seen["errors"] == []
    assert seen["requests"] == []
    page.close()


def test_offline_notebook_cell_works_in_a_real_browser(browser_context) -> None:
    page = browser_context.new_page()
    seen = _watch(page)
    page.set_content(offline_repr_html(build_test_map()))
    frame = page.frame_locator("iframe")
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=15_000)
    assert frame.locator("path.leaflet-interactive").count() == 4
    assert seen["errors"] == []
    assert seen["requests"] == []
    page.close()
