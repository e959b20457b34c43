from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.readings import DeviceEvent, DeviceKey, DeviceStatus, Reading
from rules.engine import RuleEngine
from rules.model import ThresholdRule
from rules.rulefile import RuleFileError, parse_rules

LIFT = DeviceKey("s1", "elevator", "elevator-001")

RULES = """
rules:
  - id: vibration-high
    kind: threshold
    system: elevator
    metric: vibration
    above: 4.5
    deadband: 0.5
    on_delay: 30s
    off_delay: 1m
    severity: major
    message: car vibration high
  - id: trapped
    kind: event
    system: elevator
    codes: [trapped_passenger]
    clear_codes: [passenger_released]
    severity: critical
  - id: lift-offline
    kind: offline
    system: elevator
    after: 5m
    severity: major
"""


def reading(ts_s: float, vibration: float) -> Reading:
    return Reading(LIFT, int(ts_s * 1000), None, {"vibration": vibration})


def test_a_rule_file_parses_into_rules() -> None:
    rules = parse_rules(RULES)
    assert [r.id for r in rules] == ["vibration-high", "trapped", "lift-offline"]
    threshold = rules[0]
    assert isinstance(threshold, ThresholdRule)
    assert (threshold.on_delay_ms, threshold.off_delay_ms) == (30_000, 60_000)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "rules:\n  - id: a\n    kind: threshold\n    metric: x\n    severity: major\n",
            2,
            "give exactly one of above / below",
        ),
        (
            "rules:\n  - id: a\n    kind: threshold\n    metric: x\n    above: high\n"
            "    severity: major\n",
            5,
            "rules.0.above",
        ),
        ("rules:\n  - id: a\n    kind: teleport\n    severity: major\n", 3, "kind"),
        (
            "rules:\n  - id: a\n    kind: event\n    codes: [x]\n    severity: major\n"
            "  - id: a\n    kind: event\n    codes: [y]\n    severity: minor\n",
            6,
            "repeats",
        ),
        ("rules: [\n", 2, "not valid YAML"),
        ("- just a list\n", 1, "mapping"),
        (
            "rules:\n  - id: a\n    kind: offline\n    after: soon\n    severity: major\n",
            2,
            "duration",
        ),
    ],
)
def test_invalid_rule_files_name_the_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(RuleFileError) as error:
        parse_rules(text, "rules/site.yaml")
    assert error.value.path == "rules/site.yaml"
    assert error.value.line == line, error.value
    assert reason in error.value.reason


def test_threshold_raises_after_its_on_delay_and_clears_after_its_off_delay() -> None:
    engine = RuleEngine(parse_rules(RULES))
    assert engine.on_reading(reading(0, 5.0)) == []
    assert engine.on_reading(reading(20, 5.2)) == []  # 20 s < on-delay
    (raised,) = engine.on_reading(reading(30, 5.1))
    assert (raised.change, raised.at_ms, raised.values) == ("raise", 30_000, {"vibration": 5.1})
    assert engine.on_reading(reading(40, 4.2)) == []  # inside the deadband: still active
    assert engine.on_reading(reading(50, 3.9)) == []  # back to normal, off-delay running
    (cleared,) = engine.on_reading(reading(110, 3.8))
    assert (cleared.change, cleared.at_ms) == ("clear", 110_000)


def test_a_breach_that_does_not_last_never_raises() -> None:
    engine = RuleEngine(parse_rules(RULES))
    engine.on_reading(reading(0, 5.0))
    assert engine.on_reading(reading(25, 4.0)) == []  # dipped back before 30 s
    assert engine.on_reading(reading(40, 5.0)) == []  # the delay starts again
    assert engine.tick(69_000) == []
    (raised,) = engine.tick(70_000)
    assert raised.at_ms == 70_000  # raised by the clock, with no further reading


def test_events_raise_and_clear_by_code() -> None:
    engine = RuleEngine(parse_rules(RULES))
    (raised,) = engine.on_event(DeviceEvent(LIFT, 1000, "trapped_passenger", "critical", None))
    assert raised.severity == "critical" and raised.values == {"code": "trapped_passenger"}
    # A repeat is passed on (the alarm records deduplicate it; a reset alarm raises again).
    (repeat,) = engine.on_event(DeviceEvent(LIFT, 2000, "trapped_passenger", None, None))
    assert (repeat.change, repeat.at_ms, repeat.resettable) == ("raise", 2000, True)
    (cleared,) = engine.on_event(DeviceEvent(LIFT, 9000, "passenger_released", None, None))
    assert cleared.change == "clear"
    assert engine.on_event(DeviceEvent(LIFT, 9500, "passenger_released", None, None)) == []


EVENT_RULES = """
rules:
  - id: breaker
    kind: event
    system: power
    codes: [breaker_trip]
    latch: true
    life_safety: true
    severity: critical
  - id: door-forced
    kind: event
    system: power
    codes: [door_forced]
    clear_after: 10m
    severity: minor
  - id: fire-panel
    kind: event
    system: fire
    codes: [fire_alarm]
    severity: critical
"""


def test_latched_events_wait_for_a_reset_and_self_clearing_ones_clear_after_their_hold() -> None:
    rules = parse_rules(EVENT_RULES)
    assert [(r.id, r.life_safety) for r in rules] == [
        ("breaker", True),
        ("door-forced", False),
        ("fire-panel", True),  # every fire rule is life-safety
    ]
    engine = RuleEngine(rules)
    meter = DeviceKey("s1", "power", "power-001")
    (trip,) = engine.on_event(DeviceEvent(meter, 1000, "breaker_trip", None, None))
    assert (trip.change, trip.life_safety, trip.resettable) == ("raise", True, True)
    (forced,) = engine.on_event(DeviceEvent(meter, 2000, "door_forced", None, None))
    assert forced.change == "raise"
    assert engine.tick(2000 + 599_999) == []
    engine.on_event(DeviceEvent(meter, 300_000, "door_forced", None, None))  # the hold restarts
    assert engine.tick(2000 + 600_000) == []
    (over,) = engine.tick(300_000 + 600_000)
    assert (over.rule_id, over.change, over.at_ms, over.values) == (
        "door-forced",
        "clear",
        900_000,
        {"held_ms": 600_000},
    )
    assert engine.tick(10**9) == []  # the breaker stays latched, however long


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("    latch: true\n    clear_codes: [x]\n", "latched event clears only on reset"),
        ("    clear_after: 5m\n    clear_codes: [x]\n", "clear_codes or clear_after"),
        ("    clear_after: 0.5\n", "greater than or equal to 1000"),
    ],
)
def test_an_event_rule_has_one_way_back_to_normal(extra: str, error: str) -> None:
    text = "rules:\n  - id: e\n    kind: event\n    codes: [a]\n    severity: minor\n" + extra
    with pytest.raises(RuleFileError) as refused:
        parse_rules(text)
    assert error in str(refused.value)


def test_offline_by_last_will_or_by_silence() -> None:
    engine = RuleEngine(parse_rules(RULES))
    (offline,) = engine.on_status(DeviceStatus(LIFT, False, 1000))
    assert offline.change == "raise"
    (back,) = engine.on_reading(reading(2, 1.0))
    assert back.change == "clear" and back.rule_id == "lift-offline"
    assert engine.tick(2000 + 299_999) == []
    (silent,) = engine.tick(2000 + 300_000)
    assert (silent.change, silent.at_ms) == ("raise", 302_000)
    assert engine.tick(2000 + 400_000) == []  # raised once


def test_scopes_keep_rules_to_their_devices() -> None:
    engine = RuleEngine(parse_rules(RULES))
    pump = DeviceKey("s1", "water", "water-001")
    assert engine.on_reading(Reading(pump, 0, None, {"vibration": 99.0})) == []
    assert engine.tick(10**9) == []


samples = st.lists(st.tuples(st.integers(1, 20_000), st.floats(0, 10)), max_size=60)


@given(samples)
def test_no_alarm_before_its_on_delay_and_no_flapping_in_the_deadband(
    steps: list[tuple[int, float]],
) -> None:
    (rule,) = [r for r in parse_rules(RULES) if r.id == "vibration-high"]
    engine = RuleEngine([rule])
    t = 0
    history: list[tuple[int, float]] = []
    active = False
    for dt, value in steps:
        t += dt
        history.append((t, value))
        for change in engine.on_reading(Reading(LIFT, t, None, {"vibration": value})):
            if change.change == "raise":
                # every sample in the last 30 s up to the raise was above the limit
                window = [v for ts, v in history if change.at_ms - 30_000 <= ts <= change.at_ms]
                assert window and all(v > 4.5 for v in window)
                assert history[0][0] <= change.at_ms - 30_000
                active = True
            else:
                # a clear needs a minute of values below the limit minus the deadband
                window = [v for ts, v in history if change.at_ms - 60_000 <= ts <= change.at_ms]
                assert all(v <= 4.0 for v in window)
                active = False
    assert (("vibration-high", LIFT) in engine.active()) == active


MORE_RULES = """
rules:
  - id: pressure-swing
    kind: rate
    system: water
    metric: outlet_pressure
    window: 30s
    fall: 1.0
    deadband: 0.2
    off_delay: 20s
    severity: minor
  - id: pump-dry-run
    kind: composite
    system: water
    all:
      - {metric: pump_current, below: 5}
      - {metric: flow, below: 1, deadband: 0.5}
    on_delay: 10s
    severity: major
"""
PUMP = DeviceKey("s1", "water", "water-001")


def pump(ts_s: float, **metrics: float) -> Reading:
    return Reading(PUMP, int(ts_s * 1000), None, dict(metrics))


def test_rate_of_change_raises_on_a_fall_within_its_window() -> None:
    engine = RuleEngine(parse_rules(MORE_RULES))
    assert engine.on_reading(pump(0, outlet_pressure=4.0)) == []
    assert engine.on_reading(pump(20, outlet_pressure=3.5)) == []  # fell 0.5
    assert engine.on_reading(pump(40, outlet_pressure=3.4)) == []  # 4.0 left the 30 s window
    (raised,) = engine.on_reading(pump(50, outlet_pressure=2.3))  # fell 1.2 in 30 s
    assert raised.change == "raise" and raised.rule_id == "pressure-swing"
    assert raised.values["fall"] == pytest.approx(1.2)
    assert engine.on_reading(pump(60, outlet_pressure=2.3)) == []  # fall 1.1: still active
    assert engine.on_reading(pump(90, outlet_pressure=2.3)) == []  # steady: off-delay running
    (cleared,) = engine.tick(110_000)
    assert (cleared.change, cleared.at_ms) == ("clear", 110_000)


def test_composite_needs_all_its_limits_from_the_latest_values() -> None:
    engine = RuleEngine(parse_rules(MORE_RULES))
    assert engine.on_reading(pump(0, pump_current=3.0)) == []  # flow not seen yet
    assert engine.on_reading(pump(1, flow=0.5)) == []  # both hold: on-delay starts
    assert engine.on_reading(pump(5, flow=0.4, pump_current=3.1)) == []
    (raised,) = engine.tick(11_000)
    assert raised.values == {"pump_current": 3.1, "flow": 0.4}
    assert engine.on_reading(pump(12, flow=1.2)) == []  # inside flow's deadband
    (cleared,) = engine.on_reading(pump(13, flow=1.6))
    assert cleared.change == "clear"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rules:\n  - {id: a, kind: rate, metric: x, window: 1m, severity: major}\n", "rise"),
        ("rules:\n  - {id: a, kind: composite, severity: major}\n", "all / any"),
        (
            "rules:\n  - {id: a, kind: composite, severity: major, all: [{metric: x}]}\n",
            "above / below",
        ),
    ],
)
def test_invalid_rate_and_composite_rules_say_why(text: str, reason: str) -> None:
    with pytest.raises(RuleFileError) as error:
        parse_rules(text)
    assert reason in error.value.reason


def test_a_reload_keeps_unchanged_rules_and_clears_alarms_of_removed_ones() -> None:
    rules = parse_rules(RULES)
    engine = RuleEngine(rules)
    engine.on_event(DeviceEvent(LIFT, 1000, "trapped_passenger", None, None))
    engine.on_reading(reading(0, 5.0))
    engine.on_reading(reading(30, 5.0))
    assert engine.active() == {("trapped", LIFT), ("vibration-high", LIFT)}
    cleared = engine.replace_rules([r for r in rules if r.id != "trapped"], 40_000)
    assert [(c.rule_id, c.change, c.at_ms) for c in cleared] == [("trapped", "clear", 40_000)]
    assert engine.active() == {("vibration-high", LIFT)}


def test_restore_brings_back_active_alarms_and_last_seen_times() -> None:
    engine = RuleEngine(parse_rules(RULES))
    engine.restore([("vibration-high", LIFT)], [(LIFT, 1_000)])
    (cleared,) = engine.on_reading(reading(100, 1.0)) + engine.tick(160_000)
    assert cleared.change == "clear" and cleared.rule_id == "vibration-high"
    engine2 = RuleEngine(parse_rules(RULES))
    engine2.restore([], [(LIFT, 1_000)])
    (silent,) = engine2.tick(301_000)
    assert silent.rule_id == "lift-offline"


composite_steps = st.lists(
    st.tuples(st.integers(1, 8_000), st.floats(0, 10), st.floats(0, 3)), max_size=60
)


@given(composite_steps)
def test_a_composite_raises_only_after_all_its_limits_held_for_the_on_delay(
    steps: list[tuple[int, float, float]],
) -> None:
    (rule,) = [r for r in parse_rules(MORE_RULES) if r.id == "pump-dry-run"]
    engine = RuleEngine([rule])
    t = 0
    history: list[tuple[int, float, float]] = []
    for dt, current, flow in steps:
        t += dt
        history.append((t, current, flow))
        for change in engine.on_reading(pump(t / 1000, pump_current=current, flow=flow)):
            if change.change == "raise":
                window = [h for h in history if change.at_ms - 10_000 <= h[0] <= change.at_ms]
                assert all(c < 5 and f < 1 for _, c, f in window)
                assert history[0][0] <= change.at_ms - 10_000


@given(st.lists(st.tuples(st.integers(1, 10_000), st.floats(0, 6)), max_size=80))
def test_rate_alarms_only_on_a_real_fall_and_never_flap_inside_the_deadband(
    steps: list[tuple[int, float]],
) -> None:
    (rule,) = [r for r in parse_rules(MORE_RULES) if r.id == "pressure-swing"]
    engine = RuleEngine([rule])
    t = 0
    history: list[tuple[int, float]] = []
    for dt, value in steps:
        t += dt
        history.append((t, value))
        for change in engine.on_reading(pump(t / 1000, outlet_pressure=value)):
            window = [v for ts, v in history if change.at_ms - 30_000 <= ts <= change.at_ms]
            if change.change == "raise":
                assert max(window) - value > 1.0  # fell by more than the limit within 30 s
            else:
                # a clear needs 20 s in which the fall stayed within the limit minus the deadband
                fall = change.values["fall"]
                assert isinstance(fall, float) and fall <= 0.8
