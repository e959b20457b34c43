"""The one settings object, read from FACILITY_* environment variables (documented in README)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from maintenance.notifications.robots import Robot
from maintenance.storage import crypto
from rules.alarms import AlarmPolicy
from rules.rulefile import SHIPPED


def items(text: str) -> list[str]:
    """The entries of a comma-separated setting, blanks dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _state_secret(state_dir: Path, name: str, make: Callable[[], str]) -> str:
    """A secret kept in the state dir (mode 0600), made on first use."""
    path = state_dir / name
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


class RobotSetting(BaseModel):
    """One group robot (WeCom, DingTalk, Feishu) and the sites whose notifications it gets."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["wecom", "dingtalk", "feishu"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    sites: list[str] = Field(default_factory=list, description="empty: every site")
    language: Literal["en", "zh-CN"] | None = Field(None, description="unset: the default locale")
    time_zone: str = "Asia/Shanghai"

    def robot(self, default_language: str) -> Robot:
        return Robot(
            kind=self.kind,
            url=self.url,
            secret=self.secret,
            sites=tuple(self.sites),
            language=self.language or default_language,
            zone=self.time_zone,
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACILITY_", extra="ignore")

    # Servers; unset means the embedded default.
    mqtt_url: str | None = Field(None, description="mqtt://user:pass@host:1883; unset: embedded")
    influx_url: str | None = Field(None, description="http://host:8086; unset: embedded SQLite")
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset: SQLite in state dir")

    state_dir: Path = Path(".state")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    log_level: str = "INFO"

    # MQTT
    mqtt_client_id: str = "facility-collector"
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        "5", description="3.1.1 trades MQTT 5 session expiry / receive maximum for speed"
    )
    mqtt_shared_group: str | None = None
    mqtt_topics: str = Field(
        "facility/#",
        description="comma-separated topic filters; a collector that owns sites subscribes to "
        "facility/<site>/# for each (docs/scaling.md)",
    )
    sources_file: Path | None = Field(
        None,
        description="YAML sources file (gateways' formats, docs/sources.md); unset: the native "
        "contract on FACILITY_MQTT_TOPICS",
    )
    mqtt_session_expiry_s: int = Field(7 * 24 * 3600, ge=0)
    mqtt_receive_maximum: int = Field(10_000, ge=1, le=65535)
    embedded_mqtt_port: int = Field(1884, ge=1, le=65535)
    mqtt_allow_anonymous: bool = Field(
        False,
        description="development only: the embedded broker takes clients without the "
        "generated account (<state dir>/mqtt.password)",
    )

    # InfluxDB (v1 HTTP API)
    influx_db: str = "facility"
    influx_username: str | None = None
    influx_password: str | None = None
    influx_token: str | None = None

    # Validation
    payload_max_bytes: int = Field(16_384, ge=64)
    max_metrics: int = Field(64, ge=1)
    ts_max_past_s: int = Field(7 * 24 * 3600, ge=0)
    ts_max_future_s: int = Field(300, ge=0)

    # Collector
    commit_points: int = Field(2_000, ge=1)
    commit_interval_ms: int = Field(20, ge=1)
    write_points: int = Field(10_000, ge=1)
    spool_fsync: bool = True
    spool_max_bytes: int = Field(1024**3, ge=1024**2)
    shutdown_flush_s: float = Field(10.0, ge=0)

    # Work orders
    attachments_dir: Path | None = Field(None, description="unset: <state dir>/attachments")
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    request_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="a request body's limit (routes below excepted)"
    )
    bulk_request_max_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="batch intake and asset CSV imports"
    )
    sla_check_interval_s: float = Field(60.0, gt=0)
    plan_generation: bool = Field(True, description="run inspection-plan generation here")
    plan_generation_interval_s: float = Field(3600.0, gt=0)
    satisfaction_reopen_at_or_below: int = Field(2, ge=0, le=5)

    # Rules and alarms
    rules_enabled: bool = Field(True, description="evaluate rules and anomaly models here")
    rule_files: str = Field(
        "shipped", description="comma-separated rule files; `shipped` is the shipped set"
    )
    alarm_clock_interval_s: float = Field(1.0, gt=0, description="delays, offline, expiries")
    alarm_chatter_raises: int = Field(3, ge=2)
    alarm_chatter_window_s: float = Field(60.0, gt=0)
    alarm_flood_alarms: int = Field(10, ge=1)
    alarm_flood_window_s: float = Field(600.0, gt=0)
    alarm_shelve_max_minutes: float = Field(480.0, gt=0)
    alarm_ticket_min_severity: Literal["critical", "major", "minor", "warning"] = "major"
    alarm_anomaly_findings_per_asset_week: int = Field(
        3, ge=1, description="anomaly findings per asset per 7 days that open an inspection"
    )
    alarm_mqtt_publish: bool = Field(True, description="retained facility/<site>/alarms/<id>")
    anomaly_enabled: bool = True
    anomaly_models_dir: Path | None = Field(None, description="unset: <state dir>/models")
    anomaly_training_days: float = Field(14.0, gt=0)
    anomaly_retrain_interval_h: float = Field(24.0, gt=0)

    # Language and local formats (docs/i18n.md)
    default_locale: Literal["en", "zh-CN"] = Field(
        "en", description="the language when neither the account nor the browser names one"
    )
    time_zone: str | None = Field(
        None,
        description="the zone pages show times in; unset: the sites' zone when they all share "
        "one (Asia/Shanghai on a Chinese estate), else UTC",
    )

    # Notifications (webhook, e-mail), with retries and a delivery log
    notify_webhook_urls: str = Field("", description="comma-separated URLs that get JSON POSTs")
    smtp_url: str | None = Field(None, description="smtp://user:pass@host:587?starttls=true")
    notify_email_from: str = "facility@localhost"
    notify_email_to: str = Field("", description="comma-separated addresses")
    notify_email_language: Literal["en", "zh-CN"] | None = Field(
        None, description="the mail as a card in this language; unset: the message as raised"
    )
    notify_kinds: str = Field(
        "critical_alarm,sla_breach,escalation", description="which notifications are delivered"
    )
    notify_robots: list[RobotSetting] = Field(
        default_factory=list,
        description='group robots as JSON: [{"kind": "dingtalk", "url": "https://oapi.dingtalk.'
        'com/robot/send?access_token=...", "secret": "SEC...", "sites": ["hepan"], "language": '
        '"zh-CN"}]; kinds wecom, dingtalk, feishu (docs/notifications.md)',
    )
    console_url: str | None = Field(
        None,
        description="the console's address as people reach it (links in notifications); unset: "
        "http://<http host>:<http port>",
    )
    notify_max_attempts: int = Field(6, ge=1)
    notify_backoff_s: float = Field(5.0, gt=0, description="first retry; doubles each time")
    notify_site_burst: int = Field(
        5, ge=1, description="notifications of a kind per site in a window before grouping"
    )
    notify_site_window_s: float = Field(60.0, gt=0, description="the grouping window")

    # Access control
    secret_key: str | None = Field(
        None, description="signs login tokens; unset: generated once into <state dir>/secret.key"
    )
    token_minutes: int = Field(15, ge=1, le=24 * 60)
    session_max_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="a login session's absolute lifetime (renewals stop)"
    )
    login_max_failures: int = Field(5, ge=1, description="wrong passwords per account in window")
    login_client_max_failures: int = Field(
        100, ge=1, description="wrong passwords per address in window (accounts new to it)"
    )
    login_window_s: float = Field(300.0, gt=0)
    data_key: str | None = Field(
        None,
        description="encrypts personal data at rest (a Fernet key: `facility data-key`); "
        "unset: generated once into <state dir>/data.key",
    )
    admin_password: str | None = Field(
        None, description="first start with no users: the `admin` account's password"
    )

    # Reporting tools (Grafana)
    readonly_role: str | None = Field(
        None,
        description="PostgreSQL role granted SELECT on the reporting tables after migrations",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
    )

    # Demo fleet (make run)
    demo_fleet: bool | None = Field(
        None,
        description="unset: on only when every server is embedded (no FACILITY_MQTT_URL, "
        "FACILITY_INFLUX_URL, FACILITY_DATABASE_URL), so a production database is never seeded",
    )
    demo_site: str = "demo"
    demo_devices: int = Field(25, ge=0)
    demo_rate: float = Field(0.2, gt=0, description="messages per second per device")

    @field_validator(
        "mqtt_url",
        "influx_url",
        "database_url",
        "mqtt_shared_group",
        "influx_username",
        "influx_password",
        "influx_token",
        "smtp_url",
        "secret_key",
        "admin_password",
        "data_key",
        "readonly_role",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def demo_fleet_on(self) -> bool:
        if self.demo_fleet is not None:
            return self.demo_fleet
        return self.mqtt_url is None and self.influx_url is None and self.database_url is None

    @property
    def topic_filters(self) -> tuple[str, ...]:
        return tuple(items(self.mqtt_topics))

    @property
    def rule_paths(self) -> list[Path]:
        return [SHIPPED if n == "shipped" else Path(n) for n in items(self.rule_files)]

    def resolved_secret_key(self) -> str:
        return self.secret_key or _state_secret(
            self.state_dir, "secret.key", lambda: secrets.token_urlsafe(48)
        )

    def embedded_mqtt_account(self) -> tuple[str, str] | None:
        """The embedded broker's one account, its password generated once into the state dir;
        None when anonymous clients are allowed."""
        if self.mqtt_allow_anonymous:
            return None
        password = _state_secret(self.state_dir, "mqtt.password", lambda: secrets.token_urlsafe(24))
        return ("facility", password)

    def embedded_mqtt_url(self) -> str:
        """Where this machine's processes reach the embedded broker (`facility simulate`)."""
        account = self.embedded_mqtt_account()
        address = f"127.0.0.1:{self.embedded_mqtt_port}"
        if account is None:
            return f"mqtt://{address}"
        return f"mqtt://{account[0]}:{quote(account[1], safe='')}@{address}"

    def resolved_data_key(self) -> str:
        return self.data_key or _state_secret(self.state_dir, "data.key", crypto.new_key)

    @property
    def models_dir(self) -> Path:
        return self.anomaly_models_dir or self.state_dir / "models"

    def alarm_policy(self) -> AlarmPolicy:
        return AlarmPolicy(
            chatter_raises=self.alarm_chatter_raises,
            chatter_window_ms=int(self.alarm_chatter_window_s * 1000),
            flood_alarms=self.alarm_flood_alarms,
            flood_window_ms=int(self.alarm_flood_window_s * 1000),
            shelve_max_ms=int(self.alarm_shelve_max_minutes * 60_000),
            ticket_min_severity=self.alarm_ticket_min_severity,
            anomaly_findings_per_asset_week=self.alarm_anomaly_findings_per_asset_week,
        )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'facility.sqlite'}"

    @property
    def resolved_console_url(self) -> str:
        return self.console_url or f"http://{self.http_host}:{self.http_port}"

    def robots(self) -> list[Robot]:
        return [r.robot(self.default_locale) for r in self.notify_robots]
