"""The maintenance side's part of the settings: the database, personal data at rest, work
orders, alarm management and notifications. It extends the collector's and the rules' parts:
`facility collect` (a collector with its alarm stage) reads this one."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingest.settings import state_secret
from maintenance.alarms.lifecycle import AlarmPolicy
from maintenance.notifications.robots import Robot
from maintenance.storage import crypto
from rules.settings import RuleSettings


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


class MaintenanceSettings(RuleSettings):
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset: SQLite in state dir")
    data_key: str | None = Field(
        None,
        description="encrypts personal data at rest (a Fernet key: `facility data-key`); "
        "unset: generated once into <state dir>/data.key",
    )
    admin_password: str | None = Field(
        None, description="first start with no users: the `admin` account's password"
    )

    # Work orders
    attachments_dir: Path | None = Field(None, description="unset: <state dir>/attachments")
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    sla_check_interval_s: float = Field(60.0, gt=0)
    plan_generation: bool = Field(True, description="run inspection-plan generation here")
    plan_generation_interval_s: float = Field(3600.0, gt=0)
    patrol_watch_interval_s: float = Field(
        60.0, gt=0, description="patrol runs opened and closed (missed points) this often"
    )
    satisfaction_reopen_at_or_below: int = Field(2, ge=0, le=5)

    # Alarms
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

    # Language and local formats (docs/i18n.md)
    default_locale: Literal["en", "zh-CN"] = Field(
        "en", description="the language when neither the account nor the browser names one"
    )
    time_zone: str | None = Field(
        None,
        description="the zone pages show times in; unset: the sites' zone when they all share "
        "one (Asia/Shanghai on a Chinese estate), else UTC",
    )

    # Notifications (webhook, e-mail, group robots), with retries and a delivery log
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

    # Reporting tools (Grafana)
    readonly_role: str | None = Field(
        None,
        description="PostgreSQL role granted SELECT on the reporting tables after migrations",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
    )

    @field_validator(
        "database_url",
        "data_key",
        "admin_password",
        "smtp_url",
        "readonly_role",
        "time_zone",
        "console_url",
        "notify_email_language",
        mode="before",
    )
    @classmethod
    def _blank_is_unset_too(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def resolved_console_url(self) -> str:
        """Where notifications link to; the whole service's settings know its HTTP address."""
        return self.console_url or "http://127.0.0.1:8000"

    def robots(self) -> list[Robot]:
        return [r.robot(self.default_locale) for r in self.notify_robots]

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'facility.sqlite'}"

    def resolved_data_key(self) -> str:
        return self.data_key or state_secret(self.state_dir, "data.key", crypto.new_key)

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
