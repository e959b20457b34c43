"""Training from the telemetry store into the registry, and scoring the live stream."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.payloads import PayloadLimits, parse_message
from ingest.points import reading_point
from ingest.readings import Reading
from ingest.store.sqlite import SqliteTelemetryStore
from rules.registry import ModelRegistry
from rules.scoring import AnomalyScorer
from rules.training import TrainingPlan, train
from simulators.fleet import Fleet

DAY_MS = 86_400_000
START = 1_790_000_000_000 - 1_790_000_000_000 % DAY_MS
LIMITS = PayloadLimits(max_past_ms=10**13, max_future_ms=10**13)


def readings(fleet: Fleet) -> list[Reading]:
    out = []
    for message in fleet.messages():
        item = parse_message(message.topic.encode(), message.payload, START, LIMITS)
        if isinstance(item, Reading):
            out.append(item)
    return out


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    history = Fleet("s1", 5, 1 / 5, 86_400, seed=11, start_ms=START)  # a day, a row per 5 s
    store.write([reading_point(r) for r in readings(history)])
    registry = ModelRegistry(tmp_path / "models")
    devices = [("s1", m.system, m.device_id) for m in history.models]
    lines: list[str] = []
    results = train(
        store,
        registry,
        devices,
        TrainingPlan(START, START + DAY_MS),
        now_ms=START + DAY_MS,
        progress=lines.append,
    )
    store.close()
    systems = {"elevator", "water", "power", "fire", "camera"}
    own = {f"{m.system}/{m.device_id}" for m in history.models}  # a day is enough of their own
    assert {r.key for r in results if r.activated} == systems | own
    assert lines[0] == "[1/5] s1/elevator-001: 17280 rows"
    return registry


def test_a_trained_model_is_in_service_with_its_metadata(registry: ModelRegistry) -> None:
    loaded = registry.load("water")
    assert loaded is not None
    detector, meta = loaded
    assert meta.version == 1 and meta.features == [
        "tank_level",
        "outlet_pressure",
        "flow",
        "pump_current",
    ]
    assert meta.training_rows == 13824 and meta.threshold == detector.threshold_
    assert meta.validation_false_alarm_share <= 0.01


def test_the_live_stream_finds_pump_cavitation_and_stays_quiet_without_it(
    registry: ModelRegistry,
) -> None:
    fault_free = Fleet("s1", 5, 1 / 5, 6000, seed=4, start_ms=START + DAY_MS)
    scorer = AnomalyScorer(registry)
    assert [c for r in readings(fault_free) for c in scorer.score(r)] == []
    faulty = Fleet(
        "s1", 5, 1 / 5, 6000, seed=4, start_ms=START + DAY_MS, scenario="pump_cavitation"
    )
    (truth,) = faulty.truth()
    scorer = AnomalyScorer(registry)
    changes = [c for r in readings(faulty) for c in scorer.score(r)]
    raised = [c for c in changes if c.change == "raise"]
    assert raised and raised[0].rule_id == "anomaly:water"
    assert raised[0].device.device_id == truth.device_id
    assert truth.start_ms <= raised[0].at_ms <= truth.start_ms + 60_000


def test_a_model_that_fails_validation_leaves_the_previous_in_service(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    plan = TrainingPlan(START, START + DAY_MS, max_false_alarm_share=-1.0)  # nothing can pass
    (result,) = [
        r
        for r in train(store, registry, [("s1", "water", "water-001")], plan, now_ms=0)
        if r.key == "water"
    ]
    assert not result.activated and "stays" in result.reason
    assert registry.versions("water") == [1, 2] and registry.current_version("water") == 1


def test_the_scorer_takes_up_a_model_put_in_service_after_it_started(
    registry: ModelRegistry,
) -> None:
    scorer = AnomalyScorer(registry)
    loaded = registry.load("water/water-001")
    assert loaded is not None
    detector, meta = loaded
    newer = registry.save(asdict(meta), detector)
    registry.activate("water/water-001", newer.version)
    scorer.refresh()
    faulty = Fleet(
        "s1", 5, 1 / 5, 6000, seed=4, start_ms=START + DAY_MS, scenario="pump_cavitation"
    )
    raised = [c for r in readings(faulty) for c in scorer.score(r) if c.change == "raise"]
    assert raised[0].values["model"] == "water/water-001 v2"
