"""`schoolplan run` and `schoolplan check` through the CLI runner, on the bundled synthetic demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from schoolplan.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-county.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    res = runner.invoke(app, ["run", str(DEMO), "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_run_writes_every_output(demo_run):
    out, output = demo_run
    for name in ("schools.csv", "towns.csv", "violations.csv", "validation.csv", "summary.json",
                 "map.html"):
        assert (out / name).is_file(), name
    assert "synthetic" in output and str(out) in output
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_schools_csv_matches_the_ledger(demo_run):
    out, _ = demo_run
    schools = pd.read_csv(out / "schools.csv", encoding="utf-8-sig", dtype={"school_id": str,
                                                                           "town_code": str})
    ledger = pd.read_excel(ROOT / "data/schools/demo_schools_synthetic.xlsx", sheet_name="学校台账",
                           dtype={"学校代码": str})
    assert len(schools) == len(ledger)
    assert list(schools["school_id"]) == list(ledger["学校代码"])
    # small tiers recomputed by hand from the ledger: rural (NBS 2xx) and under the thresholds
    rural = ledger["城乡分类代码"].astype(str).str.startswith("2")
    n = ledger["在校生数"]
    expect = pd.Series("", index=ledger.index)
    expect[rural & (n < 200)] = "lt200"
    expect[rural & (n < 100)] = "lt100"
    expect[rural & (n < 50)] = "lt50"
    assert list(schools["small_tier"].fillna("")) == list(expect)
    for tier in ("lt50", "lt100", "lt200"):
        assert (schools["small_tier"] == tier).sum() >= 1
    # seats: ledger value, else classes x class size
    no_seats = ledger["学位数"].isna()
    assert (schools.loc[no_seats.values, "seats_source"] == "classes x class size").all()


def test_towns_csv_has_the_junior_middle_rule(demo_run):
    out, _ = demo_run
    towns = pd.read_csv(out / "towns.csv", encoding="utf-8-sig", dtype={"town_code": str})
    schools = pd.read_csv(out / "schools.csv", encoding="utf-8-sig", dtype={"town_code": str})
    jm = schools[schools["level"].isin(["junior", "nine_year", "complete"])].groupby("town_code").size()
    assert list(towns["junior_middle_schools"]) == [int(jm.get(c, 0)) for c in towns["town_code"]]
    assert (~towns["junior_middle_rule_ok"]).sum() == 1
    violations = pd.read_csv(out / "violations.csv", encoding="utf-8-sig", dtype={"object_id": str})
    bad = violations[violations["rule_id"] == "junior_middle_per_town"]
    assert list(bad["object_id"]) == list(towns.loc[~towns["junior_middle_rule_ok"], "town_code"])


def test_summary_json(demo_run):
    out, _ = demo_run
    text = (out / "summary.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    s = json.loads(text)
    assert s["tool"] == "schoolplan" and s["synthetic_data"] is True
    assert set(s["inputs"]) == {"schools", "towns", "demand", "roads"}
    for info in s["inputs"].values():
        assert len(info["sha256"]) == 64
    by_name = {r["name"]: r for r in s["settings"]}
    assert by_name["small_school_tiers"]["origin"] == "scenario"
    assert by_name["class_size_primary"]["source"].startswith("GB 50099")
    assert s["counts"]["towns_without_junior_middle_school"] == 1


def test_map_is_self_contained_and_labelled(demo_run):
    out, _ = demo_run
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script src=\"http" not in html and "href=\"https://cdn" not in html
    assert "Synthetic demo data" in html
    assert "L.map(" in html or "L.map (" in html


def test_cli_setting_override_and_chinese_output(tmp_path):
    out = tmp_path / "o"
    res = runner.invoke(app, ["run", str(DEMO), "--out", str(out), "--lang", "zh",
                              "--set", "small_school_tiers=[100]"])
    assert res.exit_code == 0, res.output
    assert "结果已写入" in res.output
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rec = {r["name"]: r for r in s["settings"]}["small_school_tiers"]
    assert rec["value"] == [100] and rec["origin"] == "cli"
    schools = pd.read_csv(out / "schools.csv", encoding="utf-8-sig")
    assert set(schools["small_tier"].dropna()) == {"lt100"}


def test_check_passes_on_the_demo():
    res = runner.invoke(app, ["check", str(DEMO), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Inputs OK" in res.output


def test_bad_setting_on_the_cli_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["run", str(DEMO), "--out", str(tmp_path), "--lang", "en",
                              "--set", "class_size_primay=40"])
    assert res.exit_code == 1
    assert "did you mean 'class_size_primary'" in res.output


def test_run_refuses_to_write_over_an_input(tmp_path):
    data = tmp_path / "d"
    shutil.copytree(ROOT / "data", data)
    sc = tmp_path / "s.yaml"
    sc.write_text(
        "name: x\ninputs:\n  schools: {path: d/schools/demo_schools_synthetic.xlsx}\n"
        "  towns: {path: d/boundaries/demo_towns_synthetic.geojson}\n", encoding="utf-8")
    # an output named like an input in the same folder
    (data / "boundaries" / "towns.csv").write_text("keep me", encoding="utf-8")
    sc2 = tmp_path / "s2.yaml"
    sc2.write_text(
        "name: x\ninputs:\n  schools: {path: d/schools/demo_schools_synthetic.xlsx}\n"
        "  towns: {path: d/boundaries/towns.csv}\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(sc2), "--out", str(data / "boundaries"), "--lang", "en"])
    assert res.exit_code == 1
    assert (data / "boundaries" / "towns.csv").read_text(encoding="utf-8") == "keep me"


def _broken_demo(tmp_path: Path) -> Path:
    """A copy of the demo with planted problems in the ledger; returns the scenario path."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    ledger_path = tmp_path / "data/schools/demo_schools_synthetic.xlsx"
    with pd.ExcelFile(ledger_path) as book:
        sheets = {n: pd.read_excel(book, sheet_name=n, dtype=object) for n in book.sheet_names}
    df = sheets["学校台账"]
    # Excel rows are the data index + 2 (header on row 1)
    df.loc[2, "学校代码"] = df.loc[1, "学校代码"]                      # row 4: duplicate id
    df.loc[4, "在校生数"] = "约120"                                     # row 6: not a number
    df.loc[6, "学段"] = "职业高中"                                      # row 8: unknown level
    df.loc[8, ["经度", "纬度"]] = [df.loc[8, "纬度"], df.loc[8, "经度"]]  # row 10: swapped
    df.loc[10, "乡镇代码"] = "371599999"                               # row 12: unknown town
    df.loc[12, "经度"] = float(df.loc[12, "经度"]) + 1.5               # row 14: far outside
    df.loc[14, "班级数"] = -3                                          # row 16: negative
    with pd.ExcelWriter(ledger_path) as xw:
        for name, sheet in sheets.items():
            sheet.to_excel(xw, sheet_name=name, index=False)
    scen = tmp_path / "scenarios" / "broken.yaml"
    scen.parent.mkdir()
    scen.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    return scen


def test_check_lists_every_planted_problem_with_its_row(tmp_path):
    scen = _broken_demo(tmp_path)
    res = runner.invoke(app, ["check", str(scen), "--lang", "en"])
    assert res.exit_code == 1
    text = res.output
    for row, phrase in [(4, "appears again"), (6, "not a number"), (8, "level '职业高中'"),
                        (10, "look swapped"), (12, "town code 371599999"),
                        (14, "outside the area of the towns"), (16, "negative")]:
        line = next((ln for ln in text.splitlines() if f"row {row}," in ln and phrase in ln), None)
        assert line is not None, f"row {row} / {phrase} not reported:\n{text}"
    zh = runner.invoke(app, ["check", str(scen), "--lang", "zh"])
    assert zh.exit_code == 1 and "第4行" in zh.output and "疑似填反" in zh.output


def test_run_on_broken_inputs_writes_nothing(tmp_path):
    scen = _broken_demo(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(scen), "--out", str(out), "--lang", "en"])
    assert res.exit_code == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: x\n", "inputs' is missing"),
        ("name: x\ninputs:\n  schools: {path: nope.xlsx}\n  towns: {path: nope.geojson}\n", "does not exist"),
        ("name: x\nfoo: 1\ninputs: {schools: a, towns: b}\n", "unknown key 'foo'"),
        ("name: x\ninputs: {schools: a, towns: b}\nsettings: {class_size: 3}\n", "unknown setting"),
        ("name: x\ninputs: {schools: a, towns: b}\nactions: [{teleport: S1}]\n", "is not known"),
        ("name: [\n", "not valid YAML"),
    ],
)
def test_scenario_file_problems(tmp_path, text, fragment):
    sc = tmp_path / "s.yaml"
    sc.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["check", str(sc), "--lang", "en"])
    assert res.exit_code == 1
    assert fragment in res.output


def test_unexpected_errors_are_one_message_with_traceback_on_v(monkeypatch, tmp_path):
    import schoolplan.scenario

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schoolplan.scenario, "evaluate", boom)
    res = runner.invoke(app, ["run", str(DEMO), "--out", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 3
    assert "Unexpected error: RuntimeError: disk on fire" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["-v", "run", str(DEMO), "--out", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 3 and "Traceback" in res.output


def test_progress_lines_and_quiet(tmp_path):
    res = runner.invoke(app, ["check", str(DEMO), "--lang", "en"])
    assert "reading and checking the inputs" in res.output
    res = runner.invoke(app, ["-q", "check", str(DEMO), "--lang", "en"])
    assert "reading and checking the inputs" not in res.output and "Inputs OK" in res.output


@pytest.mark.parametrize("tiles, expect", [
    ("local:TILES", 'TILES/{z}/{x}/{y}.png'),
    ("http://gis.intranet.local/tiles/{z}/{x}/{y}.png", "http://gis.intranet.local/tiles/{z}/{x}/{y}.png"),
    ("tianditu:abc123", "tk=abc123"),
])
def test_base_layers_are_options(tmp_path, tiles, expect):
    tiles = tiles.replace("TILES", str(tmp_path / "tiles")) if tiles.startswith("local:") else tiles
    expect = "../tiles/{z}/{x}/{y}.png" if expect.startswith("TILES") else expect
    res = runner.invoke(app, ["-q", "run", str(DEMO), "--out", str(tmp_path / "out"), "--lang", "en",
                              "--tiles", tiles])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert expect in html
    # nothing else is remote
    assert 'src="http' not in html and "cdn.jsdelivr" not in html


def test_bad_tiles_option(tmp_path):
    res = runner.invoke(app, ["-q", "run", str(DEMO), "--out", str(tmp_path), "--lang", "en",
                              "--tiles", "tianditu"])
    assert res.exit_code == 1 and "need a key" in res.output


def test_demo_command_writes_the_county_and_runs_it(tmp_path):
    from schoolplan.demo import DEMO_SCENARIO_YAML

    assert DEMO.read_text(encoding="utf-8") == DEMO_SCENARIO_YAML  # the repository's copy is current
    res = runner.invoke(app, ["-q", "demo", "--dir", str(tmp_path / "d"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    for name in ("data/schools/demo_schools_synthetic.xlsx", "scenarios/demo-county.yaml",
                 "out/demo-county/map.html", "out/demo-county/report.xlsx"):
        assert (tmp_path / "d" / name).is_file(), name
    assert (tmp_path / "d/data/schools/demo_schools_synthetic.xlsx").read_bytes() == \
        (ROOT / "data/schools/demo_schools_synthetic.xlsx").read_bytes()
