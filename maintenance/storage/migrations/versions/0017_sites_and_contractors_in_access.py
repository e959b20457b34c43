"""sites and contractors in access control: accounts and keys scoped to sites, contractor
companies with the assets they are responsible for, their accounts and technicians

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maintenance.storage.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contractors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("created_at", maintenance.storage.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "contractor_assets",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contractor_id"], ["contractors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    op.create_index(
        op.f("ix_contractor_assets_contractor_id"),
        "contractor_assets",
        ["contractor_id"],
        unique=False,
    )
    # Existing accounts and keys keep every site, so installations keep working.
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("all_sites", sa.Boolean(), server_default=sa.true(), nullable=False)
            )
            batch.add_column(sa.Column("contractor_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                f"fk_{table}_contractor_id_contractors", "contractors", ["contractor_id"], ["id"]
            )
    with op.batch_alter_table("technicians") as batch:
        batch.add_column(sa.Column("contractor_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_technicians_contractor_id_contractors", "contractors", ["contractor_id"], ["id"]
        )
    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "site_id"),
    )
    op.create_table(
        "api_key_sites",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("api_key_id", "site_id"),
    )


def downgrade() -> None:
    op.drop_table("api_key_sites")
    op.drop_table("user_sites")
    with op.batch_alter_table("technicians") as batch:
        batch.drop_constraint("fk_technicians_contractor_id_contractors", type_="foreignkey")
        batch.drop_column("contractor_id")
    for table in ("api_keys", "users"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_contractor_id_contractors", type_="foreignkey")
            batch.drop_column("contractor_id")
            batch.drop_column("all_sites")
    op.drop_index(op.f("ix_contractor_assets_contractor_id"), table_name="contractor_assets")
    op.drop_table("contractor_assets")
    op.drop_table("contractors")
