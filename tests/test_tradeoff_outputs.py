"""Issue 14 item 5: the trade-off table from a scenario, ``schoolplan optimise``, and its files
(CSV, Excel, SVG chart, HTML page) and section of the comparison page, on the hand-made towns of
``test_consolidation_town`` (no demo figures)."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_consolidation_town import _scenario
from typer.testing import CliRunner

from schoolplan.cli import app
from schoolplan.optimize import TRADEOFF_COLUMNS
from schoolplan.outputs.comparison import write_comparison
from schoolplan.scenario import compare as cmp
from schoolplan.scenario import initial_state, load_scenario, prepare
from schoolplan.scenario.actions import run_actions

OPTS = {"objective": "min_schools", "walk_limit_g1_3": False, "tradeoff": True}


def test_a_scenario_with_tradeoff_true_gets_the_table(tmp_path):
    base = prepare(load_scenario(_scenario(tmp_path)))
    r = run_actions(base, initial_state(base), [{"optimise": OPTS}], with_candidates=False)
    t = r.tradeoff
    assert list(t.columns) == TRADEOFF_COLUMNS
    # the fewest schools (one school teaching grades 7-9 per town: 2) to all six open
    assert t["schools_open"].iloc[0] == 2 and t["schools_open"].iloc[-1] == 6
    assert t["schools_open"].iloc[0] == (r.schools["status"] != "closed").sum()  # the layout chosen
    assert t["method"].iloc[0] == t["method"].iloc[-1] == "exact"
    assert (t["mean_time_min_g1_3"].diff().dropna() <= 1e-6).all()  # more schools, shorter trips


def test_steering_keys_are_checked(tmp_path):
    from schoolplan.errors import ScenarioError

    base = prepare(load_scenario(_scenario(tmp_path)))
    for bad, match in (({"max_time_min": {"g2": 10}}, "grade groups"),
                       ({"preset": "close_everything"}, "preset"),
                       ({"close_only_under": "many"}, "number of pupils"),
                       ({"max_added_time_min": "soon"}, "minutes")):
        with pytest.raises(ScenarioError, match=match):
            run_actions(base, initial_state(base), [{"optimise": {**OPTS, **bad}}],
                        with_candidates=False)
    # close only under 50 pupils: only 甲镇大王小学 (40) may close
    r = run_actions(base, initial_state(base),
                    [{"optimise": {"objective": "min_schools", "walk_limit_g1_3": False,
                                   "preset": "close_only_under"}}], with_candidates=False)
    closed = set(r.schools.loc[r.schools["status"] == "closed", "school_id"])
    assert closed <= {"S2"}


def _with_town_polygons(scen):
    """The hand-made scenario with its two towns as polygons (the printed maps draw them)."""
    import geopandas as gpd
    from shapely.geometry import box

    towns = pd.read_csv(scen.parent / "towns.csv", dtype={"town_code": str})
    gdf = gpd.GeoDataFrame(towns.drop(columns=["lon", "lat"]),
                           geometry=[box(115.99, 36.49, 116.045, 36.51),
                                     box(116.045, 36.49, 116.1, 36.51)], crs=4326)
    gdf.to_file(scen.parent / "towns.geojson", driver="GeoJSON")
    scen.write_text(scen.read_text(encoding="utf-8").replace(
        "towns: {path: towns.csv, coordinate_system: wgs84}", "towns: {path: towns.geojson}"),
        encoding="utf-8")
    return scen


def test_schoolplan_optimise_writes_the_tradeoff_files(tmp_path):
    scen = _with_town_polygons(_scenario(tmp_path))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["optimise", str(scen), "--out", str(out), "--lang", "zh",
                                   "--max-time", "g1_3=90", "--max-added-min", "60"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out / "tradeoff.csv", encoding="utf-8-sig")
    assert list(t.columns) == TRADEOFF_COLUMNS and len(t) >= 2
    page = (out / "tradeoff.html").read_text(encoding="utf-8")
    assert "<svg" in page and "布局优化权衡" in page and "Content-Security-Policy" in page
    assert "exact" not in page.split("<table>")[1]  # the table's words are Chinese
    assert (out / "tradeoff.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    wb = load_workbook(io.BytesIO((out / "tradeoff.xlsx").read_bytes()))
    ws = wb.active
    assert ws.cell(1, 1).value == "开办学校数" and ws._images  # the chart is in the sheet


def test_the_comparison_page_draws_each_scenarios_tradeoff(tmp_path):
    base = prepare(load_scenario(_scenario(tmp_path)))
    plain = run_actions(base, initial_state(base), [], with_candidates=False)
    opt = run_actions(base, initial_state(base), [{"optimise": OPTS}], with_candidates=False)
    opt.scenario = dataclasses.replace(opt.scenario, name="<b>optimised</b>")
    results = [plain, opt]
    paths = write_comparison(cmp.compare(results), tmp_path / "cmp", lang="en",
                             tradeoffs=cmp.tradeoffs(results))
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("<section class='tradeoff'>") == 1 and "<svg" in html
    assert "&lt;b&gt;optimised&lt;/b&gt;" in html and "<b>optimised</b>" not in html  # data escaped


def test_inline_charts_carry_no_web_address():
    """The SVG charts inlined into offline pages keep only the XML namespaces, no RDF block with
    links to matplotlib.org, purl.org or creativecommons.org (issue 15 loose end)."""
    import io
    import re

    from matplotlib.figure import Figure

    from schoolplan.outputs.summary import SVG_METADATA

    fig = Figure()
    fig.add_subplot().plot([1, 2], [3, 4])
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata=SVG_METADATA)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", buf.getvalue().decode()))
    assert urls and all(u.startswith("http://www.w3.org/") for u in urls), urls
