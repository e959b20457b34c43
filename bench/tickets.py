"""Work-order benchmark against a private PostgreSQL: 1,000,000 tickets over 50,000 assets.

    python -m bench.tickets [--tickets 1000000] [--assets 50000] [--requests 300]

Prints p50/p95 of the filtered ticket list (site + state + priority, newest first, page of 50)
and of one asset's history through the HTTP API in-process, each next to the same query as raw
SQL through the driver in the same run, and ticket creation + auto-assignment throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.storage.db import make_engine, migrate
from tests.helpers import api_key
from tests.servers import Postgres, free_port

SITES = 50
STATES = (
    "new",
    "assigned",
    "accepted",
    "in_progress",
    "resolved",
    "verified",
    "closed",
    "reopened",
    "cancelled",
)
PRIORITIES = ("emergency", "urgent", "normal", "low")
SYSTEMS = ("elevator", "water", "power", "fire", "camera")


def load(url: str, tickets: int, assets: int) -> None:
    """Server-side generate_series: the fastest honest way to 1M rows."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"""
            INSERT INTO sites (code, name, timezone, supervisor)
            SELECT 'site-' || n, 'Site ' || n, 'UTC', 'sup-' || n
            FROM generate_series(1, {SITES}) n;
            INSERT INTO assets (site_id, code, name, system, type, model, vendor, serial,
                                criticality)
            SELECT 1 + n % {SITES}, 'A-' || n, 'asset ' || n,
                   (ARRAY{list(SYSTEMS)})[1 + n % 5], 'type', '', '', '', 'medium'
            FROM generate_series(1, {assets}) n;
            INSERT INTO technicians (name, contact, skills, active)
            SELECT 'tech-' || n, '', '["elevator","water","power","fire","camera"]', true
            FROM generate_series(1, {SITES * 4}) n;
            INSERT INTO technician_sites (technician_id, site_id)
            SELECT n, 1 + n % {SITES} FROM generate_series(1, {SITES * 4}) n;
            INSERT INTO tickets (version, site_id, asset_id, type, channel, priority, state,
                                 title, description, requester, created_at, updated_at,
                                 assignee_id, assignment_reason, escalated, reopen_count,
                                 complex, response_due)
            SELECT 1, 1 + (n % {assets}) % {SITES}, 1 + n % {assets}, 'repair', 'app',
                   (ARRAY{list(PRIORITIES)})[1 + (n / 7) % 4],
                   (ARRAY{list(STATES)})[1 + (n / 3) % 9],
                   'ticket ' || n, '', '', now() - (n || ' minutes')::interval, now(),
                   1 + ((n % {assets}) % {SITES}) + {SITES} * (n % 4), '', false, 0, false,
                   now() - (n || ' minutes')::interval + interval '1 day'
            FROM generate_series(1, {tickets}) n;
            UPDATE technicians SET open_tickets = (SELECT COUNT(*) FROM tickets
                WHERE assignee_id = technicians.id
                AND state IN ('new', 'assigned', 'accepted', 'in_progress', 'reopened'));
            ANALYZE;
        """)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


class InProcessClient:
    """HTTP into the ASGI app in this process (httpx's ASGITransport on one event loop): no
    sockets and none of TestClient's per-request thread hand-offs."""

    def __init__(self, app: FastAPI, key: str = "") -> None:
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"X-API-Key": key} if key else None,
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(path, **kwargs))

    def post_concurrently(
        self, path: str, bodies: list[dict[str, Any]], clients: int
    ) -> list[httpx.Response]:
        """`clients` requests in flight at a time, as many intake channels at once."""
        gate = asyncio.Semaphore(clients)

        async def one(body: dict[str, Any]) -> httpx.Response:
            async with gate:
                return await self._client.post(path, json=body)

        async def every() -> list[httpx.Response]:
            return list(await asyncio.gather(*(one(b) for b in bodies)))

        return self._loop.run_until_complete(every())

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def timed(calls: list[Callable[[], object]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def measure(client: InProcessClient, url: str, args: argparse.Namespace) -> tuple[Any, ...] | None:
    rng = random.Random(5)
    filters = [
        (rng.randint(1, SITES), rng.choice(STATES), rng.choice(PRIORITIES))
        for _ in range(args.requests)
    ]
    asset_ids = [rng.randint(1, args.assets) for _ in range(args.requests)]
    with psycopg.connect(url) as raw:
        # The query the list answers with: the page and, in the same statement, the total.
        sql = (
            "SELECT *, count(*) OVER () FROM tickets WHERE site_id = %s AND state = %s "
            "AND priority = %s ORDER BY created_at DESC, id DESC LIMIT 50"
        )
        history_sql = (
            "SELECT * FROM tickets WHERE asset_id = %s ORDER BY created_at DESC, id DESC LIMIT 100"
        )
        for f in filters[:20]:  # warm both paths
            raw.execute(sql, f).fetchall()
            client.get("/tickets", params={"site_id": f[0], "state": f[1], "priority": f[2]})
        raw_list = timed([lambda f=f: raw.execute(sql, f).fetchall() for f in filters])
        raw_history = timed(
            [lambda a=a: raw.execute(history_sql, (a,)).fetchall() for a in asset_ids]
        )
    api_list = timed(
        [
            lambda f=f: client.get(
                "/tickets", params={"site_id": f[0], "state": f[1], "priority": f[2]}
            ).raise_for_status()
            for f in filters
        ]
    )
    api_history = timed(
        [lambda a=a: client.get(f"/assets/{a}/history").raise_for_status() for a in asset_ids]
    )

    def item(n: int) -> dict[str, Any]:
        # asset k is on site 1 + k % SITES
        return {
            "site_id": 1 + n % SITES,
            "type": "repair",
            "channel": "app",
            "title": "bench",
            "asset_id": SITES + n % SITES,
            "priority": PRIORITIES[n % 4],
        }

    started = time.perf_counter()
    for n in range(args.creates):
        response = client.post("/tickets", json=item(n))
        if response.status_code != 201 or response.json()["assignee_id"] is None:
            print("creation failed:", response.text)
            return None
    single_rate = args.creates / (time.perf_counter() - started)
    concurrent_rates = []
    for clients in (8, 32):
        started = time.perf_counter()
        responses = client.post_concurrently(
            "/tickets", [item(n) for n in range(args.creates)], clients=clients
        )
        concurrent_rates.append(args.creates / (time.perf_counter() - started))
        if any(r.status_code != 201 or r.json()["assignee_id"] is None for r in responses):
            print("concurrent creation failed")
            return None
    started = time.perf_counter()
    for first in range(0, args.creates * 5, 100):
        response = client.post(
            "/tickets/batch", json={"items": [item(n) for n in range(first, first + 100)]}
        )
        if response.status_code != 201 or any(t["assignee_id"] is None for t in response.json()):
            print("batch creation failed:", response.text[:500])
            return None
    batch_rate = args.creates * 5 / (time.perf_counter() - started)
    rates = single_rate, *concurrent_rates, batch_rate
    return (api_list, raw_list), (api_history, raw_history), rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--creates", type=int, default=2_000)
    args = parser.parse_args()
    server = Postgres()
    server.start()
    try:
        url = server.create_database("bench")
        migrate(make_engine(url))
        print(f"loading {args.tickets} tickets over {args.assets} assets ...", flush=True)
        started = time.perf_counter()
        load(url, args.tickets, args.assets)
        print(f"  loaded in {time.perf_counter() - started:.1f}s", flush=True)
        runtime = Runtime(
            Settings(
                state_dir=Path(tempfile.mkdtemp()),
                database_url=url,
                embedded_mqtt_port=free_port(),
                demo_fleet=False,
                plan_generation=False,  # the shipped plans would add 50,000 inspections
            )
        )
        runtime.start()
        client = InProcessClient(create_app(runtime), key=api_key(runtime.database))
        figures = measure(client, url, args)
        client.close()
        runtime.stop()
        if figures is None:
            return 1
        (api_list, raw_list), (api_history, raw_history), rates = figures
        single_rate, eight, thirty_two, batch_rate = rates
        print()
        for name, api, ref in (
            ("filtered list (site+state+priority, 50)", api_list, raw_list),  # ref: + total
            ("asset history (100)", api_history, raw_history),
        ):
            (ap50, ap95), (rp50, rp95) = percentiles(api), percentiles(ref)
            print(
                f"{name:42} API p50 {ap50:6.2f} ms  p95 {ap95:6.2f} ms | raw SQL p50 "
                f"{rp50:6.2f} ms  p95 {rp95:6.2f} ms | p95 ratio {ap95 / rp95:5.1f}x"
            )
        print(
            f"{'ticket creation + auto-assignment':42} {single_rate:6.0f} tickets/s one POST "
            f"/tickets at a time; {eight:6.0f}/s with 8 clients at once, {thirty_two:6.0f}/s with "
            f"32 (group commit); {batch_rate:6.0f}/s in POST /tickets/batch of 100 "
            "(target >= 500)"
        )
        print("targets: filtered list p95 <= 3x raw SQL and < 50 ms")
        return 0
    finally:
        server.kill()
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
