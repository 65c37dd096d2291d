"""The estate review pages (schoolplan.outputs.estate) on the hand-made layout of
tests/test_siting.py: one page per estate, even when two ids clean to the same file name, and
every word of a page in the user's language."""

from __future__ import annotations

from shapely.geometry import Point
from test_siting import _estates, hand  # noqa: F401  (the fixture)

from schoolplan import siting
from schoolplan.outputs import write_review
from schoolplan.outputs.estate import file_ids


def test_file_ids_keep_clean_names_and_separate_clashes():
    ids = file_ids(["E1", "A/1", "A 1", "b", "B", "小区·3"])
    assert ids["E1"] == "E1" and ids["小区·3"] == "小区_3"      # unique: the cleaned id as it is
    assert ids["A/1"].startswith("A_1-") and ids["A 1"].startswith("A_1-") and ids["A/1"] != ids["A 1"]
    assert ids["b"] != ids["B"] and ids["b"].lower() != ids["B"].lower()  # Windows and macOS ignore case
    assert file_ids(["A 1", "A/1"]) == {k: ids[k] for k in ("A 1", "A/1")}  # the same names every run


def test_two_ids_that_clean_alike_get_a_page_each(hand, tmp_path):  # noqa: F811
    result, net = hand
    estates = _estates(("A/1", Point(200, 0), 1400, None), ("A 1", Point(6200, 0), 2250, None))
    estates["name"] = ["甲小区", "乙小区"]
    review = siting.review_estates(estates, result, network=net)
    paths = write_review(review, tmp_path / "out", lang="zh")
    first, second = paths["review-A/1"], paths["review-A 1"]
    assert first != second and first.exists() and second.exists()
    assert "甲小区" in first.read_text(encoding="utf-8") and "乙小区" not in first.read_text(encoding="utf-8")
    assert "乙小区" in second.read_text(encoding="utf-8")
    assert len(list((tmp_path / "out").glob("review-*.html"))) == 2


def test_page_sources_and_units_in_chinese(hand, tmp_path):  # noqa: F811
    result, net = hand
    review = siting.review_estates(_estates(("E1", Point(200, 0), 1400, None)), result, network=net)
    page = write_review(review, tmp_path / "zh", lang="zh")["review-E1"].read_text(encoding="utf-8")
    assert "DOMAIN.md" not in page and "derivation" not in page
    assert "未找到山东省官方值" in page            # the Chinese source of the rate per 1,000 residents
    assert "步行服务范围 500 米" in page and "500 m" not in page  # metres as 米 in the tooltips
    en = write_review(review, tmp_path / "en", lang="en")["review-E1"].read_text(encoding="utf-8")
    assert "no Shandong value found" in en and "DOMAIN.md" not in en
