"""market: offers, requests, exchanges, skills, proposals (issue 19)

Revision ID: 0018_market
Revises: 0017_upkeep
Create Date: 2026-11-30 15:29:26.255279
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018_market"
down_revision: str | Sequence[str] | None = "0017_upkeep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As hub.timebank.ledger.HoursType maps hours (0003): the migration imports no hub code.
HOURS = sa.Numeric(12, 2).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "skill_profile",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("auto_ask", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "market_category",
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_table(
        "member_skill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "tag", name="uq_member_skill"),
    )
    with op.batch_alter_table("member_skill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_skill_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_skill_tag"), ["tag"], unique=False)

    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("cost_hours", HOURS, nullable=True),
        sa.Column("payee_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closes_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("outcome_note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("executed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["executed_by"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transfer_id"),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_closes_at"), ["closes_at"], unique=False)

    op.create_table(
        "market_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("where_when", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("tool_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("hidden_by", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["market_category.slug"],
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tool.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("market_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_post_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_post_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_post_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_post_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_post_status"), ["status"], unique=False)

    op.create_table(
        "proposal_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("choice", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("cast_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "member_id", name="uq_vote_member"),
    )
    with op.batch_alter_table("proposal_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_vote_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "market_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["market_post.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "member_id", name="uq_market_answer_member"),
    )
    with op.batch_alter_table("market_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_answer_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_answer_post_id"), ["post_id"], unique=False)

    op.create_table(
        "market_exchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("hours", HOURS, nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["giver_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["market_post.id"],
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transfer_id"),
    )
    with op.batch_alter_table("market_exchange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_exchange_giver_id"), ["giver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_exchange_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_market_exchange_receiver_id"), ["receiver_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_exchange_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("skill_profile")
    with op.batch_alter_table("market_exchange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_exchange_status"))
        batch_op.drop_index(batch_op.f("ix_market_exchange_receiver_id"))
        batch_op.drop_index(batch_op.f("ix_market_exchange_post_id"))
        batch_op.drop_index(batch_op.f("ix_market_exchange_giver_id"))

    op.drop_table("market_exchange")
    with op.batch_alter_table("market_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_answer_post_id"))
        batch_op.drop_index(batch_op.f("ix_market_answer_member_id"))

    op.drop_table("market_answer")
    with op.batch_alter_table("proposal_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_vote_proposal_id"))

    op.drop_table("proposal_vote")
    with op.batch_alter_table("market_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_post_status"))
        batch_op.drop_index(batch_op.f("ix_market_post_kind"))
        batch_op.drop_index(batch_op.f("ix_market_post_created_at"))
        batch_op.drop_index(batch_op.f("ix_market_post_category"))
        batch_op.drop_index(batch_op.f("ix_market_post_author_id"))

    op.drop_table("market_post")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_closes_at"))
        batch_op.drop_index(batch_op.f("ix_proposal_author_id"))

    op.drop_table("proposal")
    with op.batch_alter_table("member_skill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_skill_tag"))
        batch_op.drop_index(batch_op.f("ix_member_skill_member_id"))

    op.drop_table("member_skill")
    op.drop_table("market_category")
