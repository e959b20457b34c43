"""bench.ingest's per-format rows: the same fleet's telemetry in each payload format, each drained
from its own queued backlog by an in-process collector into its own InfluxDB database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.gateway_formats import encode, sources, telemetry
from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import CollectorConfig
from ingest.service import IngestService
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import parse_sources
from ingest.store.influx import InfluxStore
from simulators.fleet import Fleet, Message
from simulators.publisher import FleetPublisher

FORMATS = (
    "native",  # no sources file: the collector as it was
    "facility",  # the native contract through the sources file
    "thingsboard-gateway",
    "thingsboard-device",
    "sparkplug-b",
    "neuron",
    "influx-line",
    "json",
)


@dataclass(frozen=True, slots=True)
class Row:
    fmt: str
    messages: int
    points: int
    seconds: float
    dead_letters: int


def _service(
    fmt: str, yaml: str | None, broker_url: str, influx_url: str, state: Path
) -> IngestService:
    config = CollectorConfig()
    router = SourceRouter(parse_sources(yaml), config.limits) if yaml else None
    topics = router.filters() if router else ("facility/#",)
    return IngestService(
        BrokerAddress.from_url(broker_url),
        SubscriptionConfig(client_id=f"bench-{fmt}", topics=topics),
        InfluxStore(influx_url, f"bench_{fmt.replace('-', '_')}"),
        state,
        config,
        sources=router,
    )


def run_format(
    fmt: str, fleet: Fleet, native: list[Message], broker_url: str, influx_url: str, work: Path
) -> Row:
    readings = telemetry(native)
    if fmt in ("native", "facility"):
        messages = [m for m in native if m.topic.endswith("/telemetry")]
        yaml = None if fmt == "native" else "sources:\n  - name: bench\n    format: facility\n"
    else:
        messages, yaml = encode(fmt, readings), sources(fmt, readings)
    state = work / f"state-{fmt}"
    # Register the persistent session, leave, and let the broker queue the backlog for it.
    first = _service(fmt, yaml, broker_url, influx_url, state)
    first.start()
    deadline = time.monotonic() + 10
    # The broker's SUBACK: from then on the session holds what is published for it.
    if not first.subscriber.subscribed.wait(max(0.0, deadline - time.monotonic())):
        raise RuntimeError(f"{fmt}: the collector did not subscribe within 10 s")
    first.stop()
    publisher = FleetPublisher(broker_url, fleet, client_id=f"bench-pub-{fmt}")
    publisher.publish_all(messages, realtime=False)
    publisher.close()
    service = _service(fmt, yaml, broker_url, influx_url, state)
    started = time.perf_counter()
    service.start()
    stats = service.collector.stats
    deadline = time.monotonic() + 600
    while stats.written < len(readings) and time.monotonic() < deadline:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    service.stop()
    return Row(fmt, len(messages), stats.written, seconds, stats.dead_lettered)
