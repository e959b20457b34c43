"""ThingsBoard's MQTT APIs, the service playing the ThingsBoard server's part.

Gateway API (ThingsBoard IoT Gateway): v1/gateway/connect|disconnect|telemetry|attributes, plus
the gateway's own device API on v1/devices/me/... (its statistics, and the getSessionLimits RPC
it waits on before it sends any telemetry). Device API: v1/devices/me/telemetry|attributes, the
device named by a topic level (the broker puts the client's name there: docs/sources.md)."""

from __future__ import annotations

import orjson

from ingest.payloads import PayloadLimits
from ingest.sources.decoded import Decoded, Problem, RawStatus, Reply, readings_of
from ingest.sources.formats.common import FormatError, json_body, time_ms
from ingest.sources.model import Source

GATEWAY_SELF = "gateway"  # the device name of a gateway's own statistics


def session_limits(limits: PayloadLimits) -> bytes:
    """The answer to getSessionLimits: our payload limit, no rate limits (empty = none)."""
    none = {"messages": "", "telemetryMessages": "", "telemetryDataPoints": ""}
    return orjson.dumps(
        {
            "maxPayloadSize": limits.max_bytes,
            "maxInflightMessages": 100,
            "rateLimits": none,
            "gatewayRateLimits": none,
        }
    )


class ThingsBoard:
    def __init__(self, source: Source, limits: PayloadLimits) -> None:
        self.source = source
        self.limits = limits
        self.gateway = source.format == "thingsboard-gateway"

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        levels = topic.split("/")
        try:
            start = levels.index("v1")
        except ValueError:
            raise FormatError(
                "not a ThingsBoard topic (v1/gateway/... or v1/devices/me/...)"
            ) from None
        api = levels[start + 1 : start + 3]
        if self.gateway and api[:1] == ["gateway"] and len(levels) == start + 3:
            return self._gateway(api[1], json_body(payload))
        if api == ["devices", "me"]:
            rest = levels[start + 3 :]
            if rest[:2] == ["rpc", "request"] and len(rest) == 3:
                return self._rpc(topic, json_body(payload))
            device = self._device(levels)
            if rest == ["telemetry"]:
                return self._telemetry(device, json_body(payload))
            if rest == ["attributes"]:
                return self._values(device, None, json_body(payload), "attributes")
            if rest[:2] in (["rpc", "response"], ["attributes", "request"]):
                return []  # answers to requests the service never makes: nothing to store
        raise FormatError(f"unknown ThingsBoard topic {topic!r}")

    def _device(self, levels: list[str]) -> str:
        level = self.source.device_level
        if level is not None:
            if level >= len(levels) or not levels[level]:
                raise FormatError(f"topic level {level} (the device) is missing")
            return levels[level]
        return self.source.device or GATEWAY_SELF

    def _rpc(self, topic: str, body: object) -> list[Decoded]:
        method = body.get("method") if isinstance(body, dict) else None
        if method == "getSessionLimits" and self.source.answer_rpc:
            reply = topic.replace("/rpc/request/", "/rpc/response/")
            return [Reply(reply, session_limits(self.limits))]
        return [Problem(f"RPC method {str(method)[:64]!r} is not one the service answers")]

    def _gateway(self, kind: str, body: object) -> list[Decoded]:
        if kind in ("connect", "disconnect"):
            if not isinstance(body, dict) or not isinstance(body.get("device"), str):
                raise FormatError(f'{kind}: needs {{"device": "<name>"}}')
            return [RawStatus(body["device"], kind == "connect")]
        if not isinstance(body, dict):
            raise FormatError(f"{kind}: must be an object of device names")
        out: list[Decoded] = []
        for device, records in body.items():
            if kind == "telemetry":
                out.extend(self._telemetry(device, records))
            elif kind == "attributes":
                out.extend(self._values(device, None, records, "attributes"))
            else:
                raise FormatError(f"unknown gateway topic v1/gateway/{kind}")
        return out

    def _telemetry(self, device: str, records: object) -> list[Decoded]:
        """ThingsBoard's shapes: {"k": v}, {"ts": .., "values": {..}}, or a list of either."""
        out: list[Decoded] = []
        for record in records if isinstance(records, list) else [records]:
            if isinstance(record, dict) and "values" in record:
                try:
                    ts = time_ms(record.get("ts")) if "ts" in record else None
                except FormatError as error:
                    out.append(Problem(f"device {device!r}: {error}"))
                    continue
                out.extend(self._values(device, ts, record["values"], "values"))
            else:
                out.extend(self._values(device, None, record, "telemetry"))
        return out

    def _values(self, device: str, ts: int | None, values: object, what: str) -> list[Decoded]:
        if not isinstance(values, dict):
            return [Problem(f"device {device!r}: {what} must be an object")]
        if not values:
            return []
        return readings_of(device, ts, values)
