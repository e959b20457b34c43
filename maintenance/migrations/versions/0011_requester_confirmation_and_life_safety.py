"""the requester's confirmation on the ticket; life-safety and latched alarms

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "requester_confirmed_at", maintenance.db.UtcDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("life_safety", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_column("life_safety")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("requester_confirmed_at")
