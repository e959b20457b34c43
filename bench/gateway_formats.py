"""The fleet's telemetry as each gateway format carries it, with the sources file that maps it
back: for the per-format rows of bench.ingest. Gateway formats that carry many devices a message
(ThingsBoard gateway, line protocol, mapped JSON records) batch `BATCH` readings a message."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.sources.formats import sparkplug_b_pb2 as pb
from ingest.store.base import Point
from ingest.store.lineprotocol import encode_point
from simulators.fleet import Message

BATCH = 10
SITE = "bench"


@dataclass(frozen=True, slots=True)
class Telemetry:
    system: str
    device: str
    ts: int
    metrics: dict[str, float | bool]


def telemetry(messages: Iterable[Message]) -> list[Telemetry]:
    out = []
    for m in messages:
        parts = m.topic.split("/")
        if parts[-1] != "telemetry":
            continue
        body = json.loads(m.payload)
        out.append(Telemetry(parts[2], parts[3], body["ts"], body["metrics"]))
    return out


def sources(fmt: str, readings: list[Telemetry]) -> str:
    devices = sorted({(r.device, r.system) for r in readings})
    names = {"sparkplug-b": lambda d: f"bench/node1/{d}", "thingsboard-device": lambda d: d}
    name = names.get(fmt, lambda d: d)
    lines = [
        "sources:",
        "  - name: bench",
        f"    format: {fmt}",
        f"    site: {SITE}",
    ]
    if fmt == "thingsboard-device":
        lines += ['    topics: ["tb/+/v1/devices/me/#"]', "    device_level: 1"]
    if fmt == "json":
        lines += [
            '    topics: ["vendor/#"]',
            "    json:",
            '      records: "rows"',
            '      device: "unit"',
            '      time: "t"',
            '      metrics_object: "m"',
        ]
    if fmt == "influx-line":
        lines += ["    line: {device_tag: host, precision: ms}"]
    lines.append("    devices:")
    lines += [f'      "{name(d)}": {{device_id: {d}, system: {s}}}' for d, s in devices]
    if fmt == "sparkplug-b":
        lines.append('      "bench/node1": {device_id: node1, system: power}')
    return "\n".join(lines) + "\n"


def encode(fmt: str, readings: list[Telemetry]) -> list[Message]:
    if fmt == "thingsboard-gateway":
        return [
            Message(0, "v1/gateway/telemetry", json.dumps(_by_device(batch)).encode())
            for batch in _batches(readings)
        ]
    if fmt == "thingsboard-device":
        return [
            Message(
                0,
                f"tb/{r.device}/v1/devices/me/telemetry",
                json.dumps({"ts": r.ts, "values": r.metrics}).encode(),
            )
            for r in readings
        ]
    if fmt == "neuron":
        return [
            Message(
                0,
                "/neuron/bench",
                json.dumps(
                    {"node": r.device, "group": "g", "timestamp": r.ts, "values": r.metrics}
                ).encode(),
            )
            for r in readings
        ]
    if fmt == "influx-line":
        return [
            Message(0, "telegraf/bench", "\n".join(_line(r) for r in batch).encode())
            for batch in _batches(readings)
        ]
    if fmt == "json":
        return [
            Message(
                0,
                "vendor/bench",
                json.dumps(
                    {"rows": [{"unit": r.device, "t": r.ts, "m": r.metrics} for r in batch]}
                ).encode(),
            )
            for batch in _batches(readings)
        ]
    if fmt == "sparkplug-b":
        return _sparkplug(readings)
    raise ValueError(fmt)


def _batches(readings: list[Telemetry]) -> list[list[Telemetry]]:
    return [readings[i : i + BATCH] for i in range(0, len(readings), BATCH)]


def _by_device(batch: list[Telemetry]) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for r in batch:
        out.setdefault(r.device, []).append({"ts": r.ts, "values": r.metrics})
    return out


def _line(r: Telemetry) -> str:
    return encode_point(Point("m", (("host", r.device),), dict(r.metrics), r.ts))


def _sparkplug(readings: list[Telemetry]) -> list[Message]:
    """A node with every device: its birth, each device's birth (aliases, null values), then
    data by alias, with the node's sequence numbers."""
    seq = 0
    births: dict[str, dict[str, int]] = {}
    for r in readings:
        births.setdefault(r.device, {})
        for name in r.metrics:
            births[r.device].setdefault(name, len(births[r.device]) + 1)
    first = readings[0].ts if readings else 0
    node = pb.Payload(timestamp=first, seq=seq)
    node.metrics.add(name="bdSeq", datatype=pb.Int64, long_value=0)
    out = [Message(0, "spBv1.0/bench/NBIRTH/node1", node.SerializeToString())]
    for device, aliases in births.items():
        seq = (seq + 1) % 256
        birth = pb.Payload(timestamp=first, seq=seq)
        for name, alias in aliases.items():
            birth.metrics.add(name=name, alias=alias, datatype=pb.Double, is_null=True)
        out.append(Message(0, f"spBv1.0/bench/DBIRTH/node1/{device}", birth.SerializeToString()))
    for r in readings:
        seq = (seq + 1) % 256
        data = pb.Payload(timestamp=r.ts, seq=seq)
        for name, value in r.metrics.items():
            if isinstance(value, bool):
                data.metrics.add(
                    alias=births[r.device][name], datatype=pb.Boolean, boolean_value=value
                )
            else:
                data.metrics.add(
                    alias=births[r.device][name], datatype=pb.Double, double_value=value
                )
        out.append(Message(0, f"spBv1.0/bench/DDATA/node1/{r.device}", data.SerializeToString()))
    return out
