from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.store.influx import InfluxStore
from tests.servers import Influx, Mosquitto


@pytest.fixture(scope="session")
def influx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx]:
    server = Influx(tmp_path_factory.mktemp("influx"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influx_private(tmp_path: Path) -> Iterator[Influx]:
    """An InfluxDB of the test's own, for tests that stop or kill it."""
    server = Influx(tmp_path / "influx")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def influx_store(influx_server: Influx) -> Iterator[InfluxStore]:
    store = InfluxStore(influx_server.url, f"test_{uuid.uuid4().hex[:12]}")
    yield store
    store.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.kill()
