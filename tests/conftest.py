from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.store.influx import InfluxStore
from maintenance.flows import unit_of_work
from maintenance.storage.db import Database, make_engine, migrate
from tests.servers import Influx, Mosquitto, Postgres


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    yield server
    server.kill()
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of each backend: the repository contract runs on both."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'facility.sqlite'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    migrate(engine)
    yield unit_of_work.database(engine)
    engine.dispose()


@pytest.fixture
def pg_database(postgres_server: Postgres) -> Iterator[Database]:
    engine = make_engine(postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    migrate(engine)
    yield unit_of_work.database(engine)
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration and tests/e2e talks to real servers: marked so, so that
    `make unit` (-m "not integration") never starts one and `make integration` runs them all."""
    for item in items:
        if {"integration", "e2e"} & set(item.path.parts):
            item.add_marker(pytest.mark.integration)
