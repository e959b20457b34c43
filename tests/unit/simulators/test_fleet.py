from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.payloads import PayloadLimits, parse_message
from ingest.readings import DeadLetter, DeviceEvent, DeviceStatus, Reading
from simulators.fleet import Fleet
from simulators.scenarios import SCENARIOS

START = 1_790_000_000_000


def fleet(scenario: str | None = None, seed: int = 3) -> Fleet:
    return Fleet("s1", 10, 1.0, 100.0, seed=seed, scenario=scenario, start_ms=START)


def test_the_same_seed_gives_the_same_messages_and_another_seed_does_not() -> None:
    first = [(m.topic, m.payload) for m in fleet().messages()]
    assert first == [(m.topic, m.payload) for m in fleet().messages()]
    assert first != [(m.topic, m.payload) for m in fleet(seed=4).messages()]


def test_every_message_follows_the_telemetry_contract() -> None:
    limits = PayloadLimits(max_past_ms=10**13)
    kinds = {"reading": 0, "event": 0}
    for m in fleet("fire_alarm").messages():
        parsed = parse_message(m.topic.encode(), m.payload, START + 200_000, limits)
        assert not isinstance(parsed, DeadLetter), parsed
        if isinstance(parsed, Reading):
            kinds["reading"] += 1
            assert 3 <= len(parsed.metrics) <= 6
        elif isinstance(parsed, DeviceEvent):
            kinds["event"] += 1
    assert kinds == {"reading": 1000, "event": 1}


def test_counters_never_decrease() -> None:
    last: dict[tuple[str, str], float] = {}
    for m in Fleet("s1", 20, 1.0, 300.0, seed=1, start_ms=START).messages():
        metrics = json.loads(m.payload)["metrics"]
        for name in ("trips", "door_cycles", "running_hours", "energy"):
            if name in metrics:
                key = (m.topic, name)
                assert metrics[name] >= last.get(key, 0.0)
                last[key] = metrics[name]
    assert len(last) == 16  # 4 elevators x 2 counters, 4 pumps, 4 meters


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_changes_its_device_inside_its_window_only(name: str, tmp_path: Path) -> None:
    healthy = {(m.topic, m.payload) for m in fleet().messages()}
    faulty = fleet(name)
    truth = faulty.truth()
    assert len(truth) == 1 and truth[0].scenario == name
    (fault,) = truth
    changed = [m for m in faulty.messages() if (m.topic, m.payload) not in healthy]
    assert changed, "the scenario left every message as it was"
    for m in changed:
        assert f"/{fault.device_id}/" in m.topic
        if m.topic.endswith("/telemetry"):
            assert fault.start_ms <= json.loads(m.payload)["ts"] < fault.end_ms
    path = tmp_path / "truth.json"
    faulty.write_truth(path)
    assert json.loads(path.read_text())[0]["device_id"] == fault.device_id


def test_camera_offline_publishes_the_last_will_and_comes_back() -> None:
    messages = list(fleet("camera_offline").messages())
    statuses = [m for m in messages if m.topic.endswith("/status")]
    assert [(m.payload, m.will, m.retain) for m in statuses] == [
        (b"offline", True, True),
        (b"online", False, True),
    ]
    parsed = parse_message(statuses[0].topic.encode(), statuses[0].payload, START, PayloadLimits())
    assert isinstance(parsed, DeviceStatus) and parsed.online is False
