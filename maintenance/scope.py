"""What a caller may see of the estate: the sites of their account or key, and for a
contractor's people only the assets their company is responsible for. Resolved once per
request (`maintenance.work_orders.scopes.resolve`) and handed to every query of the domain,
which applies it as a condition: a list, a count, a report or a live feed never holds an
object outside it, and one object outside it is "not found".

A value of the platform layer: it knows columns, not tables, so every domain applies it to its
own (`where(Ticket.site_id, Ticket.asset_id)`, `where(Alarm.site_id, Alarm.asset_id)`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, true
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True, slots=True)
class Scope:
    """None: no limit on that dimension. Sites by id (the ledger) and by code (alarm topics and
    their trail name the site by its code); assets by id (a contractor's)."""

    site_ids: frozenset[int] | None = None
    site_codes: frozenset[str] | None = None
    asset_ids: frozenset[int] | None = None
    contractor_id: int | None = None

    @property
    def everything(self) -> bool:
        return self.site_ids is None and self.asset_ids is None

    def admits(self, site_id: int | None, asset_id: int | None) -> bool:
        """Does one object (its site and asset) lie inside?"""
        if self.site_ids is not None and site_id not in self.site_ids:
            return False
        return self.asset_ids is None or asset_id in self.asset_ids

    def admits_site(self, site_id: int | None) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    def admits_code(self, site_code: str, asset_id: int | None) -> bool:
        """An alarm transition names its site by code."""
        if self.site_codes is not None and site_code not in self.site_codes:
            return False
        return self.asset_ids is None or asset_id in self.asset_ids

    def where(self, site_id: Any, asset_id: Any) -> ColumnElement[bool]:
        """The condition on an object's site and asset columns."""
        return and_(self.where_site(site_id), self.where_asset(asset_id))

    def where_site(self, site_id: Any) -> ColumnElement[bool]:
        return _within(site_id, self.site_ids)

    def where_code(self, site_code: Any) -> ColumnElement[bool]:
        return _within(site_code, self.site_codes)

    def where_asset(self, asset_id: Any) -> ColumnElement[bool]:
        return _within(asset_id, self.asset_ids)


def _within(column: Any, allowed: frozenset[Any] | None) -> ColumnElement[bool]:
    if allowed is None:
        return true()
    if not allowed:
        return false()
    condition: ColumnElement[bool] = column.in_(sorted(allowed))
    return condition


# The whole estate: admins, the CLI's operator, existing accounts and keys ("all sites").
EVERYTHING = Scope()
# An account that may see nothing (a contractor's person whose company has no assets).
NOTHING = Scope(site_ids=frozenset(), site_codes=frozenset(), asset_ids=frozenset())
