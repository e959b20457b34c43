"""The collector's part of the settings, read from FACILITY_* environment variables (README,
"Configuration"). The later stages' settings extend it (`rules.settings`,
`maintenance.settings`, `api.settings`): one environment, each process reading its part."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def items(text: str) -> list[str]:
    """The entries of a comma-separated setting, blanks dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def state_secret(state_dir: Path, name: str, make: Callable[[], str]) -> str:
    """A secret kept in the state dir (mode 0600), made on first use."""
    path = state_dir / name
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACILITY_", extra="ignore")

    # Servers; unset means the embedded default.
    mqtt_url: str | None = Field(None, description="mqtt://user:pass@host:1883; unset: embedded")
    influx_url: str | None = Field(None, description="http://host:8086; unset: embedded SQLite")

    state_dir: Path = Path(".state")
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

    @field_validator(
        "mqtt_url",
        "influx_url",
        "mqtt_shared_group",
        "influx_username",
        "influx_password",
        "influx_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def topic_filters(self) -> tuple[str, ...]:
        return tuple(items(self.mqtt_topics))

    def embedded_mqtt_account(self) -> tuple[str, str] | None:
        """The embedded broker's one account, its password generated once into the state dir;
        None when anonymous clients are allowed."""
        if self.mqtt_allow_anonymous:
            return None
        password = state_secret(self.state_dir, "mqtt.password", lambda: secrets.token_urlsafe(24))
        return ("facility", password)

    def embedded_mqtt_url(self) -> str:
        """Where this machine's processes reach the embedded broker (`facility simulate`)."""
        account = self.embedded_mqtt_account()
        address = f"127.0.0.1:{self.embedded_mqtt_port}"
        if account is None:
            return f"mqtt://{address}"
        return f"mqtt://{account[0]}:{quote(account[1], safe='')}@{address}"
