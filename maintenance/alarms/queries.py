"""Reading alarms and their history: the console's list, an alarm's trail, the history that
failure statistics are built from."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import SEVERITIES, AlarmState
from maintenance.alarms.models import Alarm, AlarmFlood, AlarmTransitionRecord, MaintenanceWindow
from maintenance.alarms.suppression import ANOMALY_PREFIX, BUDGET_NOTE
from maintenance.assets.models import Asset
from maintenance.errors import NotFound
from maintenance.scope import Scope

SEVERITY_ORDER = case({s: i for i, s in enumerate(SEVERITIES)}, value=Alarm.severity, else_=9)


def visible(session: Session, alarm_id: int, *, scope: Scope) -> Alarm:
    """The alarm, if it lies in the caller's scope; anything else is not found (404)."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or not scope.admits(alarm.site_id, alarm.asset_id):
        raise NotFound("alarm", alarm_id)
    return alarm


def list_alarms(
    session: Session,
    *,
    scope: Scope,
    site: str | None = None,
    system: str | None = None,
    device_id: str | None = None,
    rule_id: str | None = None,
    asset_id: int | None = None,
    state: AlarmState | None = None,
    severity: str | None = None,
    standing: bool | None = None,
    shelved: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Alarm], int]:
    """Most severe first, then newest raise; `standing` = not back to normal and acknowledged.
    Only the caller's scope (an alarm of a device the ledger does not place is in no site's)."""
    query = select(Alarm)
    if not scope.everything:
        query = query.where(scope.where(Alarm.site_id, Alarm.asset_id))
    for column, value in (
        (Alarm.site, site),
        (Alarm.system, system),
        (Alarm.device_id, device_id),
        (Alarm.rule_id, rule_id),
        (Alarm.asset_id, asset_id),
        (Alarm.state, state),
        (Alarm.severity, severity),
    ):
        if value is not None:
            query = query.where(column == value)
    if standing is not None:
        query = query.where((Alarm.state != AlarmState.normal) == standing)
    if shelved is not None:
        query = query.where(Alarm.shelved_until.is_not(None) == shelved)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(SEVERITY_ORDER, Alarm.raised_at.desc(), Alarm.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def alarm_events(
    session: Session,
    *,
    scope: Scope,
    alarm_id: int | None = None,
    site: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[AlarmTransitionRecord]:
    query = select(AlarmTransitionRecord)
    if not scope.everything:
        query = query.where(
            AlarmTransitionRecord.alarm_id.in_(
                select(Alarm.id).where(scope.where(Alarm.site_id, Alarm.asset_id))
            )
        )
    if alarm_id is not None:
        query = query.where(AlarmTransitionRecord.alarm_id == alarm_id)
    if site is not None:
        query = query.where(AlarmTransitionRecord.site == site)
    if action is not None:
        query = query.where(AlarmTransitionRecord.action == action)
    if since is not None:
        query = query.where(AlarmTransitionRecord.at >= since)
    if until is not None:
        query = query.where(AlarmTransitionRecord.at < until)
    return list(
        session.scalars(
            query.order_by(AlarmTransitionRecord.at, AlarmTransitionRecord.id)
            .limit(limit)
            .offset(offset)
        )
    )


def floods(
    session: Session, *, scope: Scope, site: str | None = None, active: bool | None = None
) -> list[AlarmFlood]:
    """A flood is a site's: seen by those who see the site (a contractor's people too)."""
    query = select(AlarmFlood).where(scope.where_code(AlarmFlood.site))
    if site is not None:
        query = query.where(AlarmFlood.site == site)
    if active is not None:
        query = query.where(AlarmFlood.ended_at.is_(None) == active)
    return list(session.scalars(query.order_by(AlarmFlood.started_at.desc())))


def maintenance_windows(
    session: Session, *, scope: Scope, asset_id: int | None = None
) -> list[MaintenanceWindow]:
    query = select(MaintenanceWindow)
    if not scope.everything:
        query = query.where(
            MaintenanceWindow.asset_id.in_(
                select(Asset.id).where(scope.where(Asset.site_id, Asset.id))
            )
        )
    if asset_id is not None:
        query = query.where(MaintenanceWindow.asset_id == asset_id)
    return list(session.scalars(query.order_by(MaintenanceWindow.starts_at.desc())))


def over_budget(session: Session) -> dict[str, int]:
    """Active anomaly findings held back by the per-asset budget, per model (the model key
    without its version, from the finding's values)."""
    rows = session.scalars(
        select(Alarm).where(
            Alarm.rule_id.startswith(ANOMALY_PREFIX),
            Alarm.suppressed_by.startswith(BUDGET_NOTE),
            Alarm.state.in_([AlarmState.active_unacknowledged, AlarmState.active_acknowledged]),
        )
    )
    counts: Counter[str] = Counter()
    for alarm in rows:
        model = str((alarm.values or {}).get("model") or alarm.rule_id)
        counts[model.rsplit(" v", 1)[0]] += 1
    return dict(counts)
