import pytest

from schoolplan.schema import (
    SCHOOL_ALIASES,
    canonical_columns,
    parse_area_type,
    parse_level,
    parse_ownership,
    teaches_junior,
)


def test_chinese_ledger_headers_map_to_canonical_columns():
    headers = ["学校标识码", "学校名称", "办学类型", "乡镇", "乡镇代码", "学生数", "班数", "教师数",
               "核定学位", "城乡分类代码", "经度", "纬度", "三年级", "备注"]
    mapping, ambiguous = canonical_columns(headers, SCHOOL_ALIASES)
    assert not ambiguous
    assert mapping == {
        "学校标识码": "school_id", "学校名称": "name", "办学类型": "level", "乡镇": "town",
        "乡镇代码": "town_code", "学生数": "enrollment", "班数": "classes", "教师数": "teachers",
        "核定学位": "seats", "城乡分类代码": "area_type", "经度": "lon", "纬度": "lat",
        "三年级": "enrollment_g3",
    }


def test_english_headers_and_explicit_mapping_win():
    mapping, _ = canonical_columns(["School_ID", "Name", "pupils", "My Level"], SCHOOL_ALIASES,
                                   {"level": "My Level"})
    assert mapping["School_ID"] == "school_id"
    assert mapping["pupils"] == "enrollment"
    assert mapping["My Level"] == "level"


def test_two_headers_for_one_column_are_reported_as_ambiguous():
    _, ambiguous = canonical_columns(["在校生数", "学生数"], SCHOOL_ALIASES)
    assert ambiguous == [("enrollment", ["在校生数", "学生数"])]


@pytest.mark.parametrize(
    "value, level",
    [("小学", "primary"), ("初中", "junior"), ("九年一贯制学校", "nine_year"), ("完全中学", "complete"),
     ("教学点", "teaching_point"), ("Primary", "primary"), ("nine-year", "nine_year"),
     ("托管班", None), ("幼儿园", "kindergarten"), ("十二年一贯制学校", "twelve_year"),
     ("普通高中", "senior"), ("特殊教育学校", "special"), ("完小", "primary"), ("村小", "primary"),
     ("中心校", "primary"), ("一贯制学校", "nine_year"), ("國小", "primary"), ("國民中學", "junior"),
     ("九年一貫制學校", "nine_year"), ("民办小学", "primary"), ("公办 初中", "junior"),
     ("ＰＲＩＭＡＲＹ", "primary"), ("民办", None)],
)
def test_levels(value, level):
    assert parse_level(value) == level


@pytest.mark.parametrize(
    "value, area",
    [(111, "urban"), ("112", "urban"), (121, "town"), (122.0, "town"), ("123", "town"),
     (210, "rural"), ("220", "rural"), ("乡村", "rural"), ("城区", "urban"), ("999", None)],
)
def test_nbs_urban_rural_codes(value, area):
    assert parse_area_type(value) == area


def test_grades_7_9_taught_by_junior_nine_year_and_complete():
    assert [lv for lv in ("primary", "junior", "nine_year", "complete", "teaching_point")
            if teaches_junior(lv)] == ["junior", "nine_year", "complete"]


@pytest.mark.parametrize("value, owner", [("民办小学", "private"), ("公办", "public"), ("小学", None),
                                          ("私立", "private"), ("公辦", "public")])
def test_ownership_is_not_a_level(value, owner):
    assert parse_ownership(value) == owner


def test_traditional_headers_map_like_simplified_ones():
    mapping, _ = canonical_columns(["學校代碼", "學校名稱", "學段", "在校生數", "一年級班數"], SCHOOL_ALIASES)
    assert mapping == {"學校代碼": "school_id", "學校名稱": "name", "學段": "level",
                       "在校生數": "enrollment", "一年級班數": "classes_g1"}
