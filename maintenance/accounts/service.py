"""Accounts, keys and the security log. Passwords are argon2id hashes (argon2-cffi's defaults);
API keys are random and stored as SHA-256 (they are long enough that a fast hash is safe)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import column, delete, func, insert, select, table
from sqlalchemy.orm import Session

from maintenance.accounts import sessions
from maintenance.accounts.models import (
    ROLES,
    ApiKey,
    Contractor,
    SecurityEvent,
    User,
    api_key_sites,
    user_sites,
)
from maintenance.errors import InvalidInput, NotFound
from maintenance.storage.db import get_required

_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same as a real check, so the
# answer time does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


# The ledger's sites, read here without importing the ledger (a sibling package).
_SITES = table("sites", column("id"))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("role", f"one of {', '.join(ROLES)}")


def check_scope(
    session: Session, role: str, site_ids: Sequence[int] | None, contractor_id: int | None
) -> None:
    """A 422 on the field of a scope that cannot be: sites that do not exist, sites for an
    admin (who always sees every site), a contractor's person without a company, a company for
    anyone else."""
    if site_ids is not None:
        if role == "admin":
            raise InvalidInput("site_ids", "an admin always sees every site")
        known = set(session.scalars(select(_SITES.c.id).where(_SITES.c.id.in_(site_ids))))
        missing = sorted(set(site_ids) - known)
        if missing:
            raise InvalidInput("site_ids", f"unknown site(s) {missing}")
    if role == "contractor":
        if contractor_id is None:
            raise InvalidInput("contractor_id", "a contractor's account belongs to a contractor")
        get_required(session, Contractor, contractor_id, "contractor")
    elif contractor_id is not None:
        raise InvalidInput("contractor_id", "only a contractor's account (role contractor)")


def set_sites(session: Session, row: User | ApiKey, site_ids: Sequence[int] | None) -> None:
    """Limit an account or key to these sites (None: every site). Checked by `check_scope`."""
    check_scope(session, row.role, site_ids, row.contractor_id)
    links, key = (
        (user_sites, user_sites.c.user_id)
        if isinstance(row, User)
        else (api_key_sites, api_key_sites.c.api_key_id)
    )
    session.execute(delete(links).where(key == row.id))
    row.all_sites = site_ids is None
    for site_id in sorted(set(site_ids or ())):
        session.execute(insert(links).values({key.name: row.id, "site_id": site_id}))
    session.flush()


def site_ids(session: Session, row: User | ApiKey) -> list[int] | None:
    """The sites of an account or key (None: every site)."""
    if row.all_sites:
        return None
    links, key = (
        (user_sites, user_sites.c.user_id)
        if isinstance(row, User)
        else (api_key_sites, api_key_sites.c.api_key_id)
    )
    return list(session.scalars(select(links.c.site_id).where(key == row.id).order_by("site_id")))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    now: datetime,
    technician_id: int | None = None,
    site_ids: Sequence[int] | None = None,
    contractor_id: int | None = None,
) -> User:
    """A new account; without `site_ids` it sees every site."""
    _check_role(role)
    check_scope(session, role, site_ids, contractor_id)
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
        contractor_id=contractor_id,
    )
    session.add(user)
    session.flush()
    set_sites(session, user, site_ids)
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


def create_api_key(
    session: Session,
    name: str,
    role: str,
    *,
    now: datetime,
    site_ids: Sequence[int] | None = None,
    contractor_id: int | None = None,
) -> tuple[str, ApiKey]:
    """The key itself is answered once, here; only its hash is kept. Without `site_ids` it
    speaks for every site."""
    _check_role(role)
    check_scope(session, role, site_ids, contractor_id)
    key = "fk_" + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name, key_hash=key_hash(key), role=role, created_at=now, contractor_id=contractor_id
    )
    session.add(row)
    session.flush()
    set_sites(session, row, site_ids)
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


def has_user(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))
