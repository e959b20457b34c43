"""The programme library on SQLite and PostgreSQL with a moving clock: a year per programme,
tiers that replace each other, tolerance windows at month ends and in the site's zone, fixed
and floating anchoring, usage-or-calendar, compliance per programme and the overdue notice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from maintenance.assets.models import Asset, Site
from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.notifications.cards import card
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans import programme_items as lists
from maintenance.plans.defaults import ensure_default_plans
from maintenance.plans.generation import generate
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.plans.overdue import notify_overdue
from maintenance.plans.schedule import DONE, window
from maintenance.plans.service import PlanCreate, save_plan
from maintenance.plans.service import compliance as pm_compliance
from maintenance.reports.compliance import compliance_view
from maintenance.scope import EVERYTHING
from maintenance.storage.db import Database
from maintenance.vocabulary import TicketState
from maintenance.work_orders.models import Ticket

START = date(2027, 1, 1)
SHANGHAI = "Asia/Shanghai"


def library_estate(db: Database) -> dict[str, int]:
    with db.transaction() as s:
        north = create_site(s, SiteCreate(code="north", name="North", timezone=SHANGHAI))
        south = create_site(
            s, SiteCreate(code="south", name="South", timezone=SHANGHAI, risk_class="hazardous")
        )
        ids = {}
        for code, site, system, kind, due in (
            ("lift", north, "elevator", "traction", date(2027, 6, 15)),
            ("control", north, "fire", "fire_control_room", None),
            ("panel", north, "fire", "fire", None),
            ("tank", north, "water", "water_tank", None),
            ("rods-n", north, "power", "lightning_protection", None),
            ("rods-s", south, "power", "lightning_protection", None),
        ):
            asset = AssetCreate(
                site_id=site.id, code=code, system=system, type=kind, inspection_due=due
            )
            ids[code] = save_asset(s, asset).id
        ensure_default_plans(s, starts_on=START, now=datetime(2026, 12, 1, tzinfo=UTC))
    return ids


def complete_what_fell_due(db: Database, now: datetime) -> None:
    """Technicians do each inspection at the first run on or after its day."""
    today = now.astimezone(ZoneInfo(SHANGHAI)).date().isoformat()
    with db.transaction() as s:
        for ticket in s.scalars(
            select(Ticket)
            .join(PlanOccurrence, Ticket.id == PlanOccurrence.ticket_id)
            .where(Ticket.state.not_in(DONE), PlanOccurrence.period <= today)
        ):
            ticket.state, ticket.resolved_at = TicketState.resolved, now


def periods_in(db: Database, year: int) -> dict[tuple[str, str], list[str]]:
    """(asset code, plan name) -> the year's periods."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    with db.transaction() as s:
        for code, name, period in s.execute(
            select(Asset.code, InspectionPlan.name, PlanOccurrence.period)
            .join(Asset, Asset.id == PlanOccurrence.asset_id)
            .join(InspectionPlan, InspectionPlan.id == PlanOccurrence.plan_id)
            .order_by(PlanOccurrence.period)
        ):
            if period.startswith(str(year)):
                out[(code, name)].append(period)
    return out


def test_a_simulated_year_of_every_programme_per_asset_and_tier(database: Database) -> None:
    library_estate(database)
    day = datetime(2026, 12, 20, 4, tzinfo=UTC)  # noon in Shanghai
    while day < datetime(2028, 1, 3, tzinfo=UTC):
        with database.transaction() as s:
            generate(s, now=day, notifier=CollectingNotifier())
        complete_what_fell_due(database, day)
        day += timedelta(days=6)
    got = {key: len(v) for key, v in periods_in(database, 2027).items()}
    tiers = {
        "Elevator maintenance: half-monthly": 20,
        "Elevator maintenance: quarterly": 2,
        "Elevator maintenance: semi-annual": 1,
        "Elevator maintenance: annual": 1,
    }
    assert got == {
        ("lift", "Quarterly comprehensive inspection: elevator"): 4,
        **{("lift", name): n for name, n in tiers.items()},
        ("lift", "Elevator periodic inspection by the authority"): 1,
        ("control", "Fire control room: daily checks"): 365,
        **{
            (asset, name): n
            for asset in ("control", "panel")
            for name, n in (
                ("Quarterly comprehensive inspection: fire", 4),
                ("Fire facilities: monthly inspection", 12),
                ("Fire facilities: annual comprehensive test", 1),
            )
        },
        ("tank", "Quarterly comprehensive inspection: water"): 4,
        ("tank", "Water quality test"): 4,
        ("tank", "Water tank cleaning and disinfection"): 2,  # floating: 6 months after each
        ("rods-n", "Quarterly comprehensive inspection: power"): 4,
        ("rods-n", "Lightning protection test: yearly"): 1,
        ("rods-s", "Quarterly comprehensive inspection: power"): 4,
        ("rods-s", "Lightning protection test: half-yearly"): 2,  # a hazardous site
    }
    lift = periods_in(database, 2027)
    # 24 half-month slots, each taken by exactly one tier: never two tickets on one day
    slots = [p for name in tiers for p in lift[("lift", name)]]
    assert len(slots) == len(set(slots)) == 24
    assert lift[("lift", "Elevator maintenance: quarterly")] == ["2027-04-01", "2027-10-01"]
    assert lift[("lift", "Elevator maintenance: semi-annual")] == ["2027-07-01"]
    assert lift[("lift", "Elevator maintenance: annual")] == ["2027-01-01"]
    assert lift[("lift", "Elevator maintenance: half-monthly")][:3] == [
        "2027-01-16",
        "2027-02-01",
        "2027-02-16",
    ]
    assert lift[("lift", "Elevator periodic inspection by the authority")] == ["2027-06-15"]
    assert lift[("tank", "Water tank cleaning and disinfection")] == ["2027-01-01", "2027-07-01"]
    with database.transaction() as s:
        annual = s.scalar(select(Ticket).where(Ticket.title.startswith("Elevator maintenance: a")))
        assert annual is not None and annual.checklist is not None
        # the annual tier's checklist: the half-monthly, quarterly and semi-annual items and its own
        union = [
            *lists.ELEVATOR_HALF_MONTHLY,
            *lists.ELEVATOR_QUARTERLY,
            *lists.ELEVATOR_SEMI_ANNUAL,
            *lists.ELEVATOR_ANNUAL,
        ]
        assert [i["key"] for i in annual.checklist] == [row[0] for row in union]
        assert "standard: TSG T5002-2017, Annex A, A-4" in annual.description


def test_the_window_at_month_ends_and_across_the_site_zone() -> None:
    from maintenance.plans.cadence import Cadence

    plan = InspectionPlan(early_days=3, late_days=3)
    at = datetime
    assert window(plan, date(2027, 1, 31), SHANGHAI) == (
        at(2027, 1, 27, 16, tzinfo=UTC),  # Jan 28 00:00 in Shanghai
        at(2027, 2, 3, 16, tzinfo=UTC),  # the end of Feb 3 in Shanghai
    )
    assert window(plan, date(2027, 2, 28), SHANGHAI)[1] == at(2027, 3, 3, 16, tzinfo=UTC)
    # New York changes to summer time on 2027-03-14: the window opens in EST, closes in EDT
    assert window(plan, date(2027, 3, 12), "America/New_York") == (
        at(2027, 3, 9, 5, tzinfo=UTC),
        at(2027, 3, 16, 4, tzinfo=UTC),
    )
    assert window(InspectionPlan(early_days=0, late_days=0), date(2027, 1, 31), SHANGHAI) == (
        None,
        at(2027, 1, 31, 16, tzinfo=UTC),
    )
    half = Cadence(1, "half_months")
    assert list(half.dates(date(2027, 1, 31), date(2027, 3, 31))) == [
        date(2027, 1, 31),
        date(2027, 2, 15),
        date(2027, 2, 28),
        date(2027, 3, 15),
        date(2027, 3, 31),
    ]


def plan(db: Database, **fields: object) -> int:
    body = {"system": "water", "asset_type": "pump", "starts_on": "2027-01-01", **fields}
    with db.transaction() as s:
        made = PlanCreate.model_validate(body)
        return save_plan(s, made, now=datetime(2026, 12, 1, tzinfo=UTC), scope=EVERYTHING).id


def one_pump(db: Database, **asset: object) -> int:
    with db.transaction() as s:
        site = create_site(s, SiteCreate(code="east", name="East", timezone=SHANGHAI))
        return save_asset(
            s,
            AssetCreate.model_validate(
                {"site_id": site.id, "code": "P1", "system": "water", "type": "pump", **asset}
            ),
        ).id


def run(db: Database, now: datetime, usage: object = None) -> int:
    with db.transaction() as s:
        return generate(s, now=now, notifier=CollectingNotifier(), usage=usage).created  # type: ignore[arg-type]


def resolve(db: Database, plan_id: int, period: str, at: datetime) -> None:
    with db.transaction() as s:
        ticket = s.scalar(
            select(Ticket)
            .join(PlanOccurrence, PlanOccurrence.ticket_id == Ticket.id)
            .where(PlanOccurrence.plan_id == plan_id, PlanOccurrence.period == period)
        )
        assert ticket is not None
        ticket.state, ticket.resolved_at = TicketState.resolved, at


def periods(db: Database, plan_id: int) -> list[str]:
    with db.transaction() as s:
        return list(
            s.scalars(
                select(PlanOccurrence.period)
                .where(PlanOccurrence.plan_id == plan_id)
                .order_by(PlanOccurrence.id)
            )
        )


def test_after_a_late_completion_fixed_keeps_the_schedule_and_floating_moves(
    database: Database,
) -> None:
    one_pump(database)
    fixed = plan(database, name="fixed", anchoring="fixed")
    floating = plan(database, name="floating", anchoring="floating")
    assert run(database, datetime(2026, 12, 28, tzinfo=UTC)) == 2  # both on Jan 1
    for plan_id in (fixed, floating):
        resolve(database, plan_id, "2027-01-01", datetime(2027, 1, 10, 4, tzinfo=UTC))
    run(database, datetime(2027, 2, 5, tzinfo=UTC))
    assert periods(database, fixed) == ["2027-01-01", "2027-02-01"]
    assert periods(database, floating) == ["2027-01-01", "2027-02-10"]  # a month after Jan 10


class Counters:
    """The telemetry's counters, as the usage source reads them."""

    def __init__(self) -> None:
        self.trips = 0.0

    def latest(
        self, site: str, system: str, device_ids: Sequence[str], metric: str
    ) -> float | None:
        return self.trips if metric == "trips" and "p1-meter" in device_ids else None


def test_usage_or_calendar_whichever_comes_first(database: Database) -> None:
    one_pump(database, device_ids=["p1-meter"])
    either = plan(
        database,
        name="50,000 trips or 6 months",
        every=6,
        unit="months",
        usage_metric="trips",
        usage_every=50_000,
        usage_or_calendar=True,
    )
    counters = Counters()
    created = []
    for now, trips in (
        (datetime(2027, 1, 1, tzinfo=UTC), 10_000.0),  # the calendar's first; the baseline
        (datetime(2027, 3, 1, tzinfo=UTC), 50_500.0),  # 50,000 crossed first: due by usage
        (datetime(2027, 7, 1, tzinfo=UTC), 60_000.0),  # 6 months after Jan 1, not after Mar 1
        (datetime(2027, 9, 1, tzinfo=UTC), 70_000.0),  # 6 months after the usage one
    ):
        counters.trips = trips
        created.append(run(database, now, counters))
    assert created == [1, 1, 0, 1]
    assert periods(database, either) == [
        "2027-01-01",
        "usage:trips:0",
        "usage:trips:1",
        "2027-09-01",
    ]


def test_compliance_per_programme_in_its_window_and_the_overdue_notice(
    database: Database,
) -> None:
    one_pump(database)
    monthly = plan(
        database,
        name="Pump check",
        starts_on="2027-01-31",
        early_days=3,
        late_days=3,
        regulated=True,
        standard={"id": "CJJ 140-2010", "clause": "10"},
    )
    now = datetime(2027, 5, 28, tzinfo=UTC)
    assert run(database, now) == 5  # Jan 31, Feb 28, Mar 31, Apr 30, May 31
    resolve(database, monthly, "2027-01-31", datetime(2027, 2, 3, 15, 59, tzinfo=UTC))  # in
    resolve(database, monthly, "2027-02-28", datetime(2027, 3, 3, 16, 1, tzinfo=UTC))  # late
    resolve(database, monthly, "2027-03-31", datetime(2027, 3, 27, 15, tzinfo=UTC))  # early
    # Apr 30: not done when its window closed (May 3, end of day in Shanghai): missed
    # May 31: its window is still open
    with database.transaction() as s:
        (row,) = compliance_view(
            s,
            start=datetime(2027, 1, 1, tzinfo=UTC),
            end=datetime(2027, 7, 1, tzinfo=UTC),
            now=now,
            scope=EVERYTHING,
        )
    assert (row.site, row.programme, row.standard, row.regulated) == (
        "East",
        "Pump check",
        "CJJ 140-2010 · 10",
        True,
    )
    assert (row.due, row.in_window, row.early, row.late, row.missed, row.open) == (5, 1, 1, 1, 1, 1)
    assert row.share_in_window == 0.25
    with database.transaction() as s:  # the per-system report counts the window the same way
        (system,) = pm_compliance(
            s,
            start=datetime(2027, 1, 1, tzinfo=UTC),
            end=datetime(2027, 7, 1, tzinfo=UTC),
            now=now,
            scope=EVERYTHING,
        )
    assert (system.due, system.on_time, system.early, system.late, system.open_overdue) == (
        5,
        1,
        1,
        1,
        1,
    )
    notifier = CollectingNotifier()
    with database.transaction() as s:
        site = s.scalar(select(Site))
        assert site is not None
        site.supervisor = "manager@east"
    with database.transaction() as s:
        assert notify_overdue(s, now=now, notifier=notifier) == 1
        assert notify_overdue(s, now=now, notifier=notifier) == 0  # once
    (notice,) = notifier.sent
    assert (notice.kind, notice.recipient, notice.site) == (
        "regulated_overdue",
        "manager@east",
        "east",
    )
    assert (
        notice.message
        == "Overdue regulated inspection: Pump check (CJJ 140-2010) · P1 (2027-04-30)"
    )
    # a robot's card says it in the manager's language, marked urgent
    said = card(notice, language="zh-CN", zone=SHANGHAI, console_url=None)
    assert (said.title, said.urgent) == ("法定检查已逾期", True)


def test_a_sites_version_of_a_floating_programme_goes_on_from_the_shipped_ones_completion(
    database: Database,
) -> None:
    from maintenance.plans.programmes import ProgrammeChange, change_for_site

    one_pump(database)
    shipped = plan(database, name="floating", anchoring="floating")
    assert run(database, datetime(2026, 12, 28, tzinfo=UTC)) == 1
    resolve(database, shipped, "2027-01-01", datetime(2027, 1, 10, 4, tzinfo=UTC))
    with database.transaction() as s:
        site = s.scalar(select(Site))
        assert site is not None
        change = ProgrammeChange(late_days=2)
        mine = change_for_site(s, site.id, shipped, change, now=datetime(2027, 1, 20, tzinfo=UTC))
        mine_id = mine.id
    assert run(database, datetime(2027, 2, 5, tzinfo=UTC)) == 1
    assert periods(database, shipped) == ["2027-01-01"]  # the site is its version's now
    assert periods(database, mine_id) == ["2027-02-10"]  # a month after the Jan 10 completion
