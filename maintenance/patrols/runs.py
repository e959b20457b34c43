"""Runs as people look at them: a round's recent walks, one walk point by point, and the
summary the reports show (how runs ended, which points were missed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.errors import NotFound
from maintenance.patrols.models import PatrolCheckIn, PatrolPoint, PatrolRound, PatrolRun
from maintenance.patrols.schemas import (
    CheckInRead,
    MissedPoint,
    PatrolReport,
    RoundSummary,
    RunRead,
)

STATUSES = ("open", "completed", "late", "incomplete", "missed")


def get_run(session: Session, run_id: int, sites: Collection[int] | None = None) -> PatrolRun:
    run = session.get(PatrolRun, run_id)
    found = session.get(PatrolRound, run.round_id) if run else None
    if run is None or found is None or (sites is not None and found.site_id not in sites):
        raise NotFound("patrol run", run_id)
    return run


def check_ins(session: Session, run_ids: Collection[int]) -> dict[int, list[PatrolCheckIn]]:
    by_run: dict[int, list[PatrolCheckIn]] = {i: [] for i in run_ids}
    rows = session.scalars(
        select(PatrolCheckIn).where(PatrolCheckIn.run_id.in_(run_ids)).order_by(PatrolCheckIn.at)
    )
    for row in rows:
        by_run[row.run_id].append(row)
    return by_run


def check_in_read(c: PatrolCheckIn) -> CheckInRead:
    return CheckInRead(
        id=c.id,
        run_id=c.run_id,
        point_id=c.point_id,
        at=c.at,
        actor=c.actor,
        method=c.method,
        late=c.late,
        observation=c.observation,
        abnormal=c.abnormal,
        has_photo=c.photo_sha256 is not None,
        ticket_id=c.ticket_id,
    )


def run_read(run: PatrolRun, done: list[PatrolCheckIn]) -> RunRead:
    read = RunRead.model_validate(run)
    read.check_ins = [check_in_read(c) for c in done]
    return read


def list_runs(
    session: Session,
    *,
    round_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sites: Collection[int] | None = None,
    limit: int = 200,
) -> list[PatrolRun]:
    """Newest first."""
    q = select(PatrolRun).join(PatrolRound, PatrolRound.id == PatrolRun.round_id)
    if round_id is not None:
        q = q.where(PatrolRun.round_id == round_id)
    if status is not None:
        q = q.where(PatrolRun.status == status)
    if since is not None:
        q = q.where(PatrolRun.starts_at >= since)
    if until is not None:
        q = q.where(PatrolRun.starts_at < until)
    if sites is not None:
        q = q.where(PatrolRound.site_id.in_(sites))
    return list(session.scalars(q.order_by(PatrolRun.starts_at.desc()).limit(limit)))


def report(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    site_id: int | None = None,
    sites: Collection[int] | None = None,
) -> PatrolReport:
    """Runs that started in [since, until), per round, and every point a closed run missed."""
    q = (
        select(PatrolRun, PatrolRound)
        .join(PatrolRound, PatrolRound.id == PatrolRun.round_id)
        .where(PatrolRun.starts_at >= since, PatrolRun.starts_at < until)
    )
    if site_id is not None:
        q = q.where(PatrolRound.site_id == site_id)
    if sites is not None:
        q = q.where(PatrolRound.site_id.in_(sites))
    rows = session.execute(q.order_by(PatrolRun.starts_at)).all()
    done = check_ins(session, {run.id for run, _ in rows})
    by_round: dict[int, tuple[PatrolRound, list[PatrolRun]]] = {}
    for run, found in rows:
        by_round.setdefault(found.id, (found, []))[1].append(run)
    summaries, missed = [], []
    for found, runs in by_round.values():
        ended = Counter(run.status for run in runs)
        summaries.append(
            RoundSummary(
                round_id=found.id,
                site_id=found.site_id,
                name=found.name,
                runs=len(runs),
                **{status: ended[status] for status in STATUSES},
                points_due=sum(run.points_due for run in runs),
                points_missed=sum(run.points_missed for run in runs),
                abnormal=sum(c.abnormal for run in runs for c in done[run.id]),
            )
        )
        missed += _missed_points(found, runs, done)
    return PatrolReport(since=since, until=until, rounds=summaries, missed_points=missed)


def _missed_points(
    found: PatrolRound, runs: list[PatrolRun], done: dict[int, list[PatrolCheckIn]]
) -> list[MissedPoint]:
    points: list[PatrolPoint] = found.points
    out = []
    for run in runs:
        if run.status not in ("incomplete", "missed"):
            continue
        passed = {c.point_id for c in done[run.id]}
        out += [
            MissedPoint(
                run_id=run.id,
                round_id=found.id,
                starts_at=run.starts_at,
                point_id=p.id,
                point=p.name,
            )
            for p in points
            if p.id not in passed
        ]
    return out
