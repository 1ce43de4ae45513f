"""housekeeping once per network: worker heartbeats; one live plan ticket per (plan, tool)

Revision ID: 0009_housekeeping
Revises: 0008_sessions_tokens
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_housekeeping"
down_revision: str | Sequence[str] | None = "0008_sessions_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_PLAN_TICKET = "plan_id IS NOT NULL AND status IN ('open', 'in_progress')"
# Duplicates two workers may have opened before the index: keep the oldest, close the others
# as "won't fix" with a note saying why (closed, not deleted: nothing is silently rewritten).
CLOSE_DUPLICATES = f"""
UPDATE maintenance_ticket
SET status = 'wont_fix', resolved_at = updated_at,
    resolution_note = 'Duplicate of an older ticket for the same plan (closed by migration 0008).'
WHERE {LIVE_PLAN_TICKET}
  AND EXISTS (
    SELECT 1 FROM maintenance_ticket older
    WHERE older.plan_id = maintenance_ticket.plan_id
      AND older.tool_id = maintenance_ticket.tool_id
      AND older.status IN ('open', 'in_progress')
      AND older.id < maintenance_ticket.id
  )
"""


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("loop", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("beat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("progress_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("last_error_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("worker", "loop"),
    )
    op.execute(CLOSE_DUPLICATES)
    op.create_index(
        "uq_maintenance_ticket_live_plan_tool",
        "maintenance_ticket",
        ["plan_id", "tool_id"],
        unique=True,
        sqlite_where=sa.text(LIVE_PLAN_TICKET),
        postgresql_where=sa.text(LIVE_PLAN_TICKET),
    )


def downgrade() -> None:
    op.drop_index("uq_maintenance_ticket_live_plan_tool", table_name="maintenance_ticket")
    op.drop_table("worker_heartbeat")
