"""The housing-estate school review (schoolplan.siting): hand-made cases with numbers a planner can
check by hand, the SYNTHETIC demo estates through the CLI, the real Liaocheng frame, and one review
page in a real browser.

Hand-made layout (metres east of a point near lon 116.15, lat 36.5, UTM 50N; one straight road
along y = 0, so walking distance = difference of x):

* primary P1 at x=0, 450 seats; village V1 at x=2500 sends it 300 primary children: 150 left;
* junior J1 at x=0 (y=0), 500 seats; V1 sends it 100 junior children: 400 left;
* primary P2 at x=6000, 90 seats; village V2 at x=6500 sends it 90 children: 0 left.

Rates: 40 primary and 20 junior pupils per 1,000 residents (the defaults).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from schoolplan import siting
from schoolplan.cli import app
from schoolplan.errors import InputValidationError
from schoolplan.io import read_estates, read_sites
from schoolplan.network import network_from_lines
from schoolplan.outputs import write_review
from schoolplan.scenario import evaluate, initial_state, prepare, scenario_from_dict
from schoolplan.scenario.actions import run_actions

ROOT = Path(__file__).resolve().parents[1]
DEMO_SCENARIO = ROOT / "scenarios" / "demo-county.yaml"
DEMO_ESTATES = ROOT / "data" / "estates" / "demo_estates_synthetic.geojson"
METRIC = "EPSG:32650"
X0, Y0 = gpd.GeoSeries([Point(116.15, 36.5)], crs=4326).to_crs(METRIC).iloc[0].coords[0]

runner = CliRunner()


def _wgs(geoms) -> gpd.GeoSeries:
    return gpd.GeoSeries([shift(g) for g in geoms], crs=METRIC).to_crs(4326)


def shift(g):
    from shapely import affinity

    return affinity.translate(g, X0, Y0)


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """Result and walking network of the hand-made layout."""
    d = tmp_path_factory.mktemp("hand")
    town = gpd.GeoDataFrame({"town_code": ["T1"], "town": ["示例镇"], "county": ["示例县"]},
                            geometry=_wgs([box(-2000, -3000, 8000, 3000)]))
    town.to_file(d / "towns.geojson")
    pts = _wgs([Point(0, 0), Point(0, 0), Point(6000, 0)])
    pd.DataFrame({"school_id": ["P1", "J1", "P2"], "name": ["一小", "一中", "二小"],
                  "level": ["primary", "junior", "primary"], "town_code": ["T1"] * 3,
                  "enrollment": [400, 450, 90], "seats": [450, 500, 90],
                  "lon": pts.x, "lat": pts.y}).to_csv(d / "schools.csv", index=False)
    gpd.GeoDataFrame({"demand_id": ["V1", "V2"], "town_code": ["T1", "T1"],
                      "pupils_primary": [300, 90], "pupils_junior": [100, 0]},
                     geometry=_wgs([Point(2500, 0), Point(6500, 0)])).to_file(d / "demand.geojson")
    # the seats left below are worked out by hand from nearest-school demand (V1 -> P1, V2 -> P2),
    # so this layout keeps the uncalibrated assignment; the real-frame case uses the calibrated one
    sc = scenario_from_dict({"name": "hand", "inputs": {
        "schools": {"path": "schools.csv"}, "towns": {"path": "towns.geojson"},
        "demand": {"path": "demand.geojson"}}, "settings": {"assignment_method": "nearest"}}, base=d)
    result = run_actions(prepare(sc), initial_state(prepare(sc)), [])
    xs = [-1000, 0, 100, 200, 1000, 1100, 2500, 6000, 6200, 6500, 7000]
    road = gpd.GeoDataFrame(geometry=[LineString([(x, 0) for x in xs])], crs=METRIC)
    road["geometry"] = road.geometry.map(shift)
    return result, network_from_lines(road, use_cache=False)


def _estates(*rows) -> gpd.GeoDataFrame:
    """(id, geometry in local metres, residents or None, households or None)."""
    return gpd.GeoDataFrame({"estate_id": [r[0] for r in rows], "name": [r[0] for r in rows],
                             "residents": [r[2] for r in rows], "households": [r[3] for r in rows]},
                            geometry=_wgs([r[1] for r in rows]))


def _row(review, estate_id, level="primary") -> pd.Series:
    lv = review.levels
    return lv[(lv["estate_id"] == estate_id) & (lv["level"] == level)].iloc[0]


def test_estate_within_radius_of_a_school_with_seats_is_served(hand):
    result, net = hand
    review = siting.review_estates(_estates(("A", Point(200, 0), 1400, None)), result, network=net)
    p, j = _row(review, "A"), _row(review, "A", "junior")
    assert p["pupils"] == 56.0 and j["pupils"] == 28.0  # 1400 x 40 / 1000, 1400 x 20 / 1000
    assert p["serving_schools"] == "P1" and p["within_radius"]
    school = review.schools[(review.schools["estate_id"] == "A") & (review.schools["level"] == "primary")]
    assert school["distance_m"].tolist() == [200.0]  # along the road
    assert (p["seats_left_before"], p["seats_left_after"]) == (150.0, 94.0)
    assert p["verdict"] == "served" and p["short_by"] == 0
    assert (j["seats_left_before"], j["seats_left_after"], j["verdict"]) == (400.0, 372.0, "served")
    assert review.distance_method.startswith("walking distance on the road network")
    assert "服务半径 500 米" in p["message_zh"] and "served" in p["message_en"]


def test_estate_near_a_full_school_is_short_by_the_exact_number(hand):
    result, net = hand
    review = siting.review_estates(_estates(("B", Point(6200, 0), 2250, None)), result, network=net)
    p = _row(review, "B")
    assert p["serving_schools"] == "P2" and p["seats_left_before"] == 0.0
    assert p["verdict"] == "short" and p["short_by"] == 90  # 2250 x 40 / 1000, no seat left
    assert (p["classes_needed"], p["classes_planned"], p["schools_needed"]) == (2, 6, 1)
    assert p["max_classes"] == 36
    j = _row(review, "B", "junior")  # no junior school within 1000 m: the nearest by road serves
    assert not j["within_radius"] and j["nearest_distance_m"] == 6200.0 and j["verdict"] == "served"


def test_two_estates_compete_for_the_same_seats_in_order(hand):
    result, net = hand
    one, two = ("E1", Point(100, 0), 2500, None), ("E2", Point(300, 0), 2500, None)
    review = siting.review_estates(_estates(one, two), result, network=net)
    first, second = _row(review, "E1"), _row(review, "E2")
    assert (first["seats_left_before"], first["verdict"]) == (150.0, "served")
    assert (second["seats_left_before"], second["verdict"], second["short_by"]) == (50.0, "short", 50)
    taken = review.schools[review.schools["level"] == "primary"]["taken"].tolist()
    assert taken == [100.0, 50.0]
    swapped = siting.review_estates(_estates(two, one), result, network=net)
    assert _row(swapped, "E2")["verdict"] == "served" and _row(swapped, "E1")["short_by"] == 50


def test_proposed_site_outside_the_radius(hand):
    result, net = hand
    estates = _estates(("C", Point(6200, 0), 2250, None), ("D", box(6000, -50, 7000, 50), 2250, 800))
    sites = gpd.GeoDataFrame({"site_id": ["S1"], "name": ["拟建小学"], "estate_id": [None],
                              "level": ["primary"], "classes": [12], "seats": [np.nan]},
                             geometry=_wgs([Point(5000, 0)]))
    review = siting.review_estates(estates, result, network=net, proposed_sites=sites)
    c = _row(review, "C")
    assert c["site_id"] == "S1" and c["site_distance_m"] == 1200.0
    assert not c["site_within_radius"]
    assert pd.isna(c["households_covered"])  # a point estate given by residents only
    site = review.sites.set_index("estate_id")
    assert site.at["C", "area_share_covered"] == 0.0
    assert site.at["C", "site_seats"] == 540  # 12 classes x 45
    # the polygon estate D reaches from x=6000 to 7000: the site reaches up to x=5500 on foot
    assert site.at["D", "area_share_covered"] == 0.0 and site.at["D", "households_covered"] == 0
    assert "不在服务半径内" in c["message_zh"]


def test_site_covering_part_of_a_polygon_estate(hand):
    result, net = hand
    estates = _estates(("D", box(6000, -50, 7000, 50), None, 800))
    sites = gpd.GeoDataFrame({"site_id": ["S2"], "name": ["拟建小学"], "estate_id": ["D"],
                              "level": ["primary"], "classes": [12], "seats": [np.nan]},
                             geometry=_wgs([Point(6000, 0)]))
    review = siting.review_estates(estates, result, network=net, proposed_sites=sites)
    d = _row(review, "D")
    assert d["residents"] == 2240.0 and d["residents_source"] == "households x persons_per_household"
    # on the road the site reaches x=6500; the estate's strip from 6000 to 6500 is half its area
    share = review.sites.iloc[0]["area_share_covered"]
    assert 0.49 <= share <= 0.56
    assert d["households_covered"] == round(share * 800)


def test_large_estate_needs_more_than_one_school_or_a_nine_year_school(hand):
    result, net = hand
    review = siting.review_estates(_estates(("BIG", Point(6200, 0), 50000, None)), result, network=net)
    p, j = _row(review, "BIG"), _row(review, "BIG", "junior")
    assert p["short_by"] == 2000 and p["classes_needed"] == 45 and p["classes_planned"] == 48
    assert p["schools_needed"] == 2
    assert j["verdict"] == "short"
    assert p["nine_year_classes"] < 0  # 48 + junior classes: above the 45-class nine-year cap


def test_straight_line_without_a_network_is_marked_estimate(hand):
    result, _ = hand
    review = siting.review_estates(_estates(("A", Point(200, 0), 1400, None)), result, network=None)
    assert review.levels["estimate"].all()
    assert review.schools.iloc[0]["distance_m"] == 260.0  # 200 m x circuity 1.3
    assert "estimate" in review.distance_method


def test_read_estates_converts_gcj02_and_reads_households(tmp_path):
    from schoolplan import coords

    lon, lat = coords.from_wgs84(116.15, 36.5, "gcj02")
    path = tmp_path / "estates.csv"
    pd.DataFrame({"小区名称": ["甲小区"], "户数": [1000], "交付年份": [2027], "经度": lon,
                  "纬度": lat}).to_csv(path, index=False)
    est = read_estates(path, coordinate_system="gcj02")
    assert est["estate_id"].tolist() == ["E2"]  # row 2 of the CSV
    assert abs(est.geometry.x.iloc[0] - 116.15) < 1e-6 and abs(est.geometry.y.iloc[0] - 36.5) < 1e-6
    assert est["households"].iloc[0] == 1000


@pytest.mark.parametrize("rows, code", [
    ({"小区名称": ["甲", "乙"], "户数": [None, 500], "经度": [116.1, 116.1], "纬度": [36.5, 36.5]},
     "blank_value"),
    ({"小区名称": ["甲"], "户数": ["许多"], "经度": [116.1], "纬度": [36.5]}, "not_a_number"),
    ({"小区名称": ["甲"], "户数": [100], "分期": ["明年"], "经度": [116.1], "纬度": [36.5]}, "bad_phases"),
])
def test_bad_estates_are_all_reported(tmp_path, rows, code):
    path = tmp_path / "estates.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(InputValidationError) as info:
        read_estates(path)
    assert code in {p.code for p in info.value.problems}


def test_demo_estates_through_the_cli(tmp_path):
    out = tmp_path / "review"
    res = runner.invoke(app, ["site-review", str(DEMO_ESTATES), "--scenario", str(DEMO_SCENARIO),
                              "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "synthetic" in res.output
    table = pd.read_csv(out / "estates.csv", dtype={"serving_schools": str})
    prim = table[table["level"] == "primary"].set_index("estate_id")
    assert prim["verdict"].to_dict() == {"DEMO-E1": "served", "DEMO-E2": "served", "DEMO-E3": "short"}
    # E2 and E3 share one school: E3 gets what E2 left
    assert prim.at["DEMO-E2", "serving_schools"] == prim.at["DEMO-E3", "serving_schools"]
    assert prim.at["DEMO-E3", "seats_left_before"] == prim.at["DEMO-E2", "seats_left_after"]
    assert prim.at["DEMO-E3", "short_by"] == int(np.ceil(prim.at["DEMO-E3", "pupils"]
                                                         - prim.at["DEMO-E3", "seats_left_before"] - 1e-6))
    assert prim.at["DEMO-E3", "site_id"] == "DEMO-S1" and prim.at["DEMO-E3", "site_within_radius"]
    assert (prim["county"] == "示范县（合成）").all()
    for eid in ("DEMO-E1", "DEMO-E2", "DEMO-E3"):
        page = (out / f"review-{eid}.html").read_text(encoding="utf-8")
        assert "<script src=\"http" not in page and "Synthetic demo data" in page
        assert ("radius_primary_m" in page and "Shandong" in page) or "山东省" in page
    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames[0] == "Estate review"
    assert wb["Estate review"].max_row == 7  # header + 3 estates x 2 levels


def test_committed_demo_estates_are_current(tmp_path):
    """data/estates must equal what write_estates produces now (run `python -m schoolplan.demo`)."""
    from schoolplan.demo import write_estates

    path = write_estates(tmp_path, 20231)
    assert path.read_bytes() == DEMO_ESTATES.read_bytes()
    props = [f["properties"] for f in json.loads(DEMO_ESTATES.read_text(encoding="utf-8"))["features"]]
    assert all(p["synthetic"] for p in props) and all("合成" in p["name"] for p in props)
    assert [p["kind"] for p in props] == ["estate", "estate", "estate", "site"]


def _liaocheng_case(tmp_path: Path, towns_spec: dict, town_code: str):
    """Synthetic schools and villages around 古楼街道's seat (东昌府区 county seat) on the real frame."""
    seat = Point(115.95987, 36.46198)  # 古楼街道 seat, WGS-84 (liaocheng_town_points_vonng2016)
    metric = "EPSG:32650"
    c = gpd.GeoSeries([seat], crs=4326).to_crs(metric).iloc[0]

    def at(dx, dy):
        return gpd.GeoSeries([Point(c.x + dx, c.y + dy)], crs=metric).to_crs(4326).iloc[0]

    pts = [at(300, 0), at(-700, 0)]
    pd.DataFrame({"school_id": ["SYN-P", "SYN-J"], "name": ["合成小学", "合成初中"],
                  "level": ["primary", "junior"], "town_code": [town_code] * 2,
                  "enrollment": [900, 800], "seats": [900, 1000],
                  "lon": [p.x for p in pts], "lat": [p.y for p in pts]}).to_csv(tmp_path / "s.csv", index=False)
    gpd.GeoDataFrame({"demand_id": ["SYN-V"], "town_code": [town_code], "pupils_primary": [800],
                      "pupils_junior": [400]}, geometry=[at(0, 2000)], crs=4326).to_file(tmp_path / "d.geojson")
    sc = scenario_from_dict({"name": "liaocheng-synthetic", "synthetic": True, "inputs": {
        "schools": {"path": "s.csv"}, "towns": towns_spec, "demand": {"path": "d.geojson"}}}, base=tmp_path)
    estate = gpd.GeoDataFrame({"estate_id": ["LC-1"], "name": ["合成小区"], "households": [1000]},
                              geometry=[at(0, 0).buffer(0.001)], crs=4326)
    return siting.review_estates(estate, evaluate(sc), network=None)


@pytest.mark.shared_data
def test_estate_in_dongchangfu_county_seat_on_the_real_frame(shared_data, tmp_path):
    counties = shared_data / "liaocheng" / "liaocheng_counties_amap_cnmaps_wgs84.geojson"
    review = _liaocheng_case(tmp_path, {"path": str(counties), "columns": {"town_code": "adcode", "town": "name"}},
                             "371502")
    est = review.estates.iloc[0]
    assert (est["town_code"], est["town"]) == ("371502", "东昌府区")
    p, j = _row(review, "LC-1"), _row(review, "LC-1", "junior")
    assert p["serving_schools"] == "SYN-P" and p["schools_within_radius"] == 1
    # calibrated to the ledger: 900 seats - 900 pupils enrolled = 0 left;
    # 1000 households x 2.8 x 40 / 1000 = 112 pupils, all short
    assert (p["seats_left_before"], p["pupils"], p["verdict"], p["short_by"]) == (0.0, 112.0, "short", 112)
    assert (j["seats_left_before"], j["verdict"]) == (200.0, "served")  # 1000 seats - 800 enrolled
    # the town: with the real town seats as the towns layer the estate falls to 古楼街道, 东昌府区
    seats = shared_data / "liaocheng" / "liaocheng_town_points_vonng2016_wgs84.geojson"
    by_town = _liaocheng_case(tmp_path, {"path": str(seats), "columns": {
        "town_code": "town_code_12", "town": "town_name"}}, "371502001000")
    est = by_town.estates.iloc[0]
    assert est["town_code"] == "371502001000" and est["county"] == "东昌府区"
    assert est["town"].startswith("古楼街道")


def test_review_page_in_a_real_browser(tmp_path):
    from _browser import chromium_context

    from schoolplan.scenario import load_scenario

    review = siting.review_estates(read_estates(DEMO_ESTATES), evaluate(load_scenario(DEMO_SCENARIO)),
                                   proposed_sites=read_sites(DEMO_ESTATES))
    paths = write_review(review, tmp_path / "out", lang="zh")
    page_path = paths["review-DEMO-E3"]
    with chromium_context(tmp_path / "profile", viewport={"width": 1280, "height": 900}) as ctx:
        page = ctx.new_page()
        errors, requests = [], []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: req.url.startswith(("file:", "data:")) or requests.append(req.url))
        page.goto(page_path.as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(300)
        page.screenshot(path=str(tmp_path / "review-zh.png"), full_page=True)
        text = page.inner_text("#schoolplan-review")
        n_paths = page.eval_on_selector_all("path.leaflet-interactive", "els => els.length")
    assert errors == [] and requests == []
    assert "学位不足" in text and "合成示范数据" in text and "radius_primary_m" in text
    # estate polygon, 2 radius circles, 2 walking areas, 2 serving schools, site + its 1 area, centroid
    assert n_paths >= 8
