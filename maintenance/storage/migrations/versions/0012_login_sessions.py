"""login sessions: logout and disabling an account end a person's tokens at once

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("sid_hash", name=op.f("uq_login_sessions_sid_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")
