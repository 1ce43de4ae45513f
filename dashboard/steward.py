"""The steward's pages: what needs me now, and the actions that resolve it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dashboard.auth import current_member, steward_required
from dashboard.database import reading, transaction
from hub import audit, inventory, loans, members

bp = Blueprint("steward", __name__, url_prefix="/steward")


@bp.get("/")
@steward_required
def front():
    """Show what needs a steward now: tools out of service, overdue loans."""
    with reading() as db:
        broken = inventory.list_tools(db, status=inventory.ToolStatus.OUT_OF_SERVICE)
        overdue = loans.overdue_loans(db)
        tools = {t.id: t for t in inventory.list_tools(db)}
        borrowers = {m.id: m for m in members.list_members(db)}
    return render_template(
        "steward/front.html", broken=broken, overdue=overdue, tools=tools, borrowers=borrowers
    )


@bp.get("/members")
@steward_required
def member_list():
    """List members, optionally filtered by name or number."""
    search = request.args.get("q", "").strip()
    with reading() as db:
        found = members.list_members(db, search=search or None)
    return render_template("steward/members.html", members=found, q=search)


@bp.post("/members/<int:member_id>/suspend")
@steward_required
def suspend(member_id: int):
    """Suspend a member with a reason; the kiosks refuse their cards from the next allow-list."""
    with transaction() as db:
        member = members.get_member(db, member_id)
        before = audit.snapshot(member, "status", "status_reason")
        members.suspend_member(db, member_id, request.form.get("reason", ""))
        audit.record(
            db,
            actor_member_id=current_member().id,
            action="member.suspend",
            target=f"member:{member.number}",
            before=before,
            after=audit.snapshot(member, "status", "status_reason"),
        )
    flash(f"Member {member.number} ({member.name}) suspended.")
    return redirect(url_for("steward.member_list", q=member.number))


@bp.post("/members/<int:member_id>/reinstate")
@steward_required
def reinstate(member_id: int):
    """Make a suspended member active again."""
    with transaction() as db:
        member = members.get_member(db, member_id)
        before = audit.snapshot(member, "status", "status_reason")
        members.reinstate_member(db, member_id)
        audit.record(
            db,
            actor_member_id=current_member().id,
            action="member.reinstate",
            target=f"member:{member.number}",
            before=before,
            after=audit.snapshot(member, "status", "status_reason"),
        )
    flash(f"Member {member.number} ({member.name}) is active again.")
    return redirect(url_for("steward.member_list", q=member.number))
