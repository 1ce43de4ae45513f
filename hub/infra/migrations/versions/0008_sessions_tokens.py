"""sessions and tokens: sign-in sessions on the hub; API tokens get a scope and an expiry

Revision ID: 0008_sessions_tokens
Revises: 0007_unmatched_returns
Create Date: 2026-11-30 12:50:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_sessions_tokens"
down_revision: str | Sequence[str] | None = "0007_unmatched_returns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens issued before scopes and expiry keep their steward powers for 90 days, then lapse.
EXISTING_TOKENS_LIVE = timedelta(days=90)


def upgrade() -> None:
    op.create_table(
        "signinsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_why", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signinsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signinsession_key_hash"), ["key_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_signinsession_member_id"), ["member_id"], unique=False)
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="steward",
            )
        )
        batch_op.add_column(
            sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    token = sa.table("apitoken", sa.column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    op.execute(token.update().values(expires_at=datetime.now(UTC) + EXISTING_TOKENS_LIVE))
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.alter_column("scope", server_default=None)
        batch_op.alter_column(
            "expires_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scope")
    with op.batch_alter_table("signinsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signinsession_member_id"))
        batch_op.drop_index(batch_op.f("ix_signinsession_key_hash"))
    op.drop_table("signinsession")
