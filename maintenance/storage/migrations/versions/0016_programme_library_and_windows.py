"""the programme library: a plan's standard, programme (tiers), anchoring, tolerance window,
due dates from the ledger, usage-or-calendar, site versions; an occurrence's window; the
ledger's next authority inspection and a site's lightning risk class

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 20:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspection_plans") as batch:
        batch.alter_column("unit", existing_type=sa.String(length=10), type_=sa.String(length=16))
        batch.add_column(
            sa.Column("usage_or_calendar", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("programme", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("standard", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("regulated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("anchoring", sa.String(length=10), server_default="fixed", nullable=False)
        )
        batch.add_column(sa.Column("early_days", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("late_days", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("due_from_ledger", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("site_risk_class", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("overrides_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("active_from", sa.Date(), nullable=True))
        batch.create_foreign_key(
            "fk_inspection_plans_overrides_id_inspection_plans",
            "inspection_plans",
            ["overrides_id"],
            ["id"],
        )
    with op.batch_alter_table("plan_occurrences") as batch:
        batch.add_column(
            sa.Column("opens_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "overdue_notified_at",
                maintenance.storage.db.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("inspection_due", sa.Date(), nullable=True))
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column("risk_class", sa.String(length=16), server_default="normal", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("risk_class")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("inspection_due")
    with op.batch_alter_table("plan_occurrences") as batch:
        batch.drop_column("overdue_notified_at")
        batch.drop_column("opens_at")
    with op.batch_alter_table("inspection_plans") as batch:
        batch.drop_constraint(
            "fk_inspection_plans_overrides_id_inspection_plans", type_="foreignkey"
        )
        for column in (
            "active_from",
            "overrides_id",
            "site_risk_class",
            "due_from_ledger",
            "late_days",
            "early_days",
            "anchoring",
            "regulated",
            "standard",
            "programme",
            "usage_or_calendar",
        ):
            batch.drop_column(column)
        batch.alter_column("unit", existing_type=sa.String(length=16), type_=sa.String(length=10))
