"""Whose scope is it: an account's or key's sites and, for a contractor's people, their
company's assets, read from the database once per request (`maintenance.scope.Scope`).

Defaults that keep an installation working: an account or key made before scopes existed, or
made without naming sites, sees every site; an admin always sees everything; a contractor's
person whose company is responsible for nothing sees nothing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.accounts.models import ApiKey, User, api_key_sites, contractor_assets, user_sites
from maintenance.assets.models import Site
from maintenance.scope import EVERYTHING, Scope


def of_user(session: Session, user: User) -> Scope:
    sites = None
    if not user.all_sites:
        sites = session.scalars(
            select(user_sites.c.site_id).where(user_sites.c.user_id == user.id)
        ).all()
    return resolve(session, role=user.role, site_ids=sites, contractor_id=user.contractor_id)


def of_key(session: Session, key: ApiKey) -> Scope:
    sites = None
    if not key.all_sites:
        sites = session.scalars(
            select(api_key_sites.c.site_id).where(api_key_sites.c.api_key_id == key.id)
        ).all()
    return resolve(session, role=key.role, site_ids=sites, contractor_id=key.contractor_id)


def of_account(session: Session, *, user_id: int | None, key_id: int | None) -> Scope:
    """The scope of the account or key a live credential speaks for."""
    if key_id is not None:
        key = session.get(ApiKey, key_id)
        return of_key(session, key) if key is not None else EVERYTHING
    user = session.get(User, user_id) if user_id is not None else None
    return of_user(session, user) if user is not None else EVERYTHING


def resolve(
    session: Session, *, role: str, site_ids: Iterable[int] | None, contractor_id: int | None
) -> Scope:
    if role == "admin":
        return EVERYTHING
    codes = None
    ids = None
    if site_ids is not None:
        ids = frozenset(site_ids)
        codes = frozenset(session.scalars(select(Site.code).where(Site.id.in_(sorted(ids)))))
    assets = None
    if role == "contractor":
        assets = frozenset(
            session.scalars(
                select(contractor_assets.c.asset_id).where(
                    contractor_assets.c.contractor_id == contractor_id
                )
            )
            if contractor_id is not None
            else ()
        )
    return Scope(site_ids=ids, site_codes=codes, asset_ids=assets, contractor_id=contractor_id)
