"""The `facility` command as operators use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ingest.store.influx import InfluxStore
from maintenance.flows import unit_of_work
from tests.helpers import collector, count_points, wait_until
from tests.servers import Influx, Mosquitto


def facility(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_simulate_publishes_a_scenario_with_its_truth_and_deadletters_lists_bad_input(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    database = f"t_{uuid.uuid4().hex[:10]}"
    state = tmp_path / "state"
    service = collector(mosquitto.url, influx_server.url, database, state)
    env = {"FACILITY_MQTT_URL": mosquitto.url, "FACILITY_STATE_DIR": str(state)}
    truth = tmp_path / "truth.json"
    result = facility(
        "simulate",
        "--site",
        "s1",
        "--devices",
        "5",
        "--rate",
        "10",
        "--duration",
        "3s",
        "--scenario",
        "pipe_burst",
        "--seed",
        "9",
        "--truth",
        str(truth),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    # 5 retained "online" statuses, 150 telemetry messages and the burst's event
    assert "published 156 messages" in result.stdout
    (fault,) = json.loads(truth.read_text())
    assert (fault["fault"], fault["system"], fault["site"]) == ("pipe_burst", "water", "s1")
    store = InfluxStore(influx_server.url, database)
    wait_until(lambda: count_points(store) == 150, 30, "150 points")
    events = store.query('SELECT "code" FROM "events"')[0]
    assert [row[1] for row in events["values"]] == ["leak_detected"]
    subprocess.run(
        [
            "mosquitto_pub",
            "-p",
            str(mosquitto.port),
            "-q",
            "1",
            "-t",
            "facility/s1/water/w-1/telemetry",
            "-m",
            "{broken",
        ],
        check=True,
    )
    wait_until(lambda: service.collector.stats.dead_lettered == 1, 10, "the dead letter")
    time.sleep(0.1)
    listing = facility("deadletters", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    (letter,) = json.loads(listing.stdout)
    assert letter["topic"] == "facility/s1/water/w-1/telemetry"
    assert letter["payload"] == "{broken"
    assert letter["reason"].startswith("invalid JSON")
    service.stop()
    devices = facility("devices", env=env)
    assert devices.stdout.count("online  s1/") == 5


def test_bad_arguments_get_a_clear_error(tmp_path: Path) -> None:
    result = facility("simulate", "--duration", "soon", env={"FACILITY_STATE_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "is not a duration like 90s" in result.stderr


def test_ticket_and_asset_commands_on_a_database(tmp_path: Path) -> None:
    env = {
        "FACILITY_STATE_DIR": str(tmp_path),
        "FACILITY_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    from maintenance.assets.schemas import SiteCreate
    from maintenance.assets.service import create_site
    from maintenance.storage.db import make_engine, migrate

    engine = make_engine(env["FACILITY_DATABASE_URL"])
    migrate(engine)
    with unit_of_work.database(engine).transaction() as s:
        create_site(s, SiteCreate(code="estate-1", name="Riverside"))
    csv_file = tmp_path / "assets.csv"
    csv_file.write_text(
        "site_code,code,system,type\nestate-1,LIFT-1,elevator,traction\nestate-1,BAD,boiler,x\n"
    )
    imported = facility("assets", "import", str(csv_file), env=env)
    assert imported.returncode == 1  # a row was rejected: the exit code says so
    assert "created 1, updated 0, rejected 1" in imported.stdout
    assert "line 3: system:" in imported.stdout
    created = facility(
        "tickets",
        "create",
        "--site",
        "1",
        "--type",
        "repair",
        "--title",
        "lift stuck",
        "--asset",
        "1",
        "--priority",
        "emergency",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("#1       new         emergency repair")
    listing = facility("tickets", "list", "--state", "new", env=env)
    assert listing.stdout.splitlines()[0] == "1 ticket(s)"
    shown = facility("tickets", "show", "1", env=env)
    assert '"escalated": true' in shown.stdout and "dispatch: escalate" in shown.stdout
    missing = facility("tickets", "show", "42", env=env)
    assert missing.returncode == 2 and "ticket 42 not found" in missing.stderr
    bad = facility("tickets", "create", "--site", "1", "--type", "repair", "--title", "", env=env)
    assert bad.returncode == 2 and "title:" in bad.stderr
    exported = facility("assets", "export", env=env)
    assert exported.stdout.splitlines()[1].startswith("estate-1,LIFT-1,,elevator,traction")


def test_plan_commands(tmp_path: Path) -> None:
    env = {
        "FACILITY_STATE_DIR": str(tmp_path),
        "FACILITY_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    from datetime import UTC, date, datetime

    from maintenance.assets.schemas import AssetCreate, SiteCreate
    from maintenance.assets.service import create_site, save_asset
    from maintenance.plans.defaults import ensure_default_plans
    from maintenance.plans.models import InspectionPlan
    from maintenance.storage.db import make_engine, migrate

    engine = make_engine(env["FACILITY_DATABASE_URL"])
    migrate(engine)
    with unit_of_work.database(engine).transaction() as s:
        site = create_site(s, SiteCreate(code="estate-1", name="Riverside"))
        save_asset(s, AssetCreate(site_id=site.id, code="CAM-1", system="camera", type="dome"))
        ensure_default_plans(s, starts_on=date.today(), now=datetime.now(UTC))
        site_id = site.id
    listing = facility("plans", "list", env=env)
    assert listing.returncode == 0, listing.stderr
    assert len(listing.stdout.splitlines()) == 17  # the programme library
    assert "every 1 quarters" in listing.stdout and "system camera" in listing.stdout
    ahead = facility("plans", "preview", "5", "--days", "365", env=env)
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta

    today = datetime.now(UTC).date()
    expected = sum(
        today + relativedelta(months=m) <= today + timedelta(days=365) for m in range(14)
    )
    assert ahead.stdout.splitlines()[0] == f"{expected} occurrence(s) in the next 365 days"

    def plan_five() -> tuple[object, ...]:
        with unit_of_work.database(engine).read() as s:
            plan = s.get(InspectionPlan, 5)
            assert plan is not None
            return (plan.priority, plan.checklist, plan.lead_days, plan.paused)

    priority, checklist, lead_days, paused = plan_five()
    assert checklist and paused is False
    assert facility("plans", "pause", "5", env=env).stdout.strip() == "plan #5 paused"
    assert "paused" in facility("plans", "list", env=env).stdout.splitlines()[4]
    # pausing changes nothing else of the plan (its checklist and priority stay)
    assert plan_five() == (priority, checklist, lead_days, True)
    assert facility("plans", "resume", "5", env=env).stdout.strip() == "plan #5 resumed"
    assert plan_five() == (priority, checklist, lead_days, False)
    assert facility("plans", "pause", "5", env=env).returncode == 0
    # a change replaces the options given and nothing else (not the checklist, not `paused`)
    assert facility("plans", "change", "5", "--lead-days", "3", env=env).returncode == 0
    assert plan_five() == (priority, checklist, 3, True)
    assert facility("plans", "preview", "99", env=env).returncode == 2
    # a site's programmes: the library as it applies there; one disabled for the site
    programmes = facility("plans", "site", str(site_id), env=env).stdout.splitlines()
    assert len(programmes) == 17
    by_code = facility("plans", "site", "estate-1", env=env).stdout.splitlines()
    assert by_code == programmes  # the site by its code, as the README writes it
    nowhere = facility("plans", "site", "nowhere", env=env)
    assert (nowhere.returncode, nowhere.stderr.splitlines()[-1]) == (
        2,
        "no site 'nowhere' (give its code or id)",
    )
    assert programmes[5].startswith("#6    enabled  shipped   every 1 half_months -3/+3 d")
    assert programmes[5].endswith(
        "Elevator maintenance: half-monthly [TSG T5002-2017 · Annex A, A-1 · 电梯维护保养规则]"
    )
    off = facility("plans", "site", str(site_id), "6", "--disable", env=env)
    assert off.stdout.strip() == "site 1: plan #18 disabled", off.stderr
    with unit_of_work.database(engine).read() as s:
        own = s.get(InspectionPlan, 18)
        assert own is not None
        assert (own.site_id, own.overrides_id, own.paused) == (site_id, 6, True)
    made = facility(
        "plans",
        "create",
        "--name",
        "Pump every 500 h",
        "--system",
        "water",
        "--starts-on",
        "2027-01-01",
        "--usage-metric",
        "running_hours",
        "--usage-every",
        "500",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "plan #19 created: Pump every 500 h"
    bad = facility(
        "plans",
        "create",
        "--name",
        "x",
        "--system",
        "fire",
        "--starts-on",
        "2027-01-01",
        "--rrule",
        "FREQ=NEVER",
        env=env,
    )
    assert bad.returncode == 2 and "rrule" in bad.stderr
    changed = facility("plans", "change", "19", "--usage-every", "250", env=env)
    assert changed.stdout.strip() == "plan #19 changed: Pump every 500 h"
    assert "from 2027-01-01" in facility("plans", "list", env=env).stdout.splitlines()[18]

    with unit_of_work.database(engine).transaction() as s:
        plan = s.get(InspectionPlan, 19)
        assert plan is not None
        assert (plan.usage_metric, plan.usage_every, plan.name) == (
            "running_hours",
            250.0,
            "Pump every 500 h",
        )


def test_rules_check(tmp_path: Path) -> None:
    env = {"FACILITY_STATE_DIR": str(tmp_path)}
    good = facility("rules", "check", "rules/shipped/default.yaml", env=env)
    assert good.returncode == 0
    assert (
        good.stdout == "rules/shipped/default.yaml: 21 rules ok (7 event, 5 offline, 9 threshold)\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: x\n    kind: threshold\n    metric: t\n    above: 1\n    severity: loud\n"
    )
    checked = facility("rules", "check", str(bad), env=env)
    assert checked.returncode == 1
    assert checked.stderr.startswith(f"{bad}:6: rules.0.severity:")
