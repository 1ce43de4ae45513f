"""loan truth: conflicts, corrections, kiosk sequences and clocks

Revision ID: 0011_loan_truth
Revises: 0010_tablets_throttles
Create Date: 2026-11-30 12:26:45.790347
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_loan_truth"
down_revision: str | Sequence[str] | None = "0010_tablets_throttles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STANDING = sa.text("returned_at IS NULL")  # also every open loan, conflicts included
STANDING = sa.text("returned_at IS NULL AND NOT in_conflict")
LOAN_FKS = (
    ("fk_loan_conflict_of_loan", "loan", "conflict_of"),
    ("fk_loan_conflict_resolved_by_member", "member", "conflict_resolved_by"),
    ("fk_loan_corrected_by_member", "member", "corrected_by"),
)


def upgrade() -> None:
    op.create_table(
        "kiosksequence",
        sa.Column("kiosk_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("gap_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("clock_offset_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosk.id"]),
        sa.PrimaryKeyConstraint("kiosk_id"),
    )
    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        batch_op.create_index(
            "ix_inboxevent_kiosk_epoch_seq", ["kiosk_id", "epoch", "seq"], unique=False
        )
    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.alter_column("epoch", server_default=None)

    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq_epoch", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("return_event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch_op.add_column(
            sa.Column("in_conflict", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("conflict_of", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("conflict_resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("conflict_resolved_by", sa.Integer(), nullable=True))
        for name in ("conflict_resolution", "correction_reason", "clock_note"):
            batch_op.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
            )
        batch_op.add_column(sa.Column("corrected_by", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_loan_in_conflict"), ["in_conflict"], unique=False)
        for name, table, column in LOAN_FKS:
            batch_op.create_foreign_key(name, table, [column], ["id"])
        # A tool's one standing loan: conflicts wait beside it for a steward.
        batch_op.drop_index(
            "uq_loan_open_tool", sqlite_where=OLD_STANDING, postgresql_where=OLD_STANDING
        )
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.alter_column("in_conflict", server_default=None)
        batch_op.create_index(
            "ix_loan_open",
            ["tool_id"],
            unique=False,
            sqlite_where=OLD_STANDING,
            postgresql_where=OLD_STANDING,
        )
        batch_op.create_index(
            "uq_loan_open_tool",
            ["tool_id"],
            unique=True,
            sqlite_where=STANDING,
            postgresql_where=STANDING,
        )

    with op.batch_alter_table("unmatchedreturn", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq_epoch", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unmatchedreturn", schema=None) as batch_op:
        batch_op.drop_column("seq_epoch")
        batch_op.drop_column("seq")

    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_index("uq_loan_open_tool", sqlite_where=STANDING, postgresql_where=STANDING)
        for name, _table, _column in LOAN_FKS:
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_loan_in_conflict"))
        for name in (
            "clock_note",
            "correction_reason",
            "corrected_by",
            "conflict_resolution",
            "conflict_resolved_by",
            "conflict_resolved_at",
            "conflict_of",
            "in_conflict",
            "return_event_id",
            "seq_epoch",
            "seq",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.create_index(
            "uq_loan_open_tool",
            ["tool_id"],
            unique=True,
            sqlite_where=OLD_STANDING,
            postgresql_where=OLD_STANDING,
        )

    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxevent_kiosk_epoch_seq")
        batch_op.drop_column("payload")
        batch_op.drop_column("epoch")

    op.drop_table("kiosksequence")
