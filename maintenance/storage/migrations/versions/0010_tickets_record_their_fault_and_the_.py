"""tickets record their fault and the failure they repeat

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 21:33:41.750847
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

REPEAT_WITHIN = timedelta(days=30)  # as maintenance/work_orders/failures.py, frozen here

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fault", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("repeat_of", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_tickets_asset_fault", ["asset_id", "fault", "created_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_repeat_of_tickets"), "tickets", ["repeat_of"], ["id"]
        )
    _backfill()


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _backfill() -> None:
    """Existing failure tickets get their fault and repeat link, as new ones get at intake."""
    bind = op.get_bind()
    rules = {int(i): str(r) for i, r in bind.execute(sa.text("SELECT id, rule_id FROM alarms"))}
    rows = bind.execute(
        sa.text(
            "SELECT id, asset_id, type, source_ref, created_at, state FROM tickets "
            "WHERE type IN ('alarm', 'repair') AND asset_id IS NOT NULL "
            "ORDER BY asset_id, created_at, id"
        )
    )
    last: dict[tuple[int, str], tuple[datetime, int]] = {}
    updates: list[dict[str, object]] = []
    for ticket_id, asset_id, kind, ref, created_at, state in rows:
        fault = "repair"
        if kind == "alarm":
            parts = (ref or "").split(":")
            alarm = (
                int(parts[1])
                if len(parts) == 3 and parts[0] == "alarm" and parts[1].isdigit()
                else None
            )
            fault = rules.get(alarm, "alarm") if alarm is not None else "alarm"
        created, repeat_of = _utc(created_at), None
        if state != "cancelled":
            previous = last.get((asset_id, fault))
            if previous is not None and created - previous[0] <= REPEAT_WITHIN:
                repeat_of = previous[1]
            last[(asset_id, fault)] = (created, ticket_id)
        updates.append({"id": ticket_id, "fault": fault, "repeat_of": repeat_of})
    if updates:
        bind.execute(
            sa.text("UPDATE tickets SET fault = :fault, repeat_of = :repeat_of WHERE id = :id"),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tickets_repeat_of_tickets"), type_="foreignkey")
        batch_op.drop_index("ix_tickets_asset_fault")
        batch_op.drop_column("repeat_of")
        batch_op.drop_column("fault")
