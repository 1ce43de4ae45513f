"""dead letters settled by a steward: applied again once the hub can, or set aside with a note

Revision ID: 0022_dead_letter_settling
Revises: 0021_machine_sites
Create Date: 2026-11-30 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0022_dead_letter_settling"
down_revision: str | Sequence[str] | None = "0021_machine_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadletter") as table:
        table.add_column(
            sa.Column("settled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        table.add_column(sa.Column("settled_by", sa.Integer(), nullable=True))
        table.add_column(
            sa.Column("settlement", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=True)
        )
        table.create_foreign_key("fk_deadletter_settled_by", "member", ["settled_by"], ["id"])
        table.create_index("ix_deadletter_settled_at", ["settled_at"])


def downgrade() -> None:
    with op.batch_alter_table("deadletter") as table:
        table.drop_index("ix_deadletter_settled_at")
        table.drop_constraint("fk_deadletter_settled_by", type_="foreignkey")
        table.drop_column("settlement")
        table.drop_column("settled_by")
        table.drop_column("settled_at")
