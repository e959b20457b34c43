"""Which source a message belongs to, decoded by its format and mapped by its mapping.

`SourceRouter.parse` is the collector's parser when a sources file is set: one message in, any
number of readings, events, statuses and dead letters out (a gateway message carries many
devices); the collector acknowledges the message once all of them are spooled or dead-lettered.
Answers the protocol needs (ThingsBoard RPC responses, Sparkplug rebirth requests) go to
`publish` at once: they are not data and carry nothing to lose."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from paho.mqtt.client import topic_matches_sub

from ingest.payloads import PayloadLimits, dead_letter, parse_message
from ingest.readings import Accepted, DeadLetter
from ingest.sources.decoded import Decoded, Problem, RawAttributes, RawReading, RawStatus, Reply
from ingest.sources.formats.common import FormatError
from ingest.sources.formats.influx_line import InfluxLine
from ingest.sources.formats.mapped_json import MappedJson
from ingest.sources.formats.neuron import Neuron
from ingest.sources.formats.sparkplug import Sparkplug
from ingest.sources.formats.thingsboard import ThingsBoard
from ingest.sources.mapping import UNMAPPED, LedgerLookup, SourceMapping, held_item
from ingest.sources.model import Source
from ingest.sources.sourcefile import SourceFile

log = logging.getLogger(__name__)

Parsed = Accepted | DeadLetter
MAX_CACHED_TOPICS = 100_000
Publish = Callable[[str, bytes], None]


class Decoder(Protocol):
    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]: ...


def make_decoder(source: Source, limits: PayloadLimits) -> Decoder | None:
    """None for the native contract, which payloads.parse_message reads."""
    match source.format:
        case "facility":
            return None
        case "thingsboard-gateway" | "thingsboard-device":
            return ThingsBoard(source, limits)
        case "sparkplug-b":
            return Sparkplug(source)
        case "neuron":
            return Neuron(source)
        case "influx-line":
            return InfluxLine(source)
        case "json":
            return MappedJson(source)
    raise ValueError(f"unknown format {source.format!r}")


class _Route:
    def __init__(
        self, source: Source, limits: PayloadLimits, ledger: LedgerLookup | None, old: _Route | None
    ) -> None:
        self.source = source
        # A reload keeps a Sparkplug decoder's births: nodes do not send them again unasked.
        same = (
            old is not None
            and old.source.format == source.format
            and source.format == "sparkplug-b"
        )
        self.decoder: Decoder | None = (
            old.decoder if same and old is not None else make_decoder(source, limits)
        )
        self.mapping = SourceMapping(source, ledger, limits)


class SourceRouter:
    def __init__(
        self,
        sources: Sequence[Source],
        limits: PayloadLimits,
        *,
        ledger: LedgerLookup | None = None,
        source_file: SourceFile | None = None,
        reload_every_s: float = 1.0,
    ) -> None:
        self.limits = limits
        self.ledger = ledger
        self.publish: Publish = lambda topic, payload: None
        # Told the new topic filters when a reload changes them (the subscriber follows them).
        self.on_filters: Callable[[tuple[str, ...]], None] = lambda filters: None
        self._reloading = threading.Lock()
        self._file = source_file
        self._reload_every_s = reload_every_s
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._routes: list[_Route] = []
        # Topic -> route: matching every filter of every source per message cost a third of the
        # native contract's throughput. Topics are per device, so this stays small; bounded.
        self._by_topic: dict[str, _Route | None] = {}
        self.use(sources)

    @property
    def sources(self) -> list[Source]:
        return [r.source for r in self._routes]

    def filters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for r in self._routes for t in r.source.filters))

    def use(self, sources: Sequence[Source]) -> None:
        before = self.filters()
        old = {r.source.name: r for r in self._routes}
        routes = [_Route(s, self.limits, self.ledger, old.get(s.name)) for s in sources]
        with self._lock:
            self._routes = routes
            self._by_topic = {}
        if self.filters() != before:
            self.on_filters(self.filters())

    def reload_if_changed(self) -> None:
        """Called on each message and by the service's reload timer (a new topic filter brings
        no message until it is subscribed)."""
        if self._file is None or time.monotonic() - self._checked < self._reload_every_s:
            return
        if not self._reloading.acquire(blocking=False):
            return  # the other caller is at it
        try:
            self._checked = time.monotonic()
            sources = self._file.reloaded()
            if sources is not None:
                self.use(sources)
                log.info("sources file reloaded: %d sources", len(sources))
        finally:
            self._reloading.release()

    def route(self, topic: str) -> _Route | None:
        try:
            return self._by_topic[topic]
        except KeyError:
            pass
        found = self._match(topic)
        if len(self._by_topic) < MAX_CACHED_TOPICS:
            self._by_topic[topic] = found
        return found

    def _match(self, topic: str) -> _Route | None:
        return next(
            (r for r in self._routes if any(topic_matches_sub(f, topic) for f in r.source.filters)),
            None,
        )

    def parse(self, topic: bytes, payload: bytes, now_ms: int) -> list[Parsed]:
        self.reload_if_changed()
        text = topic.decode("utf-8", "replace")
        route = self.route(text)
        if route is None:
            return [
                dead_letter(text, payload, "no source of the sources file takes this topic", now_ms)
            ]
        if route.decoder is None:
            return [parse_message(topic, payload, now_ms, self.limits)]
        name = route.source.name
        if len(payload) > self.limits.max_bytes:
            limit = self.limits.max_bytes
            reason = f"source {name}: payload is {len(payload)} bytes; the limit is {limit}"
            return [dead_letter(text, payload, reason, now_ms)]
        try:
            decoded = route.decoder.decode(text, payload, now_ms)
        except FormatError as error:
            return [dead_letter(text, payload, f"source {name}: {error}", now_ms)]
        out: list[Parsed] = []
        for item in decoded:
            if isinstance(item, RawReading):
                out.extend(route.mapping.reading(item, text, now_ms))
            elif isinstance(item, RawStatus):
                out.append(route.mapping.status(item, text, now_ms))
            elif isinstance(item, RawAttributes):
                out.extend(route.mapping.attributes(item, text, now_ms))
            elif isinstance(item, Problem):
                out.append(dead_letter(text, payload, f"source {name}: {item.reason}", now_ms))
            elif isinstance(item, Reply):
                try:
                    self.publish(item.topic, item.payload)
                except Exception:
                    log.exception("could not publish the answer on %s", item.topic)
        return out

    def replay(self, letter: DeadLetter, now_ms: int) -> list[Parsed] | None:
        """A held message of an unmapped device, mapped now: what it yields; None while its device
        is still unmapped (or its source is gone)."""
        if letter.reason != UNMAPPED:
            return None
        held = held_item(letter.payload)
        if held is None:
            return None
        source_name, _, item = held
        route = next((r for r in self._routes if r.source.name == source_name), None)
        if route is None:
            return None
        items: list[Parsed]
        if isinstance(item, RawReading):
            items = [*route.mapping.reading(item, letter.topic, now_ms)]
        elif isinstance(item, RawAttributes):
            items = [*route.mapping.attributes(item, letter.topic, now_ms)]
        else:
            items = [route.mapping.status(item, letter.topic, now_ms)]
        if any(isinstance(i, DeadLetter) and i.reason == UNMAPPED for i in items):
            return None
        return items


def native_parser(limits: PayloadLimits) -> Callable[[bytes, bytes, int], list[Parsed]]:
    return lambda topic, payload, now_ms: [parse_message(topic, payload, now_ms, limits)]
