"""Private mosquitto and InfluxDB processes on free ports in temp dirs, for integration tests.

They never touch the services the machine already runs, and tests may stop, kill and restart them.
A missing binary fails the test: `make test` installs the Debian packages.
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _ports() -> Iterator[int]:
    """Ports for this process's private servers, below the kernel's ephemeral range (outgoing
    connections take their local ports from it, and one could take a port between our check
    and the server's bind) and apart from the other test worker's (pytest-xdist's
    PYTEST_XDIST_WORKER gw0, gw1, ...), each handed out once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    low = 20_000 + 3_000 * (int(worker) % 4 if worker.isdigit() else 0)
    start = low + os.getpid() % 1_000
    yield from itertools.chain(range(start, low + 3_000), range(low, start))


_PORTS = _ports()


def free_port() -> int:
    """A port nothing listens on, for a private server."""
    for port in _PORTS:
        with contextlib.closing(socket.socket()) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # another service of the machine has it
            return port
    raise RuntimeError("no free port left in this test worker's range")


def binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make test`, which installs it")
    return found


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """The tests' one way of waiting: poll `predicate` until it holds, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
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
    """The shipped deploy/mosquitto.conf. Secured (`password_file`, `service_password_file`,
    `acl_file`), as shipped: the devices' listener on `port` and the service's on
    `service_port`, authentication and the access list. Otherwise one listener on `port` where
    anonymous clients may do anything (the tests of other things than the broker's access)."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        password_file: Path | None = None,
        service_password_file: Path | None = None,
        acl_file: Path | None = None,
    ) -> None:
        super().__init__(directory, "mosquitto")
        self.port = port or free_port()
        (directory / "data").mkdir(parents=True, exist_ok=True)
        secured = password_file is not None
        self.service_port = free_port() if secured else self.port
        ports = iter([self.port, self.service_port])
        passwords = iter([password_file, service_password_file])
        auth = ("per_listener_settings", "use_username_as_clientid", "password_file", "acl_file")
        lines, listeners = [], 0
        for line in (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines():
            if line.startswith("listener "):
                listeners += 1
                if not secured and listeners > 1:
                    continue  # anonymous: one listener
                line = f"listener {next(ports)} 127.0.0.1"
            elif line.startswith("persistence_location "):
                line = f"persistence_location {directory / 'data'}/"
            elif not secured and line.startswith(auth):
                continue
            elif line.startswith("allow_anonymous "):
                if not secured and listeners > 1:
                    continue
                line = "allow_anonymous false" if secured else "allow_anonymous true"
            elif line.startswith("password_file "):
                line = f"password_file {next(passwords)}"
            elif line.startswith("acl_file "):
                line = f"acl_file {acl_file}"
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
            for port in {self.port, self.service_port}:
                with contextlib.closing(socket.socket()) as s:
                    if s.connect_ex(("127.0.0.1", port)) != 0:
                        return False
            return True

        wait_until(listening, 15, "mosquitto to listen")


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

        wait_until(pinging, 30, "influxd to answer /ping")


class Postgres(ManagedProcess):
    """A private PostgreSQL cluster (initdb + pg_ctl) on a free port, trust auth on 127.0.0.1.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` user, in a
    directory of its own outside pytest's private temp dirs."""

    def __init__(self) -> None:
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="facility-pg-"))
        super().__init__(directory, "postgres")
        self.port = free_port()
        self.data = directory / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            [
                pg_binary("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )

    def _run(self, argv: list[str]) -> None:
        subprocess.run([*self._as, *argv], check=True, capture_output=True, cwd="/")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            [
                pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )

    def stop(self) -> None:
        self._run([pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def kill(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run([pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
        None,
    )
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make test`, which installs postgresql")
    return found
