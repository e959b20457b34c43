"""patrol rounds: points with their label codes, runs and check-ins

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 19:52:12.918863
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_patrol_rounds_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_rounds")),
    )
    with op.batch_alter_table("patrol_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_rounds_site_id"), ["site_id"], unique=False)

    op.create_table(
        "patrol_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_patrol_points_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["patrol_rounds.id"],
            name=op.f("fk_patrol_points_round_id_patrol_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_points")),
        sa.UniqueConstraint("code", name=op.f("uq_patrol_points_code")),
        sa.UniqueConstraint("round_id", "position", name=op.f("uq_patrol_points_round_id")),
    )
    op.create_table(
        "patrol_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("on_time_by", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("points_due", sa.Integer(), nullable=False),
        sa.Column("points_missed", sa.Integer(), nullable=False),
        sa.Column("closed_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["patrol_rounds.id"],
            name=op.f("fk_patrol_runs_round_id_patrol_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_runs")),
        sa.UniqueConstraint("round_id", "starts_at", name=op.f("uq_patrol_runs_round_id")),
    )
    with op.batch_alter_table("patrol_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_runs_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_runs_status"), ["status"], unique=False)

    op.create_table(
        "patrol_check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("observation", sa.Text(), nullable=False),
        sa.Column("abnormal", sa.Boolean(), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("photo_type", sa.String(length=40), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["patrol_points.id"],
            name=op.f("fk_patrol_check_ins_point_id_patrol_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["patrol_runs.id"],
            name=op.f("fk_patrol_check_ins_run_id_patrol_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_patrol_check_ins_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_check_ins")),
        sa.UniqueConstraint("run_id", "point_id", name=op.f("uq_patrol_check_ins_run_id")),
    )


def downgrade() -> None:
    op.drop_table("patrol_check_ins")
    with op.batch_alter_table("patrol_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_runs_status"))
        batch_op.drop_index(batch_op.f("ix_patrol_runs_starts_at"))

    op.drop_table("patrol_runs")
    op.drop_table("patrol_points")
    with op.batch_alter_table("patrol_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_rounds_site_id"))

    op.drop_table("patrol_rounds")
