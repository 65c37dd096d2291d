"""Property-based tests (hypothesis): valid ledgers, town tables, road layers and scenario files
corrupted at random never crash the tool.

For every corrupted input, ``schoolplan check``:

* exits 0 or 1, never 3 (an unexpected error) and never with a traceback;
* names, in every error, the file and the column, and for row-level errors the row as Excel shows
  it (within the file);
* keeps every data row of the ledger: it is in the checked schools or named by a problem.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from schoolplan.cli import app
from schoolplan.errors import InputValidationError, SchoolplanError
from schoolplan.scenario import load_inputs, load_scenario
from schoolplan.settings import Settings

SCHOOL_HEAD = ["学校代码", "学校名称", "学段", "乡镇代码", "所属乡镇", "在校生数", "班级数", "学位数",
               "城乡分类代码", "经度", "纬度"]
SCHOOL_ROWS = [
    ["S01", "城关小学", "小学", "371599001", "城关街道", "1800", "40", "", "111", "116.10", "36.50"],
    ["S02", "王集中心小学", "中心小学", "371599002", "王集镇", "420", "12", "540", "121", "116.20", "36.55"],
    ["S03", "李庄小学", "小学", "371599002", "王集镇", "85", "6", "", "220", "116.22", "36.57"],
    ["S04", "张屯教学点", "教学点", "371599002", "王集镇", "32", "3", "", "", "116.23", "36.53"],
    ["S05", "王集初中", "初中", "371599002", "王集镇", "600", "12", "", "121", "116.21", "36.55"],
    ["S06", "赵楼学校", "九年一贯制学校", "371599003", "赵楼乡", "150", "9", "", "220", "116.30", "36.45"],
]
TOWN_HEAD = ["乡镇代码", "乡镇名称", "所属县区", "经度", "纬度"]
TOWN_ROWS = [
    ["371599001", "城关街道", "示范县", "116.10", "36.50"],
    ["371599002", "王集镇", "示范县", "116.20", "36.55"],
    ["371599003", "赵楼乡", "示范县", "116.30", "36.45"],
]
ROADS = {
    "type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    "features": [
        {"type": "Feature", "properties": {"等级": g, "名称": n},
         "geometry": {"type": "LineString", "coordinates": c}}
        for g, n, c in [
            ("县道", "聊阳路", [[116.09, 36.50], [116.20, 36.55], [116.31, 36.45]]),
            ("村道", "", [[116.20, 36.55], [116.22, 36.57]]),
            ("乡道", "", [[116.20, 36.55], [116.23, 36.53], [116.21, 36.55]]),
        ]
    ],
}
SCENARIO = ("name: p\ninputs:\n  schools: {path: schools.csv, coordinate_system: wgs84}\n"
            "  towns: {path: towns.csv}\n  roads: {path: roads.geojson}\n"
            "settings:\n  small_school_tiers: [200, 100, 50]\n")

#: errors about a whole file or column: they have no row
FILE_LEVEL = {"missing_column", "ambiguous_column", "unknown_mapping", "no_rows", "no_crs",
              "coordinate_system_mismatch", "no_location", "bad_roads", "row_only_in_one_sheet"}

#: errors about a whole file: they have no column either
WHOLE_FILE = {"no_rows"}

RUN = settings(max_examples=15, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

text_cell = st.one_of(
    st.just(""), st.just("-5"), st.just("1e9"), st.just("三十二"), st.just("NaN"),
    st.just("  "), st.just("116.2,36.5"), st.just("９９"), st.just("#REF!"),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)


def _csv(head, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(rows)
    return buf.getvalue()


@st.composite
def corrupted_table(draw, head, rows):
    """A table with random cells replaced, columns dropped or renamed, rows added or doubled,
    a title row, and one of the encodings Chinese offices use."""
    head = list(head)
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["cell", "drop", "rename", "dup", "blank_row", "short_row",
                                     "swap"]))
        if kind == "cell" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            if rows[r]:
                rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(text_cell)
        elif kind == "drop" and len(head) > 1:
            c = draw(st.integers(0, len(head) - 1))
            del head[c]
            for r in rows:
                if c < len(r):
                    del r[c]
        elif kind == "rename":
            c = draw(st.integers(0, len(head) - 1))
            head[c] = draw(text_cell) or "x"
        elif kind == "dup" and rows:
            rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
        elif kind == "blank_row":
            rows.insert(draw(st.integers(0, len(rows))), [""] * len(head))
        elif kind == "short_row" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r][: draw(st.integers(0, len(head)))]
        elif kind == "swap" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            if len(rows[r]) >= 2:
                rows[r][-1], rows[r][-2] = rows[r][-2], rows[r][-1]
    text = _csv(head, rows)
    if draw(st.booleans()):
        text = "2024年台账（单位：人）\n" + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "big5"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _write_base(d: Path) -> None:
    (d / "schools.csv").write_text(_csv(SCHOOL_HEAD, SCHOOL_ROWS), encoding="utf-8")
    (d / "towns.csv").write_text(_csv(TOWN_HEAD, TOWN_ROWS), encoding="utf-8")
    (d / "roads.geojson").write_text(json.dumps(ROADS, ensure_ascii=False), encoding="utf-8")
    (d / "s.yaml").write_text(SCENARIO, encoding="utf-8")


def _check(d: Path, expect_ids: set[str] | None = None) -> None:
    """The three properties on the scenario in ``d``."""
    try:
        sc = load_scenario(d / "s.yaml")
        inputs = load_inputs(sc, Settings(sc.settings, origin="scenario"))
    except InputValidationError as exc:
        problems, schools = exc.problems, None
    except SchoolplanError:
        problems, schools = [], None  # a whole file unreadable: one message (exit code below)
    else:
        problems, schools = list(inputs.problems), inputs.schools
    res = CliRunner().invoke(app, ["check", str(d / "s.yaml"), "--lang", "en"])
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output and "Unexpected" not in res.output
    for p in problems:
        if p.severity != "error":
            continue
        assert p.file, p
        if p.code not in WHOLE_FILE:
            assert p.column, p
        if p.code not in FILE_LEVEL:
            assert p.row is not None, p
        if p.row is not None and Path(p.file).exists():
            lines = Path(p.file).read_bytes().count(b"\n") + 1
            assert 1 <= p.row <= lines + 1, p
    if schools is None or not expect_ids:
        return
    ledger = str(schools.attrs["file"])
    if any(p.file == ledger and p.code in FILE_LEVEL and p.severity == "error" for p in problems):
        assert len(schools) >= 0  # the file is reported as a whole; its rows are kept as they are
        return
    ids = {str(i) for i in schools["school_id"].dropna()}
    named = {i for p in problems for i in p.ids} | {str(p.value) for p in problems}
    for school_id in expect_ids:
        assert school_id in ids or school_id in named, (school_id, problems)


@RUN
@given(data=corrupted_table(SCHOOL_HEAD, SCHOOL_ROWS))
def test_corrupted_ledgers(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("ledger")
    _write_base(d)
    (d / "schools.csv").write_bytes(data)
    _check(d, {r[0] for r in SCHOOL_ROWS if f"\n{r[0]},".encode() in data})


@RUN
@given(data=corrupted_table(TOWN_HEAD, TOWN_ROWS))
def test_corrupted_town_tables(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("towns")
    _write_base(d)
    (d / "towns.csv").write_bytes(data)
    _check(d)


@st.composite
def corrupted_roads(draw):
    roads = json.loads(json.dumps(ROADS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["no_crs", "point", "empty", "coords", "nodes", "oneway",
                                     "truncate", "metres"]))
        feats = roads["features"]
        if kind == "no_crs":
            roads.pop("crs", None)
        elif kind == "point" and feats:
            feats[0]["geometry"] = {"type": "Point", "coordinates": [116.2, 36.5]}
        elif kind == "empty":
            roads["features"] = []
        elif kind == "coords" and feats:
            feats[-1]["geometry"]["coordinates"] = draw(st.lists(
                st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=2, max_size=2),
                min_size=0, max_size=3))
        elif kind == "nodes":
            for i, f in enumerate(feats):
                f["properties"]["from_node"] = draw(st.one_of(st.none(), st.integers(0, 3)))
                f["properties"]["to_node"] = i + 10
        elif kind == "oneway":
            for f in feats:
                f["properties"]["oneway"] = draw(text_cell)
        elif kind == "metres":
            roads["crs"] = {"type": "name", "properties": {"name": "EPSG:3857"}}
    text = json.dumps(roads, ensure_ascii=False)
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@RUN
@given(text=corrupted_roads())
def test_corrupted_road_layers(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("roads")
    _write_base(d)
    (d / "roads.geojson").write_text(text, encoding="utf-8")
    _check(d)


@st.composite
def corrupted_scenario(draw):
    lines = SCENARIO.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["dup", "drop", "junk", "setting", "folder", "indent"]))
        if kind == "dup" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i + 1, lines[i])
        elif kind == "drop" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif kind == "junk":
            lines.insert(draw(st.integers(0, len(lines))), draw(text_cell))
        elif kind == "setting":
            lines.append(f"  {draw(st.sampled_from(['class_size_primary', 'nope', 'small_school_tiers']))}: "
                         f"{draw(st.sampled_from(['abc', '-3', '[1, x]', '{}', '1e400']))}")
        elif kind == "folder":
            lines = [ln.replace("towns.csv", ".") for ln in lines]
        elif kind == "indent" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = "   " + lines[i]
    return "\n".join(lines) + "\n"


@RUN
@given(text=corrupted_scenario())
def test_corrupted_scenario_files(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("scenario")
    _write_base(d)
    (d / "s.yaml").write_text(text, encoding="utf-8")
    _check(d)


def test_the_unbroken_inputs_pass(tmp_path):
    _write_base(tmp_path)
    res = CliRunner().invoke(app, ["check", str(tmp_path / "s.yaml"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Inputs OK: 6 schools, 3 towns" in res.output


@pytest.fixture(autouse=True)
def _quiet_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
