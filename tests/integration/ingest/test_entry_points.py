"""`python -m ingest`: a collector on its own, from the collector's settings only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ingest.store.influx import InfluxStore
from tests.helpers import (
    count_points,
    expected_points,
    landed_points,
    publish,
    recent_fleet,
    wait_until,
)
from tests.servers import Influx, Mosquitto


def test_python_m_ingest_lands_every_message_once_and_stops_cleanly(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    database = f"t_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": mosquitto.url,
        "FACILITY_MQTT_CLIENT_ID": "python-m-ingest",
        "FACILITY_INFLUX_URL": influx_server.url,
        "FACILITY_INFLUX_DB": database,
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
    }
    log_path = tmp_path / "ingest.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest"], env=env, stdout=log, stderr=log
        )
    try:
        store = InfluxStore(influx_server.url, database)
        probe = recent_fleet(devices=1, steps=1, site="probe")

        def probe_landed() -> bool:
            publish(mosquitto.url, list(probe.messages()), probe, client_id="probe")
            time.sleep(0.5)
            return count_points(store, site="probe") == 1

        wait_until(probe_landed, 30, "python -m ingest to subscribe")
        fleet = recent_fleet(devices=5, steps=40)
        messages = list(fleet.messages())
        publish(mosquitto.url, messages, fleet)
        wait_until(lambda: count_points(store) == 200, 30, "200 points")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert landed_points(store) == expected_points(messages)
    text = log_path.read_text()
    assert "stopped: " in text and " 0 dead letters, 0 points left in the spool" in text
    assert "Traceback" not in text
