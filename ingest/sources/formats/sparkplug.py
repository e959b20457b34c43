"""Sparkplug B host application: birth certificates give each metric's alias, sequence numbers
are checked, a gap or an unknown alias asks the node for a rebirth (NCMD `Node Control/Rebirth`),
death certificates make the node or device offline. Payloads are decoded by pysparkplug (the
Sparkplug B protobuf schema as published, compiled), never by hand."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pysparkplug as spb
from google.protobuf.message import DecodeError

from ingest.sources.decoded import Decoded, Problem, RawReading, RawStatus, RawValue, Reply, number
from ingest.sources.formats.common import FormatError
from ingest.sources.model import Source

REBIRTH = "Node Control/Rebirth"
_BIRTHS = {"NBIRTH": spb.NBirth, "DBIRTH": spb.DBirth}
_DATA = {"NDATA": spb.NData, "DDATA": spb.DData}


@dataclass
class _Node:
    seq: int | None = None  # the last sequence number seen
    births: dict[str | None, spb.NBirth | spb.DBirth] = field(default_factory=dict)  # None: node
    aliases: dict[str | None, dict[int, str]] = field(default_factory=dict)
    devices: set[str] = field(default_factory=set)


def rebirth_request(group: str, node: str, now_ms: int) -> Reply:
    command = spb.NCmd(
        timestamp=now_ms,
        metrics=(spb.Metric(now_ms, REBIRTH, spb.DataType.BOOLEAN, value=True),),
    )
    return Reply(f"spBv1.0/{group}/NCMD/{node}", command.encode(include_dtypes=True))


class Sparkplug:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._nodes: dict[tuple[str, str], _Node] = {}
        self._lock = threading.Lock()  # replays decode nothing here, but keep state consistent

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        levels = topic.split("/")
        if len(levels) not in (4, 5) or levels[0] != "spBv1.0":
            if len(levels) >= 2 and levels[0] == "spBv1.0" and levels[1] == "STATE":
                return []  # host applications' state: not telemetry
            raise FormatError("not a Sparkplug B topic spBv1.0/<group>/<type>/<node>[/<device>]")
        group, kind, node_id = levels[1], levels[2], levels[3]
        device = levels[4] if len(levels) == 5 else None
        if kind in ("NCMD", "DCMD"):
            return []  # commands to edge nodes (our own rebirth requests among them)
        with self._lock:
            node = self._nodes.setdefault((group, node_id), _Node())
            name = f"{group}/{node_id}" + (f"/{device}" if device else "")
            if kind == "NDEATH":
                # The broker publishes the will; its seq says nothing about the data stream.
                self._nodes.pop((group, node_id), None)
                return [
                    RawStatus(f"{group}/{node_id}/{d}", False) for d in sorted(node.devices)
                ] + [RawStatus(name, False)]
            if kind == "DDEATH":
                node.devices.discard(device or "")
                self._check_seq(node, payload, group, node_id, now_ms)
                return [RawStatus(name, False)]
            if kind in _BIRTHS:
                return self._birth(node, kind, name, device, payload, group, node_id, now_ms)
            if kind in _DATA:
                return self._data(node, kind, name, device, payload, group, node_id, now_ms)
        raise FormatError(f"unknown Sparkplug message type {kind!r}")

    def _rebirth(self, group: str, node_id: str, now_ms: int) -> list[Decoded]:
        return [rebirth_request(group, node_id, now_ms)] if self.source.rebirth else []

    def _check_seq(
        self, node: _Node, payload: bytes, group: str, node_id: str, now_ms: int
    ) -> list[Decoded]:
        try:
            seq = spb.DData.decode(payload).seq if payload else None
        except (DecodeError, ValueError, KeyError, TypeError):
            return []
        return self._next_seq(node, seq, group, node_id, now_ms)

    def _next_seq(
        self, node: _Node, seq: int | None, group: str, node_id: str, now_ms: int
    ) -> list[Decoded]:
        expected = None if node.seq is None else (node.seq + 1) % 256
        node.seq = seq
        if seq is None or expected is None or seq == expected:
            return []
        return [
            Problem(
                f"sparkplug: sequence gap on {group}/{node_id}: expected {expected}, got {seq}; rebirth requested"
            ),
            *self._rebirth(group, node_id, now_ms),
        ]

    def _birth(
        self,
        node: _Node,
        kind: str,
        name: str,
        device: str | None,
        payload: bytes,
        group: str,
        node_id: str,
        now_ms: int,
    ) -> list[Decoded]:
        try:
            birth = _BIRTHS[kind].decode(payload)
        except (DecodeError, ValueError, KeyError, TypeError, NotImplementedError) as error:
            return [Problem(f"sparkplug: malformed {kind} payload: {error}")]
        out: list[Decoded] = []
        if kind == "NBIRTH":
            node.births.clear()
            node.aliases.clear()
            node.devices.clear()
            node.seq = birth.seq
        elif None not in node.births:
            return [
                Problem(f"sparkplug: {kind} before the node's NBIRTH"),
                *self._rebirth(group, node_id, now_ms),
            ]
        else:
            out.extend(self._next_seq(node, birth.seq, group, node_id, now_ms))
            node.devices.add(device or "")
        node.births[device] = birth
        node.aliases[device] = {
            m.alias: m.name for m in birth.metrics if m.alias is not None and m.name
        }
        out.append(RawStatus(name, True))
        out.extend(self._values(name, birth.metrics, node.aliases[device], birth.timestamp))
        return out

    def _data(
        self,
        node: _Node,
        kind: str,
        name: str,
        device: str | None,
        payload: bytes,
        group: str,
        node_id: str,
        now_ms: int,
    ) -> list[Decoded]:
        birth = node.births.get(device)
        if birth is None or None not in node.births:
            return [
                Problem(f"sparkplug: {kind} before its birth certificate"),
                *self._rebirth(group, node_id, now_ms),
            ]
        try:
            data = _DATA[kind].decode(payload)
        except (DecodeError, ValueError, TypeError, NotImplementedError):
            try:  # metrics sent without their datatype: the birth has it
                data = _DATA[kind].decode(payload, birth=birth)
            except KeyError as alias:
                return [
                    Problem(f"sparkplug: alias {alias} was never declared in a birth"),
                    *self._rebirth(group, node_id, now_ms),
                ]
            except (DecodeError, ValueError, TypeError, NotImplementedError) as error:
                return [Problem(f"sparkplug: malformed {kind} payload: {error}")]
        out = self._next_seq(node, data.seq, group, node_id, now_ms)
        values = self._values(name, data.metrics, node.aliases.get(device, {}), data.timestamp)
        if any(isinstance(v, Problem) and "alias" in v.reason for v in values):
            values.extend(self._rebirth(group, node_id, now_ms))
        return out + values

    def _values(
        self, name: str, metrics: tuple[spb.Metric, ...], aliases: dict[int, str], ts_ms: int
    ) -> list[Decoded]:
        by_time: dict[int, dict[str, RawValue]] = {}
        out: list[Decoded] = []
        for metric in metrics:
            metric_name = metric.name or (
                aliases.get(metric.alias) if metric.alias is not None else None
            )
            if metric_name is None:
                out.append(
                    Problem(
                        f"sparkplug: {name}: alias {metric.alias} was never declared in a birth"
                    )
                )
                continue
            if metric_name in ("bdSeq", REBIRTH) or metric_name.startswith("Node Control/"):
                continue  # the protocol's own metrics
            if metric.is_null:
                continue
            value = number(metric.value)
            if value is None:
                out.append(
                    Problem(f"sparkplug: {name}: metric {metric_name!r} is not a number or boolean")
                )
                continue
            by_time.setdefault(metric.timestamp or ts_ms, {})[metric_name] = value
        readings: list[Decoded] = [RawReading(name, ts, values) for ts, values in by_time.items()]
        return readings + out
