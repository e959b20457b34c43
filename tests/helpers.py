"""Shared steps of the integration tests: publish a fleet, read back what landed."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.runtime import Runtime
from api.settings import Settings
from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import CollectorConfig
from ingest.service import IngestService
from ingest.store.influx import InfluxStore
from maintenance.accounts import service as users
from maintenance.storage.db import Database, utcnow
from simulators.fleet import Fleet, Message
from simulators.publisher import FleetPublisher
from tests.servers import free_port
from tests.servers import wait_until as wait_until  # the one wait helper, re-exported

SYSTEMS = ("elevator", "water", "power", "fire", "camera")
Expected = dict[tuple[str, str, int], dict[str, object]]


def recent_fleet(
    devices: int, steps: int, *, site: str = "s1", seed: int = 1, scenario: str | None = None
) -> Fleet:
    """A fleet whose timestamps end now, so that everything is inside the accepted window."""
    duration = float(steps)
    return Fleet(
        site,
        devices,
        1.0,
        duration,
        seed=seed,
        scenario=scenario,
        start_ms=int(time.time() * 1000) - int(duration * 1000) - 5000,
    )


def expected_points(messages: Iterable[Message]) -> Expected:
    """(system, device_id, ts) -> the fields a telemetry message should have become."""
    out: Expected = {}
    for m in messages:
        _, _, system, device, kind = m.topic.split("/")
        if kind != "telemetry":
            continue
        body = json.loads(m.payload)
        fields: dict[str, object] = {
            k: (v if isinstance(v, bool) else float(v)) for k, v in body["metrics"].items()
        }
        fields["seq"] = body["seq"]
        out[(system, device, body["ts"])] = fields
    return out


def landed_points(store: InfluxStore, site: str = "s1") -> Expected:
    out: Expected = {}
    for system in SYSTEMS:
        for series in store.query(
            f"SELECT *::field FROM \"{system}\" WHERE site = '{site}' GROUP BY device_id"
        ):
            columns = series["columns"]
            for row in series["values"]:
                fields: dict[str, object] = {
                    c: store._typed(system, c, v)
                    for c, v in zip(columns, row, strict=True)
                    if c != "time" and v is not None
                }
                out[(system, series["tags"]["device_id"], int(row[0]))] = fields
    return out


def count_points(store: InfluxStore, site: str = "s1") -> int:
    total = 0
    for system in SYSTEMS:
        series = store.query(f"SELECT COUNT(seq) FROM \"{system}\" WHERE site = '{site}'")
        total += int(series[0]["values"][0][1]) if series else 0
    return total


def publish(url: str, messages: Iterable[Message], fleet: Fleet, client_id: str = "pub") -> int:
    publisher = FleetPublisher(url, fleet, client_id=client_id)
    try:
        return publisher.publish_all(messages, realtime=False)
    finally:
        publisher.close()


def collector(
    url: str,
    store_url: str,
    database: str,
    state_dir: Path,
    client_id: str = "collector-test",
    **config: object,
) -> IngestService:
    service = IngestService(
        BrokerAddress.from_url(url),
        SubscriptionConfig(client_id=client_id),
        InfluxStore(store_url, database, timeout_s=2.0),
        state_dir,
        CollectorConfig(**config),  # type: ignore[arg-type]
    )
    service.start()
    wait_until(service.subscriber.connected.is_set, 10, "the collector to connect")
    return service


def publish_paced(
    url: str, messages: list[Message], fleet: Fleet, seconds: float, client_id: str = "pub-paced"
) -> FleetPublisher:
    """Publish evenly over `seconds` in a background thread; join with .thread.join()."""
    publisher = FleetPublisher(url, fleet, client_id=client_id)
    step = seconds / max(len(messages), 1)
    paced = [Message(i * step, m.topic, m.payload, m.retain) for i, m in enumerate(messages)]

    def run() -> None:
        publisher.publish_all(paced, realtime=True)

    publisher.thread = threading.Thread(target=run, daemon=True)  # type: ignore[attr-defined]
    publisher.thread.start()  # type: ignore[attr-defined]
    return publisher


def api_key(database: Database, role: str = "admin", name: str | None = None) -> str:
    """A fresh API key with this role (the tests' way in; people log in at /auth/token)."""
    with database.transaction() as s:
        key, _ = users.create_api_key(s, name or f"test-{role}", role, now=utcnow())
    return key


def authorized(client: TestClient, database: Database, role: str = "admin") -> TestClient:
    client.headers["X-API-Key"] = api_key(database, role)
    return client


def console_login(
    client: httpx.Client, username: str, password: str, next: str = "/console"
) -> httpx.Response:
    """Log in through the console's form as a browser does: the form first (its login token)."""
    form = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None, form.text
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "next": next, "csrf": token[1]},
        follow_redirects=False,
    )


def logout_token(page_html: str) -> str:
    """The logout form's token on a console page."""
    found = re.search(
        r'action="/console/logout"[^>]*><input type="hidden" name="csrf" value="([^"]*)"', page_html
    )
    assert found is not None, page_html
    return found[1]


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app behind a real uvicorn on a free port, for what TestClient cannot show (streams
    that stay open, bodies the server stops reading); yields its base URL."""
    import uvicorn

    from tests.servers import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", workers=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "uvicorn to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def quiet_service(state_dir: Path, **settings: Any) -> Iterator[Runtime]:
    """The whole service, started, without its producers of background work (no demo fleet, no
    plan generation, no rules), on an embedded broker of a free port: the tests' service
    factory. `settings` override or add to those."""
    defaults: dict[str, Any] = {
        "embedded_mqtt_port": free_port(),
        "demo_fleet": False,
        "plan_generation": False,
        "rules_enabled": False,
    }
    runtime = Runtime(Settings(state_dir=state_dir, **{**defaults, **settings}))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()
