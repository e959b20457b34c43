"""Logging in (OAuth2 password flow), accounts, API keys and the security log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import OFFICE, PrincipalDep, access, client_of, log_in, log_out
from api.deps import DatabaseDep, NowDep
from maintenance.accounts import service as users
from maintenance.accounts.models import ApiKey, SecurityEvent, User
from maintenance.storage.db import get_required
from maintenance.vocabulary import Id

Language = Literal["en", "zh-CN"]

router = APIRouter(tags=["access"])
ADMIN = frozenset({"admin"})
admin_only = [Depends(access(ADMIN, ADMIN))]


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/auth/token",
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed logins"},
    },
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DatabaseDep,
    now: NowDep,
) -> TokenRead:
    """OAuth2 password flow: a bearer token valid for FACILITY_TOKEN_MINUTES. It names a new
    login session, which `POST /auth/logout` ends (and disabling the account)."""
    done = log_in(request, db, now, form.username, form.password)
    return TokenRead(access_token=done.token, expires_in=done.expires_in)


@router.post(
    "/auth/logout",
    status_code=204,
    responses={400: {"description": "an API key is not a session (an admin revokes keys)"}},
)
def logout(request: Request, principal: PrincipalDep, now: NowDep) -> Response:
    """End the caller's login session: its token is refused from the next request on."""
    if principal.session_id is None:
        raise HTTPException(400, "an API key is not a session: an admin revokes keys")
    log_out(request, principal, now=now)
    return Response(status_code=204)


class Me(BaseModel):
    name: str
    role: str
    technician_id: Id | None
    via: str
    language: Language | None = None
    site_ids: list[int] | None = Field(None, description="null: every site")
    contractor_id: Id | None = None


@router.get("/users/me")
def me(principal: PrincipalDep) -> Me:
    """Who the caller is, and their scope: the sites they see (null: every site) and, for a
    contractor's people, their company."""
    sites = principal.scope.site_ids
    return Me(
        name=principal.name,
        role=principal.role,
        technician_id=principal.technician_id,
        via=principal.via,
        language=principal.language,
        site_ids=sorted(sites) if sites is not None else None,
        contractor_id=principal.scope.contractor_id,
    )


class LanguageChoice(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"language": "zh-CN"}]}
    )
    language: Language | None = Field(description="null: the browser's Accept-Language")


@router.put("/users/me/language")
def choose_language(
    principal: PrincipalDep, db: DatabaseDep, now: NowDep, body: LanguageChoice
) -> LanguageChoice:
    """The account's language for the console, its documents and API messages."""
    if principal.session_id is None:  # an API key is no person's account
        raise HTTPException(409, "an API key has no account language; send Accept-Language")
    with db.transaction() as s:
        user = users.find_user(s, principal.name)
        user.language = body.language
        users.record(s, actor=principal.name, action="language", now=now, detail=str(body.language))
    return body


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "wang",
                    "password": "a long secret",
                    "role": "technician",
                    "technician_id": 3,
                    "site_ids": [1],
                }
            ]
        },
    )
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password: str = Field(min_length=10, max_length=200)
    role: str
    technician_id: Id | None = None
    site_ids: list[Id] | None = Field(None, description="unset: every site", max_length=1000)
    contractor_id: Id | None = Field(None, description="a contractor's person: their company")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: str
    technician_id: Id | None
    active: bool
    site_ids: list[int] | None = None  # null: every site
    contractor_id: Id | None = None


def user_read(s: Session, user: User) -> UserRead:
    return UserRead.model_validate(user).model_copy(update={"site_ids": users.site_ids(s, user)})


@router.post("/users", status_code=201, dependencies=admin_only)
def create_user(
    body: UserCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> UserRead:
    with db.transaction() as s:
        user = users.create_user(
            s,
            body.username,
            body.password,
            body.role,
            now=now,
            technician_id=body.technician_id,
            site_ids=body.site_ids,
            contractor_id=body.contractor_id,
        )
        users.record(
            s,
            actor=principal.name,
            action="user_created",
            now=now,
            detail=f"{body.username} ({body.role})",
        )
        return user_read(s, user)


@router.get("/users", dependencies=admin_only)
def list_users(db: DatabaseDep) -> list[UserRead]:
    with db.read() as s:
        return [user_read(s, u) for u in users.all_users(s)]


@router.post("/users/{user_id}/disable", dependencies=admin_only)
def disable_user(
    user_id: Id, request: Request, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> UserRead:
    """The account can no longer log in, and its open sessions end now."""
    return _set_active(request, db, now, principal, user_id, active=False)


@router.post("/users/{user_id}/enable", dependencies=admin_only)
def enable_user(
    user_id: Id, request: Request, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> UserRead:
    return _set_active(request, db, now, principal, user_id, active=True)


def _set_active(
    request: Request,
    db: DatabaseDep,
    now: datetime,
    principal: PrincipalDep,
    user_id: int,
    *,
    active: bool,
) -> UserRead:
    with db.transaction() as s:
        user = get_required(s, User, user_id, "user")
        was = user.active
        ended = users.set_active(s, user, active, now=now)
        if was != active:
            users.record(
                s,
                actor=principal.name,
                action="user_enabled" if active else "user_disabled",
                now=now,
                detail=user.username if active else f"{user.username}: {ended} sessions ended",
                client=client_of(request),
            )
        return user_read(s, user)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "prometheus", "role": "engineer"}]}
    )
    name: str = Field(min_length=1, max_length=100)
    role: str
    site_ids: list[Id] | None = Field(None, description="unset: every site", max_length=1000)
    contractor_id: Id | None = None


@router.post("/api-keys", status_code=201, dependencies=admin_only)
def create_api_key(
    body: ApiKeyCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The key is shown once, in this answer; send it as `X-API-Key` or as a bearer token."""
    with db.transaction() as s:
        key, row = users.create_api_key(
            s,
            body.name,
            body.role,
            now=now,
            site_ids=body.site_ids,
            contractor_id=body.contractor_id,
        )
        users.record(
            s,
            actor=principal.name,
            action="api_key_created",
            now=now,
            detail=f"{body.name} ({body.role})",
        )
        return {
            "id": row.id,
            "name": row.name,
            "role": row.role,
            "site_ids": body.site_ids,
            "contractor_id": row.contractor_id,
            "key": key,
        }


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    site_ids: list[int] | None = None  # null: every site
    contractor_id: Id | None = None


def key_read(s: Session, key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key).model_copy(update={"site_ids": users.site_ids(s, key)})


@router.get("/api-keys", dependencies=admin_only)
def list_api_keys(db: DatabaseDep) -> list[ApiKeyRead]:
    """Every key ever made (never the key itself), revoked ones with their time."""
    with db.read() as s:
        return [key_read(s, k) for k in users.all_api_keys(s)]


@router.post("/api-keys/{key_id}/revoke", dependencies=admin_only)
def revoke_api_key(
    key_id: Id, request: Request, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> ApiKeyRead:
    """Refused from the next request on, in every API process. Revoking twice changes nothing."""
    with db.transaction() as s:
        row, revoked = users.revoke_api_key(s, key_id, now=now)
        if revoked:
            users.record(
                s,
                actor=principal.name,
                action="api_key_revoked",
                now=now,
                detail=f"{row.name} ({row.role})",
                client=client_of(request),
            )
        return key_read(s, row)


class SecurityEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    action: str
    detail: str
    client: str


@router.get("/security-events", dependencies=[Depends(access(OFFICE, OFFICE))])
def security_events(
    db: DatabaseDep, action: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[SecurityEventRead]:
    """Logins and logouts, failed and throttled logins, refusals, revoked credentials used,
    accounts and keys made, disabled, revoked; newest first."""
    query = select(SecurityEvent)
    if action:
        query = query.where(SecurityEvent.action == action)
    with db.read() as s:
        rows = s.scalars(query.order_by(SecurityEvent.id.desc()).limit(limit))
        return [SecurityEventRead.model_validate(e) for e in rows]
