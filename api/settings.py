"""The whole service's settings (`facility run`): the maintenance side's, which extend the rules'
and the collector's, plus HTTP, access control and the demo fleet. All are FACILITY_* environment
variables (README, "Configuration")."""

from __future__ import annotations

import secrets

from pydantic import Field, field_validator

from ingest.settings import items, state_secret
from maintenance.settings import MaintenanceSettings

__all__ = ["Settings", "items"]


class Settings(MaintenanceSettings):
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    request_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="a request body's limit (routes below excepted)"
    )
    bulk_request_max_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="batch intake and asset CSV imports"
    )

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

    # Demo fleet (make run)
    demo_fleet: bool | None = Field(
        None,
        description="unset: on only when every server is embedded (no FACILITY_MQTT_URL, "
        "FACILITY_INFLUX_URL, FACILITY_DATABASE_URL), so a production database is never seeded",
    )
    demo_site: str = "demo"
    demo_devices: int = Field(25, ge=0)
    demo_rate: float = Field(0.2, gt=0, description="messages per second per device")

    @field_validator("secret_key", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def demo_fleet_on(self) -> bool:
        if self.demo_fleet is not None:
            return self.demo_fleet
        return self.mqtt_url is None and self.influx_url is None and self.database_url is None

    @property
    def resolved_console_url(self) -> str:
        return self.console_url or f"http://{self.http_host}:{self.http_port}"

    def resolved_secret_key(self) -> str:
        return self.secret_key or state_secret(
            self.state_dir, "secret.key", lambda: secrets.token_urlsafe(48)
        )
