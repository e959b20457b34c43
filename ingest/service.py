"""One collector process: a broker subscription feeding a Collector that writes to a store."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.client import BrokerAddress, MqttSubscriber, SubscriptionConfig
from ingest.collector import AcceptedSink, ArrivalSink, Collector, CollectorConfig
from ingest.sources.router import SourceRouter
from ingest.store.base import TelemetryStore

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class IngestHealth:
    broker_connected: bool
    store_up: bool
    store_error: str
    received: int
    accepted: int
    spooled: int
    written: int
    dead_lettered: int
    alarm_topic_messages: int
    alarm_topic_refused: int
    spool_backlog_points: int
    spool_backlog_bytes: int


class IngestService:
    def __init__(
        self,
        broker: BrokerAddress,
        subscription: SubscriptionConfig,
        store: TelemetryStore,
        state_dir: Path,
        config: CollectorConfig | None = None,
        sinks: Sequence[AcceptedSink] = (),
        clock: Callable[[], float] = time.time,
        arrival_sinks: Sequence[ArrivalSink] = (),
        sources: SourceRouter | None = None,
    ) -> None:
        self.store = store
        self.sources = sources
        self.collector = Collector(
            store,
            state_dir,
            config or CollectorConfig(),
            sinks=sinks,
            arrival_sinks=arrival_sinks,
            clock=clock,
            parser=sources.parse if sources else None,
            replayer=sources.replay if sources else None,
        )
        self.subscriber = MqttSubscriber(broker, subscription, self.collector.handle)
        if sources is not None:
            sources.publish = self.subscriber.publish
            sources.on_filters = self.subscriber.use_topics
        self._stopped = False
        self._reloads = threading.Event()
        self._reloader: threading.Thread | None = None

    def start(self) -> None:
        self.collector.start(ack=self.subscriber.ack)
        self.subscriber.start()
        if self.sources is not None:
            self._reloader = threading.Thread(
                target=self._reload_loop, name="sources-reload", daemon=True
            )
            self._reloader.start()

    def _reload_loop(self) -> None:
        # Not only on a message: a filter added by a reload brings none until subscribed.
        assert self.sources is not None
        while not self._reloads.wait(1.0):
            try:
                self.sources.reload_if_changed()
            except Exception:  # the next tick tries again; the active sources stay
                log.exception("sources file reload failed")

    def stop(self) -> None:
        """Commit and acknowledge what was received, drain the spool as far as the store allows,
        then leave the broker; anything not acknowledged is redelivered to the next session."""
        self._reloads.set()
        if self._reloader is not None:
            self._reloader.join()
        self.collector.stop()
        self.subscriber.stop()
        self.store.close()
        self._stopped = True

    def health(self) -> IngestHealth:
        """The figures with a live check of the store (not after `stop`: see `final_health`)."""
        return self._health(ping=True)

    def final_health(self) -> IngestHealth:
        """The figures as they stand, without asking the store (whose client may be closed)."""
        return self._health(ping=False)

    def _health(self, *, ping: bool) -> IngestHealth:
        stats = self.collector.stats
        spool = self.collector.spool
        store_up = stats.store_up and (not ping or (not self._stopped and self.store.ping()))
        return IngestHealth(
            broker_connected=self.subscriber.connected.is_set(),
            store_up=store_up,
            store_error=stats.store_error,
            received=stats.received,
            accepted=stats.accepted,
            spooled=stats.spooled,
            written=stats.written,
            dead_lettered=stats.dead_lettered,
            alarm_topic_messages=stats.alarm_topic_messages,
            alarm_topic_refused=stats.alarm_topic_refused,
            spool_backlog_points=spool.backlog_points,
            spool_backlog_bytes=spool.backlog_bytes,
        )
