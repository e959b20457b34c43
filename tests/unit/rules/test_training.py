"""Training from the telemetry store into the registry, and scoring the live stream."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from ingest.payloads import PayloadLimits, parse_message
from ingest.points import reading_point
from ingest.readings import Reading
from ingest.store.sqlite import SqliteTelemetryStore
from rules.anomaly import TelemetryAnomalyDetector
from rules.registry import ModelRegistry
from rules.scoring import AnomalyScorer
from rules.training import History, TrainingPlan, train, validate
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A day of a five-device fleet, trained once for the module (training is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("trained")
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
    return tmp_path / "models"


@pytest.fixture
def registry(trained: Path, tmp_path: Path) -> ModelRegistry:
    """The trained models and their history, a copy per test: tests retrain on the history and
    put models in service or take them out."""
    shutil.copytree(trained, tmp_path / "models")
    shutil.copy(trained.parent / "telemetry.sqlite", tmp_path / "telemetry.sqlite")
    return ModelRegistry(tmp_path / "models")


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
    # One finding, held while the pump cavitates (a moving fault is never re-baselined), and
    # it says why: the model, and the metrics behind it with the normal range learned.
    assert [(c.change, c.at_ms) for c in changes] == [
        ("raise", raised[0].at_ms),
        ("clear", changes[-1].at_ms),
    ]
    assert (
        changes[-1].at_ms > truth.end_ms and changes[-1].message == "Back to its normal behaviour"
    )
    values = raised[0].values
    assert values["model"] == "water/water-001 v1"
    drivers = str(values["drivers"]).split(", ")
    assert drivers[0] == "outlet_pressure" and len(drivers) == 3
    assert set(values) == {"score", "model", "drivers"} | {
        f"{name}{suffix}" for name in drivers for suffix in ("", " normal", " share")
    }
    assert values["outlet_pressure normal"] == "3.51 .. 4.215"  # training's 0.5-99.5 %
    assert 0.3 < float(values["outlet_pressure share"]) < 1


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


def test_validation_counts_alarms_per_device_day_on_recent_normal_history() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(20_000)
    load = 0.6 + 0.3 * np.sin(2 * np.pi * t / 2000) + rng.normal(0, 0.02, len(t))
    rows = np.column_stack([20 * load + rng.normal(0, 0.4, len(t)), 50 * load])
    stamps = START + 5_000 * t  # a row per 5 s: 20 000 rows = 1.157 days
    detector = TelemetryAnomalyDetector().fit(rows[:10_000])
    recent = History(stamps[10_000:], rows[10_000:].copy())
    assert validate(detector, [recent]) == (0.0, 0.0)
    for start in (2_000, 6_000):  # two faults in the recent history: two inspections
        recent.rows[start : start + 300, 1] -= 8.0  # flow low for the current
    share, per_day = validate(detector, [recent])
    days = (stamps[-1] - stamps[10_000]) / DAY_MS
    flags = detector.predict(recent.rows)
    assert share == flags.mean() and per_day == pytest.approx(2 / days)


def test_a_model_over_the_alarm_budget_is_not_put_in_service(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    plan = TrainingPlan(START, START + DAY_MS, max_false_alarms_per_device_day=-1.0)
    (result,) = [
        r
        for r in train(store, registry, [("s1", "water", "water-001")], plan, now_ms=0)
        if r.key == "water"
    ]
    assert not result.activated
    assert result.reason == (
        "v2 not put in service: 0.00 alarms per device-day on held-out normal history "
        "(budget -1.00); the model in service stays"
    )
    assert registry.current_version("water") == 1


def test_a_model_saved_by_an_older_version_is_not_scored_with(
    registry: ModelRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = registry.load("water")
    assert loaded is not None
    detector, meta = loaded
    del detector.format_  # as pickled before MODEL_FORMAT existed
    older = registry.save(asdict(meta), detector)
    registry.activate("water", older.version)
    with pytest.raises(TypeError, match="older version: retrain it"):
        registry.load("water")
    with caplog.at_level("ERROR", logger="rules.scoring"):
        scorer = AnomalyScorer(registry)
    assert "water" not in scorer._models and "water/water-001" in scorer._models
    assert [r.getMessage() for r in caplog.records] == [
        f"anomaly model water v{older.version} cannot be loaded; skipped"
    ]


def test_feedback_marks_false_findings_normal_and_drops_confirmed_faults() -> None:
    from rules.training import with_feedback

    def rows(stamps: list[int]) -> History:
        return History(np.asarray(stamps, dtype=np.int64), np.asarray([[float(t)] for t in stamps]))

    history = rows([10, 20, 30, 40, 50, 60])
    fetched: list[tuple[int, int]] = []

    def fetch(window: tuple[int, int]) -> History:
        fetched.append(window)
        stored = (1, 2, 3, 10, 20, 30, 40, 50, 60)  # the store also holds the days before
        return rows([t for t in stored if window[0] <= t <= window[1]])

    # a false finding before the training period, one inside it (overlapping the first), and a
    # confirmed fault
    out = with_feedback(history, fetch, normal=[(1, 3), (2, 30)], faulty=[(45, 55)])
    assert fetched == [(1, 3), (2, 30)]
    assert out.stamps_ms.tolist() == [1, 2, 3, 10, 20, 30, 40, 60]
    assert out.confirmed is not None
    assert out.confirmed.tolist() == [True] * 6 + [False, False]
    assert out.labels().tolist() == [0] * 6 + [-1, -1]
    fit, held_out = out.split(0.5)  # of the 2 unconfirmed rows, the newest half is held out
    assert fit.stamps_ms.tolist() == [1, 2, 3, 10, 20, 30, 40]
    assert held_out.stamps_ms.tolist() == [60]
    assert with_feedback(history, fetch, [], []) is history
