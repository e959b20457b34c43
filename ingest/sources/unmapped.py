"""The devices nobody has mapped yet, as their held messages show them: for `GET
/devices/unmapped` and `facility devices --unmapped`."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from ingest.deadletters import DeadLetterStore
from ingest.sources.mapping import UNMAPPED


@dataclass(slots=True)
class UnmappedDevice:
    source: str
    device: str  # the gateway's name for it
    topic: str  # where its last message came
    messages: int  # held, waiting for a mapping
    first_ms: int
    last_ms: int
    last_payload: dict[str, object]
    metrics: list[str] = field(default_factory=list)


def unmapped_devices(store: DeadLetterStore) -> list[UnmappedDevice]:
    found: dict[tuple[str, str], UnmappedDevice] = {}
    metrics: dict[tuple[str, str], set[str]] = {}
    for stored in store.held(UNMAPPED):
        letter = stored.letter
        try:
            body = orjson.loads(letter.payload)
            key = (str(body["source"]), str(body["device"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        device = found.get(key)
        if device is None:
            device = found[key] = UnmappedDevice(
                key[0], key[1], letter.topic, 0, letter.received_ms, letter.received_ms, body
            )
            metrics[key] = set()
        device.messages += 1
        device.last_ms, device.topic, device.last_payload = letter.received_ms, letter.topic, body
        if isinstance(body.get("metrics"), dict):
            metrics[key].update(body["metrics"])
    for key, device in found.items():
        device.metrics = sorted(metrics[key])
    return sorted(found.values(), key=lambda d: (d.source, d.device))
