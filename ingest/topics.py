"""Topic grammar: facility/<site>/<system>/<device_id>/<kind>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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
