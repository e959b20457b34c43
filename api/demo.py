"""The demo estate of `make run`: a site in the equipment ledger with an asset per simulated
device, a technician per system and places residents file requests for, a contractor company
that maintains its elevators (with its technician and a person who logs in as it) and a
technician whose account sees this site only, and the simulated fleet publishing to the broker
until the service stops."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.accounts.models import Contractor
from maintenance.assets.models import Site
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.dispatch import contractors
from maintenance.dispatch.models import Technician
from maintenance.dispatch.roster import TechnicianCreate, create_technician
from maintenance.patrols.rounds import create_round
from maintenance.patrols.schemas import PointCreate, RoundCreate
from maintenance.storage.db import Database, utcnow
from maintenance.vocabulary import System
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher

log = logging.getLogger(__name__)

# The demo estate's places: plant rooms for its equipment, public places and two homes that
# residents file requests for.
DEMO_ROOMS = {
    "elevator": ("Block A", "roof", "lift machine room"),
    "water": ("Block A", "B1", "pump room"),
    "power": ("Block A", "B1", "switch room"),
    "fire": ("Block A", "1", "fire control room"),
    "camera": ("Block A", "1", "lobby"),
}
# The demo's rounds: the hourly security patrol (service standards) and a daily plant-room round.
DEMO_ROUNDS = (
    ("Security patrol", "hours", "00:00", 45, 15, ("camera", "fire", "water", "power")),
    ("Plant room round", "days", "09:00", 120, 60, ("water", "power", "elevator")),
)
# Ledger items without a simulated device that the programme library covers
# (docs/maintenance-plans.md): the fire control room's daily checks, the roof tank's cleaning
# and water tests, the lightning protection's yearly test.
DEMO_FIXTURES = (
    ("FIRE-CONTROL-ROOM", "Fire control room", "fire", "fire_control_room", "fire"),
    ("WATER-TANK-ROOF", "Roof water tank", "water", "water_tank", "elevator"),
    ("LIGHTNING-A", "Block A lightning protection", "power", "lightning_protection", "elevator"),
)
# The elevators' certificates expire in three weeks: the authority's inspection reminder shows.
INSPECTION_DUE_IN = timedelta(days=21)
DEMO_PLACES = sorted(
    {*DEMO_ROOMS.values(), ("Block A", "12", "unit 1203"), ("Block A", "5", "unit 0501")}
)


def _seed_rounds(session: Session, site_id: int, rooms: dict[tuple[str, str, str], int]) -> None:
    now = utcnow()
    for name, unit, at, window, grace, systems in DEMO_ROUNDS:
        points = [PointCreate(location_id=rooms[DEMO_ROOMS[system]]) for system in systems]
        create_round(
            session,
            RoundCreate(
                site_id=site_id,
                name=name,
                unit=unit,
                starts_on=now.date(),
                start_time=at,
                window_minutes=window,
                grace_minutes=grace,
                points=points,
            ),
            now=now,
        )


class DemoEstate:
    def __init__(self, settings: Settings, database: Database, mqtt_url: str, *, mqtt5: bool):
        self.settings = settings
        self.database = database
        self.mqtt_url = mqtt_url
        self.mqtt5 = mqtt5
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def seed(self) -> None:
        """The demo site in the equipment ledger: an asset per simulated device and a technician
        per system, so that the work-order side has something to show. Idempotent."""
        site_code = self.settings.demo_site
        fleet = Fleet(site_code, self.settings.demo_devices, 1.0, 1.0, start_ms=0)
        with self.database.transaction() as session:
            site = session.scalar(select(Site).where(Site.code == site_code))
            seeded = site is not None
        if seeded:
            self.seed_access()
            return
        with self.database.transaction() as session:
            site = create_site(
                session,
                SiteCreate(code=site_code, name="Demo estate", supervisor="demo-supervisor"),
            )
            rooms = {
                (building, floor, room): create_location(
                    session,
                    LocationCreate(site_id=site.id, building=building, floor=floor, room=room),
                ).id
                for building, floor, room in DEMO_PLACES
            }
            due = date.today() + INSPECTION_DUE_IN
            for model in fleet.models:
                save_asset(
                    session,
                    AssetCreate(
                        site_id=site.id,
                        code=model.device_id.upper(),
                        name=model.device_id,
                        system=model.system,
                        type=model.system,
                        device_ids=[model.device_id],
                        location_id=rooms[DEMO_ROOMS[model.system]],
                        inspection_due=due if model.system == "elevator" else None,
                    ),
                )
            for code, name, system, kind, room in DEMO_FIXTURES:
                save_asset(
                    session,
                    AssetCreate(
                        site_id=site.id,
                        code=code,
                        name=name,
                        system=system,
                        type=kind,
                        location_id=rooms[DEMO_ROOMS[room]],
                    ),
                )
            for system in sorted({m.system for m in fleet.models}):
                create_technician(
                    session,
                    TechnicianCreate(
                        name=f"Demo {system} technician", skills=[system], site_ids=[site.id]
                    ),
                )
            _seed_rounds(session, site.id, rooms)
        log.info("demo ledger: site %r with %d assets", site_code, len(fleet.models))
        self.seed_access()

    def seed_access(self) -> None:
        """Lift Co maintains the demo site's elevators: its technician gets their tickets, and
        `demo-lifts` (role contractor) sees only them; `demo-water` is the in-house water
        technician, who sees the demo site only. Passwords are generated and logged once.
        Idempotent (also for a demo ledger seeded before contractors existed)."""
        now = utcnow()
        with self.database.transaction() as session:
            site = session.scalar(select(Site).where(Site.code == self.settings.demo_site))
            if site is None or session.scalar(select(Contractor.id).limit(1)) is not None:
                return
            company = contractors.create(
                session, contractors.ContractorCreate(name="Lift Co (demo)"), now=now
            )
            lifts = contractors.AssetAssignment(site_id=site.id, system=System.elevator)
            contractors.assign(session, company, lifts)
            fitter = create_technician(
                session,
                TechnicianCreate(
                    name="Lift Co fitter",
                    skills=[System.elevator],
                    site_ids=[site.id],
                    contractor_id=company.id,
                ),
            )
            water = session.scalar(
                select(Technician.id).where(Technician.name == "Demo water technician")
            )
            for name, role, technician, company_id in (
                ("demo-lifts", "contractor", fitter.id, company.id),
                ("demo-water", "technician", water, None),
            ):
                if users.has_user(session, name):
                    continue
                password = secrets.token_urlsafe(12)
                users.create_user(
                    session,
                    name,
                    password,
                    role,
                    now=now,
                    technician_id=technician,
                    site_ids=[site.id],
                    contractor_id=company_id,
                )
                log.warning("demo account %s (%s): password %s (shown once)", name, role, password)

    def _run(self) -> None:
        site = self.settings.demo_site
        while not self._stop.is_set():
            fleet = Fleet(
                site,
                self.settings.demo_devices,
                self.settings.demo_rate,
                3600.0,
                seed=int(time.time()),
                start_ms=int(time.time() * 1000),
            )
            try:
                publisher = FleetPublisher(
                    self.mqtt_url,
                    fleet,
                    client_id=f"demo-fleet-{site}",
                    mqtt5=self.mqtt5,
                )
            except OSError as error:
                log.warning("demo fleet cannot reach the broker (%s); retrying", error)
                self._stop.wait(2)
                continue
            try:
                for message in fleet.statuses(online=True):
                    publisher.publish_all([message], realtime=False)
                publisher.publish_all(fleet.messages(), realtime=True, stop=self._stop)
            finally:
                publisher.close()
