"""Data migrations: existing rows get what new rows get at intake (both backends)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from maintenance.storage.db import make_engine
from tests.servers import Postgres

MIGRATIONS = Path(__file__).parents[3] / "maintenance" / "storage" / "migrations"


def upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    server: Postgres = request.getfixturevalue("postgres_server")
    return make_engine(server.create_database(f"m_{uuid.uuid4().hex[:12]}"))


def test_existing_failure_tickets_get_their_fault_and_repeat_link(engine: Engine) -> None:
    upgrade(engine, "0009")
    with engine.begin() as c:
        c.execute(text("INSERT INTO sites (id, code, name, timezone) VALUES (1, 's', 'S', 'UTC')"))
        c.execute(
            text(
                "INSERT INTO assets (id, site_id, code, name, system, type, model, vendor, serial,"
                " criticality) VALUES (1, 1, 'L1', 'lift', 'elevator', 'lift', '', '', '', 'high')"
            )
        )
        c.execute(
            text(
                "INSERT INTO alarms (id, version, site, system, device_id, rule_id, severity,"
                ' message, state, occurrences, "values", chattering, clear_held, updated_at)'
                " VALUES (7, 1, 's', 'elevator', 'd', 'lift-trapped', 'critical', '', 'normal',"
                " 1, '{}', false, false, '2026-01-01 00:00:00+00')"
            )
        )
        for ticket_id, kind, ref, created, state in (
            (1, "repair", None, "2026-01-01 10:00:00+00", "closed"),
            (2, "alarm", "alarm:7:1", "2026-01-02 10:00:00+00", "closed"),
            (3, "repair", None, "2026-01-20 10:00:00+00", "cancelled"),
            (4, "repair", None, "2026-01-25 10:00:00+00", "closed"),
            (5, "alarm", "alarm:7:2", "2026-03-15 10:00:00+00", "new"),
            (6, "complaint", None, "2026-03-16 10:00:00+00", "new"),
        ):
            c.execute(
                text(
                    "INSERT INTO tickets (id, version, site_id, asset_id, type, channel, priority,"
                    " state, title, description, requester, source_ref, created_at, updated_at,"
                    " assignment_reason, escalated, reopen_count, complex) VALUES (:id, 1, 1, 1,"
                    " :kind, 'app', 'normal', :state, 't', '', '', :ref, :created, :created, '',"
                    " false, 0, false)"
                ),
                {"id": ticket_id, "kind": kind, "ref": ref, "created": created, "state": state},
            )
    upgrade(engine, "head")
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, fault, repeat_of FROM tickets ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        (1, "repair", None),
        (2, "lift-trapped", None),
        (3, "repair", None),  # cancelled: neither a repeat nor repeated
        (4, "repair", 1),  # 24 days after ticket 1
        (5, "lift-trapped", None),  # 72 days after ticket 2
        (6, None, None),  # a complaint is not a failure
    ]
    engine.dispose()


def test_an_older_installations_plans_keep_working_and_gain_the_programme_library(
    engine: Engine,
) -> None:
    """0016 adds the programme columns with defaults that keep an old plan's behaviour (fixed,
    no window); the shipped plans are found by their English name and the library's other
    programmes are added beside them."""
    from datetime import UTC, date, datetime

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from maintenance.plans.defaults import ensure_default_plans
    from maintenance.plans.models import InspectionPlan

    upgrade(engine, "0015")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO inspection_plans (name, every, unit, starts_on, lead_days,"
                " priority, checklist, paused, system, created_at) VALUES ("
                "'Quarterly comprehensive inspection: elevator', 1, 'quarters', '2026-01-01',"
                " 7, 'normal', '[]', false, 'elevator', '2026-01-01 00:00:00+00')"
            )
        )
    upgrade(engine, "head")
    with Session(engine) as s:
        old = s.scalar(select(InspectionPlan))
        assert old is not None
        assert (old.anchoring, old.early_days, old.late_days, old.regulated) == (
            "fixed",
            0,
            0,
            False,
        )
        assert (old.programme, old.standard, old.usage_or_calendar, old.has_window) == (
            None,
            None,
            False,
            False,
        )
        made = ensure_default_plans(s, starts_on=date(2027, 1, 1), now=datetime.now(UTC))
        assert made == 16  # the other four of the five, and the programme library's twelve
        assert old.standard == {"id": "SERVICE_STANDARDS", "clause": "Service-level targets"}
        assert old.starts_on == date(2026, 1, 1)  # the plan itself stays as it was
        s.commit()
    engine.dispose()
