"""The embedded MQTT broker for `make run` without a real one: amqtt in a thread of its own.

amqtt speaks MQTT 3.1.1 only, so against it the collector uses a 3.1.1 persistent session; it keeps
sessions in memory, so queued messages do not survive the process. Production uses mosquitto.

It listens on loopback only and takes one account (the service's, whose generated password the
collector, the alarm publisher and the demo fleet use); anonymous clients only when a
development setting allows them (FACILITY_MQTT_ALLOW_ANONYMOUS).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

log = logging.getLogger(__name__)


class AccountAuth(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no types
    """amqtt's authentication: the one account, compared in constant time."""

    @dataclass
    class Config:
        username: str = ""
        password: str = ""
        allow_anonymous: bool = False

    async def authenticate(self, *, session: Session) -> bool:
        config: AccountAuth.Config = self.config
        if config.allow_anonymous:
            return True
        if not session.username or not config.username:
            return False
        same_user = hmac.compare_digest(session.username.encode(), config.username.encode())
        same_password = hmac.compare_digest(
            (session.password or "").encode(), config.password.encode()
        )
        return same_user and same_password


class EmbeddedBroker:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1884,
        *,
        account: tuple[str, str] | None = None,
        allow_anonymous: bool = False,
    ) -> None:
        if account is None and not allow_anonymous:
            raise ValueError("the embedded broker needs an account or allow_anonymous")
        self.host, self.port = host, port
        self.account, self.allow_anonymous = account, allow_anonymous
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="embedded-broker", daemon=True
        )
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        """Where clients of this process connect, with the account when there is one."""
        if self.account is None:
            return f"mqtt://{self.host}:{self.port}"
        username, password = (quote(part, safe="") for part in self.account)
        return f"mqtt://{username}:{password}@{self.host}:{self.port}"

    def start(self) -> None:
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                f"{__name__}.AccountAuth": {
                    "username": self.account[0] if self.account else "",
                    "password": self.account[1] if self.account else "",
                    "allow_anonymous": self.allow_anonymous,
                },
            },
        }
        for noisy in ("amqtt", "transitions"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        self._thread.start()

        async def start() -> Broker:
            broker = Broker(config)
            await broker.start()
            return broker

        self._broker = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        log.info(
            "embedded MQTT broker on %s:%s (%s)",
            self.host,
            self.port,
            "anonymous clients allowed" if self.allow_anonymous else "one account, no anonymous",
        )

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
            self._broker = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
