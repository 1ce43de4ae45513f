"""holds: members' hold queues for tools, the borrowing policy and loan lengths

Revision ID: 0015_holds
Revises: 0014_me
Create Date: 2026-11-30 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015_holds"
down_revision: str | Sequence[str] | None = "0014_me"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_HOLD = sa.text("status IN ('waiting', 'ready')")
READY_HOLD = sa.text("status = 'ready'")


def upgrade() -> None:
    op.create_table(
        "hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("placed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ready_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["tool_id"], ["tool.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_tool_id"), ["tool_id"], unique=False)
        batch_op.create_index(
            "uq_hold_live_member_tool",
            ["tool_id", "member_id"],
            unique=True,
            sqlite_where=LIVE_HOLD,
            postgresql_where=LIVE_HOLD,
        )
        batch_op.create_index(
            "uq_hold_ready_tool",
            ["tool_id"],
            unique=True,
            sqlite_where=READY_HOLD,
            postgresql_where=READY_HOLD,
        )
    op.create_table(
        "borrowing_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("max_loans", sa.Integer(), nullable=True),
        sa.Column("overdue_grace_days", sa.Integer(), nullable=True),
        sa.Column("max_holds", sa.Integer(), nullable=False),
        sa.Column("hold_hours", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "loan_length",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tool_id"], ["tool.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category"),
        sa.UniqueConstraint("tool_id"),
    )


def downgrade() -> None:
    op.drop_table("loan_length")
    op.drop_table("borrowing_policy")
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_hold_ready_tool", sqlite_where=READY_HOLD, postgresql_where=READY_HOLD
        )
        batch_op.drop_index(
            "uq_hold_live_member_tool", sqlite_where=LIVE_HOLD, postgresql_where=LIVE_HOLD
        )
        batch_op.drop_index(batch_op.f("ix_hold_tool_id"))
        batch_op.drop_index(batch_op.f("ix_hold_status"))
        batch_op.drop_index(batch_op.f("ix_hold_member_id"))
    op.drop_table("hold")
