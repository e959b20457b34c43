"""The catalogue's words in every language: one entry per metric, its English the catalogue's
own description, so the two cannot drift apart."""

from __future__ import annotations

from ingest.catalogue import CATALOGUE
from maintenance.language.catalogue import using
from maintenance.language.metrics import DESCRIPTIONS, metric_said, unit_said


def test_every_catalogue_metric_has_its_words() -> None:
    metrics = {m.name: m.description for ms in CATALOGUE.values() for m in ms}
    assert DESCRIPTIONS == metrics


def test_a_metric_and_its_unit_in_chinese_and_english() -> None:
    with using("zh-CN"):
        assert metric_said("motor_current") == "曳引电机电流"
        assert (unit_said("count"), unit_said("degC"), unit_said("A")) == ("次", "°C", "A")
        assert metric_said("humidity") == "Humidity"  # not in the catalogue: its own name
    with using("en"):
        assert metric_said("motor_current") == "Traction motor current"
        assert unit_said("count") == "count"
