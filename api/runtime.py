"""Wires the packages into one running service from the settings (`facility run` / `collect`)."""

from __future__ import annotations

import gc
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from api.device_identity import LedgerIdentity
from api.settings import Settings, items
from ingest.broker import EmbeddedBroker
from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import ArrivalSink, CollectorConfig
from ingest.devices import DeviceRegistry
from ingest.payloads import PayloadLimits
from ingest.redact import mask_text, mask_url
from ingest.service import IngestHealth, IngestService
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import SourceFile
from ingest.store.base import FieldValue, TelemetryStore
from ingest.store.influx import InfluxStore
from ingest.store.sqlite import SqliteTelemetryStore
from maintenance.accounts import service as users
from maintenance.alarms.ledger import LedgerDevices
from maintenance.alarms.monitor import AlarmListener, AlarmMonitor
from maintenance.alarms.publish import AlarmStream, MqttAlarmPublisher
from maintenance.assets.models import Site
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.dispatch.roster import TechnicianCreate, create_technician
from maintenance.flows import unit_of_work
from maintenance.notifications.channels import (
    Channel,
    EmailChannel,
    SmtpServer,
    WebhookChannel,
)
from maintenance.notifications.grouping import FloodGrouping
from maintenance.notifications.notifier import LogNotifier, Notifier
from maintenance.notifications.outbox import Outbox
from maintenance.notifications.robots import robot_channels
from maintenance.scheduler import MaintenanceScheduler
from maintenance.storage import crypto
from maintenance.storage.db import (
    Database,
    database_up,
    grant_reporting,
    make_engine,
    migrate,
    utcnow,
)
from maintenance.work_orders.attachments import AttachmentStore
from rules.engine import RuleEngine
from rules.registry import ModelRegistry
from rules.rulefile import RuleFiles
from rules.scoring import AnomalyScorer
from rules.training import TrainingPlan, TrainingResult, train
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher

log = logging.getLogger(__name__)


# The demo estate's places: plant rooms for its equipment, public places and two homes that
# residents file requests for.
DEMO_ROOMS = {
    "elevator": ("Block A", "roof", "lift machine room"),
    "water": ("Block A", "B1", "pump room"),
    "power": ("Block A", "B1", "switch room"),
    "fire": ("Block A", "1", "fire control room"),
    "camera": ("Block A", "1", "lobby"),
}
DEMO_PLACES = sorted(
    {*DEMO_ROOMS.values(), ("Block A", "12", "unit 1203"), ("Block A", "5", "unit 0501")}
)


def freeze_startup_objects() -> None:
    """For a long-running service process, once started: what starting made (modules, ORM
    mappings, the app, rule state) lives as long as the process. Moved out of the cyclic
    garbage collector's sight, a full collection no longer walks it: at 5,000 msg/s such a
    collection paused every thread for 100-200 ms, the tail of the live alarm latency."""
    gc.collect()
    gc.freeze()


def make_store(settings: Settings) -> TelemetryStore:
    if settings.influx_url:
        return InfluxStore(
            settings.influx_url,
            settings.influx_db,
            username=settings.influx_username,
            password=settings.influx_password,
            token=settings.influx_token,
        )
    return SqliteTelemetryStore(settings.state_dir / "telemetry.sqlite")


def collector_config(settings: Settings) -> CollectorConfig:
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
    settings: Settings,
    mqtt_url: str,
    *,
    mqtt5: bool = True,
    arrival_sinks: Sequence[ArrivalSink] = (),
    database: Database | None = None,
) -> IngestService:
    """One collector as the settings describe it (amqtt, the embedded broker, speaks 3.1.1).
    With a sources file, its sources decide the topics and formats, and gateway devices are
    matched to the ledger's device ids in `database`; a bad file stops the start."""
    config = collector_config(settings)
    sources = topics = None
    if settings.sources_file is not None:
        source_file = SourceFile(settings.sources_file)
        sources = SourceRouter(
            source_file.load(),
            config.limits,
            ledger=LedgerIdentity(database) if database is not None else None,
            source_file=source_file,
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


def open_database(settings: Settings) -> Database:
    """The database the settings name, migrated, with the personal-data key in place: what a
    command-line process needs before it reads or writes tickets."""
    crypto.configure(settings.resolved_data_key())
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return unit_of_work.database(engine)


def make_alarm_monitor(
    settings: Settings,
    database: Database,
    notifier: Notifier,
    mqtt_url: str,
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


def make_outbox(settings: Settings, database: Database) -> Outbox:
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
    kinds = frozenset(items(settings.notify_kinds))
    return Outbox(
        database,
        channels,
        kinds=kinds,
        also=LogNotifier(),
        max_attempts=settings.notify_max_attempts,
        backoff_s=settings.notify_backoff_s,
        grouping=FloodGrouping(settings.notify_site_burst, settings.notify_site_window_s),
    )


def train_anomaly_models(
    settings: Settings,
    store: TelemetryStore,
    *,
    now_ms: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> list[TrainingResult]:
    """Retrain every device type's (and long-lived device's) model on the last
    FACILITY_ANOMALY_TRAINING_DAYS of telemetry, for the devices this state dir has seen."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    start_ms = now_ms - int(settings.anomaly_training_days * 86_400_000)
    registry = DeviceRegistry(settings.state_dir / "devices.sqlite")
    try:
        devices = [(r.device.site, r.device.system, r.device.device_id) for r in registry.all()]
    finally:
        registry.close()
    return train(
        store,
        ModelRegistry(settings.models_dir),
        devices,
        TrainingPlan(start_ms, now_ms),
        now_ms=now_ms,
        progress=progress,
    )


class TelemetryUsage:
    """Counters for usage-based plans, read from the telemetry store (one query per site,
    system and metric in a generation run)."""

    def __init__(self, store: TelemetryStore) -> None:
        self._store = store
        self._last: dict[tuple[str, str, str], dict[str, tuple[int, FieldValue]]] = {}

    def latest(
        self, site: str, system: str, device_ids: Sequence[str], metric: str
    ) -> float | None:
        key = (site, system, metric)
        if key not in self._last:
            self._last[key] = self._store.last_values(system, {"site": site}, metric)
        values = [
            float(value)
            for device, (_, value) in self._last[key].items()
            if device in device_ids
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ]
        return max(values) if values else None


class Runtime:
    """The service's parts, started and stopped in dependency order."""

    def __init__(self, settings: Settings, *, demo: bool | None = None) -> None:
        self.settings = settings
        self.embedded_broker: EmbeddedBroker | None = None
        if settings.mqtt_url is None:
            self.embedded_broker = EmbeddedBroker(
                port=settings.embedded_mqtt_port,
                account=settings.embedded_mqtt_account(),
                allow_anonymous=settings.mqtt_allow_anonymous,
            )
        self.mqtt_url = settings.mqtt_url or settings.embedded_mqtt_url()
        crypto.configure(settings.resolved_data_key())
        self.engine = make_engine(settings.resolved_database_url)
        self.database = unit_of_work.database(self.engine)
        self.outbox = make_outbox(settings, self.database)
        self.notifier: Notifier = self.outbox
        self.attachments = AttachmentStore(
            settings.attachments_dir or settings.state_dir / "attachments",
            settings.attachment_max_bytes,
        )
        self.scheduler = MaintenanceScheduler(
            self.database,
            self.notifier,
            utcnow,
            settings.sla_check_interval_s,
            settings.plan_generation_interval_s,
            key=str(settings.state_dir.resolve()),
            plans=settings.plan_generation,
            usage=lambda: TelemetryUsage(self.ingest.store),
        )
        self.alarms: AlarmMonitor | None = None
        self.alarm_stream = AlarmStream()
        self._alarm_publisher: MqttAlarmPublisher | None = None
        arrivals: list[ArrivalSink] = []
        if settings.rules_enabled:
            self.alarms, self.alarm_stream, self._alarm_publisher = make_alarm_monitor(
                settings, self.database, self.notifier, self.mqtt_url
            )
            arrivals.append(self.alarms.receive)
        self.ingest = make_ingest(
            settings,
            self.mqtt_url,
            mqtt5=self.embedded_broker is None,
            arrival_sinks=arrivals,
            database=self.database,
        )
        self.demo = settings.demo_fleet_on if demo is None else demo
        self._demo_stop = threading.Event()
        self._demo_thread: threading.Thread | None = None

    def start(self) -> None:
        migrate(self.engine)
        if self.settings.readonly_role:
            grant_reporting(self.engine, self.settings.readonly_role)
        self._ensure_admin()
        if self.demo and self.settings.demo_devices:
            self._seed_demo_ledger()
        self.outbox.start()
        self.scheduler.start()
        if self.embedded_broker:
            self.embedded_broker.start()
        if self.alarms:
            seen = [(r.device, r.last_seen_ms) for r in self.ingest.collector.devices.all()]
            self.alarms.restore(seen)
            self.alarms.start(self.settings.alarm_clock_interval_s)
            if self.settings.anomaly_enabled:
                self.scheduler.every(
                    self.settings.anomaly_retrain_interval_h * 3600,
                    self._retrain,
                    "anomaly-retraining",
                )
        self.ingest.start()
        if self.demo and self.settings.demo_devices:
            self._demo_thread = threading.Thread(
                target=self._run_demo, name="demo-fleet", daemon=True
            )
            self._demo_thread.start()

    def stop(self) -> IngestHealth:
        """Stops every part; answers the collector's last figures, read before the telemetry
        store's client is closed (nothing may use the store after `ingest.stop`)."""
        self._demo_stop.set()
        if self._demo_thread:
            self._demo_thread.join(timeout=10)
        self.scheduler.stop()  # its jobs (usage-based plans, retraining) read the store
        self.ingest.stop()
        final = self.ingest.final_health()
        if self.alarms:
            self.alarms.stop()
        if self._alarm_publisher:
            self._alarm_publisher.close()
        if self.embedded_broker:
            self.embedded_broker.stop()
        self.outbox.stop()
        self.database.close()
        return final

    def describe(self) -> list[str]:
        """The start-up table; its URLs without their credentials (it lands in `docker logs`)."""
        s = self.settings
        store = (
            f"{mask_url(s.influx_url)} db={s.influx_db}"
            if s.influx_url
            else f"{s.state_dir / 'telemetry.sqlite'} (embedded)"
        )
        return [
            f"MQTT broker     {mask_url(self.mqtt_url)}"
            + (" (embedded)" if self.embedded_broker else ""),
            f"telemetry store {store}",
            f"database        {mask_url(s.resolved_database_url)}",
            f"state dir       {s.state_dir} (spool, dead letters, device registry)",
            f"demo fleet      {s.demo_devices} devices on site '{s.demo_site}'"
            if self.demo
            else "demo fleet      off",
        ]

    def _ensure_admin(self) -> None:
        """A fresh install gets one `admin` account: FACILITY_ADMIN_PASSWORD, or a generated
        password logged once (change it, or create your own accounts and retire it)."""
        with self.database.transaction() as session:
            if users.has_users(session):
                return
            password = self.settings.admin_password or secrets.token_urlsafe(12)
            users.create_user(session, "admin", password, "admin", now=utcnow())
        if self.settings.admin_password:
            log.info("created the `admin` account with FACILITY_ADMIN_PASSWORD")
        else:
            log.warning("created the `admin` account; its password is %s (shown once)", password)

    def _retrain(self) -> None:
        try:
            results = train_anomaly_models(self.settings, self.ingest.store)
        except Exception:
            log.exception("anomaly retraining failed; the models in service stay")
            return
        for result in results:
            log.info("anomaly model %s: %s", result.key, result.reason)

    def health(self) -> tuple[bool, dict[str, Any]]:
        ingest = self.ingest.health()
        database = database_up(self.engine)
        components = {
            "broker": "up" if ingest.broker_connected else "down",
            "telemetry_store": "up" if ingest.store_up else "down",
            "database": "up" if database else "down",
        }
        body: dict[str, Any] = {
            "status": "ok" if all(v == "up" for v in components.values()) else "degraded",
            "components": components,
            "collector": {
                k: mask_text(v) if isinstance(v, str) else v
                for k, v in asdict(ingest).items()
                if k != "broker_connected"
            },
        }
        if self.alarms is not None and self.alarms.ledger is not None:
            unmapped = self.alarms.ledger.unmapped()
            # counts only: /health is open to all, the devices are listed by `facility devices`
            body["alarms"] = {
                "unmapped_devices": unmapped.devices,
                "unmapped_messages": unmapped.messages,
            }
        return body["status"] == "ok", body

    def _seed_demo_ledger(self) -> None:
        """The demo site in the equipment ledger: an asset per simulated device and a technician
        per system, so that the work-order side has something to show. Idempotent."""
        site_code = self.settings.demo_site
        fleet = Fleet(site_code, self.settings.demo_devices, 1.0, 1.0, start_ms=0)
        with self.database.transaction() as session:
            site = session.scalar(select(Site).where(Site.code == site_code))
            if site is not None:
                return
            site = create_site(
                session,
                SiteCreate(code=site_code, name="Demo estate", supervisor="demo-supervisor"),
            )
            rooms = {
                (building, floor, room): create_location(
                    session,
                    LocationCreate(site_id=site.id, building=building, floor=floor, room=room),
                ).id
                for building, floor, room in DEMO_PLACES
            }
            for model in fleet.models:
                save_asset(
                    session,
                    AssetCreate(
                        site_id=site.id,
                        code=model.device_id.upper(),
                        name=model.device_id,
                        system=model.system,
                        type=model.system,
                        device_ids=[model.device_id],
                        location_id=rooms[DEMO_ROOMS[model.system]],
                    ),
                )
            for system in sorted({m.system for m in fleet.models}):
                create_technician(
                    session,
                    TechnicianCreate(
                        name=f"Demo {system} technician", skills=[system], site_ids=[site.id]
                    ),
                )
        log.info("demo ledger: site %r with %d assets", site_code, len(fleet.models))

    def _run_demo(self) -> None:
        site = self.settings.demo_site
        while not self._demo_stop.is_set():
            fleet = Fleet(
                site,
                self.settings.demo_devices,
                self.settings.demo_rate,
                3600.0,
                seed=int(time.time()),
                start_ms=int(time.time() * 1000),
            )
            try:
                publisher = FleetPublisher(
                    self.mqtt_url,
                    fleet,
                    client_id=f"demo-fleet-{site}",
                    mqtt5=self.embedded_broker is None,
                )
            except OSError as error:
                log.warning("demo fleet cannot reach the broker (%s); retrying", error)
                self._demo_stop.wait(2)
                continue
            try:
                for message in fleet.statuses(online=True):
                    publisher.publish_all([message], realtime=False)
                publisher.publish_all(fleet.messages(), realtime=True, stop=self._demo_stop)
            finally:
                publisher.close()
