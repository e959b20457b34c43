"""The maintenance side's processes from their settings: a collector with its alarm stage
(`facility collect`, and the collector inside `facility run`), the database a command needs,
and the outbox that delivers notifications. Nothing here imports the HTTP side."""

from __future__ import annotations

from ingest.client import BrokerAddress
from ingest.process import make_ingest
from ingest.service import IngestService
from ingest.settings import items
from maintenance.alarms.ledger import LedgerDevices
from maintenance.alarms.monitor import AlarmListener, AlarmMonitor
from maintenance.alarms.publication import AlarmStream, MqttAlarmPublisher
from maintenance.assets.device_identity import LedgerIdentity
from maintenance.flows import unit_of_work
from maintenance.notifications.channels import Channel, EmailChannel, SmtpServer, WebhookChannel
from maintenance.notifications.grouping import FloodGrouping
from maintenance.notifications.notifier import LogNotifier, Notifier
from maintenance.notifications.outbox import Outbox
from maintenance.notifications.robots import robot_channels
from maintenance.settings import MaintenanceSettings
from maintenance.storage import crypto
from maintenance.storage.db import Database, make_engine, migrate
from rules.engine import RuleEngine
from rules.registry import ModelRegistry
from rules.rulefile import RuleFiles
from rules.scoring import AnomalyScorer


def open_database(settings: MaintenanceSettings) -> Database:
    """The database the settings name, migrated, with the personal-data key in place: what a
    command-line process needs before it reads or writes tickets."""
    crypto.configure(settings.resolved_data_key())
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return unit_of_work.database(engine)


def make_alarm_monitor(
    settings: MaintenanceSettings, database: Database, notifier: Notifier, mqtt_url: str
) -> tuple[AlarmMonitor, AlarmStream, MqttAlarmPublisher | None]:
    """The rule engine and anomaly models over the collector's stream, as the settings say.
    A rule file that does not load stops the start: better than running without its alarms."""
    rule_files = RuleFiles(settings.rule_paths)
    engine = RuleEngine(rule_files.load())
    stream = AlarmStream()
    listeners: list[AlarmListener] = [stream]
    publisher = None
    if settings.alarm_mqtt_publish:
        publisher = MqttAlarmPublisher(
            BrokerAddress.from_url(mqtt_url), client_id=f"{settings.mqtt_client_id}-alarms"
        )
        listeners.append(publisher)
    scorers = (
        [AnomalyScorer(ModelRegistry(settings.models_dir))] if settings.anomaly_enabled else []
    )
    monitor = AlarmMonitor(
        database,
        engine,
        policy=settings.alarm_policy(),
        notifier=notifier,
        listeners=listeners,
        scorers=scorers,
        rule_files=rule_files,
        ledger=LedgerDevices(database),  # devices the ledger lacks raise nothing
    )
    return monitor, stream, publisher


def make_outbox(settings: MaintenanceSettings, database: Database) -> Outbox:
    """Notifications as the settings route them; every one is also logged."""
    channels: list[Channel] = [WebhookChannel(url) for url in items(settings.notify_webhook_urls)]
    recipients = items(settings.notify_email_to)
    if settings.smtp_url and recipients:
        channels.append(
            EmailChannel(
                SmtpServer.from_url(settings.smtp_url),
                settings.notify_email_from,
                recipients,
                language=settings.notify_email_language,
                zone=settings.time_zone or "UTC",
            )
        )
    channels += robot_channels(settings.robots(), console_url=settings.resolved_console_url)
    return Outbox(
        database,
        channels,
        kinds=frozenset(items(settings.notify_kinds)),
        also=LogNotifier(),
        max_attempts=settings.notify_max_attempts,
        backoff_s=settings.notify_backoff_s,
        grouping=FloodGrouping(settings.notify_site_burst, settings.notify_site_window_s),
    )


class AlarmedCollector:
    """A collector with its alarm stage behind it, started and stopped in the one order that
    loses nothing: the monitor restores each alarm and each device's last sighting and starts
    before the collector delivers, and stops after the collector has flushed."""

    def __init__(
        self,
        settings: MaintenanceSettings,
        mqtt_url: str,
        *,
        database: Database | None,
        notifier: Notifier,
        mqtt5: bool = True,
    ) -> None:
        self.settings = settings
        self.monitor: AlarmMonitor | None = None
        self.stream = AlarmStream()
        self._publisher: MqttAlarmPublisher | None = None
        if settings.rules_enabled and database is not None:
            self.monitor, self.stream, self._publisher = make_alarm_monitor(
                settings, database, notifier, mqtt_url
            )
        self.ingest: IngestService = make_ingest(
            settings,
            mqtt_url,
            mqtt5=mqtt5,
            arrival_sinks=[self.monitor.receive] if self.monitor else [],
            ledger=LedgerIdentity(database) if database is not None else None,
        )

    def start(self) -> IngestService:
        if self.monitor:
            seen = [(r.device, r.last_seen_ms) for r in self.ingest.collector.devices.all()]
            self.monitor.restore(seen)
            self.monitor.start(self.settings.alarm_clock_interval_s)
        self.ingest.start()
        return self.ingest

    def stop_collector(self) -> None:
        self.ingest.stop()

    def stop_alarms(self) -> None:
        if self.monitor:
            self.monitor.stop()
        if self._publisher:
            self._publisher.close()

    def stop(self) -> None:
        self.stop_collector()
        self.stop_alarms()


def collect(settings: MaintenanceSettings) -> AlarmedCollector:
    """`facility collect`: one collector of a scaled-out deployment, its alarms logged (the
    `facility run` process delivers notifications); the ledger is opened when rules or a
    sources file need it (alarms, and gateway devices' identity)."""
    url = settings.mqtt_url or "mqtt://127.0.0.1:1883"
    database = None
    if settings.rules_enabled or settings.sources_file is not None:
        database = open_database(settings)
    return AlarmedCollector(settings, url, database=database, notifier=LogNotifier())
