"""notification deliveries keep what they are about: site, device, severity and facts (the
robots' cards say them in their group's language)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.add_column(sa.Column("site", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("device", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("severity", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_deliveries") as batch:
        for column in ("facts", "severity", "device", "site"):
            batch.drop_column(column)
