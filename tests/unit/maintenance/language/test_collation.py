"""Names in the reader's order: Chinese by pinyin, other text without regard to case."""

from __future__ import annotations

from maintenance.language import catalogue
from maintenance.language.collation import by_name, sort_key

ESTATES = ["中海大厦", "阳光花园", "北辰小区", "河畔花园", "Block A", "block b"]


def test_chinese_names_sort_by_their_pinyin_on_a_chinese_page() -> None:
    assert sorted(ESTATES[:4]) == ["中海大厦", "北辰小区", "河畔花园", "阳光花园"]  # code points
    with catalogue.using("zh-CN"):
        # Latin names take their place among the pinyin, as in a Chinese index
        assert by_name(ESTATES, str) == [
            "北辰小区",  # bei3 chen2
            "Block A",
            "block b",
            "河畔花园",  # he2 pan4
            "阳光花园",  # yang2 guang1
            "中海大厦",  # zhong1 hai3
        ]
    assert sort_key("河畔花园", "zh-CN") == ("he2 pan4 hua1 yuan2", "河畔花园")


def test_other_names_sort_without_regard_to_case() -> None:
    assert by_name(["block b", "Block C", "block a"], str, "en") == [
        "block a",
        "block b",
        "Block C",
    ]
