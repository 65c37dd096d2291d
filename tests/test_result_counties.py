"""``Result.counties``: the county checks are computed once by the diagnosis and written from
there (counties.csv and the report's sheet); a result without them still gets them."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_siting import _hand_files

from schoolplan.counties import COUNTY_COLUMNS, county_checks
from schoolplan.outputs import write_outputs
from schoolplan.scenario import evaluate, scenario_from_dict


@pytest.fixture(scope="module")
def hand_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    return evaluate(scenario_from_dict(_hand_files(folder), base=folder))


def test_the_diagnosis_puts_the_county_checks_on_the_result(hand_result):
    table = hand_result.counties
    assert table is not None and list(table.columns) == COUNTY_COLUMNS
    pd.testing.assert_frame_equal(table, county_checks(hand_result.schools,
                                                       settings=hand_result.settings))


def test_outputs_write_the_result_s_table(hand_result, tmp_path):
    marked = hand_result.counties.assign(message_en="from the result")
    paths = write_outputs(dataclasses.replace(hand_result, counties=marked), tmp_path / "a",
                          lang="en")
    written = pd.read_csv(paths["counties"], encoding="utf-8-sig")
    assert set(written["message_en"]) == {"from the result"}  # not computed a second time


def test_a_result_without_the_table_still_gets_it(hand_result, tmp_path):
    with_table = write_outputs(hand_result, tmp_path / "a", lang="en")["counties"]
    without = write_outputs(dataclasses.replace(hand_result, counties=None), tmp_path / "b",
                            lang="en")["counties"]
    assert with_table.read_bytes() == without.read_bytes()
