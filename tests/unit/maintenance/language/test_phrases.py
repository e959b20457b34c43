"""What the service writes is said again in the reader's language, its values kept; what a
person wrote is left as written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maintenance.alarms.tickets import anomaly_explanation
from maintenance.language import formats, phrases
from maintenance.language.catalogue import using


def test_each_phrase_reads_back_in_english_as_it_was_written() -> None:
    samples: list[tuple[phrases.Phrase, dict[str, object]]] = [
        (phrases.DISPATCHED, {"skill": "elevator", "site": 1, "load": 2, "candidates": 3}),
        (phrases.NOBODY_ON_DUTY_ANY_SKILL, {"site": 4, "covering": 2, "skilled": 0}),
        (phrases.MANUAL_ASSIGNMENT, {"actor": "dispatcher:li"}),
        (phrases.FAILED_ITEMS, {"count": 2}),
        (phrases.RECTIFICATION, {"rating": 1, "comment": "还是漏水 (still leaking)"}),
        (phrases.PATROL_ABNORMAL, {"round": "夜巡", "point": "B2: gate", "seen": "a: b\nc"}),
    ]
    with using("en"):
        for phrase, values in samples:
            text = phrase.write(**values)
            assert phrases.said(text) == text, text


def test_the_chinese_reader_gets_the_phrase_in_chinese_with_its_values() -> None:
    with using("zh-CN"), formats.in_zone("Asia/Shanghai"):
        dispatched = phrases.DISPATCHED.write(skill="elevator", site=1, load=2, candidates=3)
        assert phrases.said(dispatched) == (
            "自动派单：技能 电梯，负责项目 1，在岗，当前 2 张未完成工单，为 3 名候选人中最少"
        )
        due = datetime(2027, 1, 10, 2, 30, tzinfo=UTC).isoformat()
        assert phrases.say(phrases.SLA_WAS_DUE.write(clock="response", due=due)) == (
            "响应时限为 " + formats.when(datetime(2027, 1, 10, 2, 30, tzinfo=UTC))
        )
        rated = phrases.RECTIFICATION.write(rating=2, comment="not fixed")
        assert phrases.said(rated) == "满意度 2/5：需整改（not fixed）"  # the person's words kept


@pytest.mark.parametrize("text", ["", "called the resident, back at 3", "auto: skill"])
def test_a_persons_text_is_no_phrase(text: str) -> None:
    with using("zh-CN"):
        assert phrases.said(text) is None
        assert phrases.say(text) == text


def test_an_anomaly_tickets_description_line_by_line() -> None:
    values: dict[str, object] = {
        "model": "water/water-001 v3",
        "score": 4.713,
        "drivers": "outlet_pressure",
        "outlet_pressure": 3.642,
        "outlet_pressure normal": "3.51 .. 4.215",
        "outlet_pressure share": 0.42,
    }
    text = anomaly_explanation(values) + "\nWang: 现场检查过 (checked on site)"
    with using("zh-CN"):
        (explained, said), (note, written) = phrases.said_lines(text)
    assert (said, written) == (True, False)
    assert explained == (
        "模型 water/water-001 v3，异常评分 4.713。主要相关指标："
        "水泵出口压力 = 3.642（正常范围 3.51 .. 4.215，占评分 42%）"
    )
    assert note == "Wang: 现场检查过 (checked on site)"
