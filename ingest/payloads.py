"""Payload validation: raw MQTT message -> Reading / DeviceEvent / DeviceStatus, or a DeadLetter.

Strict about shape (types, finite numbers, sizes, the time window, safe names) and lenient about
content: unknown metric names and out-of-range values are accepted as sent.
Never raises: every failure becomes a DeadLetter whose reason names the offending field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from ingest.readings import (
    Accepted,
    DeadLetter,
    DeviceEvent,
    DeviceKey,
    DeviceStatus,
    MetricValue,
    Reading,
)
from ingest.topics import TopicError, parse_topic

METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
# Names that would collide with InfluxDB's time column, our tags or the seq field.
RESERVED_METRICS = frozenset({"time", "seq", "site", "device_id", "system"})
EVENT_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
SEVERITIES = ("critical", "major", "minor", "warning", "info")
DEAD_LETTER_PAYLOAD_BYTES = 1024
MAX_MESSAGE_CHARS = 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True, frozen=True)
class PayloadLimits:
    max_bytes: int = 16_384
    max_metrics: int = 64
    max_past_ms: int = 7 * 24 * 3600 * 1000
    max_future_ms: int = 5 * 60 * 1000


class PayloadError(ValueError):
    pass


def parse_message(
    topic: bytes | str, payload: bytes, now_ms: int, limits: PayloadLimits
) -> Accepted | DeadLetter:
    topic_text = topic if isinstance(topic, str) else topic.decode("utf-8", "replace")
    try:
        if isinstance(topic, bytes):
            topic.decode("utf-8")  # the replacement above is only for the dead-letter record
        parsed = parse_topic(topic_text)
        if len(payload) > limits.max_bytes:
            raise PayloadError(f"payload is {len(payload)} bytes; the limit is {limits.max_bytes}")
        if parsed.kind == "status":
            return _parse_status(parsed.device, payload, now_ms)
        document = _decode_json(payload)
        if parsed.kind == "telemetry":
            return _parse_telemetry(parsed.device, document, now_ms, limits)
        return _parse_event(parsed.device, document, now_ms, limits)
    except UnicodeDecodeError:
        return dead_letter(topic_text, payload, "topic is not valid UTF-8", now_ms)
    except (TopicError, PayloadError) as error:
        return dead_letter(topic_text, payload, str(error), now_ms)


def dead_letter(topic: str, payload: bytes, reason: str, now_ms: int) -> DeadLetter:
    return DeadLetter(topic, payload[:DEAD_LETTER_PAYLOAD_BYTES], reason, now_ms)


def _decode_json(payload: bytes) -> dict[str, object]:
    if not payload:
        raise PayloadError("empty payload")
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise PayloadError(f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PayloadError(f"payload must be a JSON object, not {type(document).__name__}")
    return document


def _parse_status(device: DeviceKey, payload: bytes, now_ms: int) -> DeviceStatus:
    if payload == b"online":
        return DeviceStatus(device, True, now_ms)
    if payload == b"offline":
        return DeviceStatus(device, False, now_ms)
    raise PayloadError("status payload must be 'online' or 'offline'")


def _parse_telemetry(
    device: DeviceKey, document: dict[str, object], now_ms: int, limits: PayloadLimits
) -> Reading:
    ts_ms = _parse_ts(document, now_ms, limits)
    seq = document.get("seq")
    if seq is not None and (type(seq) is not int or not 0 <= seq < 2**63):
        raise PayloadError("seq: must be a non-negative integer")
    metrics = document.get("metrics")
    if not isinstance(metrics, dict):
        raise PayloadError("metrics: required, must be an object")
    if not metrics:
        raise PayloadError("metrics: must hold at least one metric")
    if len(metrics) > limits.max_metrics:
        raise PayloadError(f"metrics: {len(metrics)} metrics; the limit is {limits.max_metrics}")
    values: dict[str, MetricValue] = {}
    for name, value in metrics.items():
        if not METRIC_NAME.fullmatch(name) or name in RESERVED_METRICS:
            raise PayloadError(f"metrics.{name!r}: unsafe or reserved metric name")
        values[name] = _metric_value(name, value)
    unknown = set(document) - {"ts", "seq", "metrics"}
    if unknown:
        raise PayloadError(f"unknown field {sorted(unknown)[0]!r}")
    return Reading(device, ts_ms, seq, values)


def _metric_value(name: str, value: object) -> MetricValue:
    if value is True or value is False:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise PayloadError(f"metrics.{name}: not a finite number")
    if type(value) is int:
        try:
            number = float(value)
        except OverflowError:
            raise PayloadError(f"metrics.{name}: not a finite number") from None
        return number
    raise PayloadError(f"metrics.{name}: must be a number or a boolean, not {_json_type(value)}")


def _parse_event(
    device: DeviceKey, document: dict[str, object], now_ms: int, limits: PayloadLimits
) -> DeviceEvent:
    ts_ms = _parse_ts(document, now_ms, limits)
    code = document.get("code")
    if not isinstance(code, str) or not EVENT_CODE.fullmatch(code):
        raise PayloadError("code: required, 1-64 characters of letters, digits and _.:-")
    severity = document.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise PayloadError(f"severity: must be one of {', '.join(SEVERITIES)}")
    message = document.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS):
        raise PayloadError(f"message: must be a string of at most {MAX_MESSAGE_CHARS} characters")
    unknown = set(document) - {"ts", "code", "severity", "message"}
    if unknown:
        raise PayloadError(f"unknown field {sorted(unknown)[0]!r}")
    return DeviceEvent(device, ts_ms, code, severity, message)


def _parse_ts(document: dict[str, object], now_ms: int, limits: PayloadLimits) -> int:
    raw = document.get("ts")
    if raw is None:
        raise PayloadError("ts: required")
    if type(raw) is int:
        ts_ms = raw
    elif isinstance(raw, str):
        ts_ms = _parse_rfc3339(raw)
    else:
        raise PayloadError("ts: must be epoch milliseconds (integer) or an RFC 3339 string")
    if ts_ms > now_ms + limits.max_future_ms:
        raise PayloadError(f"ts: {ts_ms} is more than {limits.max_future_ms} ms in the future")
    if ts_ms < now_ms - limits.max_past_ms:
        raise PayloadError(f"ts: {ts_ms} is more than {limits.max_past_ms} ms in the past")
    return ts_ms


def _parse_rfc3339(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"ts: {text[:40]!r} is not an RFC 3339 timestamp") from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise PayloadError("ts: RFC 3339 needs a date, a time and an offset (Z or +hh:mm)")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _json_type(value: object) -> str:
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__
    )
