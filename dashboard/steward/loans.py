"""Loans: every open loan (the overdue ones marked), the conflicts to resolve, the returns still
waiting for their loan; a steward records a tool handed back at the desk, ends a loan without a
return, or resolves a conflict, saying why (the hub's services audit it)."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, flash, render_template, request
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text
from hub.errors import InvalidInput
from hub.infra.clock import utcnow
from hub.inventory.registry import get_tool
from hub.loans import corrections
from hub.maintenance import returns
from hub.queries import loans

bp = Blueprint("steward_loans", __name__, url_prefix="/steward")
NAV = (NavLink("steward_loans.loan_list", "Loans"),)


@bp.get("/loans")
@steward_required
def loan_list() -> str:
    """Show the conflicts to resolve, then every open loan, the overdue ones marked."""
    now = utcnow()
    with reading() as db:
        out = loans.open_loans(db)
        conflicts = loans.conflicts(db)
        waiting = loans.waiting_returns(db)
    overdue = [row for row in out if row.loan.due_at < now]
    return render_template(
        "steward/loans.html",
        overdue=overdue,
        out=out,
        conflicts=conflicts,
        waiting=waiting,
        now=now,
    )


@bp.post("/loans/<int:loan_id>/resolve")
@steward_required
def resolve(loan_id: int) -> ResponseReturnValue:
    """Resolve a conflict: keep the new loan (the earlier one ends) or the earlier one."""
    keep = form_text("keep")
    if keep not in ("new", "earlier"):
        raise InvalidInput(f"keep must be 'new' or 'earlier', not {keep!r}.", field="keep")
    with transaction() as db:
        corrections.resolve_conflict(
            db,
            loan_id=loan_id,
            steward_id=current_member().id,
            keep=cast(corrections.Keep, keep),
            reason=form_text("reason"),
        )
    flash(f"Conflict of loan {loan_id} resolved: the {keep} loan stands.")
    return back("steward_loans.loan_list")


@bp.post("/loans/<int:loan_id>/end")
@steward_required
def end(loan_id: int) -> ResponseReturnValue:
    """End an open loan no return will close, with the steward's reason (audited)."""
    with transaction() as db:
        corrections.end_loan(
            db, loan_id=loan_id, steward_id=current_member().id, reason=form_text("reason")
        )
    flash(f"Loan {loan_id} ended by correction.")
    return back("steward_loans.loan_list")


@bp.post("/tools/<int:tool_id>/return")
@steward_required
def return_at_desk(tool_id: int) -> ResponseReturnValue:
    """Record a tool handed back at the desk: OK, or needs repair (a blocking ticket opens)."""
    with transaction() as db:
        outcome = returns.return_with_condition(
            db,
            acting_member(),
            tool_id=tool_id,
            condition=form_text("condition"),
            note=request.form.get("note") or None,
        )
        tool = get_tool(db, tool_id)
    opened = f"; ticket {outcome.ticket.id} opened" if outcome.ticket else ""
    flash(f"{tool.code} is back (loan {outcome.loan.id if outcome.loan else '?'} closed){opened}.")
    return back("steward_loans.loan_list")
