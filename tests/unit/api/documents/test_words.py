"""An anomaly finding's words (its alarm messages, its predictive inspection's title) said in
the reader's language, from what was stored in English."""

from __future__ import annotations

from types import SimpleNamespace

from api.documents.words import anomaly_message, rule_message
from maintenance.alarms.tickets import PREDICTIVE_TITLE, said_title
from maintenance.language import catalogue
from rules.scoring import CLEARED, RAISED, REBASELINED


def test_a_predictive_inspections_title_in_chinese_and_english() -> None:
    title = PREDICTIVE_TITLE.format(where="water-001 (water)")
    with catalogue.using("zh-CN"):
        assert said_title(title) == "预测性检查：water-001 (water) 的运行与其历史正常状态不符"
        assert said_title("Door slow: LIFT-A1") == "Door slow: LIFT-A1"  # people's words
    with catalogue.using("en"):
        assert said_title(title) == title


def test_an_anomaly_findings_messages_in_chinese() -> None:
    raised = RAISED.format(score=3.14159, names="flow, pump_current")
    with catalogue.using("zh-CN"):
        assert (
            anomaly_message(raised)
            == "运行与其历史正常状态不符（异常评分 3.14；flow, pump_current）"
        )
        assert anomaly_message(CLEARED) == "已恢复正常运行"
        assert anomaly_message(REBASELINED) == "变化持续存在：模型已将其作为新的基线"
        alarm = SimpleNamespace(rule_id="anomaly:water", message=raised)
        assert rule_message(alarm) == anomaly_message(raised)
    with catalogue.using("en"):
        assert anomaly_message(raised) == raised
