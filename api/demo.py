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

from sqlalchemy import select

from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.accounts.models import Contractor
from maintenance.assets.models import Site
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.dispatch import contractors
from maintenance.dispatch.models import Technician
from maintenance.dispatch.roster import TechnicianCreate, create_technician
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
DEMO_PLACES = sorted(
    {*DEMO_ROOMS.values(), ("Block A", "12", "unit 1203"), ("Block A", "5", "unit 0501")}
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
                    ),
                )
            for system in sorted({m.system for m in fleet.models}):
                create_technician(
                    session,
                    TechnicianCreate(
                        name=f"Demo {system} technician", skills=[system], site_ids=[site.id]
                    ),
                )
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
