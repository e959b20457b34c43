"""Logging in (OAuth2 password flow), accounts, API keys and the security log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.auth import OFFICE, PrincipalDep, Tokens, access, log_in
from api.deps import DatabaseDep, NowDep
from maintenance.users import service as users
from maintenance.users.models import SecurityEvent, User
from maintenance.vocabulary import Id

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
    """OAuth2 password flow: a bearer token valid for FACILITY_TOKEN_MINUTES."""
    token = log_in(request, db, now, form.username, form.password)
    tokens: Tokens = request.app.state.tokens
    return TokenRead(access_token=token, expires_in=tokens.minutes * 60)


class Me(BaseModel):
    name: str
    role: str
    technician_id: Id | None
    via: str


@router.get("/users/me")
def me(principal: PrincipalDep) -> Me:
    return Me(
        name=principal.name,
        role=principal.role,
        technician_id=principal.technician_id,
        via=principal.via,
    )


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
                }
            ]
        },
    )
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password: str = Field(min_length=10, max_length=200)
    role: str
    technician_id: Id | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: str
    technician_id: Id | None
    active: bool


@router.post("/users", status_code=201, dependencies=admin_only)
def create_user(
    body: UserCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> UserRead:
    with db.transaction() as s:
        user = users.create_user(
            s, body.username, body.password, body.role, now=now, technician_id=body.technician_id
        )
        users.record(
            s,
            actor=principal.name,
            action="user_created",
            now=now,
            detail=f"{body.username} ({body.role})",
        )
        return UserRead.model_validate(user)


@router.get("/users", dependencies=admin_only)
def list_users(db: DatabaseDep) -> list[UserRead]:
    with db.read() as s:
        return [UserRead.model_validate(u) for u in s.scalars(select(User).order_by(User.id))]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "prometheus", "role": "engineer"}]}
    )
    name: str = Field(min_length=1, max_length=100)
    role: str


@router.post("/api-keys", status_code=201, dependencies=admin_only)
def create_api_key(
    body: ApiKeyCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The key is shown once, in this answer; send it as `X-API-Key` or as a bearer token."""
    with db.transaction() as s:
        key, row = users.create_api_key(s, body.name, body.role, now=now)
        users.record(
            s,
            actor=principal.name,
            action="api_key_created",
            now=now,
            detail=f"{body.name} ({body.role})",
        )
        return {"id": row.id, "name": row.name, "role": row.role, "key": key}


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
    """Logins, failed logins, refusals, accounts and keys made; newest first."""
    query = select(SecurityEvent)
    if action:
        query = query.where(SecurityEvent.action == action)
    with db.read() as s:
        rows = s.scalars(query.order_by(SecurityEvent.id.desc()).limit(limit))
        return [SecurityEventRead.model_validate(e) for e in rows]
