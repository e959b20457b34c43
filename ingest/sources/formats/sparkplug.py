"""Sparkplug B host application: birth certificates give each metric's alias, sequence numbers
are checked, a gap or an unknown alias asks the node for a rebirth (NCMD `Node Control/Rebirth`),
death certificates make the node or device offline.

Payloads are decoded with the Sparkplug B schema as the specification publishes it
(sparkplug_b.proto, compiled by protoc into sparkplug_b_pb2), never by hand. The maintained
Python Sparkplug libraries (pysparkplug, mqtt-spb-wrapper) pin paho-mqtt 1.x, which the service
cannot run beside its paho-mqtt 2; the tests drive a pysparkplug edge node from its own
virtualenv against this decoder."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from ingest.sources.decoded import (
    MAX_TEXT_CHARS,
    Decoded,
    Problem,
    RawAttributes,
    RawReading,
    RawStatus,
    RawValue,
    Reply,
    number,
)
from ingest.sources.formats import sparkplug_b_pb2 as pb
from ingest.sources.formats.common import FormatError
from ingest.sources.model import Source

REBIRTH = "Node Control/Rebirth"
_BIRTHS = ("NBIRTH", "DBIRTH")
_DATA = ("NDATA", "DDATA")
_TEXT: set[int] = {pb.String, pb.Text}
_SIGNED_BITS: dict[int, int] = {pb.Int8: 8, pb.Int16: 16, pb.Int32: 32, pb.Int64: 64}
_NUMERIC: set[int] = {
    pb.Int8, pb.Int16, pb.Int32, pb.Int64, pb.UInt8, pb.UInt16, pb.UInt32, pb.UInt64,
    pb.Float, pb.Double, pb.Boolean,
}  # fmt: skip


@dataclass
class _Node:
    seq: int | None = None  # the last sequence number seen
    born: bool = False
    datatypes: dict[str | None, dict[int, int]] = field(default_factory=dict)  # alias -> type
    aliases: dict[str | None, dict[int, str]] = field(default_factory=dict)  # None: the node
    devices: set[str] = field(default_factory=set)
    bd_seq: int | None = None  # the bdSeq of the last NBIRTH: its session's NDEATH carries it


def rebirth_request(group: str, node: str, now_ms: int) -> Reply:
    command = pb.Payload(timestamp=now_ms)
    command.metrics.add(name=REBIRTH, timestamp=now_ms, datatype=pb.Boolean, boolean_value=True)
    return Reply(f"spBv1.0/{group}/NCMD/{node}", command.SerializeToString())


def metric_value(metric: pb.Payload.Metric, datatype: int) -> RawValue | None:
    """The metric's value as a number, or None (text, bytes, data sets, templates, arrays)."""
    if datatype not in _NUMERIC:
        return None
    kind = metric.WhichOneof("value")
    if kind is None:
        return None
    value = getattr(metric, kind)
    bits = _SIGNED_BITS.get(datatype)
    if bits is not None and isinstance(value, int) and not isinstance(value, bool):
        # Signed integers travel as unsigned (two's complement of their width).
        value &= (1 << bits) - 1
        value = value - (1 << bits) if value >= 1 << (bits - 1) else value
    return number(value)


def bd_seq(message: pb.Payload) -> int | None:
    """The birth/death sequence number a NBIRTH or NDEATH carries (None without one: a node that
    sends none has its deaths taken as they come)."""
    for metric in message.metrics:
        if metric.name == "bdSeq":
            kind = metric.WhichOneof("value")
            value = getattr(metric, kind) if kind in ("long_value", "int_value") else None
            return value if isinstance(value, int) else None
    return None


class Sparkplug:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._nodes: dict[tuple[str, str], _Node] = {}
        self._lock = threading.Lock()

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        levels = topic.split("/")
        if len(levels) >= 2 and levels[0] == "spBv1.0" and levels[1] == "STATE":
            return []  # host applications' state: not telemetry
        if len(levels) not in (4, 5) or levels[0] != "spBv1.0":
            raise FormatError("not a Sparkplug B topic spBv1.0/<group>/<type>/<node>[/<device>]")
        group, kind, node_id = levels[1], levels[2], levels[3]
        device = levels[4] if len(levels) == 5 else None
        if kind in ("NCMD", "DCMD"):
            return []  # commands to edge nodes (our own rebirth requests among them)
        try:
            message = pb.Payload.FromString(payload)
        except DecodeError as error:
            raise FormatError(f"sparkplug: malformed {kind} payload: {error}") from None
        name = f"{group}/{node_id}" + (f"/{device}" if device else "")
        with self._lock:
            node = self._nodes.setdefault((group, node_id), _Node())
            if kind == "NDEATH":
                return self._death(node, message, group, node_id, name)
            if kind in _BIRTHS:
                return self._birth(node, kind, name, device, message, group, node_id, now_ms)
            if kind in _DATA or kind == "DDEATH":
                if not node.born or (device is not None and device not in node.aliases):
                    return [
                        Problem(f"sparkplug: {kind} before its birth certificate"),
                        *self._rebirth(group, node_id, now_ms),
                    ]
                out = self._next_seq(node, message, group, node_id, now_ms)
                if kind == "DDEATH":
                    node.devices.discard(device or "")
                    node.aliases.pop(device, None)
                    return [*out, RawStatus(name, False)]
                return out + self._values(node, device, name, message, group, node_id, now_ms)
        raise FormatError(f"unknown Sparkplug message type {kind!r}")

    def _death(
        self, node: _Node, message: pb.Payload, group: str, node_id: str, name: str
    ) -> list[Decoded]:
        """The broker publishes a node's will when its session ends, possibly after the node has
        reconnected and been born again: its bdSeq (not seq) says which session it ends. A death
        of an earlier session leaves the node online (Sparkplug 3.0, host applications)."""
        death = bd_seq(message)
        if node.born and None not in (death, node.bd_seq) and death != node.bd_seq:
            return [
                Problem(
                    f"sparkplug: NDEATH of {group}/{node_id} with bdSeq {death} is stale (its "
                    f"birth has bdSeq {node.bd_seq}): the node stays online"
                )
            ]
        self._nodes.pop((group, node_id), None)
        gone = [RawStatus(f"{group}/{node_id}/{d}", False) for d in sorted(node.devices)]
        return [*gone, RawStatus(name, False)]

    def _rebirth(self, group: str, node_id: str, now_ms: int) -> list[Decoded]:
        return [rebirth_request(group, node_id, now_ms)] if self.source.rebirth else []

    def _next_seq(
        self, node: _Node, message: pb.Payload, group: str, node_id: str, now_ms: int
    ) -> list[Decoded]:
        seq = message.seq if message.HasField("seq") else None
        expected = None if node.seq is None else (node.seq + 1) % 256
        node.seq = seq
        if seq is None or expected is None or seq == expected:
            return []
        return [
            Problem(
                f"sparkplug: sequence gap on {group}/{node_id}: expected {expected}, got {seq}; "
                "rebirth requested"
            ),
            *self._rebirth(group, node_id, now_ms),
        ]

    def _birth(
        self,
        node: _Node,
        kind: str,
        name: str,
        device: str | None,
        message: pb.Payload,
        group: str,
        node_id: str,
        now_ms: int,
    ) -> list[Decoded]:
        out: list[Decoded] = []
        if kind == "NBIRTH":
            node.aliases.clear()
            node.datatypes.clear()
            node.devices.clear()
            node.born = True
            node.seq = message.seq if message.HasField("seq") else None
            node.bd_seq = bd_seq(message)
        elif not node.born:
            return [
                Problem(f"sparkplug: {kind} before the node's NBIRTH"),
                *self._rebirth(group, node_id, now_ms),
            ]
        else:
            out.extend(self._next_seq(node, message, group, node_id, now_ms))
            node.devices.add(device or "")
        node.aliases[device] = {m.alias: m.name for m in message.metrics if m.HasField("alias")}
        node.datatypes[device] = {
            m.alias: m.datatype for m in message.metrics if m.HasField("alias")
        }
        node.datatypes.setdefault(None, {})
        out.append(RawStatus(name, True))
        return out + self._values(node, device, name, message, group, node_id, now_ms)

    def _values(
        self,
        node: _Node,
        device: str | None,
        name: str,
        message: pb.Payload,
        group: str,
        node_id: str,
        now_ms: int,
    ) -> list[Decoded]:
        aliases = node.aliases.get(device, {})
        types = node.datatypes.get(device, {})
        by_time: dict[int, dict[str, RawValue]] = {}
        texts: dict[str, str] = {}
        out: list[Decoded] = []
        unknown_alias = False
        for metric in message.metrics:
            metric_name = metric.name if metric.HasField("name") else aliases.get(metric.alias)
            if metric_name is None:
                out.append(
                    Problem(
                        f"sparkplug: {name}: alias {metric.alias} was never declared in a birth"
                    )
                )
                unknown_alias = True
                continue
            if metric_name == "bdSeq" or metric_name.startswith("Node Control/"):
                continue  # the protocol's own metrics
            if metric.is_null:
                continue
            datatype = (
                metric.datatype if metric.HasField("datatype") else types.get(metric.alias, 0)
            )
            if datatype in _TEXT and len(metric.string_value) <= MAX_TEXT_CHARS:
                texts[metric_name] = metric.string_value  # an attribute, not a metric
                continue
            value = metric_value(metric, datatype)
            if value is None:
                out.append(
                    Problem(f"sparkplug: {name}: metric {metric_name!r} is not a number or boolean")
                )
                continue
            ts = metric.timestamp if metric.HasField("timestamp") else message.timestamp or now_ms
            by_time.setdefault(ts, {})[metric_name] = value
        readings: list[Decoded] = [RawReading(name, ts, v) for ts, v in by_time.items()]
        if texts:
            readings.append(RawAttributes(name, message.timestamp or now_ms, texts))
        if unknown_alias:
            out.extend(self._rebirth(group, node_id, now_ms))
        return readings + out
