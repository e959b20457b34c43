"""The database as the domain uses it: every transaction writes, just before it commits, what
the records left for it (the technicians' workload counters). Every process and test opens its
database here, so no transaction can forget a step."""

from __future__ import annotations

from sqlalchemy import Engine

from maintenance.dispatch import workload
from maintenance.storage.db import Database


def database(engine: Engine) -> Database:
    return Database(engine, before_commit=(workload.write_deltas,))
