"""The open ledger: every balance, the latest transfers, and a member's statement as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from dashboard.auth import steward_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.members import roster
from hub.timebank import statements

bp = Blueprint("steward_ledger", __name__, url_prefix="/steward")
NAV = (NavLink("steward_ledger.ledger", "Ledger"),)


@bp.get("/ledger")
@steward_required
def ledger() -> str:
    """Show the balance sheet (which sums to zero) and the latest transfers."""
    with reading() as db:
        page = dict(
            balances=statements.balance_sheet(db),
            total=statements.sum_of_balances(db),
            transfers=statements.recent_transfers(db, limit=50),
        )
    return render_template("steward/ledger.html", **page)


@bp.get("/ledger/members/<int:member_id>/statement.csv")
@steward_required
def statement(member_id: int) -> Response:
    """Download a member's statement as CSV."""
    with reading() as db:
        person = roster.get_member(db, member_id)
        text = statements.statement_csv(db, member_id)
    name = f"statement-{person.number}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
