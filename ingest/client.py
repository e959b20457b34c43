"""The one paho-mqtt wrapper of the pipeline: the collector's subscriber (MQTT 5 persistent
session, QoS 1, manual acknowledgement) and the publisher the alarm stage announces through.

Subscribing happens in on_connect so that every reconnect resubscribes; the session outlives the
process (clean start off, a session expiry), so the broker queues messages while we are away.
"""

from __future__ import annotations

import logging
import ssl
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.matcher import MQTTMatcher
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.redact import mask_url

log = logging.getLogger(__name__)

MessageHandler = Callable[[bytes, bytes, int], None]
_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id (MQTT 5: success)


class _NoFilterMatcher(MQTTMatcher):
    """paho looks every message up among per-topic callbacks (we register none) through a
    recursive closure that is a reference cycle: six garbage objects per message for the cyclic
    garbage collector, whose pauses became the live alarm feed's tail latency."""

    def iter_match(self, topic: str) -> Iterator[Any]:
        if not self._root._children:
            return iter(())
        return super().iter_match(topic)  # type: ignore[no-any-return,no-untyped-call]


class _BatchingClient(mqtt.Client):
    """paho's client with three fixes, kept here so nothing else touches paho internals
    (paho-mqtt is pinned below 3):
    - reads come from a 64 KiB buffer, not 3-4 recv() calls per PUBLISH;
    - `ack_many` queues one packet holding every PUBACK of a committed group, where `ack()` would
      wake the network thread and make one send() per message;
    - no per-message garbage from the topic-callback lookup (`_NoFilterMatcher`).
    The first two cut the per-message system calls, each of which hands the GIL to another
    thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_message_filtered = _NoFilterMatcher()  # type: ignore[no-untyped-call]
        self._read_buffer = b""
        self._read_offset = 0

    def ack_many(self, mids: Sequence[int]) -> None:
        packet = b"".join(_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids if mid)
        if packet:
            self._packet_queue(mqtt.PUBACK, packet, 0, 0)

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._read_offset >= len(self._read_buffer):
            chunk = super()._sock_recv(65536)
            if not chunk:
                return chunk
            self._read_buffer, self._read_offset = chunk, 0
        start = self._read_offset
        self._read_offset = min(start + bufsize, len(self._read_buffer))
        return self._read_buffer[start : self._read_offset]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Packets already buffered would otherwise wait for the socket to become readable again.
        while (
            rc == mqtt.MQTT_ERR_SUCCESS
            and self._sock is not None
            and (self._read_offset < len(self._read_buffer))
        ):
            rc = super().loop_read(1)
        return rc

    def _sock_close(self) -> None:
        self._read_buffer, self._read_offset = b"", 0
        super()._sock_close()


@dataclass(slots=True, frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """mqtt://[user:pass@]host[:port] or mqtts://... (TLS, default port 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {mask_url(url)!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _authenticate(client: mqtt.Client, broker: BrokerAddress) -> None:
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)


@dataclass(slots=True, frozen=True)
class SubscriptionConfig:
    client_id: str
    topics: tuple[str, ...] = ("facility/#",)
    shared_group: str | None = None  # "$share/<group>/..." to split load across collectors
    session_expiry_s: int = 7 * 24 * 3600
    receive_maximum: int = 10_000  # unacknowledged QoS 1 messages the broker may send us
    keepalive_s: int = 30
    mqtt5: bool = True  # False: MQTT 3.1.1 with clean_session off (the embedded broker)


class MqttSubscriber:
    def __init__(
        self, broker: BrokerAddress, config: SubscriptionConfig, on_message: MessageHandler
    ) -> None:
        self._config = config
        self._on_message = on_message
        self.connected = threading.Event()
        # Set on the broker's SUBACK for the filters subscribed at connect: `connected` alone
        # does not mean a message published now reaches us.
        self.subscribed = threading.Event()
        self._topics = tuple(config.topics)
        self._topics_lock = threading.Lock()
        self._connect_mid: int | None = None
        self._pending: set[int] = set()  # (un)subscriptions of use_topics the broker has not acked
        self._stale: set[str] = set()  # filters removed while disconnected
        client = _BatchingClient(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=mqtt.MQTTv5 if config.mqtt5 else mqtt.MQTTv311,
            clean_session=None if config.mqtt5 else False,
            manual_ack=True,
        )
        _authenticate(client, broker)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_subscribe = self._handle_subscribe
        client.on_unsubscribe = self._handle_unsubscribe
        self._client = client
        self._broker = broker

    def filters(self) -> list[str]:
        return self._shared(self._topics)

    def _shared(self, topics: Sequence[str]) -> list[str]:
        group = self._config.shared_group
        return [f"$share/{group}/{t}" if group else t for t in topics]

    def use_topics(self, topics: Sequence[str]) -> None:
        """Follow a changed set of topic filters (a sources file reload) without reconnecting:
        subscribe to the new ones, unsubscribe from the removed ones. While disconnected, the
        next connect subscribes to the new set and drops the removed ones from the session."""
        wanted = tuple(dict.fromkeys(topics))
        with self._topics_lock:
            added = [t for t in wanted if t not in self._topics]
            removed = [t for t in self._topics if t not in wanted]
            self._topics = wanted
            self._stale.difference_update(wanted)
            if not self.connected.is_set():
                self._stale.update(removed)  # the broker keeps our session's subscriptions
                return
            if added:
                self._track(self._subscribe(self._client, self._shared(added)))
                log.info("subscribing to %s", ", ".join(added))
            if removed:
                if not self._track(self._client.unsubscribe(self._shared(removed))):
                    self._stale.update(removed)  # not sent (just disconnected): next connect
                log.info("unsubscribing from %s", ", ".join(removed))

    def _subscribe(
        self, client: mqtt.Client, filters: list[str]
    ) -> tuple[MQTTErrorCode, int | None]:
        if self._config.mqtt5:
            # retainHandling=1: retained status messages only when the subscription is new.
            options = SubscribeOptions(qos=1, retainHandling=1)
            return client.subscribe([(f, options) for f in filters])
        return client.subscribe([(f, 1) for f in filters])

    def _track(self, sent: tuple[MQTTErrorCode, int | None]) -> bool:
        """Whether a (un)subscribe went out; if so, awaited until the broker acknowledges it (a
        subscribe not sent is made again by the next connect, which subscribes to all)."""
        rc, mid = sent
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            return False
        self._pending.add(mid)
        return True

    def settled(self) -> bool:
        """Subscribed, and the broker has acknowledged every change of filters since."""
        with self._topics_lock:
            return self.subscribed.is_set() and not self._pending

    def start(self) -> None:
        if self._config.mqtt5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = self._config.session_expiry_s
            properties.ReceiveMaximum = self._config.receive_maximum
            self._client.connect_async(
                self._broker.host,
                self._broker.port,
                keepalive=self._config.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        else:
            self._client.connect_async(
                self._broker.host, self._broker.port, keepalive=self._config.keepalive_s
            )
        self._client.loop_start()

    def ack(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages, in the order they arrived (0 = QoS 0, nothing to do)."""
        self._client.ack_many(mids)

    def publish(self, topic: str, payload: bytes) -> None:
        """An answer a protocol needs (QoS 1; paho queues it while disconnected)."""
        self._client.publish(topic, payload, qos=1)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()
        self.subscribed.clear()

    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        log.info(
            "connected to %s:%s (session present: %s)",
            self._broker.host,
            self._broker.port,
            flags.session_present,
        )
        with self._topics_lock:
            self._pending.clear()  # this subscription carries every change made meanwhile
            self._connect_mid = self._subscribe(client, self.filters())[1]
            if self._stale:
                stale, self._stale = self._shared(sorted(self._stale)), set()
                self._track(client.unsubscribe(stale))
            # Under the lock: a use_topics in between would otherwise think us disconnected.
            self.connected.set()

    def _handle_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            # The broker's ACL or limits: the filters stay unserved, which must be seen.
            log.error("the broker refused a subscription: %s", ", ".join(refused))
        with self._topics_lock:
            self._pending.discard(mid)
        if mid == self._connect_mid:
            self.subscribed.set()

    def _handle_unsubscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._topics_lock:
            self._pending.discard(mid)

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if reason.is_failure:
            log.warning("disconnected from the broker: %s; reconnecting", reason)

    def _handle_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        # message._topic is the raw bytes: a non-UTF-8 topic must reach the dead letters,
        # while the .topic property would raise inside paho's thread.
        self._on_message(bytes(message._topic), bytes(message.payload), message.mid)


class MqttPublisher:
    """A publishing client (QoS 1; MQTT 3.1.1, which every broker speaks). paho queues up to
    `max_queued` messages while the broker is away and sends them on reconnect: publishing
    never blocks the caller."""

    def __init__(self, broker: BrokerAddress, *, client_id: str, max_queued: int = 100_000) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        _authenticate(self._client, broker)
        self._client.max_queued_messages_set(max_queued)
        self._last: mqtt.MQTTMessageInfo | None = None
        self._client.connect_async(broker.host, broker.port, keepalive=30)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self._last = self._client.publish(topic, payload, qos=1, retain=retain)

    def close(self, timeout_s: float = 5.0) -> None:
        """Gives the messages in flight a few seconds to be acknowledged, then disconnects.
        (Stopping paho's loop first would wait for them forever if the broker never answers.)"""
        if self._last is not None:
            try:
                self._last.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError):  # not connected, or the queue refused it
                pass
        self._client.disconnect()
        self._client.loop_stop()
