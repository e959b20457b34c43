"""Readings and events as telemetry-store points (the mapping docs/telemetry.md documents)."""

from __future__ import annotations

from ingest.readings import DeviceEvent, Reading
from ingest.store.base import FieldValue, Point

EVENT_MEASUREMENT = "events"


def reading_point(reading: Reading) -> Point:
    device = reading.device
    fields: dict[str, FieldValue] = dict(reading.metrics)
    if reading.seq is not None:
        fields["seq"] = reading.seq
    return Point(
        device.system,
        (("device_id", device.device_id), ("site", device.site)),
        fields,
        reading.ts_ms,
    )


def event_point(event: DeviceEvent) -> Point:
    device = event.device
    fields: dict[str, FieldValue] = {"code": event.code}
    if event.severity is not None:
        fields["severity"] = event.severity
    if event.message is not None:
        fields["message"] = event.message
    return Point(
        EVENT_MEASUREMENT,
        (("device_id", device.device_id), ("site", device.site), ("system", device.system)),
        fields,
        event.ts_ms,
    )
