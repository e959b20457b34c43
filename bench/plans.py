"""Plan-generation benchmark against a private PostgreSQL: the first generation of the whole
programme library (docs/maintenance-plans.md) for 100,000 assets of every kind it covers, then
the same generation again (which must create nothing).

    python -m bench.plans [--assets 100000]

Reference from the same run: a bulk insert of the same number of ticket rows through the driver
(COPY), the floor for writing that many rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime

import psycopg
from sqlalchemy import func, select

from maintenance.flows import unit_of_work
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.defaults import ensure_default_plans
from maintenance.plans.generation import generate
from maintenance.plans.models import InspectionPlan
from maintenance.storage.db import make_engine, migrate
from tests.servers import Postgres

SITES = 50
NOW = datetime(2027, 1, 1, 4, tzinfo=UTC)


# The ledger's mix, one in ten each: (system, type) of asset n by n % 10.
MIX = [
    ("elevator", "traction"),
    ("elevator", "traction"),
    ("water", "pump"),
    ("water", "water_tank"),
    ("fire", "fire"),
    ("fire", "fire"),
    ("fire", "fire_control_room"),
    ("power", "switchgear"),
    ("power", "lightning_protection"),
    ("camera", "dome"),
]


def load(url: str, assets: int) -> None:
    """Every fifth site hazardous (half-yearly lightning tests); the lifts' certificates expire
    over the year (those within 30 days get their reminder in the first run)."""
    systems = [system for system, _ in MIX]
    kinds = [kind for _, kind in MIX]
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"""
            INSERT INTO sites (code, name, timezone, supervisor, risk_class)
            SELECT 'site-' || n, 'Site ' || n, 'Asia/Shanghai', 'sup',
                   CASE WHEN n % 5 = 0 THEN 'hazardous' ELSE 'normal' END
            FROM generate_series(1, {SITES}) n;
            INSERT INTO assets (site_id, code, name, system, type, model, vendor, serial,
                                criticality, inspection_due)
            SELECT 1 + n % {SITES}, 'A-' || n, '', (ARRAY{systems})[1 + n % 10],
                   (ARRAY{kinds})[1 + n % 10], '', '', '', 'medium',
                   CASE WHEN n % 10 < 2 THEN DATE '2027-01-01' + (n / 10) % 365 END
            FROM generate_series(1, {assets}) n;
            INSERT INTO technicians (name, contact, skills, active, open_tickets)
            SELECT 'tech-' || n, '', '["elevator","water","power","fire","camera"]', true, 0
            FROM generate_series(1, {SITES * 4}) n;
            INSERT INTO technician_sites (technician_id, site_id)
            SELECT n, 1 + n % {SITES} FROM generate_series(1, {SITES * 4}) n;
            ANALYZE;
        """)


def reference(url: str, rows: int) -> float:
    """COPY the same number of ticket rows into a scratch copy of the table."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE scratch (LIKE tickets INCLUDING DEFAULTS)")
        started = time.perf_counter()
        with (
            db.cursor() as cur,
            cur.copy(
                "COPY scratch (version, site_id, asset_id, type, channel, priority, state, title, "
                "description, requester, created_at, updated_at, assignment_reason, escalated, "
                "reopen_count, complex, source_ref) FROM STDIN"
            ) as copy,
        ):
            for n in range(rows):
                copy.write_row(
                    (
                        1,
                        1 + n % SITES,
                        n + 1,
                        "inspection",
                        "schedule",
                        "normal",
                        "assigned",
                        "Quarterly comprehensive inspection",
                        "",
                        "",
                        NOW,
                        NOW,
                        "",
                        False,
                        0,
                        False,
                        f"plan:1:asset:{n}:2027-01-01",
                    )
                )
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=100_000)
    args = parser.parse_args()
    server = Postgres()
    server.start()
    try:
        url = server.create_database("bench")
        engine = make_engine(url)
        migrate(engine)
        load(url, args.assets)
        db = unit_of_work.database(engine)
        with db.transaction() as s:
            ensure_default_plans(s, starts_on=date(2027, 1, 1), now=NOW)
        with db.read() as s:
            plans = s.scalar(select(func.count()).select_from(InspectionPlan))
        print(
            f"first generation of the programme library ({plans} plans) for {args.assets} "
            f"assets ...",
            flush=True,
        )
        started = time.perf_counter()
        with db.transaction() as s:
            first = generate(s, now=NOW, notifier=CollectingNotifier())
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        with db.transaction() as s:
            second = generate(s, now=NOW, notifier=CollectingNotifier())
        second_s = time.perf_counter() - started
        ref_s = reference(url, first.created)
        print()
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
        print(
            f"first run    {first.created:8d} tickets in {first_s:7.2f}s = "
            f"{first.created / first_s:8.0f} tickets/s   (target >= 2000)"
        )
        print(
            f"second run   {second.created:8d} tickets in {second_s:7.2f}s   "
            f"{first_s / second_s:6.1f}x faster than the first (target >= 5x, 0 tickets)"
        )
        print(
            f"reference    COPY of {first.created} ticket rows through the driver in "
            f"{ref_s:.2f}s = {first.created / ref_s:.0f} rows/s; first run at "
            f"{ref_s / first_s:.1%} of it"
        )
        return 0 if second.created == 0 and first.created >= args.assets else 1
    finally:
        server.kill()
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
