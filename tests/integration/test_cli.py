"""The `facility` command as operators use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ingest.store.influx import InfluxStore
from tests.helpers import collector, count_points, wait_until
from tests.servers import Influx, Mosquitto


def facility(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_simulate_publishes_a_scenario_with_its_truth_and_deadletters_lists_bad_input(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    database = f"t_{uuid.uuid4().hex[:10]}"
    state = tmp_path / "state"
    service = collector(mosquitto.url, influx_server.url, database, state)
    env = {"FACILITY_MQTT_URL": mosquitto.url, "FACILITY_STATE_DIR": str(state)}
    truth = tmp_path / "truth.json"
    result = facility(
        "simulate",
        "--site",
        "s1",
        "--devices",
        "5",
        "--rate",
        "10",
        "--duration",
        "3s",
        "--scenario",
        "pipe_burst",
        "--seed",
        "9",
        "--truth",
        str(truth),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    # 5 retained "online" statuses, 150 telemetry messages and the burst's event
    assert "published 156 messages" in result.stdout
    (fault,) = json.loads(truth.read_text())
    assert (fault["fault"], fault["system"], fault["site"]) == ("pipe_burst", "water", "s1")
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 150, 30, "150 points")
    events = store.query('SELECT "code" FROM "events"')[0]
    assert [row[1] for row in events["values"]] == ["leak_detected"]
    subprocess.run(
        [
            "mosquitto_pub",
            "-p",
            str(mosquitto.port),
            "-q",
            "1",
            "-t",
            "facility/s1/water/w-1/telemetry",
            "-m",
            "{broken",
        ],
        check=True,
    )
    wait_until(lambda: service.collector.stats.dead_lettered == 1, 10, "the dead letter")
    time.sleep(0.1)
    listing = facility("deadletters", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    (letter,) = json.loads(listing.stdout)
    assert letter["topic"] == "facility/s1/water/w-1/telemetry"
    assert letter["payload"] == "{broken"
    assert letter["reason"].startswith("invalid JSON")
    service.stop()
    devices = facility("devices", env=env)
    assert devices.stdout.count("online  s1/") == 5


def test_bad_arguments_get_a_clear_error(tmp_path: Path) -> None:
    result = facility("simulate", "--duration", "soon", env={"FACILITY_STATE_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "is not a duration like 90s" in result.stderr
