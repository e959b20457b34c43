"""`facility run` as an operator runs it against real servers (PostgreSQL, InfluxDB, an
authenticating mosquitto with the ledger's access list), as its own process, with known
secrets in every setting that takes one: none of them appears in its log or in any answer,
the database starts empty (no demo site), the log has no per-request lines, and SIGTERM ends
it with exit status 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from maintenance.assets.broker import DeviceAccount, acl_text, set_password
from maintenance.storage import crypto
from tests.helpers import wait_until
from tests.servers import Influx, Mosquitto, Postgres, free_port


def secret(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex}"


def test_run_on_real_servers_keeps_its_secrets_and_stops_cleanly(
    postgres_server: Postgres, influx_server: Influx, tmp_path: Path
) -> None:
    secrets = {
        "database": secret("pg"),
        "mqtt": secret("mqtt"),
        "device": secret("device"),
        "influx": secret("influx"),
        "webhook": secret("hook"),
        "smtp": secret("smtp"),
        "admin": secret("admin"),
        "signing": secret("signing"),
        "data": crypto.new_key(),
    }
    name = f"real_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as connection:
        connection.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{secrets['database']}'")
        connection.execute(f'CREATE DATABASE "{name}" OWNER {name} TEMPLATE template0')
    device = DeviceAccount("estate-1", "fire", "fire-001", "PANEL-1")
    passwd, service_passwd, acl = tmp_path / "passwd", tmp_path / "service", tmp_path / "acl"
    set_password(service_passwd, "facility", secrets["mqtt"])
    set_password(passwd, device.username, secrets["device"])
    acl.write_text(acl_text([device], service_user="facility"))
    broker = Mosquitto(
        tmp_path / "mosquitto",
        password_file=passwd,
        service_password_file=service_passwd,
        acl_file=acl,
    )
    broker.start()
    http_port, closed_port = free_port(), free_port()
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": (f"mqtt://facility:{secrets['mqtt']}@127.0.0.1:{broker.service_port}"),
        "FACILITY_INFLUX_URL": influx_server.url,
        "FACILITY_INFLUX_DB": name,
        "FACILITY_INFLUX_USERNAME": "facility",
        "FACILITY_INFLUX_PASSWORD": secrets["influx"],
        "FACILITY_DATABASE_URL": (
            f"postgresql://{name}:{secrets['database']}@127.0.0.1:{postgres_server.port}/{name}"
        ),
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
        "FACILITY_HTTP_PORT": str(http_port),
        "FACILITY_MQTT_CLIENT_ID": f"collector-{name}",
        "FACILITY_NOTIFY_WEBHOOK_URLS": (
            f"http://127.0.0.1:{closed_port}/hook?token={secrets['webhook']}"
        ),
        "FACILITY_SMTP_URL": f"smtp://mail:{secrets['smtp']}@127.0.0.1:{closed_port}",
        "FACILITY_NOTIFY_EMAIL_TO": "ops@example.org",
        "FACILITY_NOTIFY_MAX_ATTEMPTS": "1",
        "FACILITY_ADMIN_PASSWORD": secrets["admin"],
        "FACILITY_SECRET_KEY": secrets["signing"],
        "FACILITY_DATA_KEY": secrets["data"],
        "FACILITY_LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    answers: list[str] = []
    base = f"http://127.0.0.1:{http_port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 90, "facility run to be healthy")
        token = httpx.post(
            f"{base}/auth/token", data={"username": "admin", "password": secrets["admin"]}
        ).json()["access_token"]
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        assert api.get("/sites").json() == []  # a production database is never seeded
        site = api.post("/sites", json={"code": "estate-1", "name": "Riverside"}).json()
        made = api.post(
            "/assets",
            json={
                "site_id": site["id"],
                "code": "PANEL-1",
                "system": "fire",
                "type": "fire panel",
                "device_ids": ["fire-001"],
            },
        )
        assert made.status_code == 201, made.text
        panel = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="panel", protocol=mqtt.MQTTv5)
        panel.username_pw_set(device.username, secrets["device"])
        panel.connect("127.0.0.1", broker.port)
        panel.loop_start()
        event = json.dumps({"ts": int(time.time() * 1000), "code": "fire_alarm"}).encode()
        panel.publish("facility/estate-1/fire/fire-001/event", event, qos=1).wait_for_publish(10)
        panel.disconnect()
        panel.loop_stop()

        def failed_deliveries() -> list[dict[str, object]]:
            rows: list[dict[str, object]] = api.get("/notifications").json()
            return [r for r in rows if (r["status"], r["kind"]) == ("failed", "critical_alarm")]

        wait_until(lambda: len(failed_deliveries()) == 2, 60, "both deliveries to fail")
        channels = sorted(str(r["channel"]) for r in failed_deliveries())
        assert channels[0] == "email ops@example.org"
        assert channels[1].startswith(f"webhook http://127.0.0.1:{closed_port}/hook?token=*** #")
        for path in (
            "/health",
            "/metrics",
            "/notifications",
            "/alarms",
            "/security-events",
            "/sites",
            "/openapi.json",
        ):
            response = api.get(path)
            assert response.status_code == 200, path
            answers.append(response.text)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=60)
        finally:
            process.kill()
            broker.kill()
    log = log_path.read_text()
    assert status == 0, log
    for what, value in secrets.items():
        assert value not in log, f"the {what} secret is in the log"
        for answer in answers:
            assert value not in answer, f"the {what} secret is in an answer"
    assert f"postgresql://{name}:***@127.0.0.1:{postgres_server.port}/{name}" in log
    assert f"mqtt://facility:***@127.0.0.1:{broker.service_port}" in log
    assert f"webhook http://127.0.0.1:{closed_port}/hook?token=*** #" in log  # the warning
    assert "demo fleet      off" in log
    assert "HTTP Request:" not in log  # httpx's line per InfluxDB write
    assert "Running job" not in log and "executed successfully" not in log  # APScheduler's
    assert "Traceback" not in log
    assert "stopped: " in log.splitlines()[-1]


def test_collect_on_real_servers_stops_cleanly_and_quietly(
    influx_server: Influx, tmp_path: Path
) -> None:
    password, device_password = secret("mqtt"), secret("device")
    device = DeviceAccount("estate-1", "water", "water-001", "PUMP-1")
    passwd, service_passwd, acl = tmp_path / "passwd", tmp_path / "service", tmp_path / "acl"
    set_password(service_passwd, "facility", password)
    set_password(passwd, device.username, device_password)
    acl.write_text(acl_text([device], service_user="facility"))
    broker = Mosquitto(
        tmp_path / "mosquitto",
        password_file=passwd,
        service_password_file=service_passwd,
        acl_file=acl,
    )
    broker.start()
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": f"mqtt://facility:{password}@127.0.0.1:{broker.service_port}",
        "FACILITY_INFLUX_URL": influx_server.url,
        "FACILITY_INFLUX_DB": f"collect_{uuid.uuid4().hex[:8]}",
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
        "FACILITY_MQTT_CLIENT_ID": "collector-1",
        "FACILITY_COMMIT_INTERVAL_MS": "5",
    }
    log_path = tmp_path / "collect.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "collect"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "connected to" in log_path.read_text(), 60, "the collector to connect")
        pump = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pump", protocol=mqtt.MQTTv5)
        pump.username_pw_set(device.username, device_password)
        pump.connect("127.0.0.1", broker.port)
        pump.loop_start()
        now = int(time.time() * 1000)
        for n in range(3):
            body = json.dumps({"ts": now - n, "metrics": {"tank_level": 50.0 + n}}).encode()
            topic = "facility/estate-1/water/water-001/telemetry"
            pump.publish(topic, body, qos=1).wait_for_publish(10)
        pump.disconnect()
        pump.loop_stop()
        time.sleep(2)  # committed and written: the stop line below counts them
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=60)
        finally:
            process.kill()
            broker.kill()
    log = log_path.read_text()
    assert status == 0, log
    assert password not in log and device_password not in log
    assert "HTTP Request:" not in log and "Traceback" not in log
    assert log.splitlines()[-1].endswith(
        "stopped: 3 received, 3 written, 0 dead letters, 0 points left in the spool"
    ), log
