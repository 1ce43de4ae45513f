"""kiosk sequence: where the hub began hearing each epoch (pairing waits for unknown events)

Revision ID: 0013_first_seq
Revises: 0012_kiosk_health
Create Date: 2026-11-30 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_first_seq"
down_revision: str | Sequence[str] | None = "0012_kiosk_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for sequences begun before: the pairing then asks the inbox, which is always right.
    with op.batch_alter_table("kiosksequence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosksequence", schema=None) as batch_op:
        batch_op.drop_column("first_seq")
