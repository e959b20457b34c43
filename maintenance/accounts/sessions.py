"""Login sessions: started at login, checked on every request, ended by logout, by disabling
the account, or by their absolute lifetime. API keys are checked the same way, so that a
revoked key is refused on its very next use."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from maintenance.accounts.models import ApiKey, LoginSession, User

FORGET_AFTER = timedelta(days=30)


def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Live:
    """A credential that is valid now: who it speaks for."""

    name: str
    role: str
    technician_id: int | None
    session_id: int | None = None
    key_id: int | None = None
    expires_at: datetime | None = None
    language: str | None = None  # the account's chosen language
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A credential that was valid once and is not now (the security log records its use)."""

    name: str
    why: str


def start(
    session: Session, user: User, *, now: datetime, lifetime: timedelta, client: str
) -> tuple[str, LoginSession]:
    """A new session for a right password; its random id goes into the signed token only.
    Sessions past their end for a month are forgotten here (the security log keeps the story)."""
    session.execute(delete(LoginSession).where(LoginSession.expires_at < now - FORGET_AFTER))
    sid = secrets.token_urlsafe(24)
    row = LoginSession(
        sid_hash=sid_hash(sid),
        user_id=user.id,
        started_at=now,
        expires_at=now + lifetime,
        ended_at=None,
        end_reason="",
        client=client[:100],
    )
    session.add(row)
    session.flush()
    return sid, row


def check_session(session: Session, sid: str, *, now: datetime) -> Live | Refused | None:
    """None: no such session (a forged or foreign token). The account is read live, so a role
    changed or an account disabled takes effect on the next request."""
    found = session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.sid_hash == sid_hash(sid))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None:
        return Refused(user.username, f"session ended ({row.end_reason})")
    if not user.active:
        return Refused(user.username, "account disabled")
    if row.expires_at <= now:
        return Refused(user.username, "session past its maximum lifetime")
    return Live(
        user.username,
        user.role,
        user.technician_id,
        session_id=row.id,
        expires_at=row.expires_at,
        language=user.language,
        user_id=user.id,
    )


def check_key(session: Session, key_hash: str) -> Live | Refused | None:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
    if row is None:
        return None
    if row.revoked_at is not None:
        return Refused(f"key:{row.name}", "api key revoked")
    return Live(f"key:{row.name}", row.role, None, key_id=row.id)


def still_live(
    session: Session, *, now: datetime, session_id: int | None, key_id: int | None
) -> bool:
    """For a long request (the live alarm feed): is its credential still good?"""
    if key_id is not None:
        return session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == key_id)) is None
    found = session.execute(
        select(LoginSession.ended_at, LoginSession.expires_at, User.active)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.id == session_id)
    ).first()
    return found is not None and found[0] is None and found[1] > now and bool(found[2])


def end(session: Session, session_id: int, *, reason: str, now: datetime) -> bool:
    """True when this ended it (False: it had ended already)."""
    ended = session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def end_all(session: Session, user_id: int, *, reason: str, now: datetime) -> int:
    """Every open session of an account; how many there were."""
    ended = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]
