"""Real data from ../shared/data (skipped when absent; runs in CI where it is present)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan.errors import Problems
from schoolplan.io import read_schools, read_towns
from schoolplan.rules import junior_middle_per_town, small_tier
from schoolplan.settings import Settings

NI_LEDGER = "northern_ireland/raw/School level - primary schools - data 202324.XLSX"
EC_LIST = "south_africa_eastern_cape/raw/Eastern Cape.xlsx"


def test_liaocheng_135_towns_from_the_official_2023_list(shared_data):
    towns = read_towns(shared_data / "liaocheng" / "liaocheng_towns_areacity_2023.csv",
                       columns={"town": "town_name"})
    assert len(towns) == 135
    assert towns.attrs["geometry_kind"] == "none"
    assert towns.groupby("county").size().to_dict() == {
        "东昌府区": 23, "莘县": 24, "冠县": 18, "阳谷县": 18, "临清市": 16, "茌平区": 14,
        "高唐县": 12, "东阿县": 10}
    assert towns["town_code"].str.fullmatch(r"3715\d{5}").all()


def test_liaocheng_town_rule_covers_towns_without_any_school(shared_data):
    """Synthetic schools (built here) on the real 135-town frame: every town is checked."""
    towns = read_towns(shared_data / "liaocheng" / "liaocheng_towns_areacity_2023.csv",
                       columns={"town": "town_name"})
    codes = towns["town_code"].tolist()
    # a junior middle school in every third town, a primary school in every town
    schools = pd.DataFrame({
        "school_id": [f"P{i}" for i in range(135)] + [f"J{i}" for i in range(0, 135, 3)],
        "level": ["primary"] * 135 + ["junior"] * 45,
        "town_code": codes + codes[::3],
        "town": towns["town"].tolist() + towns["town"].tolist()[::3],
    })
    counts, violations = junior_middle_per_town(schools, towns)
    assert len(counts) == 135
    assert counts["junior_middle_rule_ok"].sum() == 45
    assert len(violations) == 90
    assert set(violations["object_id"]) == set(codes) - set(codes[::3])


def test_liaocheng_town_seat_points_lie_in_their_real_counties(shared_data):
    import geopandas as gpd

    t = read_towns(shared_data / "liaocheng" / "liaocheng_town_points_vonng2016_wgs84.geojson",
                   columns={"town_code": "town_code_12", "town": "town_name"})
    assert len(t) == 109 and t.attrs["geometry_kind"] == "point"
    counties = read_towns(shared_data / "liaocheng" / "liaocheng_counties_amap_cnmaps_wgs84.geojson",
                          columns={"town_code": "adcode", "town": "name"})
    joined = gpd.sjoin(t[["town", "county", "geometry"]], counties[["town", "geometry"]],
                       predicate="within", lsuffix="pt", rsuffix="county")
    assert len(joined) == 109
    # 茌平 was a 县 in 2016 and is a 区 today
    assert (joined["county"].str[:2] == joined["town_county"].str[:2]).all()


def test_northern_ireland_ledger_through_a_user_mapping(shared_data):
    """The real DE ledger: title rows above the header, attributes split over two sheets, no
    coordinates. A user maps the columns; the small-school counts for rural schools come out right."""
    problems = Problems()
    schools = read_schools(
        shared_data / NI_LEDGER,
        sheet=["reference data", "Enrolments"],
        columns={"school_id": "DE ref", "name": "school name", "level": "school type",
                 "enrollment": "total enrolment", "area_type": "Urban/ Rural"},
        values={"level": {"Primary": "primary", "Prep Department": "primary"}},
        require_location=False,
        problems=problems,
    )
    assert problems.errors == []
    assert len(schools) == 787
    # header is on Excel row 4; the first school is on row 5
    assert schools.index[0] == 5 and schools["school_id"].iloc[0] == "1010012"
    assert schools["area_type"].value_counts().to_dict() == {"rural": 432, "urban": 355}
    tiers = small_tier(schools, Settings())
    rural = schools["area_type"] == "rural"
    assert (tiers != "").sum() == (rural & (schools["enrollment"] < 200)).sum() == 342
    assert (tiers.isin(["lt100", "lt50"])).sum() == 165
    assert (tiers == "lt50").sum() == 35
    # every school is reported as unlocated (a warning), none silently dropped
    unlocated = [p for p in problems.warnings if p.code == "no_location"]
    assert len(unlocated) == 1 and len(unlocated[0].ids) == 787
    # footnote rows under the enrolment table are reported, not taken for schools
    assert {p.code for p in problems.warnings} == {"no_location", "row_only_in_one_sheet"}


def test_northern_ireland_enrolment_per_school_matches_the_sheet(shared_data):
    raw = pd.read_excel(shared_data / NI_LEDGER, sheet_name="Enrolments", header=3)
    raw = raw[pd.to_numeric(raw["DE ref"], errors="coerce").notna()]
    expected = dict(zip(raw["DE ref"].astype(int).astype(str), raw["total enrolment"], strict=True))
    schools = read_schools(
        shared_data / NI_LEDGER, sheet=["reference data", "Enrolments"],
        columns={"school_id": "DE ref", "name": "school name", "level": "school type",
                 "enrollment": "total enrolment", "area_type": "Urban/ Rural"},
        values={"level": {"Primary": "primary", "Prep Department": "primary"}},
        require_location=False, problems=Problems())
    got = dict(zip(schools["school_id"], schools["enrollment"], strict=True))
    assert got == expected and sum(got.values()) > 170_000


def test_eastern_cape_swapped_coordinates_are_reported_not_used(shared_data):
    problems = Problems()
    schools = read_schools(
        shared_data / EC_LIST,
        columns={"school_id": "NatEmis", "name": "Official_Institution_Name", "level": "Phase_PED",
                 "enrollment": "Learners2024", "area_type": "Urban_Rural"},
        values={"level": {"PRIMARY SCHOOL": "primary", "SECONDARY SCHOOL": "complete",
                          "COMBINED SCHOOL": "nine_year", "ECD": "teaching_point"},
                "area_type": {"99": None}},
        extent=(21.0, -35.0, 31.0, -29.5),  # the Eastern Cape, as its planners know it
        problems=problems,
    )
    assert len(schools) == 5302  # nothing dropped
    swapped = [p for p in problems.errors if p.code == "swapped_coordinates"]
    raw = pd.read_excel(shared_data / EC_LIST)
    lon, lat = raw["GIS_Longitude"].to_numpy(float), raw["GIS_Latitude"].to_numpy(float)
    truly = (lat >= 21) & (lat <= 31) & (lon >= -35) & (lon <= -29.5)
    assert len(swapped) == int(truly.sum()) == 5235
    # the rows named are exactly those, numbered as in Excel (header on row 1)
    assert sorted(p.row for p in swapped) == sorted((np.flatnonzero(truly) + 2).tolist())
    # no swapped row got a location
    rows = [p.row for p in swapped]
    assert schools.loc[rows, "lon"].isna().all()
    # schools with blank learner counts are errors with their row, not dropped
    blanks = [p for p in problems.errors if p.code == "blank_value"]
    assert len(blanks) == int(raw["Learners2024"].isna().sum()) == 20


def test_northern_ireland_candidates_as_a_user_would_run_it(shared_data, tmp_path):
    """Real enrolment, locations and urban/rural flag; constituencies as the 'towns'; pupils
    placed at their own school (no village data); straight-line distances (no roads), labelled
    as estimates. Candidate counts per tier match a direct count from the ledger, and every
    candidate has a receiving school."""
    import geopandas as gpd

    from schoolplan.scenario import evaluate, scenario_from_dict

    ni = shared_data / "northern_ireland"
    located = ni / "ni_primary_schools_2023_24_located.geojson"
    raw = {
        "name": "ni-primary",
        "inputs": {
            "schools": {"path": str(located),
                        "columns": {"school_id": "de_ref", "name": "school_name", "level": "school_type",
                                    "enrollment": "total_enrolment", "area_type": "urban_rural",
                                    "town": "constituency"},
                        "values": {"level": {"Primary": "primary", "Prep Department": "primary"}}},
            "towns": {"path": str(ni / "OSNI_Open_Data_-_50K_Boundaries_-_Parliamentary_Constituencies.geojson"),
                      "columns": {"town_code": "PC_ID", "town": "PC_NAME"}},
            "demand": {"path": str(located),
                       "columns": {"demand_id": "de_ref", "name": "school_name",
                                   "pupils_primary": "total_enrolment", "town": "constituency"}},
            "roads": "none",
        },
    }
    r = evaluate(scenario_from_dict(raw, base=tmp_path))
    assert "estimate" in r.distance_method
    g = gpd.read_file(located)
    rural = g["urban_rural"] == "RURAL"
    n = g["total_enrolment"]
    c = r.candidates
    small = c[c["reasons"].str.contains("small")]
    assert (small["small_tier"] == "lt50").sum() == int((rural & (n < 50)).sum()) == 35
    assert small["small_tier"].isin(["lt50", "lt100"]).sum() == int((rural & (n < 100)).sum()) == 162
    assert len(small) == int((rural & (n < 200)).sum()) == 336
    cand = c[c["candidate"]]
    assert len(cand) > 0 and cand["receiving_school_id"].notna().all()
    assert set(cand["recommendation"]) <= {"close", "to_satellite"}
    # every pupil is assigned (pupils sit at their own school)
    near = r.assignments[r.assignments["method"] == "nearest"]
    assert near["pupils"].sum() == pytest.approx(n.sum())
