"""Issue 16, item 16: paths and options a user gets wrong end with exit 1 and a message, not 3."""

from __future__ import annotations

from typer.testing import CliRunner

from schoolplan.cli import app


def _scenario(d):
    (d / "towns.csv").write_text("乡镇代码,乡镇名称,经度,纬度\n1,王集镇,116.2,36.55\n", encoding="utf-8")
    (d / "schools.csv").write_text(
        "学校代码,学校名称,学段,乡镇代码,在校生数,城乡分类代码,经度,纬度\n"
        "S1,王集中心小学,小学,1,420,121,116.20,36.55\nS2,王集初中,初中,1,600,121,116.21,36.55\n",
        encoding="utf-8")
    path = d / "s.yaml"
    path.write_text("name: t\ninputs:\n  schools: schools.csv\n  towns: towns.csv\n  roads: none\n",
                    encoding="utf-8")
    return path


def test_out_that_is_a_file(tmp_path):
    sc = _scenario(tmp_path)
    (tmp_path / "out").write_text("x", encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(sc), "--out", str(tmp_path / "out"), "--lang", "en"])
    assert res.exit_code == 1, res.output
    # refused before any work, with the folder named and the fix (schoolplan.outputs.folder)
    assert "is a file, not a folder" in res.output and "Traceback" not in res.output


def test_years_that_are_not_years(tmp_path):
    sc = _scenario(tmp_path)
    res = CliRunner().invoke(app, ["compare", str(sc), "--years", "2025,abc"])
    assert res.exit_code == 2 and "--years" in res.output  # a usage error, as typer reports them


def test_scenario_path_that_is_a_folder(tmp_path):
    res = CliRunner().invoke(app, ["check", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 1 and "folder" in res.output
