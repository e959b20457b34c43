from __future__ import annotations

import pytest

from ingest.payloads import PayloadLimits, parse_message
from ingest.readings import Accepted, DeadLetter, DeviceEvent, DeviceKey, DeviceStatus, Reading

NOW = 1_790_000_000_000
LIMITS = PayloadLimits()
TOPIC = b"facility/s1/water/pump-1/telemetry"


def parse(payload: bytes, topic: bytes = TOPIC) -> Accepted | DeadLetter:
    return parse_message(topic, payload, NOW, LIMITS)


def test_telemetry_becomes_a_reading_with_float_numbers_and_boolean_flags() -> None:
    reading = parse(b'{"ts": %d, "seq": 7, "metrics": {"flow": 30, "p": 2.5, "on": true}}' % NOW)
    assert reading == Reading(
        DeviceKey("s1", "water", "pump-1"), NOW, 7, {"flow": 30.0, "p": 2.5, "on": True}
    )
    assert isinstance(reading, Reading) and type(reading.metrics["flow"]) is float


def test_rfc3339_timestamps_are_exact_to_the_millisecond() -> None:
    reading = parse(b'{"ts": "2026-09-21T14:13:20.123+02:00", "metrics": {"x": 1}}')
    assert isinstance(reading, Reading)
    assert reading.ts_ms == 1_790_000_000_000 - 2 * 3600 * 1000 + 123
    zulu = parse(b'{"ts": "2026-09-21T14:13:20.5Z", "metrics": {"x": 1}}')
    assert isinstance(zulu, Reading) and zulu.ts_ms == 1_790_000_000_500


def test_unknown_metrics_and_out_of_range_values_are_kept() -> None:
    reading = parse(b'{"ts": %d, "metrics": {"vendor_x": -1e6, "tank_level": 250}}' % NOW)
    assert isinstance(reading, Reading)
    assert reading.metrics == {"vendor_x": -1e6, "tank_level": 250.0}


def test_events_and_statuses() -> None:
    event = parse(
        b'{"ts": %d, "code": "pump_trip", "severity": "major", "message": "x"}' % NOW,
        b"facility/s1/water/pump-1/event",
    )
    assert event == DeviceEvent(DeviceKey("s1", "water", "pump-1"), NOW, "pump_trip", "major", "x")
    assert parse(b"offline", b"facility/s1/water/pump-1/status") == DeviceStatus(
        DeviceKey("s1", "water", "pump-1"), False, NOW
    )


CORPUS = [
    (b"not json", TOPIC, "invalid JSON"),
    (b"", TOPIC, "empty payload"),
    (b"[1, 2]", TOPIC, "JSON object"),
    (b'{"metrics": {"x": 1}}', TOPIC, "ts: required"),
    (b'{"ts": "yesterday", "metrics": {"x": 1}}', TOPIC, "RFC 3339"),
    (b'{"ts": "2026-09-21T14:13:20", "metrics": {"x": 1}}', TOPIC, "offset"),
    (b'{"ts": 1.5, "metrics": {"x": 1}}', TOPIC, "epoch milliseconds"),
    (b'{"ts": true, "metrics": {"x": 1}}', TOPIC, "epoch milliseconds"),
    (b'{"ts": %d, "metrics": {"x": 1}}' % (NOW + 3_600_000), TOPIC, "in the future"),
    (b'{"ts": %d, "metrics": {"x": 1}}' % (NOW - 30 * 86_400_000), TOPIC, "in the past"),
    (b'{"ts": %d, "metrics": {"x": NaN}}' % NOW, TOPIC, "invalid JSON"),
    (b'{"ts": %d, "metrics": {"x": Infinity}}' % NOW, TOPIC, "invalid JSON"),
    (b'{"ts": %d, "metrics": {"x": 1e999}}' % NOW, TOPIC, "infinity"),
    (b'{"ts": %d, "metrics": {"x": 1%s}}' % (NOW, b"0" * 400), TOPIC, "infinity"),
    (b'{"ts": %d, "metrics": {"x": "12"}}' % NOW, TOPIC, "metrics.x: must be a number"),
    (b'{"ts": %d, "metrics": {"x": null}}' % NOW, TOPIC, "metrics.x: must be a number"),
    (b'{"ts": %d, "metrics": {"x": [1]}}' % NOW, TOPIC, "metrics.x: must be a number"),
    (b'{"ts": %d, "metrics": {}}' % NOW, TOPIC, "at least one"),
    (b'{"ts": %d, "metrics": 5}' % NOW, TOPIC, "metrics: required"),
    (b'{"ts": %d, "metrics": {"a b": 1}}' % NOW, TOPIC, "unsafe or reserved"),
    (b'{"ts": %d, "metrics": {"time": 1}}' % NOW, TOPIC, "unsafe or reserved"),
    (b'{"ts": %d, "metrics": {"x": 1}, "extra": 1}' % NOW, TOPIC, "unknown field 'extra'"),
    (b'{"ts": %d, "seq": -1, "metrics": {"x": 1}}' % NOW, TOPIC, "seq"),
    (
        b'{"ts": %d, "metrics": {"x": 1}}' % NOW,
        b"facility/s1/boiler/b1/telemetry",
        "unknown system",
    ),
    (
        b'{"ts": %d, "metrics": {"x": 1}}' % NOW,
        b"facility/s1/water/a b/telemetry",
        "unsafe device_id",
    ),
    (
        b'{"ts": %d, "metrics": {"x": 1}}' % NOW,
        b"facility/s1/water/a,b=c/telemetry",
        "unsafe device_id",
    ),
    (
        b'{"ts": %d, "metrics": {"x": 1}}' % NOW,
        b'facility/s1/water/a"b/telemetry',
        "unsafe device_id",
    ),
    (
        b'{"ts": %d, "metrics": {"x": 1}}' % NOW,
        b"facility/s1/water/p1/other",
        "unknown message kind",
    ),
    (b'{"ts": %d, "metrics": {"x": 1}}' % NOW, b"facility/s1/water/telemetry", "topic must be"),
    (b'{"ts": %d, "metrics": {"x": 1}}' % NOW, b"facility/s\xff/water/p/telemetry", "UTF-8"),
    (b'{"ts": 1, "metrics": {"x": "\xff"}}', TOPIC, "invalid JSON"),
    (b"x" * 1_000_000, TOPIC, "the limit is 16384"),
    (b"maybe", b"facility/s1/water/pump-1/status", "online' or 'offline"),
    (b'{"ts": %d}' % NOW, b"facility/s1/water/pump-1/event", "code: required"),
    (
        b'{"ts": %d, "code": "x", "severity": "huge"}' % NOW,
        b"facility/s1/water/p/event",
        "severity",
    ),
]


@pytest.mark.parametrize(("payload", "topic", "reason"), CORPUS)
def test_malformed_messages_become_dead_letters_with_their_reason(
    payload: bytes, topic: bytes, reason: str
) -> None:
    result = parse(payload, topic)
    assert isinstance(result, DeadLetter), result
    assert reason in result.reason
    assert result.payload == payload[:1024]
    assert result.received_ms == NOW


def test_metric_count_is_bounded() -> None:
    metrics = ",".join(f'"m{i}": {i}' for i in range(65))
    result = parse(b'{"ts": %d, "metrics": {%s}}' % (NOW, metrics.encode()))
    assert isinstance(result, DeadLetter) and "the limit is 64" in result.reason


def test_the_documented_catalogue_lists_every_metric() -> None:
    from pathlib import Path

    from ingest.catalogue import CATALOGUE

    text = (Path(__file__).resolve().parents[3] / "docs" / "telemetry.md").read_text()
    for system, metrics in CATALOGUE.items():
        assert f"### {system}" in text
        for metric in metrics:
            assert f"| `{metric.name}` | {metric.unit} |" in text
