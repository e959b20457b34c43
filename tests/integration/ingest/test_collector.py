"""The collector against real mosquitto and real InfluxDB processes."""

from __future__ import annotations

import uuid
from pathlib import Path

from ingest.store.influx import InfluxStore
from tests.helpers import (
    collector,
    count_points,
    expected_points,
    landed_points,
    publish,
    publish_paced,
    recent_fleet,
    wait_until,
)
from tests.servers import Influx, Mosquitto


def test_every_published_message_lands_as_exactly_one_equal_point(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    database = f"t_{uuid.uuid4().hex[:10]}"
    service = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    fleet = recent_fleet(devices=20, steps=60)
    messages = list(fleet.messages())
    assert publish(mosquitto.url, messages, fleet) == 1200
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 1200, 30, "1200 points")
    service.stop()
    assert landed_points(store) == expected_points(messages)
    stats = service.collector.stats
    assert (stats.received, stats.written, stats.dead_lettered) == (1200, 1200, 0)


def test_malformed_corpus_is_dead_lettered_and_the_good_messages_around_it_land(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    import time

    from simulators.fleet import Message

    database = f"t_{uuid.uuid4().hex[:10]}"
    service = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    now = int(time.time() * 1000)
    good_topic = "facility/s1/water/pump-1/telemetry"
    bad = [
        (good_topic, b"{not json", "invalid JSON"),
        (good_topic, b'{"ts": "x", "metrics": {"flow": 1}}', "RFC 3339"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": "high"}}' % now, "metrics.flow"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": NaN}}' % now, "invalid JSON"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": Infinity}}' % now, "invalid JSON"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": -1e400}}' % now, "infinity"),
        (good_topic, b"{" + b" " * 1_000_000 + b"}", "the limit is 16384"),
        (good_topic, b'{"metrics": {"flow": 1}}', "ts: required"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": 1}}' % (now + 86_400_000), "future"),
        (
            "facility/s1/boiler/b-1/telemetry",
            b'{"ts": %d, "metrics": {"t": 1}}' % now,
            "unknown system",
        ),
        (
            "facility/s1/water/pump 2/telemetry",
            b'{"ts": %d, "metrics": {"x": 1}}' % now,
            "unsafe device_id",
        ),
        (
            "facility/s1/water/p,evil=1/telemetry",
            b'{"ts": %d, "metrics": {"x": 1}}' % now,
            "unsafe device_id",
        ),
        (
            'facility/s1/water/p"q/telemetry',
            b'{"ts": %d, "metrics": {"x": 1}}' % now,
            "unsafe device_id",
        ),
        (
            "facility/s1/water/p=q/telemetry",
            b'{"ts": %d, "metrics": {"x": 1}}' % now,
            "unsafe device_id",
        ),
        (good_topic, b'{"ts": %d, "metrics": {"fl ow": 1}}' % now, "unsafe or reserved"),
        (good_topic, b'{"ts": %d, "metrics": {"flow": "\xff\xfe"}}' % now, "invalid JSON"),
        (good_topic, b"\xff\xfe\x00", "invalid JSON"),
        (good_topic, b"", "empty payload"),
    ]
    messages: list[Message] = []
    expected: dict[int, float] = {}
    for i, (topic, payload, _) in enumerate(bad):
        ts = now - 60_000 + i * 10
        expected[ts] = float(i)
        messages.append(Message(0, good_topic, b'{"ts": %d, "metrics": {"flow": %d}}' % (ts, i)))
        messages.append(Message(0, topic, payload))
    fleet = recent_fleet(devices=1, steps=1)
    publish(mosquitto.url, messages, fleet)
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: service.collector.stats.received == len(messages), 30, "all messages")
    wait_until(lambda: service.collector.stats.written == len(bad), 30, "the good points")
    service.stop()

    assert dict(store.raw("water", {"device_id": "pump-1"}, "flow", now - 120_000, now)) == expected
    assert service.collector.stats.dead_lettered == len(bad)
    from ingest.deadletters import DeadLetterStore  # stop() closed the collector's handle

    letters = DeadLetterStore(tmp_path / "state" / "deadletters.sqlite")
    assert letters.count() == len(bad)
    stored = letters.list(limit=100)
    assert [(s.letter.topic, s.letter.payload) for s in stored] == [
        (t, p[:1024]) for t, p, _ in bad
    ]
    for s, (_, _, reason) in zip(stored, bad, strict=True):
        assert reason in s.letter.reason, (s.letter.reason, reason)
    assert store.query("SHOW MEASUREMENTS")[0]["values"] == [["water"]]
    assert store.query('SHOW TAG KEYS FROM "water"')[0]["values"] == [["device_id"], ["site"]]
    assert store.query('SHOW FIELD KEYS FROM "water"')[0]["values"] == [["flow", "float"]]
    values = store.query('SHOW TAG VALUES FROM "water" WITH KEY = "device_id"')[0]["values"]
    assert values == [["device_id", "pump-1"]]


def test_influxdb_down_for_20s_mid_stream_loses_nothing(
    mosquitto: Mosquitto, influx_private: Influx, tmp_path: Path
) -> None:
    import time

    database = "outage"
    service = collector(mosquitto.url, influx_private.url, database, tmp_path / "state")
    fleet = recent_fleet(devices=20, steps=150)
    messages = list(fleet.messages())
    publisher = publish_paced(mosquitto.url, messages, fleet, seconds=30)
    time.sleep(4)
    influx_private.stop()
    time.sleep(3)
    assert not service.collector.stats.store_up
    assert service.collector.spool.backlog_points > 0
    time.sleep(17)
    influx_private.start()
    publisher.thread.join()  # type: ignore[attr-defined]
    publisher.close()
    store = InfluxStore(influx_private.url, database)
    wait_until(lambda: count_points(store) == 3000, 60, "3000 points after the outage")
    service.stop()
    assert landed_points(store) == expected_points(messages)
    assert service.collector.stats.dead_lettered == 0


def test_collector_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    database = f"t_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": mosquitto.url,
        "FACILITY_MQTT_CLIENT_ID": "collector-kill-test",
        "FACILITY_INFLUX_URL": influx_server.url,
        "FACILITY_INFLUX_DB": database,
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
    }
    argv = [sys.executable, "-m", "api.cli", "collect"]
    log = open(tmp_path / "collector.log", "ab")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        first = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        processes.append(first)
        store = InfluxStore(influx_server.url, database)
        # Until the collector has subscribed, the broker has nobody to queue messages for.
        probe = recent_fleet(devices=1, steps=1, site="probe")

        def probe_landed() -> bool:
            publish(mosquitto.url, list(probe.messages()), probe, client_id="probe")
            time.sleep(0.5)
            return count_points(store, site="probe") == 1

        wait_until(probe_landed, 30, "the collector to subscribe")
        fleet = recent_fleet(devices=20, steps=200)
        messages = list(fleet.messages())
        publisher = publish_paced(mosquitto.url, messages, fleet, seconds=10)
        wait_until(lambda: count_points(store) > 500, 30, "the stream to start landing")
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = count_points(store)
        time.sleep(1)
        second = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        processes.append(second)
        publisher.thread.join()  # type: ignore[attr-defined]
        publisher.close()
        wait_until(lambda: count_points(store) == 4000, 60, "4000 points after the restart")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for process in processes:
            process.kill()
    assert 500 < killed_at < 4000
    assert landed_points(store) == expected_points(messages)


def test_mosquitto_restarted_mid_stream_loses_nothing(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    import time

    database = f"t_{uuid.uuid4().hex[:10]}"
    service = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    fleet = recent_fleet(devices=20, steps=150)
    messages = list(fleet.messages())
    publisher = publish_paced(mosquitto.url, messages, fleet, seconds=12)
    time.sleep(3)
    # The collector leaves, so the broker queues its share for the persistent session ...
    service.stop()
    time.sleep(1.5)
    # ... and the restart must keep that queue (persistence) and what is in flight.
    mosquitto.stop()
    time.sleep(1)
    mosquitto.start()
    service = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    publisher.thread.join()  # type: ignore[attr-defined]
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 3000, 60, "3000 points after the broker restart")
    publisher.close()
    service.stop()
    assert landed_points(store) == expected_points(messages)


def test_acknowledged_messages_are_not_redelivered_to_the_next_session(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    import time

    database = f"t_{uuid.uuid4().hex[:10]}"
    service = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    fleet = recent_fleet(devices=50, steps=100)
    publish(mosquitto.url, list(fleet.messages()), fleet)
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 5000, 30, "5000 points")
    service.stop()
    again = collector(mosquitto.url, influx_server.url, database, tmp_path / "state")
    time.sleep(2)
    again.stop()
    assert again.collector.stats.received == 0


def test_two_collectors_in_a_shared_group_split_the_stream_and_land_it_once(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    from ingest.client import BrokerAddress, SubscriptionConfig
    from ingest.service import IngestService

    database = f"t_{uuid.uuid4().hex[:10]}"
    services = []
    for n in (1, 2):
        service = IngestService(
            BrokerAddress.from_url(mosquitto.url),
            SubscriptionConfig(client_id=f"shared-{n}", shared_group="collectors"),
            InfluxStore(influx_server.url, database),
            tmp_path / f"state-{n}",
        )
        service.start()
        wait_until(service.subscriber.connected.is_set, 10, "a collector to connect")
        services.append(service)
    assert services[0].subscriber.filters() == ["$share/collectors/facility/#"]
    import time

    time.sleep(0.5)  # both SUBACKs
    fleet = recent_fleet(devices=20, steps=50)
    messages = list(fleet.messages())
    publish(mosquitto.url, messages, fleet)
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 1000, 30, "1000 points")
    for service in services:
        service.stop()
    received = [s.collector.stats.received for s in services]
    assert sum(received) == 1000 and min(received) > 0
    assert landed_points(store) == expected_points(messages)
