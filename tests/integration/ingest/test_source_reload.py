"""A sources file's topic filters changed while the collector runs: the collector subscribes to
the new filters and unsubscribes from the removed ones, on a real mosquitto, without a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.ingest.test_gateways import SITE, start_collector, values
from tests.servers import Mosquitto, wait_until

SOURCES = """
sources:
  - name: plant
    format: influx-line
    topics: [{topics}]
    site: {site}
    system: water
    line: {{precision: ms}}
    devices: {{p1: {{device_id: pump-1}}}}
"""


def sources(*topics: str) -> str:
    return SOURCES.format(topics=", ".join(f'"{t}"' for t in topics), site=SITE)


def rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    # A file system with coarse times could keep the stamp: the reload looks at the stamp.
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_changed_topic_filters_take_effect_without_a_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    service, store = start_collector(mosquitto, state, sources("plant-a/#"))
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="line-publisher")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()

    start_ms = int(time.time() * 1000)

    def send(topic: str, current: float) -> None:
        # A time of its own per reading (one series, one value a millisecond).
        line = f"pump,host=p1 pump_current={current} {start_ms + int(current * 1000)}"
        publisher.publish(topic, line.encode(), qos=1).wait_for_publish(10)

    def currents() -> list[float]:
        return values(store, "water", "pump-1", "pump_current")

    try:
        subscriber = service.subscriber
        send("plant-a/line", 1.0)
        wait_until(lambda: currents() == [1.0], 15, "the first filter's reading")

        rewrite(state / "sources.yaml", sources("plant-b/#", "plant-c/+/line"))
        wait_until(
            lambda: (
                subscriber.filters() == ["plant-b/#", "plant-c/+/line"] and subscriber.settled()
            ),
            15,
            "the new filters subscribed and the old one unsubscribed",
        )
        assert subscriber.connected.is_set()  # the same connection: no restart, no reconnect
        send("plant-a/line", 2.0)  # no longer a filter of the collector: the broker keeps it
        send("plant-b/line", 3.0)
        send("plant-c/room1/line", 4.0)
        wait_until(lambda: len(currents()) == 3, 15, "the new filters' readings")
        assert currents() == [1.0, 3.0, 4.0]
        assert service.collector.stats.received == 3
        assert service.collector.dead_letters.count() == 0

        rewrite(state / "sources.yaml", sources("plant-a/#"))  # and back
        wait_until(
            lambda: subscriber.filters() == ["plant-a/#"] and subscriber.settled(),
            15,
            "the first filter again",
        )
        send("plant-b/line", 5.0)
        send("plant-a/line", 6.0)
        wait_until(lambda: len(currents()) == 4, 15, "the first filter's second reading")
        assert currents() == [1.0, 3.0, 4.0, 6.0]
        assert service.collector.stats.received == 4
        assert service.collector.dead_letters.count() == 0
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.stop()
