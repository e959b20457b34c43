"""Combines the processes into one running service for `facility run`: the collector with its
alarm stage (`maintenance.process`), the scheduler, the outbox, the embedded broker and the demo
estate, started and stopped in dependency order. The HTTP app (`api.main`) serves over it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Any

from api.demo import DemoEstate
from api.settings import Settings
from ingest.broker import EmbeddedBroker
from ingest.redact import mask_text, mask_url
from ingest.service import IngestHealth
from maintenance.accounts import service as users
from maintenance.alarms import findings
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.alarms.publication import AlarmStream
from maintenance.flows import unit_of_work
from maintenance.notifications.notifier import Notifier
from maintenance.plans.usage import TelemetryUsage
from maintenance.process import AlarmedCollector, make_outbox
from maintenance.scheduler import MaintenanceScheduler
from maintenance.storage import crypto
from maintenance.storage.db import database_up, grant_reporting, make_engine, migrate, utcnow
from maintenance.work_orders.attachments import AttachmentStore
from rules.training import retrain

log = logging.getLogger(__name__)


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
            patrol_interval_s=settings.patrol_watch_interval_s,
        )
        self.collector = AlarmedCollector(
            settings,
            self.mqtt_url,
            database=self.database,
            notifier=self.notifier,
            mqtt5=self.embedded_broker is None,
        )
        self.alarms: AlarmMonitor | None = self.collector.monitor
        self.alarm_stream: AlarmStream = self.collector.stream
        self.ingest = self.collector.ingest
        demo_on = settings.demo_fleet_on if demo is None else demo
        self.demo = (
            DemoEstate(settings, self.database, self.mqtt_url, mqtt5=self.embedded_broker is None)
            if demo_on and settings.demo_devices
            else None
        )

    def start(self) -> None:
        migrate(self.engine)
        if self.settings.readonly_role:
            grant_reporting(self.engine, self.settings.readonly_role)
        self._ensure_admin()
        if self.demo:
            self.demo.seed()
        self.outbox.start()
        self.scheduler.start()
        if self.embedded_broker:
            self.embedded_broker.start()
        if self.alarms and self.settings.anomaly_enabled:
            self.scheduler.every(
                self.settings.anomaly_retrain_interval_h * 3600,
                self._retrain,
                "anomaly-retraining",
            )
        self.collector.start()
        if self.demo:
            self.demo.start()

    def stop(self) -> IngestHealth:
        """Stops every part; answers the collector's last figures, read before the telemetry
        store's client is closed (nothing may use the store after `ingest.stop`)."""
        if self.demo:
            self.demo.stop()
        self.scheduler.stop()  # its jobs (usage-based plans, retraining) read the store
        self.collector.stop_collector()
        final = self.ingest.final_health()
        self.collector.stop_alarms()
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
            with self.database.read() as session:
                said = findings.feedback(session)
            results = retrain(self.settings, self.ingest.store, feedback=said)
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
