"""Passing a point: the check-in on the run taking them now, late after its window, and a
repair ticket for an abnormal observation (as a failed checklist item opens one)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Site
from maintenance.errors import InvalidInput, NotFound
from maintenance.flows import intake
from maintenance.language import phrases
from maintenance.notifications.notifier import Notifier
from maintenance.patrols import schedule
from maintenance.patrols.models import PatrolCheckIn, PatrolPoint, PatrolRound, PatrolRun
from maintenance.patrols.rounds import point_by_code
from maintenance.vocabulary import Channel, Priority, TicketType
from maintenance.work_orders.attachments import AttachmentStore
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate

Method = Literal["scan", "typed"]


class NoRunOpen(InvalidInput):
    """No run of the round takes check-ins now: it is paused, or between runs (`next_start`)."""

    def __init__(self, message: str, *, paused: bool, next_start: datetime | None) -> None:
        super().__init__("code", message)
        self.paused, self.next_start = paused, next_start


@dataclass(frozen=True, slots=True)
class Photo:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Observation:
    text: str = ""
    abnormal: bool = False
    photo: Photo | None = None


def point_in_scope(
    session: Session, code: str, sites: Collection[int] | None
) -> tuple[PatrolPoint, PatrolRound]:
    point = point_by_code(session, code)
    found = session.get(PatrolRound, point.round_id)
    assert found is not None  # the foreign key
    if sites is not None and found.site_id not in sites:
        raise NotFound("patrol point", code)
    return point, found


def run_now(session: Session, found: PatrolRound, now: datetime) -> PatrolRun:
    """The run taking check-ins now (made here if the periodic job has not made it yet)."""
    zone = session.scalar(select(Site.timezone).where(Site.id == found.site_id)) or "UTC"
    if found.paused:
        raise NoRunOpen(f"the round {found.name!r} is paused", paused=True, next_start=None)
    slot = schedule.current(found, zone, now)
    if slot is None:
        upcoming = schedule.following(found, zone, now)
        raise NoRunOpen(
            f"no run of {found.name!r} is open now; the next starts {upcoming.isoformat()}",
            paused=False,
            next_start=upcoming,
        )
    schedule.open_runs(session, found, zone, now)
    run = session.scalar(
        select(PatrolRun).where(
            PatrolRun.round_id == found.id, PatrolRun.starts_at == slot.starts_at
        )
    )
    if run is None or run.status != "open":  # its last point was checked in: done
        upcoming = schedule.following(found, zone, now)
        raise NoRunOpen(
            f"the run of {found.name!r} that started {slot.starts_at.isoformat()} is complete",
            paused=False,
            next_start=upcoming,
        )
    return run


def check_in(
    session: Session,
    code: str,
    seen: Observation,
    *,
    actor: str,
    method: Method,
    now: datetime,
    notifier: Notifier,
    store: AttachmentStore,
    sites: Collection[int] | None = None,
) -> PatrolCheckIn:
    point, found = point_in_scope(session, code, sites)
    if seen.abnormal and not seen.text.strip():
        raise InvalidInput("observation", "say what is abnormal")
    run = run_now(session, found, now)
    done = session.scalar(
        select(PatrolCheckIn).where(
            PatrolCheckIn.run_id == run.id, PatrolCheckIn.point_id == point.id
        )
    )
    if done is not None:
        raise InvalidInput("code", f"{point.name} was checked in on this run at {done.at}")
    photo = _kept_photo(store, seen.photo)
    made = PatrolCheckIn(
        run_id=run.id,
        point_id=point.id,
        at=now,
        actor=actor,
        method=method,
        late=now > run.on_time_by,
        observation=seen.text.strip(),
        abnormal=seen.abnormal,
        photo_sha256=photo[0] if photo else None,
        photo_type=photo[1] if photo else None,
    )
    session.add(made)
    session.flush()
    if seen.abnormal:
        made.ticket_id = _repair(session, found, point, made, seen, notifier, store).id
    checked = session.scalar(select(func.count()).where(PatrolCheckIn.run_id == run.id)) or 0
    if checked >= run.points_due:
        schedule.close(session, run, now)
    session.flush()
    return made


def _kept_photo(store: AttachmentStore, photo: Photo | None) -> tuple[str, str] | None:
    if photo is None or not photo.data:
        return None
    digest, content_type = store.save(photo.data, field="photo")
    if not content_type.startswith("image/"):
        raise InvalidInput("photo", "a JPEG, PNG or WebP photo")
    return digest, content_type


def _repair(
    session: Session,
    found: PatrolRound,
    point: PatrolPoint,
    made: PatrolCheckIn,
    seen: Observation,
    notifier: Notifier,
    store: AttachmentStore,
) -> Ticket:
    (ticket,) = intake.create_many(
        session,
        [
            TicketCreate(
                site_id=found.site_id,
                location_id=point.location_id,
                type=TicketType.repair,
                channel=Channel.schedule,
                priority=Priority.normal,
                title=phrases.PATROL_ABNORMAL.write(
                    round=found.name, point=point.name, seen=seen.text.strip()
                )[:200],
                description=seen.text,
                source_ref=f"patrol:{made.run_id}:{point.id}",
            )
        ],
        actor=made.actor,
        now=made.at,
        notifier=notifier,
    )
    if seen.photo is not None and seen.photo.data:
        store.add(
            session, ticket.id, seen.photo.filename, seen.photo.data, actor=made.actor, now=made.at
        )
    return ticket
