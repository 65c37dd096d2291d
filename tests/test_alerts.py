"""预警与提示 apart from 违规: red 学位预警 are warnings the bureau publishes, not rule breaches
(issue 13). Checked on the demo run, with relations computed from its own schools table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from schoolplan.outputs.excel import write_report_xlsx
from schoolplan.outputs.summary import run_page
from schoolplan.rules import ALERT_RULES
from schoolplan.scenario import evaluate, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    return evaluate(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))


def test_seat_warnings_are_alerts_not_violations(result):
    s = result.schools
    red = s[(s["status"] != "closed") & (s["seat_warning"] == "red")]
    assert len(red)  # the demo has red seat warnings to list
    assert not result.violations["rule_id"].isin(ALERT_RULES).any()
    assert set(result.alerts["rule_id"]) == {"seat_warning"}
    assert sorted(result.alerts["object_id"]) == sorted(red["school_id"])
    assert result.counts["alerts"] == {"seat_warning": len(red)}
    assert "seat_warning" not in result.counts["violations"]
    assert sum(result.counts["violations"].values()) == len(result.violations)


def test_report_has_a_warnings_sheet_apart_from_the_rule_checks(result, tmp_path):
    for lang, title, breaches in (("zh", "预警与提示", "规则检查"), ("en", "Warnings and notices", "Violations")):
        path = write_report_xlsx(result, tmp_path / f"report-{lang}.xlsx", lang=lang)
        wb = openpyxl.load_workbook(path)
        assert title in wb.sheetnames and breaches in wb.sheetnames
        rows = list(wb[title].iter_rows(values_only=True))
        body = [r for r in rows[1:] if any(v is not None for v in r)]
        assert len(body) == len(result.alerts)
        text = " ".join(str(v) for r in body for v in r if v is not None)
        if lang == "zh":  # a Chinese sheet shows no English keys
            assert "seat_warning" not in text and "学位预警" in text


def test_summary_page_lists_warnings_in_their_own_section(result):
    for lang, title in (("zh", "预警与提示"), ("en", "Warnings and notices")):
        page = run_page(result, lang=lang)
        sections = {sec.title: sec for sec in page.sections}
        assert title in sections
        assert sum(int(r[1]) for r in sections[title].rows) == len(result.alerts)
        rules = next(sec for t, sec in sections.items() if t != title and t.startswith(
            "规则检查" if lang == "zh" else "Rule checks"))
        assert all(r[0] not in ("学位预警", "seat warning") for r in rules.rows)
