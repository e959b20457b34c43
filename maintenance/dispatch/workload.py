"""Each technician's open-ticket count (Technician.open_tickets, what dispatch balances on),
kept in step with the tickets: the work-order records note each change on the session
(`work_orders.service.WORKLOAD_DELTAS`); the unit of work writes them just before it commits,
in one statement, so a batch pays no round trip per assignment."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from maintenance.dispatch.models import Technician
from maintenance.work_orders.service import WORKLOAD_DELTAS

technicians_table: Table = Technician.__table__  # type: ignore[assignment]


def write_deltas(session: Session) -> None:
    deltas: Counter[int] = session.info.pop(WORKLOAD_DELTAS, Counter())
    params = [{"tid": t, "delta": d} for t, d in sorted(deltas.items()) if d]  # sorted: lock order
    if params:
        # One executemany (pipelined by psycopg) rather than a round trip per technician.
        session.connection().execute(
            update(technicians_table)
            .where(technicians_table.c.id == bindparam("tid"))
            .values(open_tickets=technicians_table.c.open_tickets + bindparam("delta")),
            params,
        )
