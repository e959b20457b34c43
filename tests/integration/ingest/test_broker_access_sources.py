"""`facility broker acl` with a sources file, enforced by a real mosquitto: the service's account
reads what its gateways publish and may write exactly the answers the protocols need
(ThingsBoard RPC responses, Sparkplug NCMD rebirth requests), and the collector answers a real
request through it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import CollectorConfig
from ingest.service import IngestService
from ingest.sources.formats import sparkplug_b_pb2 as pb
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import load_sources
from ingest.store.sqlite import SqliteTelemetryStore
from maintenance.storage.db import make_engine, migrate
from tests.integration.ingest.test_broker_access import (
    GRANTED,
    REFUSED,
    Session,
    close,
    connect,
    facility,
)
from tests.servers import Mosquitto, wait_until

SERVICE_PASSWORD = "service-" + uuid.uuid4().hex
GATEWAY_PASSWORD = "gateway-" + uuid.uuid4().hex
SOURCES = """
sources:
  - name: plant-gateway
    format: thingsboard-gateway
    site: tower-a
    system: power
  - name: meters
    format: thingsboard-device
    topics: ["tb/+/v1/devices/me/#"]
    device_level: 1
    site: tower-a
    system: power
  - name: edge
    format: sparkplug-b
    topics: ["spBv1.0/plant/#"]
    site: tower-a
    system: water
"""
# The test's gateway account (a ThingsBoard gateway or a Sparkplug node would have its own).
GATEWAY_ACL = "\nuser tbgw\ntopic readwrite v1/#\ntopic readwrite tb/#\ntopic readwrite spBv1.0/#\n"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mosquitto, str, Path]]:
    tmp_path = tmp_path_factory.mktemp("broker-sources")
    url = f"sqlite:///{tmp_path / 'facility.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    env = {
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
        "FACILITY_DATABASE_URL": url,
        "FACILITY_MQTT_URL": "mqtt://facility@127.0.0.1:1883",
        "FACILITY_SOURCES_FILE": str(sources),
    }
    acl, passwd, service_passwd = tmp_path / "acl", tmp_path / "passwd", tmp_path / "service"
    made = facility("broker", "acl", "--out", str(acl), env=env)
    assert made.returncode == 0, made.stderr
    text = acl.read_text()
    acl.write_text(text + GATEWAY_ACL)
    for path, user, password in (
        (service_passwd, "facility", SERVICE_PASSWORD),
        (passwd, "tbgw", GATEWAY_PASSWORD),
    ):
        done = facility(
            "broker", "passwd", str(path), user, "--password-stdin", env=env, stdin=password + "\n"
        )
        assert done.returncode == 0, done.stderr
    server = Mosquitto(
        tmp_path / "mosquitto", password_file=passwd, service_password_file=service_passwd,
        acl_file=acl,
    )  # fmt: skip
    server.start()
    yield server, text, sources
    server.kill()


def test_the_service_reads_the_sources_topics_and_writes_only_their_answers(
    broker: tuple[Mosquitto, str, Path],
) -> None:
    server, acl, _ = broker
    assert (
        "user facility\n"
        "topic read facility/#\n"
        "topic write facility/+/alarms/#\n"
        "# ... and its sources file: what the gateways publish, and its answers\n"
        "topic read v1/gateway/#\n"
        "topic read v1/devices/me/#\n"
        "topic read tb/+/v1/devices/me/#\n"
        "topic read spBv1.0/plant/#\n"
        "topic write v1/devices/me/rpc/response/+\n"
        "topic write tb/+/v1/devices/me/rpc/response/+\n"
        "topic write spBv1.0/plant/NCMD/+\n"
    ) in acl
    service = connect(server.service_port, "facility", SERVICE_PASSWORD)
    gateway = connect(server.port, "tbgw", GATEWAY_PASSWORD, client_id="tbgw")
    gateway.client.subscribe([("v1/#", 1), ("tb/#", 1), ("spBv1.0/#", 1)])
    time.sleep(0.5)  # the gateway's SUBACK: a granted message has a subscriber (PUBACK 0)
    try:
        for topic, answer in [
            ("v1/devices/me/rpc/response/1", GRANTED),
            ("tb/METER-7/v1/devices/me/rpc/response/3", GRANTED),
            ("spBv1.0/plant/NCMD/node1", GRANTED),
            ("v1/devices/me/telemetry", REFUSED),  # the gateway's, not the service's
            ("v1/devices/me/rpc/request/1", REFUSED),
            ("v1/gateway/telemetry", REFUSED),
            ("spBv1.0/other/NCMD/node1", REFUSED),  # a group the sources file does not read
            ("spBv1.0/plant/NDATA/node1", REFUSED),
        ]:
            assert (topic, service.publish(topic, b"{}")) == (topic, answer)
        granted = [
            "v1/devices/me/rpc/response/1",
            "tb/METER-7/v1/devices/me/rpc/response/3",
            "spBv1.0/plant/NCMD/node1",
        ]
        assert [t for t, _ in answers(gateway, "", 3)] == granted  # and nothing refused
    finally:
        close(gateway)
        close(service)


def answers(session: Session, topic: str, count: int) -> list[tuple[str, bytes]]:
    with session.acked:
        assert session.acked.wait_for(
            lambda: len([m for m in session.received if m[0].startswith(topic)]) >= count, 15
        ), topic
        return [(t, p) for t, p, _ in session.received if t.startswith(topic)]


def test_the_collector_answers_through_the_generated_access_list(
    broker: tuple[Mosquitto, str, Path], tmp_path: Path
) -> None:
    server, _, sources_path = broker
    config = CollectorConfig()
    router = SourceRouter(load_sources(sources_path), config.limits)
    address = BrokerAddress("127.0.0.1", server.service_port, False, "facility", SERVICE_PASSWORD)
    service = IngestService(
        address,
        SubscriptionConfig(client_id="facility", topics=router.filters()),
        SqliteTelemetryStore(tmp_path / "telemetry.sqlite"),
        tmp_path / "state",
        config,
        sources=router,
    )
    service.start()
    gateway = connect(server.port, "tbgw", GATEWAY_PASSWORD, client_id="tbgw")
    try:
        wait_until(service.subscriber.subscribed.is_set, 10, "the service's subscription")
        gateway.client.subscribe([("v1/devices/me/rpc/response/+", 1), ("spBv1.0/+/NCMD/+", 1)])
        time.sleep(0.5)  # the gateway's SUBACK (its Session records no SUBACKs)
        request = {"method": "getSessionLimits", "params": {"timeout": 5000}}
        assert gateway.publish("v1/devices/me/rpc/request/5", orjson.dumps(request)) == GRANTED
        ((topic, body),) = answers(gateway, "v1/devices/me/rpc/response/", 1)
        assert topic == "v1/devices/me/rpc/response/5"
        assert orjson.loads(body)["maxPayloadSize"] == config.limits.max_bytes
        data = pb.Payload(timestamp=int(time.time() * 1000), seq=1).SerializeToString()
        assert gateway.publish("spBv1.0/plant/NDATA/node1", data) == GRANTED  # before its birth
        ((topic, body),) = answers(gateway, "spBv1.0/plant/NCMD/", 1)
        assert topic == "spBv1.0/plant/NCMD/node1"
        (metric,) = pb.Payload.FromString(body).metrics
        assert (metric.name, metric.boolean_value) == ("Node Control/Rebirth", True)
    finally:
        close(gateway)
        service.stop()
