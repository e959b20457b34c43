"""A collector process from the collector's settings: `python -m ingest` runs one on its own,
`facility collect` and `facility run` build theirs here too (with their later stages)."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import ArrivalSink, CollectorConfig
from ingest.payloads import PayloadLimits
from ingest.redact import mask_url
from ingest.service import IngestService
from ingest.settings import IngestSettings
from ingest.sources.mapping import LedgerLookup
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import SourceFile
from ingest.store.base import TelemetryStore
from ingest.store.influx import InfluxStore
from ingest.store.sqlite import SqliteTelemetryStore

log = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """For a long-running service process, once started: what starting made (modules, ORM
    mappings, the app, rule state) lives as long as the process. Moved out of the cyclic
    garbage collector's sight, a full collection no longer walks it: at 5,000 msg/s such a
    collection paused every thread for 100-200 ms, the tail of the live alarm latency."""
    gc.collect()
    gc.freeze()


def make_store(settings: IngestSettings) -> TelemetryStore:
    if settings.influx_url:
        return InfluxStore(
            settings.influx_url,
            settings.influx_db,
            username=settings.influx_username,
            password=settings.influx_password,
            token=settings.influx_token,
        )
    return SqliteTelemetryStore(settings.state_dir / "telemetry.sqlite")


def collector_config(settings: IngestSettings) -> CollectorConfig:
    return CollectorConfig(
        limits=PayloadLimits(
            max_bytes=settings.payload_max_bytes,
            max_metrics=settings.max_metrics,
            max_past_ms=settings.ts_max_past_s * 1000,
            max_future_ms=settings.ts_max_future_s * 1000,
        ),
        commit_points=settings.commit_points,
        commit_interval_s=settings.commit_interval_ms / 1000,
        write_points=settings.write_points,
        spool_fsync=settings.spool_fsync,
        spool_max_bytes=settings.spool_max_bytes,
        shutdown_flush_s=settings.shutdown_flush_s,
    )


def make_ingest(
    settings: IngestSettings,
    mqtt_url: str,
    *,
    mqtt5: bool = True,
    arrival_sinks: Sequence[ArrivalSink] = (),
    ledger: LedgerLookup | None = None,
) -> IngestService:
    """One collector as the settings describe it (amqtt, the embedded broker, speaks 3.1.1).
    With a sources file, its sources decide the topics and formats, and gateway devices are
    matched by `ledger` (the equipment ledger's device ids) besides the file's own mapping; a
    bad file stops the start."""
    config = collector_config(settings)
    sources = topics = None
    if settings.sources_file is not None:
        source_file = SourceFile(settings.sources_file)
        sources = SourceRouter(
            source_file.load(), config.limits, ledger=ledger, source_file=source_file
        )
        topics = sources.filters()
    return IngestService(
        BrokerAddress.from_url(mqtt_url),
        SubscriptionConfig(
            client_id=settings.mqtt_client_id,
            shared_group=settings.mqtt_shared_group,
            session_expiry_s=settings.mqtt_session_expiry_s,
            receive_maximum=settings.mqtt_receive_maximum,
            mqtt5=mqtt5 and settings.mqtt_protocol == "5",
            topics=topics or settings.topic_filters,
        ),
        make_store(settings),
        settings.state_dir,
        config,
        arrival_sinks=arrival_sinks,
        sources=sources,
    )


def serve(
    settings: IngestSettings,
    url: str,
    start: Callable[[], IngestService],
    stop: Callable[[], None],
) -> int:
    """Runs a collector process until SIGTERM or SIGINT: `start` starts it and answers its
    ingest service, `stop` flushes and stops it."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service = start()
    freeze_startup_objects()
    log.info(
        "collector %s on %s -> %s (state in %s)",
        settings.mqtt_client_id,
        mask_url(url),
        mask_url(settings.influx_url) if settings.influx_url else "embedded store",
        settings.state_dir,
    )
    stopping.wait()
    log.info("stopping: flushing")
    stop()
    stats = service.collector.stats
    log.info(
        "stopped: %d received, %d written, %d dead letters, %d points left in the spool",
        stats.received,
        stats.written,
        stats.dead_lettered,
        service.collector.spool.backlog_points,
    )
    return 0
