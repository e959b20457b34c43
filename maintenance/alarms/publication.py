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

from ingest.client import BrokerAddress, MqttPublisher
from maintenance.alarms.transitions import AlarmTransition

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
    """Publishes each alarm's current state, retained, QoS 1, through the ingest package's MQTT
    client; publishing never blocks the alarm path."""

    def __init__(self, broker: BrokerAddress, *, client_id: str) -> None:
        self._client = MqttPublisher(broker, client_id=client_id)

    def __call__(self, transitions: Sequence[AlarmTransition]) -> None:
        for transition in transitions:
            self._client.publish(
                alarm_topic(transition), orjson.dumps(as_json(transition)), retain=True
            )

    def close(self, timeout_s: float = 5.0) -> None:
        self._client.close(timeout_s)
