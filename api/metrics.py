"""Prometheus exposition of the collector's counters and write latency."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.collector import CollectorStats
from ingest.spool import Spool
from maintenance.alarms.ledger import LedgerDevices
from maintenance.alarms.queries import over_budget
from maintenance.storage.db import Database


class IngestMetrics(Collector):
    def __init__(self, stats: CollectorStats, spool: Spool, connected: Callable[[], bool]) -> None:
        self._stats, self._spool, self._connected = stats, spool, connected

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        for name, value, text in (
            ("received", s.received, "MQTT messages received"),
            ("accepted", s.accepted, "messages that passed validation"),
            ("spooled", s.spooled, "points durably spooled"),
            ("written", s.written, "points written to the telemetry store"),
            ("dead_lettered", s.dead_lettered, "messages and points dead-lettered"),
            (
                "alarm_topic_messages",
                s.alarm_topic_messages,
                "messages on facility/<site>/alarms/# (the service's own alarm states, or not)",
            ),
            (
                "alarm_topic_refused",
                s.alarm_topic_refused,
                "messages on alarm topics dead-lettered: not an alarm state of the service",
            ),
        ):
            yield CounterMetricFamily(f"facility_ingest_{name}", text, value=value)
        yield GaugeMetricFamily(
            "facility_spool_backlog_points",
            "points waiting in the spool",
            value=self._spool.backlog_points,
        )
        yield GaugeMetricFamily(
            "facility_broker_connected",
            "1 when connected to the broker",
            value=1 if self._connected() else 0,
        )
        yield GaugeMetricFamily(
            "facility_store_up",
            "1 when the telemetry store takes writes",
            value=1 if s.store_up else 0,
        )
        yield from s.write_latency.collect()


class LedgerMetrics(Collector):
    """Devices the ledger does not know, whose messages reach no rule."""

    def __init__(self, ledger: LedgerDevices) -> None:
        self._ledger = ledger

    def collect(self) -> Iterator[Metric]:
        unmapped = self._ledger.unmapped()
        yield GaugeMetricFamily(
            "facility_alarm_unmapped_devices",
            "devices seen that no asset of the ledger names (no alarms, no tickets)",
            value=unmapped.devices,
        )
        yield CounterMetricFamily(
            "facility_alarm_unmapped_messages",
            "messages of devices the ledger does not know, kept from the rules",
            value=unmapped.messages,
        )


class AnomalyBudgetMetrics(Collector):
    """Anomaly findings held back by the per-asset budget, per model: a model that keeps
    finding more than the budget on an asset is one to look at (retrain, or a real problem)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "facility_anomaly_findings_over_budget",
            "active anomaly findings recorded but not announced: the asset's weekly budget spent",
            labels=["model"],
        )
        with self._database.read() as session:
            for model, count in over_budget(session).items():
                family.add_metric([model], count)
        yield family


def make_registry(*metrics: Collector) -> CollectorRegistry:
    registry = CollectorRegistry()
    for collector in metrics:
        registry.register(collector)
    return registry
