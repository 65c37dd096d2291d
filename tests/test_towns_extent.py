"""The area check of the inputs (``check_outside_extent``), vectorised in issue 15: a hand-made
extent and points whose answer is known, including points without a location."""

from __future__ import annotations

import geopandas as gpd
import shapely

from schoolplan.errors import Problems
from schoolplan.io.towns import TownsExtent, check_outside_extent


def _points() -> gpd.GeoDataFrame:
    geoms = [shapely.Point(116.0, 36.0),            # inside
             shapely.Point(118.5, 36.0),            # east of the area
             None,                                  # no location: not this check's business
             shapely.Point(),                       # empty
             shapely.Point(117.0, 37.0),            # on the corner: inside
             shapely.Point(115.0, 35.2)]            # south-west
    df = gpd.GeoDataFrame({"school_id": list("ABCDEF")}, geometry=geoms, crs=4326)
    df.index = [2, 3, 4, 5, 6, 7]  # Excel rows
    df.attrs["file"] = "schools.xlsx"
    return df


def test_points_outside_the_towns_are_errors_in_row_order():
    problems = Problems()
    check_outside_extent(_points(), (115.5, 35.5, 117.0, 37.0), problems=problems,
                         id_column="school_id", what_en="school", what_zh="学校", tolerance_m=2000)
    got = [(p.code, p.row, p.severity, p.ids) for p in problems]
    assert got == [("outside_area", 3, "error", ("B",)), ("outside_area", 7, "error", ("F",))]
    assert "118.50000, 36.00000" in next(iter(problems)).message_en


def test_beyond_town_seats_is_a_warning():
    problems = Problems()
    extent = TownsExtent((115.5, 35.5, 117.0, 37.0), "point", 5000.0)
    check_outside_extent(_points(), extent, problems=problems, id_column="school_id",
                         what_en="school", what_zh="学校", tolerance_m=2000)
    assert [(p.row, p.severity) for p in problems] == [(3, "warning"), (7, "warning")]
    assert all("5 km" in p.message_en and "驻地" in p.message_zh for p in problems)
