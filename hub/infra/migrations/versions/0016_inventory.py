"""inventory doors: a tool's notes; when a kiosk's broker credentials were made and revoked

Revision ID: 0016_inventory
Revises: 0015_holds
Create Date: 2026-11-30 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016_inventory"
down_revision: str | Sequence[str] | None = "0015_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tool", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provisioned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("provisioned_at")
    with op.batch_alter_table("tool", schema=None) as batch_op:
        batch_op.drop_column("notes")
