"""EMQX Neuron's MQTT app: `values`/`errors` or `tags` forms per group, and its heartbeat."""

from __future__ import annotations

from ingest.sources.decoded import Decoded, Problem, RawStatus, readings_of
from ingest.sources.formats.common import FormatError, json_body, time_ms
from ingest.sources.model import Source

# Neuron's node link states in a heartbeat: 1 connected, 0 disconnected.
_CONNECTED = 1


class Neuron:
    def __init__(self, source: Source) -> None:
        self.source = source

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        body = json_body(payload)
        if not isinstance(body, dict):
            raise FormatError("a Neuron message is a JSON object")
        if "states" in body:
            return self._heartbeat(body["states"])
        node = body.get("node")
        if not isinstance(node, str) or not node:
            raise FormatError("node: required (the Neuron south node)")
        ts = time_ms(body["timestamp"]) if "timestamp" in body else None
        if "tags" in body:
            return self._tags(node, ts, body["tags"])
        values, errors = body.get("values", {}), body.get("errors", {})
        if not isinstance(values, dict) or not isinstance(errors, dict):
            raise FormatError("values and errors: must be objects of tag names")
        if not values and not errors:
            raise FormatError("neither tags nor values nor errors")
        out = readings_of(node, ts, values) if values else []
        out.extend(_tag_error(node, tag, code) for tag, code in errors.items())
        return out

    def _tags(self, node: str, ts: int | None, tags: object) -> list[Decoded]:
        if not isinstance(tags, list):
            raise FormatError("tags: must be an array")
        values: dict[str, object] = {}
        out: list[Decoded] = []
        for index, tag in enumerate(tags):
            if not isinstance(tag, dict) or not isinstance(tag.get("name"), str):
                out.append(Problem(f"neuron {node}: tags[{index}]: needs a name"))
            elif "error" in tag:
                out.append(_tag_error(node, tag["name"], tag["error"]))
            elif "value" in tag:
                values[tag["name"]] = tag["value"]
            else:
                out.append(Problem(f"neuron {node}: tag {tag['name']!r}: neither value nor error"))
        return (readings_of(node, ts, values) if values else []) + out

    def _heartbeat(self, states: object) -> list[Decoded]:
        if not isinstance(states, list):
            raise FormatError("states: must be an array")
        out: list[Decoded] = []
        for state in states:
            if isinstance(state, dict) and isinstance(state.get("node"), str):
                out.append(RawStatus(state["node"], state.get("link") == _CONNECTED))
            else:
                out.append(Problem(f"neuron heartbeat: {str(state)[:80]} is not a node state"))
        return out


def _tag_error(node: str, tag: object, code: object) -> Problem:
    return Problem(f"neuron {node}: tag {str(tag)[:64]!r}: error code {str(code)[:16]}")
