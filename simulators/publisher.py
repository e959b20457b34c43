"""Publishes a fleet's messages to an MQTT broker, paced in real time or as fast as possible."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from simulators.fleet import Fleet, Message

log = logging.getLogger(__name__)

DISCONNECT_WITH_WILL = 4
MAX_PENDING = 20_000  # MQTT 5 reason code: the broker publishes the will


def connect(
    url: str, client_id: str, will: tuple[str, bytes] | None = None, mqtt5: bool = True
) -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
    )
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme in ("mqtts", "ssl"):
        client.tls_set()
    if will:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    default_port = 8883 if parts.scheme in ("mqtts", "ssl") else 1883
    client.connect(parts.hostname or "127.0.0.1", parts.port or default_port, keepalive=30)
    client.loop_start()
    return client


class FleetPublisher:
    def __init__(
        self,
        url: str,
        fleet: Fleet,
        qos: int = 1,
        client_id: str | None = None,
        mqtt5: bool = True,
    ) -> None:
        self.fleet, self.qos = fleet, qos
        self._client = connect(
            url, client_id or f"simulator-{fleet.site}-{fleet.seed}", mqtt5=mqtt5
        )
        self._will_client: mqtt.Client | None = None
        # The device that will fail gets a connection of its own with a real last will (MQTT 5
        # lets a client leave with "disconnect with will"); on 3.1.1 the status is published.
        if mqtt5 and fleet.scenario is not None and fleet.scenario.offline and fleet.faulty:
            topic = fleet.topic(fleet.faulty, "status")
            self._will_client = connect(
                url, f"device-{fleet.site}-{fleet.faulty.device_id}", will=(topic, b"offline")
            )
        self.published = 0
        # Counted from PUBACKs (on_publish), which also arrive for messages paho queued while
        # disconnected and sent after reconnecting; MQTTMessageInfo.wait_for_publish raises there.
        self._acked = 0
        self._acked_changed = threading.Condition()
        self._client.on_publish = self._on_publish

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *rest: object) -> None:
        with self._acked_changed:
            self._acked += 1
            self._acked_changed.notify_all()

    def _wait_acked(self, outstanding: int, timeout_s: float = 120.0) -> None:
        """Wait until at most `outstanding` published messages still lack their PUBACK."""
        if self.qos == 0:
            return
        with self._acked_changed:
            if not self._acked_changed.wait_for(
                lambda: self.published - self._acked <= outstanding, timeout_s
            ):
                raise TimeoutError(f"{self.published - self._acked} messages not acknowledged")

    def publish_all(
        self,
        messages: Iterable[Message],
        realtime: bool = True,
        stop: threading.Event | None = None,
    ) -> int:
        started = time.monotonic()
        for message in messages:
            if stop is not None and stop.is_set():
                break
            if realtime:
                delay = started + message.due_s - time.monotonic()
                if delay > 0:
                    if stop is None:
                        time.sleep(delay)
                    elif stop.wait(delay):
                        break
            if message.will and self._will_client is not None:
                self._will_client.disconnect(
                    reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=DISCONNECT_WITH_WILL)
                )
                self._will_client.loop_stop()
                self._will_client = None
                continue
            self._client.publish(message.topic, message.payload, self.qos, message.retain)
            self.published += 1
            if self.published % 1000 == 0:
                # paho's message ids wrap at 65535: bound what is outstanding.
                self._wait_acked(MAX_PENDING)
        self._wait_acked(0)
        return self.published

    def close(self) -> None:
        for client in (self._client, self._will_client):
            if client is not None:
                client.disconnect()
                client.loop_stop()
