"""Rule files say their alarms in each language: `messages` by language, `message` the
fallback; a language the product does not speak is refused with its file and line."""

from __future__ import annotations

import pytest

from rules.rulefile import RuleFileError, parse_rules, shipped_rules

RULE = """
rules:
  - id: pump-hot
    kind: threshold
    system: water
    metric: temperature
    above: 80
    severity: major
    message: Pump hot
{extra}
"""


def test_a_rule_says_its_message_in_each_language_else_the_fallback() -> None:
    extra = "    messages:\n      zh-CN: 水泵过热\n    names:\n      zh-CN: 水泵温度"
    (rule,) = parse_rules(RULE.format(extra=extra))
    assert rule.message_in("zh-CN") == "水泵过热"
    assert rule.message_in("en") == "Pump hot"  # no English entry: the file's `message`
    assert rule.names == {"zh-CN": "水泵温度"}
    (bare,) = parse_rules(RULE.format(extra="").replace("    message: Pump hot\n", ""))
    assert bare.message_in("zh-CN") == "pump-hot"


def test_an_unknown_language_is_refused_with_its_line() -> None:
    extra = "    messages:\n      fr: Pompe chaude"
    with pytest.raises(RuleFileError) as error:
        parse_rules(RULE.format(extra=extra), "site.yaml")
    assert str(error.value).startswith("site.yaml:11: rules.0.messages.fr")


def test_every_shipped_rule_speaks_english_and_chinese() -> None:
    rules = shipped_rules()
    assert len(rules) == 21
    for rule in rules:
        assert set(rule.messages) == {"en", "zh-CN"}, rule.id
        assert rule.messages["en"] == rule.message
        assert any("\u4e00" <= c <= "\u9fff" for c in rule.messages["zh-CN"]), rule.id
