"""The embedded broker of `make run`: loopback only, one generated account that the service's
own clients use, anonymous clients only when the development setting allows them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from api.runtime import Runtime
from api.settings import Settings
from tests.helpers import recent_fleet, wait_until
from tests.integration.api.test_api import publish
from tests.servers import free_port


def connack(port: int, username: str | None = None, password: str | None = None) -> str:
    """What the broker answers to an MQTT 3.1.1 CONNECT."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="probe", protocol=mqtt.MQTTv311)
    if username is not None:
        client.username_pw_set(username, password)
    answered = threading.Event()
    answer: list[str] = []

    def on_connect(c: mqtt.Client, u: object, f: object, reason: ReasonCode, p: object) -> None:
        answer.append(str(reason))
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return answer[0]


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on the port (/proc/net/tcp, state 0A)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def runtime(tmp_path: Path, **settings: object) -> Runtime:
    service = Runtime(
        Settings(
            state_dir=tmp_path / "state",
            embedded_mqtt_port=free_port(),
            demo_fleet=False,
            **settings,  # type: ignore[arg-type]
        )
    )
    service.start()
    wait_until(service.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    return service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Runtime]:
    service = runtime(tmp_path)
    yield service
    service.stop()


def test_loopback_only_and_the_generated_account_alone(service: Runtime, tmp_path: Path) -> None:
    port = service.settings.embedded_mqtt_port
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, no other interface
    password = (tmp_path / "state" / "mqtt.password").read_text()
    assert oct((tmp_path / "state" / "mqtt.password").stat().st_mode & 0o777) == "0o600"
    assert service.mqtt_url == f"mqtt://facility:{password}@127.0.0.1:{port}"
    assert connack(port) == "Not authorized"
    assert connack(port, "facility", "wrong") == "Not authorized"
    assert connack(port, "intruder", password) == "Not authorized"
    assert connack(port, "facility", password) == "Success"
    # the service's own clients use the account: the collector is connected, and a fleet
    # published with the runtime's URL lands
    publish(service.mqtt_url, recent_fleet(devices=2, steps=5), mqtt5=False)
    wait_until(lambda: service.ingest.collector.stats.written == 10, 20, "10 points")
    assert "facility:***@127.0.0.1" in service.describe()[0]
    assert password not in "\n".join(service.describe())


def test_anonymous_clients_only_with_the_development_setting(tmp_path: Path) -> None:
    service = runtime(tmp_path, mqtt_allow_anonymous=True)
    try:
        port = service.settings.embedded_mqtt_port
        assert connack(port) == "Success"
        assert service.mqtt_url == f"mqtt://127.0.0.1:{port}"
        assert not (tmp_path / "state" / "mqtt.password").exists()
    finally:
        service.stop()
