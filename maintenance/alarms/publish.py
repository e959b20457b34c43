"""Where alarm transitions go after they are committed: an in-process stream (the API serves it
live) and MQTT `facility/<site>/alarms/<alarm id>`, retained, so a dashboard that subscribes
late still gets each alarm's current state."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.client import BrokerAddress
from maintenance.alarms.service import AlarmTransition

log = logging.getLogger(__name__)


def as_json(transition: AlarmTransition) -> dict[str, Any]:
    body = asdict(transition)
    body["at"] = transition.at.isoformat()
    return body


class AlarmStream:
    """Fan-out to in-process subscribers, each with a bounded queue: a slow subscriber loses its
    oldest events (and is told how many), never slows alarm processing."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self.queue_size = queue_size
        self._subscribers: list[queue.Queue[AlarmTransition]] = []
        self._lock = threading.Lock()
        self.dropped = 0

    def subscribe(self) -> queue.Queue[AlarmTransition]:
        subscriber: queue.Queue[AlarmTransition] = queue.Queue(self.queue_size)
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: queue.Queue[AlarmTransition]) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def __call__(self, transitions: Sequence[AlarmTransition]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            for transition in transitions:
                while True:
                    try:
                        subscriber.put_nowait(transition)
                        break
                    except queue.Full:
                        try:
                            subscriber.get_nowait()
                            self.dropped += 1
                        except queue.Empty:
                            pass


def alarm_topic(transition: AlarmTransition) -> str:
    return f"facility/{transition.site}/alarms/{transition.alarm_id}"


class MqttAlarmPublisher:
    """Publishes each alarm's current state, retained, QoS 1. paho queues while the broker is
    away and sends on reconnect; publishing never blocks the alarm path."""

    def __init__(self, broker: BrokerAddress, *, client_id: str) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        self._client.max_queued_messages_set(100_000)
        self._last: mqtt.MQTTMessageInfo | None = None
        self._client.connect_async(broker.host, broker.port, keepalive=30)
        self._client.loop_start()

    def __call__(self, transitions: Sequence[AlarmTransition]) -> None:
        for transition in transitions:
            self._last = self._client.publish(
                alarm_topic(transition), orjson.dumps(as_json(transition)), qos=1, retain=True
            )

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
