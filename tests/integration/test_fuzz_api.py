"""Contract fuzzing: schemathesis generates requests from the OpenAPI schema (valid and
invalid bodies, parameters and ids) for every operation; none may answer with a server error.
Runs against PostgreSQL, which (unlike SQLite) rejects over-long strings and out-of-range
numbers, as production would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from api.main import create_app
from api.runtime import Runtime
from maintenance.db import Database, make_engine, migrate
from tests.helpers import api_key
from tests.integration.test_tickets_api import make_runtime
from tests.ledger import seed
from tests.servers import Postgres

pytestmark = pytest.mark.integration
EXAMPLES = 25  # per operation: ~60 operations, about half a minute on two cores
STREAMING = "/alarms/live"  # never ends by design; its auth is in the access table


@pytest.fixture(scope="module")
def fuzzed(
    postgres_server: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, str]]:
    engine = make_engine(postgres_server.create_database(f"fuzz_{uuid.uuid4().hex[:12]}"))
    migrate(engine)
    database = Database(engine)
    seed(database)  # sites, assets and technicians, so that some generated ids exist
    runtime = make_runtime(database, tmp_path_factory.mktemp("fuzz"))
    yield runtime, api_key(runtime.database)
    runtime.stop()
    engine.dispose()


def test_no_generated_input_makes_a_server_error(fuzzed: tuple[Runtime, str]) -> None:
    runtime, key = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == STREAMING:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same inputs on every run: a failure here reproduces
            database=None,
        )
        def call(case: Case) -> None:
            where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
            try:
                response = case.call(headers={"X-API-Key": key})
            except Exception as error:  # the in-process transport re-raises the server's error
                failures.append(f"{where} -> {type(error).__name__}: {str(error)[:300]}")
                return
            if response.status_code >= 500:
                failures.append(f"{where} -> {response.status_code} {response.text[:300]}")

        call()
    assert operations >= 55  # every route of the schema was exercised
    assert failures == [], "\n".join(failures)
