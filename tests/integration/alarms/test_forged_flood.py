"""Forged device messages against the running service, through a real mosquitto: what a
publisher the broker lets through can do (a gateway's account covers every device id of its
site; an anonymous client, where a broker allows them). Devices the ledger does not know raise
no alarm, open no ticket and page no one, however many and however retained; a flood of real
alarms pages a site a bounded number of times, and what is held back arrives grouped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.alarms.models import Alarm
from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.notifications.notifier import CollectingNotifier, Notification
from maintenance.work_orders.models import Ticket
from tests.helpers import authorized, wait_until
from tests.servers import Mosquitto, free_port

KNOWN = [f"fire-{n:03d}" for n in range(12)]


@pytest.fixture
def service(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[tuple[Runtime, CollectingNotifier]]:
    runtime = Runtime(
        Settings(
            mqtt_url=mosquitto.url,
            database_url=f"sqlite:///{tmp_path / 'facility.sqlite'}",
            state_dir=tmp_path / "state",
            http_port=free_port(),
            plan_generation=False,
            notify_site_burst=5,
            notify_site_window_s=3,
            alarm_flood_alarms=1000,
        )
    )
    paged = CollectingNotifier()
    runtime.outbox.also = paged  # every notification the outbox takes, as it takes it
    runtime.start()
    with runtime.database.transaction() as s:
        site = create_site(s, SiteCreate(code="estate-1", name="Riverside"))
        for device in KNOWN:
            save_asset(
                s,
                AssetCreate(
                    site_id=site.id,
                    code=device.upper(),
                    system="fire",
                    type="fire panel",
                    device_ids=[device],
                ),
            )
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    yield runtime, paged
    runtime.stop()


def count(runtime: Runtime, table: type[Alarm] | type[Ticket]) -> int:
    with runtime.database.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def critical(paged: CollectingNotifier) -> list[Notification]:
    return [n for n in paged.sent if n.kind == "critical_alarm"]


def publish_all(url_port: int, messages: list[tuple[str, bytes]], *, retain: bool) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="forger", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", url_port)
    client.loop_start()
    infos = [client.publish(t, p, qos=1, retain=retain) for t, p in messages]
    for info in infos:
        info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def test_forged_statuses_and_events_of_unknown_devices_raise_nothing(
    service: tuple[Runtime, CollectingNotifier], mosquitto: Mosquitto
) -> None:
    runtime, paged = service
    ghosts = [f"ghost-{n}" for n in range(1000)]
    publish_all(
        mosquitto.port,
        [(f"facility/estate-1/fire/{g}/status", b"offline") for g in ghosts],
        retain=True,
    )
    publish_all(
        mosquitto.port,
        [
            ("facility/estate-1/fire/ghost-0/event", b'{"ts": %d, "code": "fire_alarm"}' % ms)
            for ms in [int(time.time() * 1000)]
        ]
        + [("facility/estate-1/fire/fire-000/status", b"online")],  # a known device, for order
        retain=False,
    )
    wait_until(
        lambda: (
            runtime.alarms is not None
            and runtime.alarms.ledger is not None
            and runtime.alarms.ledger.unmapped().messages == 1001
        ),
        30,
        "the forged messages to be counted",
    )
    # every forged message has passed the ledger check, and none raised anything
    assert count(runtime, Alarm) == 0
    assert count(runtime, Ticket) == 0
    time.sleep(3.5)  # a grouping window: nothing held either
    assert paged.sent == []
    client = authorized(TestClient(create_app(runtime)), runtime.database)
    wait_until(lambda: runtime.ingest.collector.stats.received == 1002, 10, "all received")
    health = client.get("/health").json()
    assert health["alarms"] == {"unmapped_devices": 1000, "unmapped_messages": 1001}
    assert health["collector"]["received"] == 1002  # received and stored, never dropped
    metrics = client.get("/metrics").text
    assert "facility_alarm_unmapped_devices 1000.0" in metrics
    assert "facility_alarm_unmapped_messages_total 1001.0" in metrics


def test_a_flood_of_real_alarms_pages_a_burst_then_one_grouped_message(
    service: tuple[Runtime, CollectingNotifier], mosquitto: Mosquitto
) -> None:
    runtime, paged = service
    publish_all(
        mosquitto.port,
        [(f"facility/estate-1/fire/{d}/status", b"offline") for d in KNOWN],
        retain=True,
    )
    wait_until(lambda: count(runtime, Alarm) == 12, 30, "twelve fire-offline alarms")
    # Notifications go out after their alarms commit: under load a moment later.
    wait_until(lambda: len(critical(paged)) >= 5, 10, "the burst")
    burst = critical(paged)[:5]  # the burst; the window is 3 s
    assert {n.message for n in burst} <= {
        f"Fire panel not reporting on estate-1/{d}" for d in KNOWN
    }
    assert len({n.message for n in burst}) == 5
    wait_until(lambda: len(critical(paged)) >= 6, 10, "the grouped notification")
    grouped = critical(paged)[5]
    assert grouped.message.startswith(
        "7 more critical_alarm notifications for estate-1 within 3 s, grouped (a flood): "
        "Fire panel not reporting on estate-1/fire-"
    )
    assert grouped.message.count("Fire panel not reporting") == 7
    assert len(critical(paged)) == 6  # the burst and one grouped message: nothing more
    # the service's own retained alarm states came back to its collector: counted, not refused
    wait_until(
        lambda: runtime.ingest.collector.stats.alarm_topic_messages >= 12, 10, "own alarm states"
    )
    assert runtime.ingest.collector.stats.alarm_topic_refused == 0


def test_messages_on_the_alarm_topics_that_the_service_did_not_write_are_counted_and_refused(
    service: tuple[Runtime, CollectingNotifier], mosquitto: Mosquitto
) -> None:
    runtime, _ = service
    big = b'{"alarm_id": 1, "site": "estate-1", "pad": "' + b"x" * 1_000_000 + b'"}'
    forged = [(f"facility/estate-1/alarms/{n}", big) for n in range(20)] + [
        ("facility/estate-1/alarms/7", b'{"alarm_id": 8, "site": "estate-1"}'),  # another id
        ("facility/estate-1/alarms/9", b"hidden"),
        ("facility/estate-1/alarms/5", b'{"alarm_id": 5, "site": "estate-1"}'),  # its shape
        ("facility/estate-1/alarms/6", b""),  # clearing a retained state
    ]
    publish_all(mosquitto.port, forged, retain=True)
    stats = runtime.ingest.collector.stats
    wait_until(lambda: stats.alarm_topic_messages == 24, 20, "the alarm-topic messages")
    wait_until(lambda: stats.dead_lettered == 22, 20, "their dead letters")
    assert stats.alarm_topic_refused == 22
    assert stats.received == 0  # neither data nor dropped: counted apart
    letters = [s.letter for s in runtime.ingest.collector.dead_letters.list(limit=100)]
    reasons = sorted({letter.reason for letter in letters})
    assert reasons == [
        f"on an alarm topic: {len(big)} bytes, the limit is 16384",
        "on an alarm topic: not the service's alarm state (invalid JSON)",
        "on an alarm topic: not the service's alarm state (topic and body disagree)",
    ]
    assert max(len(letter.payload) for letter in letters) == 1024  # the first bytes only
    client = authorized(TestClient(create_app(runtime)), runtime.database)
    collector = client.get("/health").json()["collector"]
    assert (collector["alarm_topic_messages"], collector["alarm_topic_refused"]) == (24, 22)
    metrics = client.get("/metrics").text
    assert "facility_ingest_alarm_topic_messages_total 24.0" in metrics
    assert "facility_ingest_alarm_topic_refused_total 22.0" in metrics
