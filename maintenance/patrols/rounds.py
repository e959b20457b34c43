"""Rounds as a site sets them up: the points in order, each with its label's short code."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from maintenance.assets.models import Location, Site
from maintenance.assets.service import where
from maintenance.errors import InvalidInput, NotFound
from maintenance.patrols.models import PatrolPoint, PatrolRound
from maintenance.patrols.schemas import RoundChange, RoundCreate
from maintenance.storage.db import get_required

# Short enough to type from a label, no letters that read as digits (0/O, 1/I).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def normal_code(code: str) -> str:
    """What a person types or a label carries, as stored: trimmed, upper case."""
    return code.strip().upper()


def _new_code(session: Session, taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code in taken:
            continue
        if session.scalar(select(PatrolPoint.id).where(PatrolPoint.code == code)) is None:
            taken.add(code)
            return code


def _check_timing(every: int, unit: str, window: int, grace: int) -> None:
    minutes = every * (60 if unit == "hours" else 24 * 60)
    if window + grace > minutes:
        raise InvalidInput(
            "window_minutes",
            f"window ({window} min) and grace ({grace} min) are longer than the cadence "
            f"({minutes} min): runs would overlap",
        )


def create_round(session: Session, data: RoundCreate, *, now: datetime) -> PatrolRound:
    get_required(session, Site, data.site_id, "site")
    _check_timing(data.every, data.unit, data.window_minutes, data.grace_minutes)
    places = {
        loc.id: loc
        for loc in session.scalars(
            select(Location).where(Location.id.in_({p.location_id for p in data.points}))
        )
    }
    for n, point in enumerate(data.points):
        place = places.get(point.location_id)
        if place is None or place.site_id != data.site_id:
            raise InvalidInput(
                f"points.{n}.location_id", f"no place {point.location_id} at site {data.site_id}"
            )
    taken: set[str] = set()
    made = PatrolRound(
        **data.model_dump(exclude={"points"}),
        paused=False,
        created_at=now,
        points=[
            PatrolPoint(
                position=n + 1,
                location_id=p.location_id,
                name=p.name or where(places[p.location_id]),
                code=_new_code(session, taken),
            )
            for n, p in enumerate(data.points)
        ],
    )
    session.add(made)
    session.flush()
    return made


def get_round(session: Session, round_id: int, sites: Collection[int] | None = None) -> PatrolRound:
    """A round, if the caller's sites (None: all) include its site; else not found."""
    found = session.get(PatrolRound, round_id)
    if found is None or (sites is not None and found.site_id not in sites):
        raise NotFound("patrol round", round_id)
    return found


def change_round(
    session: Session, round_id: int, data: RoundChange, sites: Collection[int] | None = None
) -> PatrolRound:
    """Changes what it is given; runs already made keep their times."""
    found = get_round(session, round_id, sites)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    _check_timing(
        found.every,
        found.unit,
        changes.get("window_minutes", found.window_minutes),
        changes.get("grace_minutes", found.grace_minutes),
    )
    for field, value in changes.items():
        setattr(found, field, value)
    session.flush()
    return found


def all_rounds(
    session: Session, *, site_id: int | None = None, sites: Collection[int] | None = None
) -> list[PatrolRound]:
    q = select(PatrolRound).options(selectinload(PatrolRound.points)).order_by(PatrolRound.id)
    if site_id is not None:
        q = q.where(PatrolRound.site_id == site_id)
    if sites is not None:
        q = q.where(PatrolRound.site_id.in_(sites))
    return list(session.scalars(q))


def point_by_code(session: Session, code: str) -> PatrolPoint:
    point = session.scalar(select(PatrolPoint).where(PatrolPoint.code == normal_code(code)))
    if point is None:
        raise NotFound("patrol point", code)
    return point
