"""sites as records: who may borrow at each site, its bridge login; a loan's site note (issue 18)

Revision ID: 0020_sites
Revises: 0019_site_links
Create Date: 2026-11-30 18:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020_sites"
down_revision: str | Sequence[str] | None = "0019_site_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    site = op.create_table(
        "site",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("policy", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("bridge_provisioned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("bridge_revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "site_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "member_id"),
    )
    with op.batch_alter_table("site_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_member_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_member_site_id"), ["site_id"], unique=False)
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("site_note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
    # Every site a kiosk is at becomes a record where everyone may borrow: nothing changes.
    kiosk = sa.table("kiosk", sa.column("site", sa.String))
    stored = op.get_bind().execute(sa.select(kiosk.c.site).distinct()).scalars().all()
    now = datetime.now(UTC)
    op.bulk_insert(
        site,
        [{"id": s, "name": s, "policy": "everyone", "created_at": now} for s in sorted(stored)],
    )


def downgrade() -> None:
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_column("site_note")
    with op.batch_alter_table("site_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_member_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_member_member_id"))
    op.drop_table("site_member")
    op.drop_table("site")
