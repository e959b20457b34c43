"""When a round's runs start, creating them (idempotently) and closing them when time is up.

A run's start is computed from the round's anchor each time (never by adding to the previous
one). Hourly cadences step in absolute time from the anchor instant; daily ones fall at the
same local time of day in the site's zone (DST-correct), as a plant-room round at 09:00 should.
A run closes at start + window + grace, or at once when its last point is checked in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Site
from maintenance.patrols.models import PatrolCheckIn, PatrolRound, PatrolRun
from maintenance.storage.db import insert_skipping_conflicts

UNITS = ("hours", "days")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Slot:
    starts_at: datetime
    on_time_by: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class WatchResult:
    opened: int
    closed: int
    points_missed: int


def period(r: PatrolRound) -> timedelta:
    return timedelta(hours=r.every) if r.unit == "hours" else timedelta(days=r.every)


def anchor(r: PatrolRound, zone: str) -> datetime:
    hour, minute = (int(part) for part in r.start_time.split(":"))
    return datetime.combine(r.starts_on, time(hour, minute), ZoneInfo(zone))


def _start(r: PatrolRound, zone: str, k: int) -> datetime:
    first = anchor(r, zone)
    if r.unit == "hours":  # in UTC: aware arithmetic in a zone would keep the wall clock
        return first.astimezone(UTC) + timedelta(hours=r.every * k)
    local = datetime.combine(first.date() + timedelta(days=r.every * k), first.timetz())
    return local.astimezone(UTC)  # the same wall-clock time of day, whatever the offset


def slot(r: PatrolRound, zone: str, k: int) -> Slot:
    start = _start(r, zone, k)
    on_time = start + timedelta(minutes=r.window_minutes)
    return Slot(start, on_time, on_time + timedelta(minutes=r.grace_minutes))


def slots(r: PatrolRound, zone: str, since: datetime, until: datetime) -> Iterator[Slot]:
    """Every slot that starts in [since, until]."""
    first = anchor(r, zone)
    k = max(0, int((since - first) / period(r)) - 1)
    while (s := slot(r, zone, k)).starts_at <= until:
        if s.starts_at >= since:
            yield s
        k += 1


def current(r: PatrolRound, zone: str, now: datetime) -> Slot | None:
    """The slot still taking check-ins at `now`, if any."""
    for s in slots(r, zone, now - period(r) - timedelta(minutes=r.window_minutes), now):
        if s.starts_at <= now < s.closes_at:
            return s
    return None


def following(r: PatrolRound, zone: str, now: datetime) -> datetime:
    """When the next run after `now` starts."""
    since = max(now + timedelta(microseconds=1), anchor(r, zone))
    return next(slots(r, zone, since, since + 2 * period(r))).starts_at


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    statement = insert_skipping_conflicts(session, PatrolRun, ("round_id", "starts_at"))
    return len(session.execute(statement.returning(PatrolRun.id), rows).all())


def open_runs(session: Session, r: PatrolRound, zone: str, now: datetime) -> int:
    """Creates every run of the round that has started by `now` and does not exist yet: after
    downtime, the runs that fell in it too (they close as missed). The first run is the one
    taking check-ins when the round was made."""
    if r.paused or not r.points:
        return 0
    last = session.scalar(select(func.max(PatrolRun.starts_at)).where(PatrolRun.round_id == r.id))
    since = (
        last + timedelta(microseconds=1)
        if last is not None
        else r.created_at - timedelta(minutes=r.window_minutes + r.grace_minutes)
    )
    rows = [
        {
            "round_id": r.id,
            "starts_at": s.starts_at,
            "on_time_by": s.on_time_by,
            "closes_at": s.closes_at,
            "status": "open",
            "points_due": len(r.points),
            "points_missed": 0,
        }
        for s in slots(r, zone, since, now)
        if s.closes_at > r.created_at
    ]
    return _insert_new(session, rows)


def close(session: Session, run: PatrolRun, at: datetime) -> None:
    """Settles a run from its check-ins: completed, late, incomplete or missed."""
    lates = list(session.scalars(select(PatrolCheckIn.late).where(PatrolCheckIn.run_id == run.id)))
    run.points_missed = max(0, run.points_due - len(lates))
    if not lates:
        run.status = "missed"
    elif run.points_missed:
        run.status = "incomplete"
    else:
        run.status = "late" if any(lates) else "completed"
    run.closed_at = at


def watch(session: Session, now: datetime) -> WatchResult:
    """The periodic job: opens the runs that have started, closes the ones whose time is up."""
    rounds = session.execute(
        select(PatrolRound, Site.timezone)
        .join(Site, Site.id == PatrolRound.site_id)
        .where(PatrolRound.paused.is_(False))
    ).all()
    opened = 0
    for r, zone in rounds:
        try:
            opened += open_runs(session, r, zone, now)
        except (OverflowError, ValueError):  # one round's dates out of range: the rest go on
            log.exception("patrol round %s: its runs cannot be computed", r.id)
    due = session.scalars(
        select(PatrolRun)
        .where(PatrolRun.status == "open", PatrolRun.closes_at <= now)
        .order_by(PatrolRun.id)
    ).all()
    for run in due:
        close(session, run, run.closes_at)
    session.flush()
    return WatchResult(opened, len(due), sum(run.points_missed for run in due))
