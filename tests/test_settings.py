import re

import pytest

from schoolplan._settings_zh import SOURCE_ZH
from schoolplan.errors import SettingsError
from schoolplan.settings import SETTINGS, Settings, describe


def test_every_setting_has_a_source_and_confidence():
    for s in SETTINGS.values():
        assert s.source.strip(), s.name
        assert s.confidence in {"V", "P", "M", "A"}
        assert s.description_en and s.description_zh
        assert s.coerce(s.default) == s.default


def test_policy_defaults_match_domain_notes():
    s = Settings()
    assert (s["class_size_primary"], s["class_size_junior"]) == (45, 50)
    assert (s["school_size_cap"], s["school_size_cap_nine_year"]) == (2000, 2500)
    assert s["small_school_tiers"] == [200, 100, 50]
    assert (s["radius_primary_m"], s["radius_junior_m"]) == (500, 1000)
    assert s["walk_limit_g1_3_min"] == 30
    assert (s["seat_warning_yellow"], s["seat_warning_red"]) == (0.9, 1.0)
    assert (s["cv_limit_primary"], s["cv_limit_junior"]) == (0.5, 0.45)


def test_layers_apply_in_order_and_remember_origin():
    s = Settings.layered(("scenario", {"class_size_primary": 40, "radius_primary_m": 600}),
                         ("cli", {"class_size_primary": "42"}))
    assert s["class_size_primary"] == 42 and s.origin("class_size_primary") == "cli"
    assert s["radius_primary_m"] == 600.0 and s.origin("radius_primary_m") == "scenario"
    assert s.origin("class_size_junior") == "default"
    assert s.replace(class_size_junior=48)["class_size_junior"] == 48
    assert Settings()["class_size_junior"] == 50  # defaults untouched


def test_list_setting_from_cli_string():
    assert Settings({"small_school_tiers": "150,80"})["small_school_tiers"] == [150, 80]


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"class_size_primay": 40}, "did you mean 'class_size_primary'"),
        ({"class_size_primary": "forty"}, "expected to be of type int"),
        ({"class_size_primary": 40.5}, "expected to be of type int"),
        ({"radius_primary_m": -5}, "must be >= 0"),
        ({"seat_warning_yellow": 1.2}, "must not be above seat_warning_red"),
        ({"travel_mode_g1_3": "car"}, "expected to be one of"),
    ],
)
def test_bad_settings_raise_with_the_fix(overrides, fragment):
    with pytest.raises(SettingsError, match=fragment):
        Settings(overrides, origin="scenario")


def test_describe_lists_sources_in_both_languages():
    assert "GB 50099-2011" in describe("en")
    assert "小学标准班额" in describe("zh")


#: An English phrase of three or more words (the language scan's test, tests/test_language.py).
_ENGLISH = re.compile(r"(?<![\w./\\-])[A-Za-z][A-Za-z]+(?:[ ,;:'-]+[A-Za-z][A-Za-z]+){2,}")


def test_every_source_reads_in_chinese():
    """A Chinese output shows each setting's source in Chinese: a citation (standard code and
    Chinese title) as it is, an English sentence through ``source_zh``."""
    missing = [s.name for s in SETTINGS.values() if _ENGLISH.search(s.source_in("zh"))]
    assert not missing, f"settings whose source needs a source_zh (schoolplan/_settings_zh.py): {missing}"
    assert set(SOURCE_ZH) <= set(SETTINGS), set(SOURCE_ZH) - set(SETTINGS)  # no stale names
    s = SETTINGS["circuity_factor"]
    assert s.source_in("en") == s.source and "Ballou" in s.source_in("zh") and "绕行系数" in s.source_in("zh")
    gb = SETTINGS["class_size_primary"]
    assert gb.source_zh == "" and gb.source_in("zh") == gb.source  # a standard code stays
    record = next(r for r in Settings().to_records() if r["name"] == "circuity_factor")
    assert record["source_zh"] == s.source_zh and record["source"] == s.source


def test_describe_in_chinese_says_依据_and_uses_the_unit_words():
    zh = describe("zh", unit_words={"pupils per class": "人/班"})
    assert "依据：GB 50099-2011" in zh and "source:" not in zh and "[人/班]" in zh
    assert "本工具约定" in zh and "schoolplan convention" not in zh
    assert "source: schoolplan convention" in describe("en")
