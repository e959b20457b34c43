"""Bulk import and export of the equipment ledger as CSV.

Import checks and saves each row on its own (a savepoint per row): a bad row is reported with its
line, field and reason, and never discards the good rows around it. Rows are matched to existing
assets by (site_code, code), so importing the same file twice updates instead of duplicating.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Location, Site
from maintenance.assets.schemas import AssetCreate
from maintenance.assets.service import find_location, save_asset
from maintenance.cells import inert, unquoted
from maintenance.errors import InvalidInput, NotFound
from maintenance.scope import Scope

COLUMNS = (
    "site_code",
    "code",
    "name",
    "system",
    "type",
    "model",
    "vendor",
    "serial",
    "install_date",
    "criticality",
    "building",
    "floor",
    "room",
    "device_ids",
    "inspection_due",  # the authority's next periodic inspection (docs/maintenance-plans.md)
)
REQUIRED = ("site_code", "code", "system", "type")
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[RowError] = field(default_factory=list)


def import_assets(session: Session, text: str, *, scope: Scope) -> ImportReport:
    report = ImportReport()
    # newline="": the csv module handles line ends itself (a bare CR inside a field included).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = reader.fieldnames or []
    except csv.Error as error:
        raise InvalidInput("file", f"not a CSV file: {error}") from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInput("file", f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise InvalidInput("file", f"unknown column(s): {', '.join(unknown)}")
    # A site outside the importer's scope is, for them, an unknown site.
    sites = {s.code: s for s in session.scalars(select(Site).where(scope.where_site(Site.id)))}
    number = 1  # line 1 is the header
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a broken line: reported, the good ones around it kept
            report.rejected.append(RowError(number, "file", f"not valid CSV: {error}"))
            continue
        if number > MAX_ROWS + 1:
            report.rejected.append(RowError(number, "file", f"more than {MAX_ROWS} rows"))
            break
        try:
            with session.begin_nested():
                created = _import_row(session, row, sites)
            report.created += created
            report.updated += not created
        except RowRejected as error:
            report.rejected.append(RowError(number, error.field, error.reason))
    return report


class RowRejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _import_row(session: Session, row: dict[str, str | None], sites: dict[str, Site]) -> bool:
    values = {k: unquoted((v or "").strip()) for k, v in row.items() if k is not None}
    site = sites.get(values.get("site_code", ""))
    if site is None:
        raise RowRejected("site_code", f"unknown site {values.get('site_code')!r}")
    location_id = None
    if values.get("building"):
        location = find_location(
            session, site.id, values["building"], values.get("floor", ""), values.get("room", "")
        )
        if location is None:
            location = Location(
                site_id=site.id,
                building=values["building"],
                floor=values.get("floor", ""),
                room=values.get("room", ""),
            )
            session.add(location)
            session.flush()
        location_id = location.id
    payload = {
        k: v
        for k, v in values.items()
        if k in AssetCreate.model_fields and v != "" and k != "device_ids"
    }
    devices = [d.strip() for d in values.get("device_ids", "").split(";") if d.strip()]
    try:
        data = AssetCreate(site_id=site.id, location_id=location_id, device_ids=devices, **payload)
    except ValidationError as error:
        first = error.errors()[0]
        raise RowRejected(".".join(str(p) for p in first["loc"]), first["msg"]) from None
    existing = session.scalar(
        select(Asset).where(Asset.site_id == site.id, Asset.code == data.code)
    )
    if existing is not None and "inspection_due" not in values:  # a file from before it
        data = data.model_copy(update={"inspection_due": existing.inspection_due})
    try:
        save_asset(session, data, existing)
    except InvalidInput as error:
        raise RowRejected(error.field, error.message) from None
    except NotFound as error:
        raise RowRejected(error.kind, str(error)) from None
    return existing is None


def export_assets(session: Session, site_id: int | None = None, *, scope: Scope) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    # Names and codes are anyone's text: a spreadsheet must not run them (maintenance/cells.py).
    writer.writeheader()
    q = (
        select(Asset, Site)
        .join(Site, Site.id == Asset.site_id)
        .where(scope.where(Asset.site_id, Asset.id))
        .order_by(Site.code, Asset.code)
    )
    if site_id is not None:
        q = q.where(Asset.site_id == site_id)
    for asset, site in session.execute(q):
        location = session.get(Location, asset.location_id) if asset.location_id else None
        row = {
            "site_code": site.code,
            "code": asset.code,
            "name": asset.name,
            "system": asset.system.value,
            "type": asset.type,
            "model": asset.model,
            "vendor": asset.vendor,
            "serial": asset.serial,
            "install_date": asset.install_date.isoformat() if asset.install_date else "",
            "criticality": asset.criticality.value,
            "building": location.building if location else "",
            "floor": location.floor if location else "",
            "room": location.room if location else "",
            "device_ids": ";".join(asset.device_ids),
            "inspection_due": asset.inspection_due.isoformat() if asset.inspection_due else "",
        }
        writer.writerow({k: inert(v) for k, v in row.items()})
    return out.getvalue()
