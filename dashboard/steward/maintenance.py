"""Maintenance: live tickets, preventive plans and what is due, and repair credit claims."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auditing import record_change
from dashboard.auth import current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text, snapshot
from hub.infra.clock import utcnow
from hub.queries import claims as claim_rows
from hub.queries import maintenance
from hub.timebank import claims

bp = Blueprint("steward_maintenance", __name__, url_prefix="/steward")
NAV = (NavLink("steward_maintenance.overview", "Maintenance"),)

CLAIM_FIELDS = ("status", "hours", "approved_hours", "decided_by", "decision_reason", "transfer_id")


@bp.get("/maintenance")
@steward_required
def overview() -> str:
    """Show claims awaiting approval, live tickets, maintenance due and every plan."""
    now = utcnow()
    with reading() as db:
        page = dict(
            claims=claim_rows.pending_claims(db),
            decided=claim_rows.decided_claims(db),
            tickets=maintenance.live_tickets_with_tools(db, blocking_first=True),
            due=maintenance.due_maintenance(db, now=now),
            plans=maintenance.plan_rows(db),
        )
    return render_template("steward/maintenance.html", now=now, **page)


@bp.post("/claims/<int:claim_id>/approve")
@steward_required
def approve_claim(claim_id: int) -> ResponseReturnValue:
    """Approve a repair claim, perhaps with edited hours and a reason; the fixer is credited."""
    hours = form_text("hours") or None
    with transaction() as db:
        claim = claims.get_claim(db, claim_id)
        before = snapshot(claim, *CLAIM_FIELDS)
        if hours is not None and hours == f"{claim.hours}":
            hours = None  # the claimed hours, untouched: no reason needed
        claims.approve_claim(
            db,
            claim_id,
            steward_id=current_member().id,
            hours=hours,
            reason=form_text("reason") or None,
        )
        record_change(
            db, "claim.approve", f"claim:{claim_id}", before, snapshot(claim, *CLAIM_FIELDS)
        )
    flash(f"Claim {claim_id} approved: {claim.approved_hours} h credited.")
    return back("steward_maintenance.overview")


@bp.post("/claims/<int:claim_id>/decline")
@steward_required
def decline_claim(claim_id: int) -> ResponseReturnValue:
    """Decline a repair claim with a reason; nothing is credited."""
    with transaction() as db:
        claim = claims.get_claim(db, claim_id)
        before = snapshot(claim, *CLAIM_FIELDS)
        claims.decline_claim(
            db, claim_id, steward_id=current_member().id, reason=form_text("reason")
        )
        record_change(
            db, "claim.decline", f"claim:{claim_id}", before, snapshot(claim, *CLAIM_FIELDS)
        )
    flash(f"Claim {claim_id} declined.")
    return back("steward_maintenance.overview")
