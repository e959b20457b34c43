"""the requester's confirmation on the ticket; life-safety and latched alarms

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "requester_confirmed_at",
                maintenance.storage.db.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("life_safety", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("resettable", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    # Alarms recorded before: an event alarm's values carry its code; every fire alarm is a
    # life-safety one (the rule files say so from now on, for the others too).
    alarms = sa.table(
        "alarms",
        sa.column("id", sa.Integer),
        sa.column("system", sa.String),
        sa.column("values", sa.JSON),
        sa.column("resettable", sa.Boolean),
        sa.column("life_safety", sa.Boolean),
    )
    bind = op.get_bind()
    events = [
        row.id
        for row in bind.execute(sa.select(alarms.c.id, alarms.c["values"]))
        if isinstance(row[1], dict) and "code" in row[1]
    ]
    if events:
        bind.execute(sa.update(alarms).where(alarms.c.id.in_(events)).values(resettable=sa.true()))
    bind.execute(sa.update(alarms).where(alarms.c.system == "fire").values(life_safety=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_column("resettable")
        batch_op.drop_column("life_safety")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("requester_confirmed_at")
