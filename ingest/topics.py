"""Topic grammar: facility/<site>/<system>/<device_id>/<kind>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import orjson

from ingest.catalogue import SYSTEMS
from ingest.readings import DeviceKey

ROOT = "facility"
KINDS = ("telemetry", "event", "status")
Kind = Literal["telemetry", "event", "status"]

# Safe identifiers: they become InfluxDB tags and SQL values, so nothing that needs escaping.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


class TopicError(ValueError):
    """The topic does not follow the grammar; the message says which part."""


@dataclass(slots=True, frozen=True)
class ParsedTopic:
    device: DeviceKey
    kind: Kind


def parse_topic(topic: str) -> ParsedTopic:
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT:
        raise TopicError(f"topic must be {ROOT}/<site>/<system>/<device_id>/<kind>")
    _, site, system, device_id, kind = parts
    if not IDENTIFIER.fullmatch(site):
        raise TopicError(f"unsafe site identifier {site!r}")
    if system not in SYSTEMS:
        raise TopicError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")
    if not IDENTIFIER.fullmatch(device_id):
        raise TopicError(f"unsafe device_id {device_id!r}")
    if kind == "telemetry":
        return ParsedTopic(DeviceKey(site, system, device_id), "telemetry")
    if kind == "event":
        return ParsedTopic(DeviceKey(site, system, device_id), "event")
    if kind == "status":
        return ParsedTopic(DeviceKey(site, system, device_id), "status")
    raise TopicError(f"unknown message kind {kind!r}; expected one of {', '.join(KINDS)}")


def device_topic(device: DeviceKey, kind: Kind) -> str:
    return f"{ROOT}/{device.site}/{device.system}/{device.device_id}/{kind}"


def is_alarm_output(topic: bytes) -> bool:
    """facility/<site>/alarms/...: where the service publishes alarm states, never telemetry."""
    parts = topic.split(b"/", 3)
    return len(parts) >= 3 and parts[0] == b"facility" and parts[2] == b"alarms"


def not_an_alarm_state(topic: bytes, payload: bytes, max_bytes: int) -> str | None:
    """Why a message on an alarm topic is not one of the service's alarm states, or None."""
    if not payload:
        return None  # an empty retained message clears the topic
    if len(payload) > max_bytes:
        return f"on an alarm topic: {len(payload)} bytes, the limit is {max_bytes}"
    parts = topic.split(b"/")
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return "on an alarm topic: not the service's alarm state (invalid JSON)"
    if (
        len(parts) != 4
        or not isinstance(body, dict)
        or str(body.get("alarm_id")) != parts[3].decode("utf-8", "replace")
        or body.get("site") != parts[1].decode("utf-8", "replace")
    ):
        return "on an alarm topic: not the service's alarm state (topic and body disagree)"
    return None
