"""upkeep: a trusted fixer may be granted by the operator at the hub's shell (no member)

Revision ID: 0017_upkeep
Revises: 0016_inventory
Create Date: 2026-11-30 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_upkeep"
down_revision: str | Sequence[str] | None = "0016_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trusted_fixer", schema=None) as batch_op:
        batch_op.alter_column("granted_by", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("trusted_fixer", schema=None) as batch_op:
        batch_op.alter_column("granted_by", existing_type=sa.Integer(), nullable=False)
