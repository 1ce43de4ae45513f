"""kiosk health: reader, oldest unacked event, last error, lock safety in the kiosk's status

Revision ID: 0012_kiosk_health
Revises: 0011_loan_truth
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_kiosk_health"
down_revision: str | Sequence[str] | None = "0011_loan_truth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kioskstatus", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reader", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
        batch_op.add_column(sa.Column("reader_reinitialised", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("oldest_unacked_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column("locks_safety", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("health_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("kioskstatus", schema=None) as batch_op:
        for column in (
            "health_at",
            "locks_safety",
            "last_error",
            "oldest_unacked_s",
            "reader_reinitialised",
            "reader",
        ):
            batch_op.drop_column(column)
