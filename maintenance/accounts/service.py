"""Accounts, keys and the security log. Passwords are argon2id hashes (argon2-cffi's defaults);
API keys are random and stored as SHA-256 (they are long enough that a fast hash is safe)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.accounts import sessions
from maintenance.accounts.models import ROLES, ApiKey, SecurityEvent, User
from maintenance.errors import InvalidInput, NotFound
from maintenance.storage.db import get_required

_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same as a real check, so the
# answer time does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("role", f"one of {', '.join(ROLES)}")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    now: datetime,
    technician_id: int | None = None,
) -> User:
    _check_role(role)
    if len(password) < 10:
        raise InvalidInput("password", "at least 10 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput("username", f"{username!r} exists")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        technician_id=technician_id,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str, role: str, *, now: datetime) -> tuple[str, ApiKey]:
    """The key itself is answered once, here; only its hash is kept."""
    _check_role(role)
    key = "fk_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, key_hash=key_hash(key), role=role, created_at=now)
    session.add(row)
    session.flush()
    return key, row


def revoke_api_key(session: Session, key_id: int, *, now: datetime) -> tuple[ApiKey, bool]:
    """The key and whether this call revoked it (False: it was revoked before)."""
    row = get_required(session, ApiKey, key_id, "api key")
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = now
    session.flush()
    return row, True


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def all_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user", username)
    return user


def set_active(session: Session, user: User, active: bool, *, now: datetime) -> int:
    """Enable or disable an account; disabling ends its sessions (how many is answered). The
    last active admin cannot be disabled: nobody could undo it from the API."""
    if not active and user.active and user.role == "admin":
        admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active)
        )
        if (admins or 0) <= 1:
            raise InvalidInput("id", "the last active admin account cannot be disabled")
    user.active = active
    ended = 0 if active else sessions.end_all(session, user.id, reason="disabled", now=now)
    session.flush()
    return ended


def find_api_key(session: Session, key: str) -> ApiKey | None:
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash(key), ApiKey.revoked_at.is_(None))
    )


def record(
    session: Session, *, actor: str, action: str, now: datetime, detail: str = "", client: str = ""
) -> None:
    session.add(SecurityEvent(at=now, actor=actor, action=action, detail=detail, client=client))


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))
