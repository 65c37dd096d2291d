"""Every HTML output built from a ledger full of hostile names, opened in a real Chromium.

The county is the demo's (same schools, villages, roads), with every school, town, village and
estate name and the scenario titles replaced by strings an attacker would try (``_hostile.py``):
``${alert(2)}``, backticks, ``</script>``, quotes, ``<img src=x onerror=...>``, ``{{ ... }}``,
formulas, emoji, right-to-left marks. Each page is opened, every layer switched on, every marker,
circle and polygon hovered and clicked (Leaflet events on each, plus real mouse moves on some),
and the test asserts: no dialog, no page or console error (a CSP refusal is a console error), no
request, the same number of features as the same county with clean names, and the names shown
as text, character for character.

Skipped where Debian's chromium or the playwright package is missing (see ``_browser.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import chromium_context
from _hostile import HOSTILE_TITLE, write_county
from typer.testing import CliRunner

from schoolplan.cli import app

SECOND_TITLE = "`${alert(10)}` <b onmouseover=alert(11)>二</b> {% raw %}"

# Every leaf layer of the page: switch every overlay on, then hover (mouseover) and click each;
# collect the text of the tooltip and popup it opened.
_EXERCISE_JS = r"""
async () => {
  const maps = Object.keys(window).filter(k => /^map_[0-9a-f]+$/.test(k)).map(k => window[k]);
  const controls = Object.keys(window).filter(k => /^layer_control_[0-9a-f]+_layers$/.test(k));
  const out = {maps: maps.length, leaves: 0, byLayer: {}, tooltips: [], popups: []};
  if (maps.length !== 1) return out;
  const map = maps[0];
  const leaves = (layer) => layer.getLayers ? layer.getLayers().flatMap(leaves) : [layer];
  for (const key of controls)
    for (const [name, layer] of Object.entries(window[key].overlays)) {
      map.addLayer(layer);
      out.byLayer[name] = leaves(layer).length;
    }
  const all = [];
  map.eachLayer(l => { if (!l.getLayers && (l.getLatLng || l.getBounds)) all.push(l); });
  out.leaves = all.length;
  const text = (sel) => [...document.querySelectorAll(sel)].map(e => e.textContent.trim());
  for (const l of all) {
    const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
    map.setView(at, map.getZoom(), {animate: false});
    l.fire('mouseover', {latlng: at, originalEvent: new MouseEvent('mouseover')}, true);
    out.tooltips.push(...text('.leaflet-tooltip'));
    l.fire('mouseout', {latlng: at, originalEvent: new MouseEvent('mouseout')}, true);
    l.fire('click', {latlng: at, originalEvent: new MouseEvent('click')}, true);
    out.popups.push(...text('.leaflet-popup-content'));
    map.closePopup();
  }
  await new Promise(r => setTimeout(r, 300));  // let any <img onerror> fire
  return out;
}
"""


class Watched:
    """A page with every dialog, error and request it produced."""

    def __init__(self, context, path: Path) -> None:
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []

        def dialog(d) -> None:
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        self.page.on("dialog", dialog)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: r.url.startswith(("file:", "data:", "about:"))
                     or self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def exercise(self) -> dict:
        return self.page.evaluate(_EXERCISE_JS)

    def assert_quiet(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors
        assert self.requests == [], self.requests


def _invoke(*args: str) -> None:
    res = CliRunner().invoke(app, [*args, "--lang", "en"])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """The hostile county's map, estate pages and comparison page, and the clean county's map."""
    base = tmp_path_factory.mktemp("hostile")
    clean = tmp_path_factory.mktemp("clean")
    scenario = write_county(base)
    second = base / "second.yaml"
    second.write_text(scenario.read_text(encoding="utf-8")
                      .replace("name: hostile-county", "name: hostile-2")
                      .replace(HOSTILE_TITLE, "'" + SECOND_TITLE.replace("'", "''") + "'"),
                      encoding="utf-8")
    _invoke("run", str(scenario), "--out", str(base / "run"))
    _invoke("site-review", str(base / "data/estates/demo_estates_synthetic.geojson"),
            "--scenario", str(scenario), "--out", str(base / "review"))
    _invoke("compare", str(scenario), str(second), "--out", str(base / "compare"))
    _invoke("run", str(write_county(clean, hostile_names=False)), "--out", str(clean / "run"))
    return {"base": base, "map": base / "run" / "map.html", "clean_map": clean / "run" / "map.html",
            "review": base / "review", "comparison": base / "compare" / "comparison.html"}


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("profile"),
                          viewport={"width": 1280, "height": 720}) as ctx:
        yield ctx


def _names(path: Path, column: str, *, sheet: bool = False) -> list[str]:
    import geopandas as gpd
    import pandas as pd

    if sheet:
        return [str(v) for v in pd.read_excel(path, dtype=str)[column]]
    return [str(v) for v in gpd.read_file(path)[column]]


def test_the_detector_sees_an_alert(context, tmp_path: Path) -> None:
    """A page that does run a script is caught: the checks below can fail."""
    page = tmp_path / "bad.html"
    page.write_text("<html><head></head><body><script>alert(1)</script></body></html>")
    view = Watched(context, page)
    assert view.dialogs == ["alert: 1"]
    view.page.close()


def test_map_runs_no_hostile_name_and_shows_each_as_text(outputs, context) -> None:
    base = outputs["base"]
    hostile = Watched(context, outputs["map"])
    got = hostile.exercise()
    clean = Watched(context, outputs["clean_map"])
    want = clean.exercise()
    hostile.assert_quiet()
    clean.assert_quiet()
    assert got["maps"] == 1
    # the same features as with clean names: nothing was dropped by a broken script
    assert got["leaves"] == want["leaves"] > 500
    assert sorted(got["byLayer"].values()) == sorted(want["byLayer"].values())
    schools = _names(base / "data/schools/demo_schools_synthetic.xlsx", "学校名称", sheet=True)
    villages = _names(base / "data/demand/demo_villages_synthetic.geojson", "name")
    towns = _names(base / "data/boundaries/demo_towns_synthetic.geojson", "town")
    tips = got["tooltips"]
    assert set(schools) <= set(tips)  # every school marker's tooltip is its name, as text
    for names in (villages, towns):
        assert all(any(n in t for t in tips) for n in names)
    popups = " ".join(got["popups"])
    assert all(n in popups for n in schools)
    # the title block shows the hostile title as text
    title = hostile.page.locator("#schoolplan-title").inner_text()
    assert HOSTILE_TITLE.strip("'") in title
    # a real mouse over a school and a click on it
    hostile.page.mouse.move(640, 400)
    hostile.page.mouse.click(640, 400)
    hostile.assert_quiet()
    hostile.page.close()
    clean.page.close()


def test_estate_pages_run_no_hostile_name(outputs, context) -> None:
    estates = _names(outputs["base"] / "data/estates/demo_estates_synthetic.geojson", "name")
    pages = sorted(outputs["review"].glob("review-*.html"))
    assert len(pages) == 3
    for path in pages:
        view = Watched(context, path)
        got = view.exercise()
        view.assert_quiet()
        assert got["maps"] == 1 and got["leaves"] >= 3
        heading = view.page.locator("h1").inner_text()
        assert any(name in heading for name in estates), heading
        view.page.close()


def test_comparison_page_runs_nothing_and_shows_the_titles(outputs, context) -> None:
    view = Watched(context, outputs["comparison"])
    view.assert_quiet()
    assert view.page.evaluate("document.scripts.length") == 0
    text = view.page.locator("body").inner_text()
    assert HOSTILE_TITLE.strip("'") in text and SECOND_TITLE in text
    view.page.close()
