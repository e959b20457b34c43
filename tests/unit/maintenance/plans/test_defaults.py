"""The shipped plans and their checklists in English and Chinese."""

from __future__ import annotations

from maintenance.language.catalogue import using
from maintenance.plans.checklists import CHECKLISTS
from maintenance.plans.defaults import SHIPPED, shipped_title


def test_every_checklist_item_speaks_english_and_chinese() -> None:
    items = [item for checklist in CHECKLISTS.values() for item in checklist]
    assert len(items) == 32
    items += [item for programme in SHIPPED for item in programme.checklist]
    for item in items:
        assert item["texts"]["en"] == item["text"], item["key"]
        assert any("\u4e00" <= c <= "\u9fff" for c in item["texts"]["zh-CN"]), item["key"]


def test_a_shipped_plan_and_its_inspections_titles_are_said_in_the_readers_language() -> None:
    assert len(SHIPPED) == 17
    assert len({p.name for p in SHIPPED}) == 17  # the name is the identity
    title = "Quarterly comprehensive inspection: fire · fire-1 Fire panel (2027-01-01)"
    with using("zh-CN"):
        assert shipped_title(title) == "季度综合检查：消防 · fire-1 Fire panel (2027-01-01)"
        assert shipped_title("Monthly check: camera") == "月度检查：视频监控"
        assert shipped_title("Tap leaks") == "Tap leaks"  # a person's words stay theirs
        assert shipped_title("Elevator maintenance: half-monthly · L1 (2027-01-16)") == (
            "电梯维护保养：半月 · L1 (2027-01-16)"
        )
        for programme in SHIPPED:
            assert any("\u4e00" <= c <= "\u9fff" for c in shipped_title(programme.name))
    with using("en"):
        assert shipped_title(title) == title
