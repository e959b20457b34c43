"""predictive inspections: the technician's finding on the ticket, and a review per anomaly
finding for retraining and the reports

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("finding", sa.String(length=20), nullable=True))
    op.create_table(
        "finding_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column(
            "window_start", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("window_end", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_finding_reviews_ticket_id", "finding_reviews", ["ticket_id"])
    op.create_index("ix_finding_reviews_device", "finding_reviews", ["site", "system", "device_id"])


def downgrade() -> None:
    op.drop_index("ix_finding_reviews_device", table_name="finding_reviews")
    op.drop_index("ix_finding_reviews_ticket_id", table_name="finding_reviews")
    op.drop_table("finding_reviews")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("finding")
