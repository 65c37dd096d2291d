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


def _hand_files(d: Path) -> dict:
    """Write the hand-made layout's inputs into ``d``; return its scenario (as a dict)."""
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
    return {"name": "hand", "inputs": {"schools": {"path": "schools.csv"}, "towns": {"path": "towns.geojson"},
                                       "demand": {"path": "demand.geojson"}},
            "settings": {"assignment_method": "nearest"}}


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """Result and walking network of the hand-made layout."""
    d = tmp_path_factory.mktemp("hand")
    sc = scenario_from_dict(_hand_files(d), base=d)
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
    # 90 seats are 2 classes of 45: below the 6-class smallest primary (建标109-2008), so the
    # advice is to expand the school within the radius, not to build a 6-class school
    assert (p["classes_needed"], p["advice"], p["expand_school_id"]) == (2, "expand", "P2")
    assert "须扩建二小（P2）90 个学位（2 班）" in p["message_zh"]
    assert "expand 二小 (P2) by 90 seats (2 classes)" in p["message_en"]
    j = _row(review, "B", "junior")  # J1 is 6,200 m away: beyond 2 x 1000 m, so not counted
    assert not j["within_radius"] and j["nearest_distance_m"] == 6200.0
    assert (j["verdict"], j["short_by"], j["advice"], j["classes_planned"]) == ("short", 45, "build_min", 12)
    assert "服务半径 1000 米内无初中（最近的步行 6,200 米）" in j["message_zh"]
    assert "须配建最小规模初中 12 班" in j["message_zh"]
    assert "a junior middle school of the smallest size, 12 classes" in j["message_en"]


def test_seats_only_beyond_the_radius_are_not_compliant(hand):
    """P1 (150 seats left) is 1,000 m away by road: beyond the 500 m radius, within 2 x 500 m."""
    result, net = hand
    review = siting.review_estates(_estates(("F", Point(1000, 0), 1400, None)), result, network=net)
    p = _row(review, "F")
    assert (p["verdict"], p["short_by"], p["beyond_school_id"], p["beyond_distance_m"]) == \
        ("beyond_radius", 56, "P1", 1000.0)
    assert p["seats_left_before"] == 0.0 and p["seats_beyond"] == 150.0
    assert ("缺 56 个学位；一小 步行 1,000 米（超出服务半径 500 米）尚有 150 个学位：不符合服务半径要求"
            in p["message_zh"])
    assert ("56 seats short within the radius; 一小 is 1,000 m away by road (beyond the 500 m radius) with "
            "150 seats left: not compliant with the service radius") in p["message_en"]
    assert "可满足" not in p["message_zh"] and "served" not in p["message_en"].split("By phase")[0]
    assert siting.VERDICT_LABELS["beyond_radius"] == ("超出服务半径（不达标）", "beyond the radius (not compliant)")


def test_small_junior_gap_expands_the_named_school(hand):
    """15 junior seats short: expand 一中 by 15 seats (1 class), not a 3-class junior school."""
    result, net = hand
    review = siting.review_estates(_estates(("G", Point(300, 0), 20750, None)), result, network=net)
    j = _row(review, "G", "junior")
    assert (j["pupils"], j["seats_left_before"], j["short_by"]) == (415.0, 400.0, 15)
    assert (j["advice"], j["classes_needed"], j["expand_school_id"]) == ("expand", 1, "J1")
    assert "缺口不足一所初中的最小规模（12 班，建标109-2008）：须扩建一中（J1）15 个学位（1 班）" in j["message_zh"]
    assert "expand 一中 (J1) by 15 seats (1 class)" in j["message_en"]
    assert "3 班" not in j["message_zh"]


def test_two_small_gaps_without_a_school_are_provided_jointly(hand):
    """No primary within 500 m of x=3400 or 3600: 160 + 160 seats short, 8 classes together."""
    result, net = hand
    review = siting.review_estates(_estates(("H1", Point(3400, 0), 4000, None), ("H2", Point(3600, 0), 4000, None)),
                                   result, network=net)
    h1, h2 = _row(review, "H1"), _row(review, "H2")
    assert (h1["short_by"], h1["classes_needed"], h1["advice"], h1["joint_estates"]) == (160, 4, "joint", "H2")
    assert (h2["advice"], h2["joint_estates"], h2["joint_seats"], h2["joint_classes"]) == ("joint", "H1", 320, 8)
    assert "须与相邻小区 H2 联合配建小学（合计缺 320 个学位，8 班）" in h1["message_zh"]
    assert ("provide a primary school jointly with the neighbouring estate(s) H2 (320 seats short together, "
            "8 classes)") in h1["message_en"]


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
    # E1 has seats to spare at its nearest school: its verdict follows from that school's road
    # distance against the 500 m radius (the distance moves with the demo and the snapping)
    e1 = prim.loc["DEMO-E1"]
    assert e1["verdict"] == ("served" if e1["nearest_distance_m"] <= e1["radius_m"] else "beyond_radius")
    assert prim.loc[["DEMO-E2", "DEMO-E3"], "verdict"].tolist() == ["served", "short"]
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


# --- kindergartens (level ``kindergarten``, optional ``ownership`` public/private) -------------


def _with_kindergartens(result, rows):
    """The hand result plus kindergartens (school_id, x, seats, classes, enrollment, ownership)."""
    from dataclasses import replace

    pts = _wgs([Point(r[1], 0) for r in rows])
    kg = gpd.GeoDataFrame({
        "school_id": [r[0] for r in rows], "name": [f"{r[0]}园" for r in rows], "level": "kindergarten",
        "town_code": "T1", "town": "示例镇", "county": "示例县", "status": "open",
        "seats": [r[2] for r in rows], "classes": [r[3] for r in rows], "enrollment": [r[4] for r in rows],
        "ownership": [r[5] for r in rows], "lon": pts.x.values, "lat": pts.y.values}, geometry=pts.values, crs=4326)
    schools = pd.concat([result.schools.assign(ownership="public"), kg], ignore_index=True)
    return replace(result, schools=gpd.GeoDataFrame(schools, geometry="geometry", crs=4326))


def test_kindergarten_seats_radius_and_the_public_rule(hand):
    """K1 public, 3 classes x 30 = 90 seats, 80 children: 10 left; K2 private, 120 seats, 60
    children: 60 left; both within 300 m of the estate at x=110. 2,000 residents x 30 / 1000 = 60."""
    result, net = hand
    result = _with_kindergartens(result, [("K1", 100, np.nan, 3, 80, "public"),
                                          ("K2", 200, 120, np.nan, 60, "private")])
    estate = _estates(("K", Point(110, 0), 2000, None))
    review = siting.review_estates(estate, result, network=net)
    k = _row(review, "K", "kindergarten")
    assert (k["pupils"], k["radius_m"], k["serving_schools"]) == (60.0, 300, "K1;K2")
    assert (k["seats_left_before"], k["verdict"], k["public_required"]) == (70.0, "served", False)
    assert k["message_zh"].startswith("幼儿园：新增幼儿 60 人；服务半径 300 米（步行）内有 2 所幼儿园")
    assert k["message_en"].startswith("Kindergarten: 60 new children; 2 kindergarten school(s) within the 300 m")
    # the county's rule (Jining 2024): new estates' kindergartens public; only K1's 10 seats count
    ruled = siting.review_estates(estate, result, network=net,
                                  settings=result.settings.replace(estate_kindergarten_public_counties="示例县"))
    k = _row(ruled, "K", "kindergarten")
    assert (k["serving_schools"], k["seats_left_before"], k["short_by"], k["public_required"]) == ("K1", 10.0, 50, True)
    assert (k["classes_needed"], k["advice"]) == (2, "expand")  # 50 / 30, below the 3-class smallest
    assert "仅计公办园学位" in k["message_zh"]
    assert "须扩建K1园（K1）50 个学位（2 班），须举办为公办园" in k["message_zh"]
    assert "only public seats count" in k["message_en"] and "run as a public kindergarten" in k["message_en"]


def test_without_kindergartens_in_the_ledger_they_are_not_reviewed(hand):
    result, net = hand
    review = siting.review_estates(_estates(("A", Point(200, 0), 1400, None)), result, network=net)
    assert set(review.levels["level"]) == {"primary", "junior"}
    assert any("no kindergarten" in n for n in review.notes)


# --- phases: children by year after handover, seats of that year --------------------------------


def test_children_age_after_handover():
    from schoolplan.phasing import pupils_by_year

    years = np.arange(2025, 2031)
    got = pupils_by_year([(2026, 1000)], 40, [0.5, 1.0, 1.5, 1.0], years)
    assert got.tolist() == [0.0, 20.0, 40.0, 60.0, 40.0, 40.0]  # 1000 x 40 / 1000 x profile
    two = pupils_by_year([(2026, 1000), (2028, 500)], 40, [1.0], years)
    assert two.tolist() == [0.0, 40.0, 40.0, 60.0, 60.0, 60.0]


def test_seats_are_taken_in_the_delivery_year_from_the_projection():
    """500 seats; 450 children today (2030 scenario) scaled by the projection: 2026 x 0.9 = 405
    (95 free), 2027 x 1.1 = 495 (5 free). 80 pupils a year from 2026: served, then short by 75."""
    from schoolplan.phasing import phase_review

    ratios = pd.DataFrame({"school_id": "S", "level": "primary", "year": [2026, 2027], "ratio": [0.9, 1.1]})
    plans = {("E", "primary"): ([(2026, 2000.0)], 40.0, [1.0, 1.0])}
    by_year, by_phase = phase_review(plans, {("E", "primary"): ["S"]}, {("S", "primary"): 500.0},
                                     {("S", "primary"): 450.0}, ratios)
    assert by_year[["year", "pupils", "seats_left", "verdict", "short_by"]].values.tolist() == [
        [2026, 80.0, 95.0, "served", 0], [2027, 80.0, 5.0, "short", 75]]
    assert by_phase[["phase", "delivery_year", "worst_year", "verdict", "short_by"]].values.tolist() == [
        [1, 2026, 2027, "short", 75]]
    held, _ = phase_review(plans, {("E", "primary"): ["S"]}, {("S", "primary"): 500.0},
                           {("S", "primary"): 450.0}, None)
    assert held["seats_left"].tolist() == [50.0, 50.0]  # no history: the scenario year's 450 held


def test_phased_estate_gets_a_verdict_per_phase_and_the_phase_to_open_with(hand):
    """P1 has 150 seats left. Phase 1 (2026) 2,000 residents: 80 pupils; phase 2 (2028) 2,500 more:
    180 in all. With a flat profile the school is short from 2028 by 30: it opens with phase 2."""
    result, net = hand
    estate = _estates(("PH", Point(200, 0), 4500, None))
    estate["phases"] = ["2026:2000;2028:2500"]
    s = result.settings.replace(estate_profile_primary=[1.0, 1.0, 1.0], estate_profile_junior=[1.0])
    review = siting.review_estates(estate, result, network=net, settings=s)
    pv = review.phase_verdicts[review.phase_verdicts["level"] == "primary"]
    assert pv[["phase", "delivery_year", "until_year", "pupils_max", "verdict", "short_by"]].values.tolist() == [
        [1, 2026, 2027, 80.0, "served", 0], [2, 2028, 2030, 180.0, "short", 30]]
    p = _row(review, "PH")
    assert (p["first_short_year"], p["open_by_phase"], p["open_by_year"]) == (2028, 2, 2028)
    assert "第1期（2026年交付）可满足；第2期（2028年交付）最多缺 30 个学位（2028年）" in p["message_zh"]
    assert "配套小学须随第2期于 2028 年同步交付" in p["message_zh"]
    assert ("phase 1 (handed over 2026) served; phase 2 (handed over 2028) short by up to 30 seats (2028)"
            in p["message_en"])
    assert "the primary places must open with phase 2 in 2028" in p["message_en"]
    assert "seats of every year held" in p["message_en"]  # the hand layout has no history


def test_plain_estates_file_without_kind_or_sites_through_the_cli(tmp_path):
    """Polygons with a name and households only: no row is read as a school site."""
    import yaml

    (tmp_path / "hand.yaml").write_text(yaml.safe_dump(_hand_files(tmp_path), allow_unicode=True),
                                        encoding="utf-8")
    plain = gpd.GeoDataFrame({"小区名称": ["甲小区", "乙小区"], "户数": [500, 800]},
                             geometry=_wgs([box(100, -50, 300, 50), box(5900, -50, 6300, 50)]))
    plain.to_file(tmp_path / "estates.geojson")
    assert read_sites(tmp_path / "estates.geojson", marked_only=True).empty
    out = tmp_path / "review"
    res = runner.invoke(app, ["site-review", str(tmp_path / "estates.geojson"), "--scenario",
                              str(tmp_path / "hand.yaml"), "--out", str(out), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert "学段" not in res.output
    table = pd.read_csv(out / "estates.csv")
    assert len(table) == 4 and table["site_id"].isna().all()  # 2 estates x (primary, junior)
    # 500 households x 2.8 x 40 / 1000 = 56 primary pupils; P1 has 150 seats left
    first = table[(table["name"] == "甲小区") & (table["level"] == "primary")].iloc[0]
    assert (first["pupils"], first["verdict"]) == (56.0, "served")


def test_sites_marked_in_an_estates_file_are_read(tmp_path):
    both = gpd.GeoDataFrame({"类型": ["小区", "学校用地"], "名称": ["甲小区", "拟建幼儿园"], "户数": [500, None],
                             "学段": [None, "幼儿园"], "班级数": [None, 6]},
                            geometry=_wgs([box(100, -50, 300, 50), Point(400, 0)]))
    both.to_file(tmp_path / "both.geojson")
    sites = read_sites(tmp_path / "both.geojson", marked_only=True)
    assert sites[["level", "classes"]].values.tolist() == [["kindergarten", 6.0]]
    assert read_estates(tmp_path / "both.geojson")["name"].tolist() == ["甲小区"]


def test_phases_take_the_seats_of_each_year_from_the_projection():
    """The demo county projected to 2030 (enrolment history 2016-2025): in the scenario year the
    phased seats of the first estate equal the review's seats left; in its delivery year (2026)
    they follow the projection of that year, not 2030's."""
    from schoolplan import projection as pj
    from schoolplan.scenario import load_scenario

    result = evaluate(load_scenario(ROOT / "scenarios" / "demo-2030.yaml"))
    review = siting.review_estates(read_estates(DEMO_ESTATES), result, proposed_sites=read_sites(DEMO_ESTATES))
    assert "seats by year from the enrolment projection" in review.notes
    # the first estate with a school within its radius (which estates those are depends on the
    # demo's roads, so it is taken from the review, not pinned)
    lv = review.levels
    first = lv[(lv["level"] == "primary") & (lv["schools_within_radius"] > 0)]["estate_id"].iloc[0]
    e1 = _row(review, first)
    py = review.phase_years.set_index(["estate_id", "level", "year"])
    assert py.at[(first, "primary", 2030), "seats_left"] == e1["seats_left_before"]
    sid = e1["serving_schools"]
    school = result.schools.set_index("school_id").loc[sid]
    proj = pj.cohort_projection(result.inputs.history, births=result.inputs.births, schools=result.inputs.schools,
                                horizon=15, settings=result.settings)
    part = proj[(proj["school_id"] == sid) & (proj["grade"] <= 6)].groupby("year")["pupils"].sum()
    seats = school["seats"] if school["level"] == "primary" else np.nan
    expected = seats - school["assigned_primary"] * part[2026] / part[2030]
    assert py.at[(first, "primary", 2026), "seats_left"] == pytest.approx(expected, abs=0.1)
    assert py.at[(first, "primary", 2026), "seats_left"] != e1["seats_left_before"]


def test_hostile_names_are_escaped_on_the_page(hand, tmp_path):
    result, net = hand
    estates = _estates(("X1", Point(6200, 0), 2250, None))
    estates["name"] = ['<img src=x onerror="alert(1)">&小区']
    review = siting.review_estates(estates, result, network=net)
    paths = write_review(review, tmp_path / "out", lang="en")
    page = paths["review-X1"].read_text(encoding="utf-8")
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;小区" in page
    assert "expand 二小 (P2) by 90 seats" in page
