"""InfluxDB line protocol in the payload (Telegraf's MQTT output, data_format = "influx"), parsed
by line-protocol-parser; one or many lines a message, each bad line its own dead letter."""

from __future__ import annotations

import line_protocol_parser

from ingest.sources.decoded import Decoded, Problem, readings_of
from ingest.sources.model import Source

_TO_MS = {"ns": 1_000_000, "us": 1_000, "ms": 1, "s": 0}


class InfluxLine:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.options = source.line

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        out: list[Decoded] = []
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return [Problem("line protocol: not UTF-8")]
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                point = line_protocol_parser.parse_line(line)
            except line_protocol_parser.LineFormatError as error:
                out.append(Problem(f"line protocol: line {number}: {error}"))
                continue
            device = point["tags"].get(self.options.device_tag)
            if device is None:
                tag = self.options.device_tag
                out.append(Problem(f"line protocol: line {number}: no {tag!r} tag (the device)"))
                continue
            fields = point["fields"]
            if self.options.prefix_measurement:
                fields = {f"{point['measurement']}_{k}": v for k, v in fields.items()}
            out.extend(readings_of(device, self._ms(point["time"]), fields))
        if not out:
            out.append(Problem("line protocol: no lines"))
        return out

    def _ms(self, time: int) -> int | None:
        if time == 0:
            return None  # no timestamp: the arrival time
        divisor = _TO_MS[self.options.precision]
        return time // divisor if divisor else time * 1000
