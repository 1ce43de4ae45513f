"""Join the feature branches; index loans by tool and time (the dashboard's history reads).

Revision ID: 0006_merge_loan_tool_index
Revises: 0002_protocol, 0003_maintenance_ledger, 0004_bookings, 0005_accounts_audit
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_merge_loan_tool_index"
down_revision: str | Sequence[str] | None = (
    "0002_protocol",
    "0003_maintenance_ledger",
    "0004_bookings",
    "0005_accounts_audit",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_loan_tool_out_at", "loan", ["tool_id", "out_at"])


def downgrade() -> None:
    op.drop_index("ix_loan_tool_out_at", table_name="loan")
