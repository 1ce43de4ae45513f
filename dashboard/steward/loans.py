"""Loans: every open loan, the overdue ones first and marked."""

from __future__ import annotations

from flask import Blueprint, render_template

from dashboard.auth import steward_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.infra.clock import utcnow
from hub.queries import loans

bp = Blueprint("steward_loans", __name__, url_prefix="/steward")
NAV = (NavLink("steward_loans.loan_list", "Loans"),)


@bp.get("/loans")
@steward_required
def loan_list() -> str:
    """Show every open loan, the overdue ones first and marked."""
    now = utcnow()
    with reading() as db:
        out = loans.open_loans(db)
    overdue = [row for row in out if row.loan.due_at < now]
    return render_template("steward/loans.html", overdue=overdue, out=out, now=now)
