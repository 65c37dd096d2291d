"""Start-up of the command line (issue 15, item 5) and its usage errors: what is imported is
checked structurally (``sys.modules`` of a fresh interpreter), never timed; the start-up times
are measured by ``benchmarks/bench_pipeline.py --stages startup_help,check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schoolplan.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-county.yaml"
runner = CliRunner()

# heavy libraries no command needs before it has work for them
HEAVY = ("numpy", "pandas", "geopandas", "scipy", "shapely", "pyproj", "openpyxl", "folium",
         "matplotlib", "networkx", "osmnx", "sklearn")
# loaded only by the steps that use them: the solvers, the statistics, the outputs
NOT_FOR_CHECK = ("scipy.optimize", "scipy.stats", "folium", "matplotlib", "sklearn", "osmnx",
                 "networkx", "schoolplan.outputs.maps", "schoolplan.outputs.report")

_PROBE = """
import atexit, json, sys
def _dump():
    with open({out!r}, "w") as f:
        json.dump(sorted(sys.modules), f)
atexit.register(_dump)
sys.argv = ["schoolplan", *{argv!r}]
from schoolplan.cli import main
main()
"""


def _modules_after(tmp_path: Path, argv: list[str]) -> tuple[set[str], subprocess.CompletedProcess]:
    out = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(out=str(out), argv=argv)],
                          capture_output=True, text=True, cwd=tmp_path)
    return set(json.loads(out.read_text())), proc


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules]


def test_importing_the_cli_loads_no_heavy_library():
    code = "import json, sys; import schoolplan.cli; print(json.dumps(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(json.loads(res.stdout))
    assert "schoolplan.cli" in modules
    assert _loaded(modules, HEAVY) == []
    assert not [m for m in modules if m.startswith("schoolplan.") and m not in (
        "schoolplan.cli", "schoolplan.errors")], "the CLI imports its commands' modules lazily"


def test_help_loads_no_heavy_library(tmp_path):
    modules, proc = _modules_after(tmp_path, ["--help"])
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout and "check" in proc.stdout
    assert _loaded(modules, HEAVY) == []


def test_check_works_without_the_solvers_and_outputs(tmp_path):
    modules, proc = _modules_after(tmp_path, ["check", str(DEMO), "--lang", "en"])
    assert proc.returncode == 0, proc.stderr
    assert "Inputs OK" in proc.stdout
    assert "pandas" in modules and "schoolplan.io" in modules  # it did read the inputs
    assert _loaded(modules, NOT_FOR_CHECK) == []


@pytest.mark.parametrize("lang, fragment", [
    ("en", "'*' is not a valid value"),
    ("zh", "'*' 不是有效的值"),
])
@pytest.mark.parametrize("command", ["check", "run"])
def test_set_value_that_is_not_yaml_is_a_usage_error(tmp_path, command, lang, fragment):
    extra = ["--out", str(tmp_path / "o")] if command == "run" else []
    res = runner.invoke(app, [command, str(DEMO), *extra, "--lang", lang,
                              "--set", "class_size_primary=*"])
    assert res.exit_code == 2, res.output
    assert fragment in res.output and "class_size_primary" in res.output
    assert "Traceback" not in res.output and "YAMLError" not in res.output
    assert not (tmp_path / "o").exists()  # refused before any work
    if lang == "zh":
        assert "Usage" not in res.output and "Invalid value" not in res.output


@pytest.mark.parametrize("lang, fragment", [("en", "--set expects name=value"),
                                            ("zh", "--set 应写成 名称=值")])
def test_set_without_equals_is_a_usage_error(lang, fragment):
    res = runner.invoke(app, ["check", str(DEMO), "--lang", lang, "--set", "class_size_primary"])
    assert res.exit_code == 2, res.output
    assert fragment in res.output


def test_set_values_are_read_as_yaml(tmp_path):
    from schoolplan.cli import _parse_sets

    assert _parse_sets(["a=40", "b=[200, 100]", "c=true", "d=text", 'e="*"', "f=x=y"], "en") == {
        "a": 40, "b": [200, 100], "c": True, "d": "text", "e": "*", "f": "x=y"}
