"""Contract fuzzing: schemathesis generates requests from the OpenAPI schema (valid and
invalid bodies, parameters and ids) for every operation; none may answer with a server error.
Runs against PostgreSQL, which (unlike SQLite) rejects over-long strings and out-of-range
numbers, as production would.

Generated times are naive, date-only, aware and broken alike; every other example addresses
real objects (id 1 of each kind exists: a ticket with an attachment, an alarm, a plan), so the
success paths run too, not only "unknown id"; and every operation that takes a body gets empty,
non-JSON, wrong-type and huge bodies."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case

from api.main import create_app
from api.runtime import Runtime
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm
from maintenance.flows import intake, unit_of_work
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.defaults import ensure_default_plans
from maintenance.storage.db import Database, make_engine, migrate
from maintenance.vocabulary import Channel, TicketType
from maintenance.work_orders.schemas import TicketCreate
from tests.helpers import api_key
from tests.integration.api.test_tickets_api import make_runtime
from tests.ledger import seed
from tests.servers import Postgres

pytestmark = pytest.mark.integration
EXAMPLES = 25  # per operation: ~60 operations, about half a minute on two cores
STREAMING = "/alarms/live"  # never ends by design; its auth is in the access table
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
# Times as callers really send them: naive, date-only, in another zone, or not a time at all.
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.datetimes(
            min_value=datetime(1, 1, 2),
            timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=8))]),
        ).map(datetime.isoformat),
        st.dates().map(str),
        st.sampled_from(["2026-01-01T00:00:00", "2026-02-30T00:00:00Z", "电梯", "", "now"]),
    ),
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def real_objects(database: Database, runtime: Runtime) -> None:
    """Id 1 of a ticket, its attachment, an alarm and a plan, beside the seeded ledger."""
    with database.transaction() as s:
        ticket = intake.create(
            s,
            TicketCreate(
                site_id=1, type=TicketType.repair, channel=Channel.hotline, title="t", asset_id=1
            ),
            actor="desk",
            now=NOW,
            notifier=CollectingNotifier(),
        )
        runtime.attachments.add(s, ticket.id, "电梯_照片.png", PNG, actor="desk", now=NOW)
        s.add(
            Alarm(
                site="estate-1",
                system="elevator",
                device_id="elevator-001",
                rule_id="elevator-trapped-passenger",
                site_id=1,
                asset_id=1,
                severity="critical",
                state=AlarmState.active_unacknowledged,
                raised_at=NOW,
                occurrences=1,
                values={"code": "trapped_passenger"},
                resettable=True,
                updated_at=NOW,
            )
        )
        ensure_default_plans(s, starts_on=NOW.date(), now=NOW)


@pytest.fixture(scope="module")
def fuzzed(
    postgres_server: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, str]]:
    engine = make_engine(postgres_server.create_database(f"fuzz_{uuid.uuid4().hex[:12]}"))
    migrate(engine)
    database = unit_of_work.database(engine)
    seed(database)  # sites, assets and technicians, so that some generated ids exist
    runtime = make_runtime(database, tmp_path_factory.mktemp("fuzz"))
    real_objects(database, runtime)
    yield runtime, api_key(runtime.database)
    runtime.stop()
    engine.dispose()


def test_no_generated_input_makes_a_server_error(fuzzed: tuple[Runtime, str]) -> None:
    runtime, key = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
    failures: list[str] = []
    operations = 0
    alternate = itertools.count()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
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
        def call(case: Case) -> None:  # type: ignore[type-arg]
            if case.path_parameters and next(alternate) % 2:
                case.path_parameters = dict.fromkeys(case.path_parameters, 1)  # real objects
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


BODIES = [
    ("empty", b"", "application/json"),
    ("not json", b"{not json", "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("null", b"null", "application/json"),
    ("a string", b'"\xe7\x94\xb5\xe6\xa2\xaf"', "application/json"),
    ("huge", b'{"title": "' + b"x" * 2_000_000 + b'"}', "application/json"),
    ("wrong type", b"\x00\x01binary", "application/octet-stream"),
    ("form", b"a=1&b=%E7%94%B5", "application/x-www-form-urlencoded"),
]


def test_empty_broken_and_huge_bodies_are_client_errors(fuzzed: tuple[Runtime, str]) -> None:
    runtime, key = fuzzed
    app = create_app(runtime)
    client = TestClient(app, raise_server_exceptions=False)
    schema = app.openapi()
    failures = []
    posted = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if method not in ("post", "put") or path == STREAMING:
                continue
            posted += 1
            url = path.replace("{", "").replace("}", "")
            url = "/".join("1" if part.endswith("_id") else part for part in url.split("/"))
            for name, body, kind in BODIES:
                response = client.request(
                    method, url, content=body, headers={"X-API-Key": key, "Content-Type": kind}
                )
                if response.status_code >= 500:
                    failures.append(f"{method} {url} {name}: {response.status_code}")
    assert posted >= 27
    assert failures == []
