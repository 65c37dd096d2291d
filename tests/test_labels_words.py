"""Words for the codes the language scan found (schoolplan.outputs.labels): each checked by hand."""

from __future__ import annotations

from schoolplan.outputs.excel import _method_label, label_value
from schoolplan.outputs.labels import summary_value, unit_words
from schoolplan.settings import SETTINGS


def test_codes_of_the_about_sheet_in_words():
    assert summary_value("cv_over_limit", ["primary/sports_area_m2_per_pupil", "junior/key_teachers_per100"],
                         "zh") == "小学生均体育运动场馆面积、初中每百名学生县级以上骨干教师数"
    assert summary_value("method", "model", "zh") == "空间交互模型（按台账校准）"
    assert summary_value("method", "something else", "zh") == "something else"  # not a code: as it is
    assert label_value("coordinate_system", "file's own / wgs84", "zh") == "按文件自带坐标系（无则为 WGS-84）"
    assert label_value("seat_warning", "closed", "zh") == "已撤并"
    assert label_value("status", "merged", "en") == "moved to the receiving school"
    assert _method_label("road network (walk: 4,336 nodes, drive: 120 nodes)", "zh") == (
        "路网最短路径（步行路网 4,336 个节点、车行路网 120 个节点）")
    assert _method_label("road network (walk: 4,336 nodes)", "en") == "road network (walk: 4,336 nodes)"


def test_every_unit_of_a_setting_has_chinese_words():
    words = unit_words("zh")
    missing = sorted({s.unit for s in SETTINGS.values()} - set(words))
    assert not missing, f"units without words in labels.VALUE_LABELS['unit']: {missing}"
