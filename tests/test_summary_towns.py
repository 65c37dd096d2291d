"""The per-town pages (towns.xlsx, 一镇一策) on the hand-made county of tests/test_summary.py."""

from __future__ import annotations

import openpyxl
import pandas as pd
from test_summary import _result

from schoolplan.outputs.towns_book import sheet_name, write_towns_xlsx


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = {"目录"}
    assert sheet_name("城关/街道:[新]", "1", taken) == "城关_街道__新_"
    assert sheet_name("甲镇", "2", taken) == "甲镇"
    assert sheet_name("甲镇", "3", taken) == "甲镇_3"          # same name: the code added
    long = "长" * 40
    assert len(sheet_name(long, "4", taken)) == 31
    assert sheet_name("目录", "5", taken) == "目录_5"          # never the contents sheet's name


def test_one_sheet_per_town_with_its_schools(tmp_path):
    result = _result()
    result.violations = pd.DataFrame({
        "rule_id": ["class_size", "class_size"], "object_type": ["school", "school"],
        "object_id": ["s2", "s1"], "name": ["乙小学", "甲小学"], "value": [50, 48], "limit": [45, 45],
        "message_zh": ["乙小学平均班额50人", "甲小学平均班额48人"], "message_en": ["a", "b"], "source": ["x", "x"]})
    book = openpyxl.load_workbook(write_towns_xlsx(result, tmp_path / "towns.xlsx", lang="zh"))
    assert book.sheetnames == ["目录", "甲镇", "乙镇"]
    toc = [[c.value for c in row] for row in book["目录"].iter_rows()]
    assert toc == [["乡镇", "乡镇代码", "工作表"], ["甲镇", "1", "甲镇"], ["乙镇", "2", "乙镇"]]
    ws = book["乙镇"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0][0] == "乙镇　一镇一策"
    # one school open (the satellite, 90.5 pupils shown as 90), 丙教学点 closed
    assert cells[1][0] == "开办学校 1 所，在校生 90 人，其中小规模学校 0 所；本方案撤并 1 所"
    assert cells[2][0] == "合成示范数据"
    rows = {r[0]: r for r in cells if r[0] in ("乙小学", "丙教学点")}
    assert rows["乙小学"][1:4] == ["教学点", "卫星校（保留1-3年级）", 90]
    assert rows["丙教学点"][2] == "撤并"
    # the town's rule checks only: 乙小学's, not 甲小学's
    messages = [r[2] for r in cells if r[0] == "平均班额超标"]
    assert messages == ["乙小学平均班额50人"]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert len(ws._images) == 1  # the town's small map


def test_tables_split_by_town_once_equal_a_filter_per_town():
    """towns.xlsx splits each table by town once (issue 15: a prefecture filtered every table
    135 times); on the demo, every town's rows equal a direct filter of the whole table, and a
    map frame holds every town whose outline crosses it."""
    from pathlib import Path

    from shapely.geometry import box

    from schoolplan.outputs.towns_book import _ByTown
    from schoolplan.scenario import evaluate, load_scenario

    root = Path(__file__).resolve().parents[1]
    r = evaluate(load_scenario(root / "scenarios" / "demo-planet-satellite.yaml"))
    by = _ByTown(r, "zh")
    demand = r.inputs.demand
    v = r.violations.assign(object_id=r.violations["object_id"].astype(str))
    assert len(v) and r.layouts is not None and len(r.layouts)
    for code in r.towns["town_code"].astype(str):
        mine = r.schools[r.schools["town_code"].astype(str) == code]
        assert list(by.schools.get(code, mine.iloc[:0])["school_id"]) == list(mine["school_id"])
        lay = r.layouts[r.layouts["town_code"].astype(str) == code]
        assert list(by.layouts.get(code, lay.iloc[:0])["planet"]) == list(lay["planet"])
        ids = (set(mine["school_id"].astype(str)) | {code}
               | set(demand.loc[demand["town_code"].astype(str) == code, "demand_id"].astype(str)))
        want = v[v["object_id"].isin(ids)]
        got = by.violations.get(code, want.iloc[:0])
        assert list(got["object_id"]) == list(want["object_id"])
        assert list(got["rule_id"]) == list(want["rule_id"])
        outline = by.town(code)
        minx, miny, maxx, maxy = outline.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.08
        frame = box(minx - pad, miny - pad, maxx + pad, maxy + pad)
        crossing = set(r.towns.loc[r.towns.intersects(frame), "town_code"].astype(str))
        assert set(by.neighbours(outline)["town_code"].astype(str)) == crossing


def test_a_town_without_an_outline_gets_no_map_and_a_point_town_a_small_one(tmp_path):
    """Towns read from a list (no polygon) or as seats (a point): the book is still written."""
    import warnings

    import geopandas as gpd
    from shapely.geometry import Point

    result = _result()
    result.towns = gpd.GeoDataFrame(result.towns.drop(columns="geometry"),
                                    geometry=gpd.GeoSeries([None, Point(116.15, 36.05)], crs=4326))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "singular limits" warning either
        book = openpyxl.load_workbook(write_towns_xlsx(result, tmp_path / "towns.xlsx", lang="zh"))
    assert [len(book[n]._images) for n in ("甲镇", "乙镇")] == [0, 1]


def test_town_maps_on_one_figure_with_pasted_legends_equal_maps_drawn_whole():
    """towns.xlsx draws its maps on one reused figure and pastes each distinct legend, rendered
    once (issue 15); every town's map must be the picture of a new figure drawn whole with the
    same (opaque) legend: equal outside the legend's box, and the same legend within it (up to
    a pixel: the axes box a town's aspect sets is not on whole pixels)."""
    import io
    from pathlib import Path

    import numpy as np
    import pytest
    from matplotlib.figure import Figure
    from PIL import Image

    from schoolplan.outputs.drawing import MAP_LEGEND, draw_outlines
    from schoolplan.outputs.summary import Page, _draw_map, cjk_context
    from schoolplan.outputs.towns_book import _ByTown, _frame, _TownMaps
    from schoolplan.scenario import evaluate, load_scenario

    root = Path(__file__).resolve().parents[1]
    r = evaluate(load_scenario(root / "scenarios" / "demo-planet-satellite.yaml"))
    by, maps = _ByTown(r, "zh"), _TownMaps("zh")
    if maps.fonts is None:
        pytest.skip("no CJK font: the book has no maps")
    for code in r.towns["town_code"].astype(str):
        mine, schools = by.town(code), by.schools_geo.get(code, r.schools.iloc[:0])
        got = np.asarray(Image.open(io.BytesIO(maps.png(by.neighbours(mine), mine, schools))).convert("RGB"))
        with cjk_context(maps.fonts):
            fig = Figure(figsize=(3.6, 3.6), dpi=110)
            ax = fig.add_axes((0, 0, 1, 1))
            draw_outlines(ax, by.neighbours(mine).geometry, color="#bbbbbb", linewidth=0.4)
            _draw_map(ax, Page(lang="zh", title="", subtitle="", date="", synthetic=False, lines=(),
                               sections=(), sources=(), towns=mine, schools=schools), legend=False)
            legend = ax.legend(**{**MAP_LEGEND, "framealpha": 1.0})
            x0, y0, x1, y1 = _frame(mine)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            box = legend.get_window_extent()
        want = np.asarray(Image.open(buf).convert("RGB")).astype(int)
        assert got.shape == want.shape
        h = want.shape[0]
        rows = slice(int(h - box.y1) - 2, int(h - box.y0) + 3)
        cols = slice(int(box.x0) - 2, int(box.x1) + 3)
        differ = np.abs(got.astype(int) - want).sum(axis=2) > 60
        differ[rows, cols] = False
        assert not differ.any(), (code, "differs outside the legend")
        g, w = got[rows, cols].astype(int), want[rows, cols]
        # within it, the same marks: every colour of the legend drawn whole is there (within a
        # shade), the pixels that differ no more than sub-pixel placement moves (a seam)
        colours = {tuple(c) for c in w.reshape(-1, 3) if np.ptp(c) > 80}
        for c in colours:
            assert (np.abs(g - np.array(c)).sum(axis=2) < 40).any(), (code, c)
        assert (np.abs(g - w).sum(axis=2) > 60).mean() < 0.2, code
    assert 1 <= len(maps.legends) <= len(r.towns)
