"""Usage-based plans: inspections driven by counters in the telemetry store.

The first reading of an asset sets its baseline (no ticket: the plan starts counting then); each
later crossing of another multiple of `usage_every` claims the period `usage:<metric>:<k>` and
opens one inspection, due `lead_days` after it was generated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.store.base import FieldValue, TelemetryStore
from maintenance.assets.models import Asset, AssetDevice, Site
from maintenance.plans.models import InspectionPlan, PlanOccurrence


class UsageSource(Protocol):
    def latest(
        self, site: str, system: str, device_ids: Sequence[str], metric: str
    ) -> float | None:
        """The newest value of a counter among these devices, or None if none reported it."""


def usage_periods(
    session: Session, plan: InspectionPlan, source: UsageSource, now: datetime
) -> list[tuple[int, int, str, datetime, bool]]:
    """(asset id, site id, period, due at, baseline) to claim for a usage-based plan."""
    assert plan.usage_metric is not None and plan.usage_every
    q = (
        select(Asset.id, Asset.site_id, Asset.system, Site.code)
        .join(Site, Site.id == Asset.site_id)
        .where(*plan.coverage())
    )
    assets = session.execute(q).all()
    devices: dict[int, list[str]] = {}
    for asset_id, device_id in session.execute(
        select(AssetDevice.asset_id, AssetDevice.device_id).where(
            AssetDevice.asset_id.in_([a[0] for a in assets])
        )
    ):
        devices.setdefault(asset_id, []).append(device_id)
    seen: dict[int, int] = {}
    prefix = f"usage:{plan.usage_metric}:"
    for owner, period in session.execute(
        select(PlanOccurrence.asset_id, PlanOccurrence.period).where(
            PlanOccurrence.plan_id == plan.id
        )
    ):
        if period.startswith(prefix):
            seen[owner] = max(seen.get(owner, -1), int(period[len(prefix) :]))
    out = []
    due = now + timedelta(days=plan.lead_days)
    for asset_id, site_id, system, site_code in assets:
        if asset_id not in devices:
            continue
        value = source.latest(
            site_code, getattr(system, "value", system), devices[asset_id], plan.usage_metric
        )
        if value is None:
            continue
        k = math.floor(value / float(plan.usage_every))
        if asset_id not in seen:
            out.append((asset_id, site_id, f"{prefix}{k}", due, True))
        elif k > seen[asset_id]:
            out.append((asset_id, site_id, f"{prefix}{k}", due, False))
    return out


class TelemetryUsage:
    """Counters for usage-based plans, read from the telemetry store (one query per site,
    system and metric in a generation run)."""

    def __init__(self, store: TelemetryStore) -> None:
        self._store = store
        self._last: dict[tuple[str, str, str], dict[str, tuple[int, FieldValue]]] = {}

    def latest(
        self, site: str, system: str, device_ids: Sequence[str], metric: str
    ) -> float | None:
        key = (site, system, metric)
        if key not in self._last:
            self._last[key] = self._store.last_values(system, {"site": site}, metric)
        values = [
            float(value)
            for device, (_, value) in self._last[key].items()
            if device in device_ids
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ]
        return max(values) if values else None
