"""Device identity and the metric catalogue of one source: a gateway's names -> the native
contract's DeviceKey and catalogue metrics. A device nobody mapped is held as a dead letter with
reason `unmapped device`, in a form that can be replayed once it is mapped."""

from __future__ import annotations

import math
from collections.abc import Callable

import orjson

from ingest.payloads import METRIC_NAME, RESERVED_METRICS, PayloadLimits
from ingest.readings import (
    DeadLetter,
    DeviceAttributes,
    DeviceKey,
    DeviceStatus,
    MetricValue,
    Reading,
)
from ingest.sources.decoded import MAX_TEXT_CHARS, RawAttributes, RawReading, RawStatus, RawValue
from ingest.sources.model import Source
from ingest.topics import IDENTIFIER

UNMAPPED = "unmapped device"
# The ledger's answer for a device id (an asset's device id), with the site it must be in (or
# None for any); None when no asset, or more than one, names it.
LedgerLookup = Callable[[str, str | None], DeviceKey | None]


def ledger_name(device: str) -> str:
    """The part of a gateway's device name that an asset's device id is compared with: the last
    level of a path-like name (Sparkplug's group/node/device)."""
    return device.rsplit("/", 1)[-1]


class SourceMapping:
    def __init__(self, source: Source, ledger: LedgerLookup | None, limits: PayloadLimits) -> None:
        self.source = source
        self._ledger = ledger
        self._limits = limits

    def device(self, name: str) -> DeviceKey | None:
        source = self.source
        target = source.devices.get(name)
        if target is not None:
            site, system = target.site or source.site, target.system or source.system
            if site is not None and system is not None:
                return DeviceKey(site, system, target.device_id)
            return None
        if self._ledger is None:
            return None
        plain = ledger_name(name)
        if not IDENTIFIER.fullmatch(plain):
            return None
        found = self._ledger(plain, source.site)
        if found is None or (source.system is not None and found.system != source.system):
            return None
        return found

    def reading(self, raw: RawReading, topic: str, now_ms: int) -> list[Reading | DeadLetter]:
        """The reading, after a dead letter per metric that cannot be stored; or its dead letter."""
        ts_ms = now_ms if raw.ts_ms is None else raw.ts_ms
        device = self.device(raw.device)
        if device is None:
            return [self.held(topic, {"ts": ts_ms, "metrics": raw.metrics}, raw.device, now_ms)]
        problems: list[Reading | DeadLetter] = []
        limits = self._limits
        if ts_ms > now_ms + limits.max_future_ms or ts_ms < now_ms - limits.max_past_ms:
            return [
                self.dead(
                    topic, raw, f"device {raw.device!r}: ts {ts_ms} outside the window", now_ms
                )
            ]
        metrics: dict[str, MetricValue] = {}
        for name, value in raw.metrics.items():
            target = self.source.metrics.get(name)
            if target is None:
                if not METRIC_NAME.fullmatch(name) or name in RESERVED_METRICS:
                    problems.append(
                        self.dead(
                            topic, raw, f"metric {name!r}: unsafe or reserved name; map it", now_ms
                        )
                    )
                    continue
                metrics[name] = value
            elif isinstance(value, bool):
                metrics[target.name] = value
            else:
                scaled = value * target.scale + target.offset
                # 12 significant digits: 402 * 0.01 is 4.02, not 4.0200000000000005 (no sensor
                # is that precise, and the stored value is what an operator reads).
                metrics[target.name] = float(f"{scaled:.12g}") if math.isfinite(scaled) else value
        if len(metrics) > limits.max_metrics:
            return [
                self.dead(
                    topic, raw, f"{len(metrics)} metrics; the limit is {limits.max_metrics}", now_ms
                )
            ]
        if metrics:
            problems.append(Reading(device, ts_ms, None, metrics))
        return problems

    def attributes(
        self, raw: RawAttributes, topic: str, now_ms: int
    ) -> list[DeviceAttributes | DeadLetter]:
        """Text values as the device's attributes, named as the source's metric names rename
        them (no scale: text has none); or its held dead letter."""
        ts_ms = now_ms if raw.ts_ms is None else raw.ts_ms
        device = self.device(raw.device)
        if device is None:
            body = {"ts": ts_ms, "attributes": raw.values}
            return [self.held(topic, body, raw.device, now_ms)]
        out: list[DeviceAttributes | DeadLetter] = []
        values: dict[str, str] = {}
        for name, value in raw.values.items():
            target = self.source.metrics.get(name)
            if target is not None and (target.scale, target.offset) != (1.0, 0.0):
                # The source scales it: a number was meant, and "12,5" or "n/a" is not one.
                reason = f"metric {name!r}: text {value[:64]!r} where the source scales a number"
            elif target is not None:
                values[target.name] = value
                continue
            elif METRIC_NAME.fullmatch(name) and name not in RESERVED_METRICS:
                values[name] = value
                continue
            else:
                reason = f"attribute {name!r}: unsafe or reserved name; map it"
            payload = orjson.dumps({"device": raw.device, "attributes": {name: value}})
            out.append(
                DeadLetter(topic, payload[:1024], f"source {self.source.name}: {reason}", now_ms)
            )
        if values:
            out.insert(0, DeviceAttributes(device, ts_ms, values))
        return out

    def status(self, raw: RawStatus, topic: str, now_ms: int) -> DeviceStatus | DeadLetter:
        device = self.device(raw.device)
        if device is None:
            return self.held(topic, {"online": raw.online}, raw.device, now_ms)
        return DeviceStatus(device, raw.online, now_ms)

    def held(self, topic: str, body: dict[str, object], device: str, now_ms: int) -> DeadLetter:
        # The whole decoded item, not the message: a gateway message may carry mapped devices
        # too, and a Sparkplug message means nothing without its birth certificate.
        payload = orjson.dumps({"source": self.source.name, "device": device, **body})
        return DeadLetter(topic, payload, UNMAPPED, now_ms)

    def dead(self, topic: str, raw: RawReading, reason: str, now_ms: int) -> DeadLetter:
        payload = orjson.dumps({"device": raw.device, "ts": raw.ts_ms, "metrics": raw.metrics})
        return DeadLetter(topic, payload[:1024], f"source {self.source.name}: {reason}", now_ms)


HeldItem = RawReading | RawStatus | RawAttributes


def held_item(payload: bytes) -> tuple[str, str, HeldItem] | None:
    """A held dead letter's source name and decoded item, or None if it is not one."""
    try:
        body = orjson.loads(payload)
        source, device = str(body["source"]), str(body["device"])
        if "online" in body:
            return source, device, RawStatus(device, bool(body["online"]))
        if "attributes" in body:
            texts = {
                str(k): v
                for k, v in body["attributes"].items()
                if isinstance(v, str) and len(v) <= MAX_TEXT_CHARS
            }
            return source, device, RawAttributes(device, int(body["ts"]), texts)
        metrics: dict[str, RawValue] = {
            str(k): v for k, v in body["metrics"].items() if isinstance(v, bool | int | float)
        }
        return (
            source,
            device,
            RawReading(
                device,
                int(body["ts"]),
                {k: v if isinstance(v, bool) else float(v) for k, v in metrics.items()},
            ),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None
