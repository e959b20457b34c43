"""GET /devices/unmapped: devices nobody has mapped yet.

Two kinds: gateway devices whose messages are held as dead letters (`unmapped device`) until an
admin maps them (in the sources file or an asset's device ids) and replays them; and native
devices the ledger does not know, whose data is stored but raises no alarms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep
from api.deps import DatabaseDep
from api.device_mapping import map_held_device
from ingest.sources.unmapped import unmapped_devices
from maintenance.assets.service import visible_asset
from maintenance.scope import Scope

router = APIRouter(tags=["devices"])


class HeldDevice(BaseModel):
    source: str
    device: str
    topic: str
    messages: int
    first_ms: int
    last_ms: int
    last_payload: dict[str, object]
    metrics: list[str]


class LedgerlessDevice(BaseModel):
    site: str
    system: str
    device_id: str


class UnmappedRead(BaseModel):
    held: list[HeldDevice]  # gateway devices: messages held, nothing stored yet
    not_in_ledger: list[LedgerlessDevice]  # native devices: stored, no alarms


@router.get("/devices/unmapped")
def list_unmapped(request: Request, principal: PrincipalDep) -> UnmappedRead:
    """A site-scoped caller sees the ledgerless devices of their sites; the held gateway
    devices, which no site claims yet, only whoever sees every site."""
    runtime = request.app.state.runtime
    scope = principal.scope
    held = [
        HeldDevice(
            source=d.source,
            device=d.device,
            topic=d.topic,
            messages=d.messages,
            first_ms=d.first_ms,
            last_ms=d.last_ms,
            last_payload=d.last_payload,
            metrics=d.metrics,
        )
        for d in unmapped_devices(runtime.ingest.collector.dead_letters)
        if scope.everything
    ]
    ledger = runtime.alarms.ledger if runtime.alarms is not None else None
    listed = ledger.unmapped().listed if ledger is not None else ()
    return UnmappedRead(
        held=held,
        not_in_ledger=[
            LedgerlessDevice(site=k.site, system=k.system, device_id=k.device_id)
            for k in listed
            if scope.admits_code(k.site, None)
        ],
    )


class DeviceMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=256)  # the gateway's name for it
    asset_id: int = Field(ge=1)


class MappedRead(BaseModel):
    source: str
    device: str
    asset_id: int
    asset_code: str
    site: str
    system: str
    device_id: str
    replayed: int
    still_held: int


@router.post("/devices/unmapped/map")
async def map_device(
    data: DeviceMapping, request: Request, db: DatabaseDep, principal: PrincipalDep
) -> MappedRead:
    """The device becomes one of the asset's device ids, and its held messages are replayed
    (once: a replayed message is never replayed again). An asset outside the caller's scope is
    not found."""
    await run_in_threadpool(_visible, db, data.asset_id, principal.scope)
    mapped = await run_in_threadpool(
        map_held_device, request.app.state.runtime, db, data.source, data.device, data.asset_id
    )
    return MappedRead.model_validate(mapped, from_attributes=True)


def _visible(db: DatabaseDep, asset_id: int, scope: Scope) -> None:
    with db.read() as s:
        visible_asset(s, asset_id, scope=scope)
