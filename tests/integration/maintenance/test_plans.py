"""Preventive-maintenance generation on SQLite and a real PostgreSQL, with a controlled clock."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from ingest.store.influx import InfluxStore
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.defaults import ensure_default_plans
from maintenance.plans.generation import generate
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.storage.db import Database
from maintenance.vocabulary import TicketType
from maintenance.work_orders.models import Ticket

START = date(2027, 1, 1)
NOW0 = datetime(2027, 1, 5, tzinfo=UTC)
T0 = int(datetime.now(UTC).timestamp() * 1000) - 60_000


def estate(db: Database, *, library: bool = False) -> dict[str, int]:
    """Ten assets, two per system, under the shipped plans: the service standards' five, and
    with `library` the whole programme library (else its programmes are paused)."""
    with db.transaction() as s:
        site = create_site(
            s, SiteCreate(code="estate-1", name="Riverside", timezone="Asia/Shanghai")
        )
        control_room = create_location(
            s, LocationCreate(site_id=site.id, building="B", floor="B1", room="fire control")
        )
        ids = {"control room": control_room.id}
        for system in ("elevator", "water", "power", "fire", "camera"):
            for n in (1, 2):
                located = (system, n) == ("fire", 1)
                asset = save_asset(
                    s,
                    AssetCreate(
                        site_id=site.id,
                        code=f"{system}-{n}",
                        name="Fire alarm panel" if located else "",
                        system=system,
                        type=system,
                        location_id=control_room.id if located else None,
                    ),
                )
                ids[f"{system}-{n}"] = asset.id
        ensure_default_plans(s, starts_on=START, now=datetime(2026, 12, 1, tzinfo=UTC))
        if not library:
            for plan in s.scalars(
                select(InspectionPlan).where(InspectionPlan.programme.is_not(None))
            ):
                plan.paused = True
        return ids


def run(db: Database, now: datetime) -> tuple[int, int]:
    with db.transaction() as s:
        result = generate(s, now=now, notifier=CollectingNotifier())
    return result.created, result.late


def per_asset_in(db: Database, year: int) -> Counter[int]:
    with db.transaction() as s:
        rows = s.execute(select(PlanOccurrence.asset_id, PlanOccurrence.period)).all()
        tickets = s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.type == TicketType.inspection)
        )
        assert tickets == len(rows)
    return Counter(a for a, period in rows if period.startswith(str(year)))


def test_a_simulated_year_gives_4_inspections_per_asset_and_12_per_camera(
    database: Database,
) -> None:
    ids = estate(database)
    day = datetime(2026, 12, 20, 4, tzinfo=UTC)
    while day < datetime(2028, 1, 1, tzinfo=UTC):
        created, late = run(database, day)
        assert late == 0
        day += timedelta(days=3)
    counts = per_asset_in(database, 2027)
    control_room = ids.pop("control room")
    for name, asset_id in ids.items():
        assert counts[asset_id] == (12 if name.startswith("camera") else 4), name
    assert run(database, day) == (0, 0)  # idempotent: nothing new on a rerun
    with database.transaction() as s:
        ticket = s.scalar(
            select(Ticket).where(Ticket.asset_id == ids["fire-1"]).order_by(Ticket.id)
        )
        assert ticket is not None
        # which equipment and where, on the card and on the ticket
        assert ticket.title == (
            "Quarterly comprehensive inspection: fire · "
            "fire-1 Fire alarm panel @ B / B1 / fire control (2027-01-01)"
        )
        assert ticket.location_id == control_room
        # due at the end of 2027-01-01 in Shanghai
        assert ticket.resolution_due == datetime(2027, 1, 1, 16, tzinfo=UTC)
        assert ticket.checklist and ticket.checklist[0]["key"] == "panel"
        assert ticket.source_ref == f"plan:4:asset:{ids['fire-1']}:2027-01-01"


def test_an_outage_generates_the_missed_occurrences_once_marked_late(
    database: Database,
) -> None:
    ids = estate(database)
    assert run(database, datetime(2026, 12, 28, tzinfo=UTC))[0] == 10  # Jan 1, lead time
    # down from New Year until mid-March: January, February and March camera checks are due
    created, late = run(database, datetime(2027, 3, 15, tzinfo=UTC))
    assert (created, late) == (4, 4)  # Feb 1 and Mar 1 for each of the two cameras
    assert run(database, datetime(2027, 3, 16, tzinfo=UTC)) == (0, 0)
    with database.transaction() as s:
        late_rows = s.scalars(select(PlanOccurrence).where(PlanOccurrence.late.is_(True))).all()
        assert sorted((r.asset_id, r.period) for r in late_rows) == sorted(
            (ids[c], p) for c in ("camera-1", "camera-2") for p in ("2027-02-01", "2027-03-01")
        )
        ticket = s.get(Ticket, late_rows[0].ticket_id)
        assert ticket is not None and "generated late" in ticket.description


def test_an_asset_new_to_the_ledger_is_not_owed_what_fell_due_before_it(
    database: Database,
) -> None:
    """An estate added in March: its cameras' January to March checks were never owed; their
    first inspection is the next one, not three late tickets that breach at once."""
    estate(database)
    assert run(database, datetime(2026, 12, 28, tzinfo=UTC))[0] == 10  # the first estate's
    with database.transaction() as s:
        site = create_site(s, SiteCreate(code="new-1", name="Hilltop", timezone="Asia/Shanghai"))
        camera = save_asset(
            s, AssetCreate(site_id=site.id, code="CAM-N", system="camera", type="camera")
        ).id
    created, late = run(database, datetime(2027, 3, 27, tzinfo=UTC))  # April 1 in lead time
    # the first estate: its cameras' Feb and Mar (late: the service was down) and Apr, its
    # eight other assets' second quarter; the new camera: Apr only
    assert (created, late) == (6 + 8 + 1, 4)
    with database.transaction() as s:
        mine = s.execute(
            select(PlanOccurrence.period, PlanOccurrence.ticket_id, PlanOccurrence.late)
            .where(PlanOccurrence.asset_id == camera)
            .order_by(PlanOccurrence.period)
        ).all()
    assert [(p, t is not None, lt) for p, t, lt in mine] == [
        ("2027-01-01", False, False),
        ("2027-02-01", False, False),
        ("2027-03-01", False, False),
        ("2027-04-01", True, False),
    ]


def test_two_schedulers_at_once_on_postgresql_create_no_duplicate(pg_database: Database) -> None:
    estate(pg_database)
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(4)

    def scheduler() -> None:
        barrier.wait()
        results.append(run(pg_database, datetime(2027, 6, 26, tzinfo=UTC)))

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Jan 1, Apr 1 and Jul 1 (lead time) for 8 assets; 7 camera checks (Jan-Jul) for 2 cameras
    assert sum(created for created, _ in results) == 8 * 3 + 2 * 7
    with pg_database.transaction() as s:
        refs = s.scalars(select(Ticket.source_ref)).all()
        assert len(refs) == len(set(refs)) == 38


def test_the_service_ships_its_plans_and_generates_on_start(
    database: Database, tmp_path: Path
) -> None:
    from api.runtime import Runtime
    from api.settings import Settings
    from maintenance.plans.models import InspectionPlan
    from tests.servers import free_port

    with database.transaction() as s:
        site = create_site(s, SiteCreate(code="estate-1", name="Riverside"))
        for system in ("elevator", "water", "power", "fire", "camera"):
            for n in (1, 2):
                save_asset(
                    s,
                    AssetCreate(site_id=site.id, code=f"{system}-{n}", system=system, type=system),
                )
    settings = Settings(
        state_dir=tmp_path / "state",
        embedded_mqtt_port=free_port(),
        demo_fleet=False,
        database_url=database.engine.url.render_as_string(hide_password=False),
    )
    runtime = Runtime(settings)
    runtime.start()
    try:
        assert runtime.scheduler.generate_plans() is not None  # the start-up run may be first
        with database.transaction() as s:
            plans = s.scalars(select(InspectionPlan).order_by(InspectionPlan.id)).all()
            assert [p.unit for p in plans[:5]] == ["quarters"] * 4 + ["months"]
            assert len(plans) == 17  # the programme library
            # every asset's first occurrences are today, exactly once: the quarterly and
            # monthly inspections (10), the elevators' annual tier (which replaces the lower
            # tiers, 2), the fire assets' monthly inspection and annual test (4)
            assert s.scalar(select(func.count()).select_from(Ticket)) == 16
    finally:
        runtime.stop()


def test_a_ticket_already_holding_an_occurrences_key_is_linked_and_the_run_goes_on(
    database: Database,
) -> None:
    """A conflicting row (left by an interrupted run, or written into the database by hand)
    never stops generation for everyone else."""
    ids = estate(database)
    with database.transaction() as s:
        plan = s.scalar(
            select(InspectionPlan).where(InspectionPlan.name.endswith("inspection: elevator"))
        )
        assert plan is not None
        key = f"plan:{plan.id}:asset:{ids['elevator-1']}:2027-01-01"
        squatter = Ticket(
            site_id=1,
            asset_id=ids["elevator-1"],
            type=TicketType.repair,
            channel="hotline",
            priority="normal",
            title="holds the key",
            source_ref=key,
            created_at=NOW0,
            updated_at=NOW0,
        )
        s.add(squatter)
        s.flush()
        squatter_id = squatter.id
    created, _ = run(database, datetime(2027, 1, 1, tzinfo=UTC))
    assert created == 9  # the ten assets' first occurrences, less the one already ticketed
    with database.transaction() as s:
        linked = s.scalar(
            select(PlanOccurrence.ticket_id).where(
                PlanOccurrence.plan_id == plan.id,
                PlanOccurrence.asset_id == ids["elevator-1"],
                PlanOccurrence.period == "2027-01-01",
            )
        )
    assert linked == squatter_id


def test_usage_based_plans_follow_counters_in_a_real_influxdb(
    database: Database, influx_store: InfluxStore
) -> None:
    from ingest.store.base import Point
    from maintenance.plans.models import InspectionPlan
    from maintenance.plans.usage import TelemetryUsage

    with database.transaction() as s:
        site = create_site(s, SiteCreate(code="estate-1", name="Riverside"))
        lift = save_asset(
            s,
            AssetCreate(
                site_id=site.id,
                code="LIFT-1",
                system="elevator",
                type="traction",
                device_ids=["elevator-001"],
            ),
        )
        save_asset(
            s, AssetCreate(site_id=site.id, code="LIFT-2", system="elevator", type="traction")
        )  # no device: never due by usage
        s.add(
            InspectionPlan(
                name="Lift every 10,000 trips",
                system="elevator",
                every=1,
                unit="months",
                starts_on=START,
                usage_metric="trips",
                usage_every=10_000,
                checklist=[],
                created_at=NOW0,
                lead_days=7,
            )
        )
    trips = [12_345.0, 19_999.0, 20_001.0, 20_500.0, 45_000.0]
    created = []
    for n, value in enumerate(trips):
        influx_store.write(
            [
                Point(
                    "elevator",
                    (("device_id", "elevator-001"), ("site", "estate-1")),
                    {"trips": value, "vibration": 1.0},
                    T0 + n * 1000,
                ),
                Point(
                    "elevator",
                    (("device_id", "elevator-001"), ("site", "estate-1")),
                    {"vibration": 1.2},
                    T0 + n * 1000 + 500,
                ),
            ]
        )
        with database.transaction() as s:
            result = generate(
                s, now=NOW0, notifier=CollectingNotifier(), usage=TelemetryUsage(influx_store)
            )
        created.append(result.created)
    # the first reading is the baseline; then one ticket per newly crossed multiple
    assert created == [0, 0, 1, 0, 1]
    with database.transaction() as s:
        titles = s.scalars(
            select(Ticket.title).where(Ticket.asset_id == lift.id).order_by(Ticket.id)
        ).all()
    assert titles == [
        "Lift every 10,000 trips · LIFT-1 (usage:trips:2)",
        "Lift every 10,000 trips · LIFT-1 (usage:trips:4)",
    ]


def test_an_overdue_inspection_escalates_like_any_sla_breach(database: Database) -> None:
    from maintenance.flows import sla_watch as watch

    estate(database)
    run(database, datetime(2026, 12, 28, tzinfo=UTC))  # Jan 1 inspections, due end of Jan 1
    notifier = CollectingNotifier()
    with database.transaction() as s:
        result = watch.check(s, now=datetime(2027, 1, 2, tzinfo=UTC), notifier=notifier)
        overdue = s.scalars(select(Ticket).where(Ticket.resolution_breached_at.is_not(None))).all()
    assert len(overdue) == 10 and all(t.escalated for t in overdue)
    assert result.breaches == 20  # unanswered since Dec 28 (response) and overdue (resolution)
    assert {n.kind for n in notifier.sent} >= {"sla_breach", "escalation"}
