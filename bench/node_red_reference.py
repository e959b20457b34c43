"""Node-RED as a peer reference for the ingest benchmark: the flow a user would build to land
MQTT telemetry in InfluxDB (mqtt in, QoS 1, persistent session -> join 1,000 messages or
200 ms -> a function building points -> influxdb batch), no validation, no spool.

Node-RED 4 and node-red-contrib-influxdb are installed with npm into a scratch folder
(`~/.cache/facility-bench/node-red`, once; node and npm are on the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

HOME = Path(os.environ.get("FACILITY_BENCH_CACHE", Path.home() / ".cache" / "facility-bench"))
PACKAGES = ("node-red@4", "node-red-contrib-influxdb@0.7")

# Each joined message: its topic (site, system, device) and payload (ts, seq, metrics).
POINTS = """
const points = [];
for (const m of msg.payload) {
  const [, site, system, device] = m.topic.split("/");
  const p = m.payload;
  if (!p || typeof p !== "object" || !p.metrics) continue;
  const fields = { seq: p.seq };
  for (const [k, v] of Object.entries(p.metrics)) {
    fields[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  points.push({ measurement: system, tags: { site, device }, fields, timestamp: new Date(p.ts) });
}
msg.payload = points;
return points.length ? msg : null;
"""


def installed() -> Path:
    """The folder holding node_modules/node-red, installed on first use."""
    folder = HOME / "node-red"
    if not (folder / "node_modules" / "node-red" / "red.js").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not on PATH: Node-RED cannot be installed")
        folder.mkdir(parents=True, exist_ok=True)
        print(f"installing Node-RED into {folder} ...", flush=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
            cwd=folder,
            check=True,
        )
    return folder


def flows(mqtt_port: int, influx_port: int, database: str) -> list[dict[str, object]]:
    return [
        {"id": "f1a0000000000001", "type": "tab", "label": "bench"},
        {
            "id": "c1a0000000000002",
            "type": "mqtt-broker",
            "name": "bench",
            "broker": "127.0.0.1",
            "port": str(mqtt_port),
            "clientid": "bench-nodered",
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "5",
            "keepalive": "60",
            "cleansession": False,
            "sessionExpiry": "3600",
            # Keep the subscription when the flow stops, so the broker queues for it.
            "autoUnsubscribe": False,
        },
        {
            "id": "n1a0000000000003",
            "type": "mqtt in",
            "z": "f1a0000000000001",
            "topic": "facility/+/+/+/telemetry",
            "qos": "1",
            "datatype": "json",
            "broker": "c1a0000000000002",
            "nl": False,
            "rap": True,
            "rh": 0,
            "inputs": 0,
            "wires": [["n1a0000000000004"]],
        },
        {
            "id": "n1a0000000000004",
            "type": "join",
            "z": "f1a0000000000001",
            "mode": "custom",
            "build": "array",
            "property": "",
            "propertyType": "full",
            "key": "topic",
            "joiner": "\\n",
            "joinerType": "str",
            "accumulate": False,
            "timeout": "0.2",
            "count": "1000",
            "wires": [["n1a0000000000005"]],
        },
        {
            "id": "n1a0000000000005",
            "type": "function",
            "z": "f1a0000000000001",
            "func": POINTS,
            "outputs": 1,
            "wires": [["n1a0000000000006"]],
        },  # fmt: skip
        {
            "id": "n1a0000000000006",
            "type": "influxdb batch",
            "z": "f1a0000000000001",
            "influxdb": "c1a0000000000007",
            "precision": "ms",
            "retentionPolicy": "",
            "wires": [],
        },
        {
            "id": "c1a0000000000007",
            "type": "influxdb",
            "hostname": "127.0.0.1",
            "port": str(influx_port),
            "protocol": "http",
            "database": database,
            "name": "bench",
            "usetls": False,
            "influxdbVersion": "1.x",
        },
    ]


class NodeRed:
    """One Node-RED process running the flow, from its own user folder."""

    def __init__(self, work: Path, mqtt_port: int, influx_port: int, database: str) -> None:
        self.folder = installed()
        self.user_dir = work / "node-red-user"
        self.user_dir.mkdir(parents=True, exist_ok=True)
        flow_file = self.user_dir / "flows.json"
        flow_file.write_text(json.dumps(flows(mqtt_port, influx_port, database)))
        self.log = self.user_dir / "node-red.log"
        self.argv = [
            shutil.which("node") or "node",
            str(self.folder / "node_modules" / "node-red" / "red.js"),
            "--userDir",
            str(self.user_dir),
            "--port",
            "0",
            str(flow_file),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        return self.process.pid

    def wait_connected(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "Connected to broker" in self.log.read_text(errors="replace"):
                time.sleep(2.0)  # the subscription follows the connection
                return
            time.sleep(0.2)
        raise RuntimeError(f"Node-RED did not connect: see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
