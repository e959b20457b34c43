"""Private mosquitto and InfluxDB processes on free ports in temp dirs, for integration tests.

They never touch the services the machine already runs, and tests may stop, kill and restart them.
A missing binary fails the test: `make test` installs the Debian packages.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make test`, which installs it")
    return found


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class ManagedProcess:
    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.name = directory, name
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / f"{name}.log"

    def _spawn(self, argv: list[str]) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.directory
            )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class Mosquitto(ManagedProcess):
    def __init__(self, directory: Path, port: int | None = None) -> None:
        super().__init__(directory, "mosquitto")
        self.port = port or free_port()
        (directory / "data").mkdir(parents=True, exist_ok=True)
        lines = []
        for line in (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines():
            if line.startswith("listener "):
                line = f"listener {self.port} 127.0.0.1"
            elif line.startswith("persistence_location "):
                line = f"persistence_location {directory / 'data'}/"
            lines.append(line)
        # Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
        # `mosquitto` user, which cannot write its persistence file into our temp dir.
        lines.append(f"user {getpass.getuser()}")
        self.config = directory / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._spawn([binary("mosquitto"), "-c", str(self.config)])

        def listening() -> bool:
            with contextlib.closing(socket.socket()) as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, 15, "mosquitto to listen")


class Influx(ManagedProcess):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "influxd")
        self.port, rpc = free_port(), free_port()
        self.config = directory / "influxdb.conf"
        self.config.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{directory}/meta"
  logging-enabled = false
[data]
  dir = "{directory}/data"
  wal-dir = "{directory}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  max-body-size = 25000000
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
"""
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "INFLUXDB_REPORTING_DISABLED": "true"}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [binary("influxd"), "-config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                env=env,
            )

        def pinging() -> bool:
            try:
                return httpx.get(f"{self.url}/ping", timeout=1).status_code == 204
            except httpx.HTTPError:
                return False

        wait_for(pinging, 30, "influxd to answer /ping")
