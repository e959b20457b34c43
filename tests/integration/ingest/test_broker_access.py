"""The broker's trust boundary, enforced by a real mosquitto started with the shipped
deploy/mosquitto.conf and the access list and password file that `facility broker` makes from
the ledger: a device publishes its own topics only, the alarm states only the service, and a
client without an account gets nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.flows import unit_of_work
from maintenance.storage.db import make_engine, migrate
from tests.servers import Mosquitto

SERVICE_PASSWORD = "service-" + uuid.uuid4().hex
GRANTED, REFUSED = 0, 0x87  # PUBACK reason codes: success, not authorized
_END = ("facility/estate-1/alarms/2", b"end", False)


def facility(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Broker:
    server: Mosquitto
    passwords: dict[str, str]
    acl: str


@dataclass
class Session:
    """One MQTT 5 client: what the broker answered to its CONNECT and its PUBLISHes."""

    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    connack: list[ReasonCode] = field(default_factory=list)
    pubacks: dict[int, int] = field(default_factory=dict)
    acked: threading.Condition = field(default_factory=threading.Condition)
    received: list[tuple[str, bytes, bool]] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes = b"online", *, retain: bool = False) -> int:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.pubacks, timeout=10), topic
            return self.pubacks[info.mid]


def connect(
    port: int, username: str | None, password: str | None, client_id: str | None = None
) -> Session:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"t-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    session = Session(client)
    if username is not None:
        client.username_pw_set(username, password)

    def on_connect(c: mqtt.Client, u: object, flags: object, reason: ReasonCode, p: object) -> None:
        session.connack.append(reason)
        session.connected.set()

    def on_publish(c: mqtt.Client, u: object, mid: int, reason: ReasonCode, p: object) -> None:
        with session.acked:
            session.pubacks[mid] = reason.value
            session.acked.notify_all()

    def on_message(c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
        with session.acked:
            session.received.append((message.topic, bytes(message.payload), bool(message.retain)))
            session.acked.notify_all()

    def on_disconnect(c: mqtt.Client, u: object, f: object, reason: ReasonCode, p: object) -> None:
        session.disconnects.append(str(reason))

    client.on_connect, client.on_publish, client.on_message = on_connect, on_publish, on_message
    client.on_disconnect = on_disconnect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert session.connected.wait(10)
    return session


def close(session: Session) -> None:
    session.client.disconnect()
    session.client.loop_stop()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    tmp_path = tmp_path_factory.mktemp("broker")
    url = f"sqlite:///{tmp_path / 'facility.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    with unit_of_work.database(engine).transaction() as s:
        estate = create_site(s, SiteCreate(code="estate-1", name="Riverside"))
        tower = create_site(s, SiteCreate(code="tower-2", name="Tower"))
        for site, code, system, device in [
            (estate, "LIFT-1", "elevator", "elevator-001"),
            (estate, "LIFT-2", "elevator", "elevator-002"),
            (estate, "PANEL-1", "fire", "fire-001"),
            (tower, "LIFT-1", "elevator", "elevator-001"),  # the same device id on another site
        ]:
            save_asset(
                s,
                AssetCreate(
                    site_id=site.id, code=code, system=system, type=system, device_ids=[device]
                ),
            )
    engine.dispose()
    env = {
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
        "FACILITY_DATABASE_URL": url,
        "FACILITY_MQTT_URL": "mqtt://facility@127.0.0.1:1883",
    }
    acl, passwd, service_passwd = tmp_path / "acl", tmp_path / "passwd", tmp_path / "service"
    made = facility("broker", "acl", "--gateway", "sim=estate-1", "--out", str(acl), env=env)
    assert made.returncode == 0, made.stderr
    assert made.stderr.endswith(f"{acl}: 4 device(s)\n")
    service = facility(
        "broker", "passwd", str(service_passwd), "facility", "--password-stdin", env=env,
        stdin=SERVICE_PASSWORD + "\n",
    )  # fmt: skip
    assert service.returncode == 0
    assert service.stderr.endswith(f"{service_passwd}: added facility\n")
    gateway = facility("broker", "passwd", str(passwd), "sim", "--password-stdin",
                       env=env, stdin="sim-password\n")  # fmt: skip
    assert gateway.returncode == 0, gateway.stderr
    devices = facility("broker", "passwd", str(passwd), "--ledger-devices", env=env)
    assert devices.returncode == 0, devices.stderr
    passwords = dict(line.split(" ") for line in devices.stdout.splitlines())
    assert sorted(passwords) == [
        "elevator-001@estate-1",
        "elevator-001@tower-2",
        "elevator-002@estate-1",
        "fire-001@estate-1",
    ]
    again = facility("broker", "passwd", str(passwd), "--ledger-devices", env=env)
    assert again.stdout == ""
    assert again.stderr.endswith(f"{passwd}: 0 new device account(s); passwords shown once\n")
    assert oct(passwd.stat().st_mode & 0o777) == "0o600"
    passwords |= {"facility": SERVICE_PASSWORD, "sim": "sim-password"}
    server = Mosquitto(
        tmp_path / "mosquitto",
        password_file=passwd,
        service_password_file=service_passwd,
        acl_file=acl,
    )
    server.start()
    yield Broker(server, passwords, acl.read_text())
    server.kill()


def test_the_generated_access_list_reads_as_documented(broker: Broker) -> None:
    assert "user elevator-001@estate-1\n" in broker.acl
    assert (
        "user elevator-001@estate-1\n"
        "topic write facility/estate-1/elevator/elevator-001/telemetry\n"
        "topic write facility/estate-1/elevator/elevator-001/event\n"
        "topic write facility/estate-1/elevator/elevator-001/status\n"
    ) in broker.acl
    assert "user facility\ntopic read facility/#\ntopic write facility/+/alarms/#\n" in broker.acl
    assert broker.acl.count("alarms") == 1  # the service's line alone


def test_anonymous_and_wrong_passwords_are_refused_on_both_listeners(broker: Broker) -> None:
    device = "elevator-001@estate-1"
    for port, username, password in [
        (broker.server.port, None, None),
        (broker.server.port, "nobody", "x"),
        (broker.server.port, device, "wrong"),
        (broker.server.port, "facility", broker.passwords["facility"]),  # not a device account
        (broker.server.service_port, None, None),
        (broker.server.service_port, "facility", "wrong"),
        (broker.server.service_port, device, broker.passwords[device]),  # devices: not here
    ]:
        session = connect(port, username, password)
        assert [str(r) for r in session.connack] in (
            ["Not authorized"],
            ["Bad user name or password"],
        ), (port, username)
        close(session)


def test_a_device_cannot_take_over_the_collectors_session(broker: Broker) -> None:
    collector = connect(
        broker.server.service_port, "facility", broker.passwords["facility"], "collector-1"
    )
    assert [str(r) for r in collector.connack] == ["Success"]
    device = "elevator-001@estate-1"
    intruder = connect(broker.server.port, device, broker.passwords[device], "collector-1")
    assert [str(r) for r in intruder.connack] == ["Success"]  # under its own account's id
    time.sleep(1)
    assert collector.disconnects == [] and collector.client.is_connected()
    close(intruder)
    close(collector)


def test_a_device_publishes_its_own_topics_only_and_the_alarm_states_only_the_service(
    broker: Broker,
) -> None:
    port, pw = broker.server.port, broker.passwords
    watcher = connect(broker.server.service_port, "facility", pw["facility"])
    assert [str(r) for r in watcher.connack] == ["Success"]
    watcher.client.subscribe("facility/#", qos=1)
    lift = connect(port, "elevator-001@estate-1", pw["elevator-001@estate-1"])
    assert [str(r) for r in lift.connack] == ["Success"]
    lift.client.subscribe("facility/#", qos=1)  # a device reads nothing
    own = "facility/estate-1/elevator/elevator-001"
    assert lift.publish(f"{own}/telemetry", b"{}") == GRANTED
    assert lift.publish(f"{own}/event", b"{}") == GRANTED
    assert lift.publish(f"{own}/status", b"online", retain=True) == GRANTED
    for foreign in [
        "facility/estate-1/elevator/elevator-002/telemetry",  # another device
        "facility/tower-2/elevator/elevator-001/telemetry",  # its id on another site
        "facility/estate-1/fire/elevator-001/event",  # another system
        "facility/estate-1/fire/fire-001/status",
        "facility/estate-1/alarms/1",  # a fake alarm state
        "facility/estate-1/alarms/1/x",
        f"{own}/telemetry/extra",
        "other/topic",
    ]:
        assert lift.publish(foreign, b"offline", retain=True) == REFUSED, foreign
    gateway = connect(port, "sim", pw["sim"])
    assert gateway.publish("facility/estate-1/fire/fire-009/telemetry", b"{}") == GRANTED
    assert gateway.publish("facility/estate-1/alarms/7", b"{}", retain=True) == REFUSED
    assert gateway.publish("facility/tower-2/elevator/elevator-001/event", b"{}") == REFUSED
    state = b'{"state": "normal"}'
    assert watcher.publish("facility/estate-1/alarms/1", state, retain=True) == GRANTED
    assert watcher.publish("facility/estate-1/alarms/2", b"end") == GRANTED
    with watcher.acked:
        watcher.acked.wait_for(lambda: watcher.received[-1:] == [_END], 10)
    assert [t for t, _, _ in watcher.received] == [
        f"{own}/telemetry",
        f"{own}/event",
        f"{own}/status",
        "facility/estate-1/fire/fire-009/telemetry",
        "facility/estate-1/alarms/1",
        "facility/estate-1/alarms/2",
    ]
    assert lift.received == []
    for session in (watcher, lift, gateway):
        close(session)
    # What a later subscriber sees retained: the device's status and the service's alarm
    # state, nothing the device or the gateway tried to plant.
    later = connect(broker.server.service_port, "facility", pw["facility"])
    later.client.subscribe("facility/#", qos=1)
    with later.acked:
        later.acked.wait_for(lambda: len(later.received) >= 2, 10)
    assert sorted((t, p) for t, p, retained in later.received if retained) == [
        ("facility/estate-1/alarms/1", b'{"state": "normal"}'),
        (f"{own}/status", b"online"),
    ]
    close(later)
