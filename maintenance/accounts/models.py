from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.storage.db import Base, UtcDateTime

ROLES = ("admin", "manager", "engineer", "technician", "contractor", "requester")

# The sites an account or key is limited to (only read while its `all_sites` is false).
user_sites = Table(
    "user_sites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)
api_key_sites = Table(
    "api_key_sites",
    Base.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)
# The assets a contractor company is responsible for: at most one contractor per asset.
contractor_assets = Table(
    "contractor_assets",
    Base.metadata,
    Column("asset_id", ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "contractor_id",
        ForeignKey("contractors.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    ),
)


class Contractor(Base):
    """A company that maintains some assets (a site's elevators, say) under contract: its
    people (role contractor) see and work only those assets' tickets, plans and alarms."""

    __tablename__ = "contractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # A technician's own entry in the roster: which tickets are theirs.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The language the person chose in the console (en, zh-CN); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(10))
    # Which sites the account sees: every site (existing accounts, admins), or those in
    # user_sites. A contractor's account also belongs to its company.
    all_sites: Mapped[bool] = mapped_column(default=True, server_default=true())
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))


class ApiKey(Base):
    """An integration's key; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    all_sites: Mapped[bool] = mapped_column(default=True, server_default=true())
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))


class LoginSession(Base):
    """One login of a person: the signed token (API bearer or console cookie) names it, and every
    request checks it here, so logging out or disabling the account ends it at once. Only the
    SHA-256 of its random id is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The absolute bound: renewals never carry a session past it.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    client: Mapped[str] = mapped_column(String(100), default="")


class SecurityEvent(Base):
    """Logins (good and bad), refused requests, accounts and keys made: append-only."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(String(100), default="")
