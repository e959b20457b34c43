"""The shipped rule set against the simulators' fault scenarios (the rules' share of detection;
anomaly models come on top)."""

from __future__ import annotations

import pytest

from ingest.payloads import PayloadLimits, parse_message
from ingest.readings import DeviceEvent, DeviceStatus, Reading
from rules.engine import ConditionChange, RuleEngine
from rules.rulefile import shipped_rules
from simulators.fleet import Fleet
from simulators.scenarios import SCENARIOS

START = 1_790_000_000_000
LIMITS = PayloadLimits(max_past_ms=10**13, max_future_ms=10**13)
EXPECTED = {
    "breaker_trip": ["power-breaker-trip"],
    "camera_offline": ["camera-offline"],
    "camera_storage_full": ["camera-storage-full"],
    "camera_video_loss": ["camera-video-loss"],
    "elevator_bearing_wear": ["elevator-vibration-high"],
    "elevator_door_motor_degradation": ["elevator-door-slow"],
    "elevator_trapped_passenger": ["elevator-trapped-passenger"],
    "fire_alarm": ["fire-alarm"],
    "fire_panel_fault": ["fire-panel-fault"],
    "phase_imbalance": ["power-voltage-low-l2"],
    "pipe_burst": ["water-leak", "water-pressure-collapse"],
    "pump_cavitation": [],  # oscillation, not a level: left to the anomaly models
    "sprinkler_pressure_loss": ["fire-sprinkler-pressure-low"],
    "tank_leak": ["water-tank-low"],
    "transformer_over_temperature": ["power-transformer-hot"],
}


def run(scenario: str | None) -> tuple[Fleet, list[ConditionChange]]:
    fleet = Fleet("s1", 10, 1.0, 1200.0, seed=3, scenario=scenario, start_ms=START)
    engine = RuleEngine(shipped_rules())
    raised: list[ConditionChange] = []
    for message in fleet.messages():
        now = START + int(message.due_s * 1000)
        item = parse_message(message.topic.encode(), message.payload, START, LIMITS)
        if isinstance(item, Reading):
            changes = engine.on_reading(item)
        elif isinstance(item, DeviceEvent):
            changes = engine.on_event(item)
        elif isinstance(item, DeviceStatus):
            changes = engine.on_status(DeviceStatus(item.device, item.online, now))
        else:
            raise AssertionError(item)
        raised += [c for c in [*changes, *engine.tick(now)] if c.change == "raise"]
    return fleet, raised


def test_the_shipped_rules_are_valid_and_cover_every_system() -> None:
    rules = shipped_rules()
    assert {r.system for r in rules} == {"elevator", "water", "power", "fire", "camera"}
    assert {r.kind for r in rules} == {"threshold", "event", "offline"}


def test_a_fault_free_fleet_raises_nothing() -> None:
    assert run(None)[1] == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_fault_raises_its_alarm_on_its_device_in_its_window(scenario: str) -> None:
    fleet, raised = run(scenario)
    (fault,) = fleet.truth()
    assert sorted(c.rule_id for c in raised) == EXPECTED[scenario]
    for change in raised:
        assert change.device.device_id == fault.device_id
        assert fault.start_ms <= change.at_ms <= fault.end_ms
