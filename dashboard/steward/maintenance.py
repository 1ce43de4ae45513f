"""Maintenance: repair claims to decide, live tickets, what is due, preventive plans and services.

Every change goes through ``hub.maintenance.stewarding`` or ``hub.timebank.stewarding``, which
check the steward's role and write the audit entry; a refused form comes back with what was
typed and the field at fault.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_flag, form_text
from dashboard.steward.typed_forms import FormRefusal, form_whole_number, refused_form
from hub.errors import DomainError, InvalidInput
from hub.infra.clock import utcnow
from hub.inventory import registry
from hub.maintenance import plans as maintenance_plans
from hub.maintenance import stewarding
from hub.queries import claims as claim_rows
from hub.queries import maintenance
from hub.timebank import claims
from hub.timebank import stewarding as timebank_stewarding

bp = Blueprint("steward_maintenance", __name__, url_prefix="/steward")
NAV = (NavLink("steward_maintenance.overview", "Maintenance"),)


@bp.get("/maintenance")
@steward_required
def overview() -> str:
    """Show claims awaiting approval, live tickets, maintenance due, every plan and its form."""
    return _overview()


def _overview(refusal: FormRefusal | None = None) -> str:
    now = utcnow()
    editing = request.args.get("edit", type=int)
    with reading() as db:
        page = dict(
            claims=claim_rows.pending_claims(db),
            decided=claim_rows.decided_claims(db),
            tickets=maintenance.live_tickets_with_tools(db, blocking_first=True),
            due=maintenance.due_maintenance(db, now=now),
            plans=maintenance.plan_rows(db),
            plan_form=_plan_form_values(db, editing, refusal),
        )
    return render_template("steward/maintenance.html", now=now, refusal=refusal, **page)


def _plan_form_values(db: Any, editing: int | None, refusal: FormRefusal | None) -> dict[str, Any]:
    """Return what the plan form shows: what was typed, the plan being edited, or nothing."""
    if refusal is not None and refusal.form in ("plan", "plan-edit"):
        return dict(refusal.typed) | {"plan_id": refusal.typed.get("plan_id")}
    if editing is None:
        return {}
    plan = maintenance_plans.get_plan(db, editing)
    code = registry.get_tool(db, plan.tool_id).code if plan.tool_id else ""
    return plan.model_dump() | {"plan_id": plan.id, "tool_code": code, "category": plan.category}


# --- plans --------------------------------------------------------------------------------


@bp.post("/plans")
@steward_required
def add_plan() -> ResponseReturnValue:
    """Add a preventive plan from the form; a refusal keeps what was typed."""
    try:
        with transaction() as db:
            plan = stewarding.add_plan(db, acting_member(), **_plan_fields(db))
    except DomainError as error:
        return refused_form(_overview, "plan", error)
    flash(f"Plan '{plan.name}' added.")
    return _to_overview("plans")


@bp.post("/plans/<int:plan_id>")
@steward_required
def edit_plan(plan_id: int) -> ResponseReturnValue:
    """Change a plan from the form; a refusal keeps what was typed."""
    try:
        with transaction() as db:
            plan = stewarding.edit_plan(db, acting_member(), plan_id, **_plan_fields(db))
    except DomainError as error:
        return refused_form(_overview, "plan-edit", error)
    flash(f"Plan '{plan.name}' saved.")
    return _to_overview("plans")


@bp.post("/plans/<int:plan_id>/remove")
@steward_required
def remove_plan(plan_id: int) -> ResponseReturnValue:
    """Remove a plan that has no history yet."""
    with transaction() as db:
        name = maintenance_plans.get_plan(db, plan_id).name
        stewarding.remove_plan(db, acting_member(), plan_id)
    flash(f"Plan '{name}' removed.")
    return _to_overview("plans")


def _plan_fields(db: Any) -> dict[str, Any]:
    """Read the plan form: a tool code or a category, the intervals, blocking or not."""
    code = form_text("tool_code")
    return dict(
        name=form_text("name"),
        tool_id=_tool_id(db, code) if code else None,
        category=form_text("category") or None,
        every_loans=form_whole_number("every_loans"),
        every_days=form_whole_number("every_days"),
        every_use_hours=form_whole_number("every_use_hours"),
        blocks_when_overdue=form_flag("blocks_when_overdue"),
    )


def _tool_id(db: Any, code: str) -> int:
    tool = registry.tool_by_code(db, code)
    assert tool.id is not None  # a stored tool has its id
    return tool.id


# --- services -----------------------------------------------------------------------------


@bp.post("/services")
@steward_required
def log_service() -> ResponseReturnValue:
    """Record that a tool was serviced under a plan: its counters start again."""
    try:
        with transaction() as db:
            code = form_text("tool_code")
            if not code:
                raise InvalidInput("Say which tool was serviced (its code).", field="tool_code")
            plan_id = form_whole_number("plan_id")
            if plan_id is None:
                raise InvalidInput("Choose the plan the tool was serviced under.", field="plan_id")
            service = stewarding.log_service(
                db,
                acting_member(),
                plan_id=plan_id,
                tool_id=_tool_id(db, code),
                note=form_text("note") or None,
            )
    except DomainError as error:
        return refused_form(_overview, "service", error)
    flash(f"Service of {code.upper()} recorded (service {service.id}); its counters start again.")
    return _to_overview("plans")


# --- repair claims ------------------------------------------------------------------------


@bp.post("/claims/<int:claim_id>/approve")
@steward_required
def approve_claim(claim_id: int) -> ResponseReturnValue:
    """Approve a repair claim, perhaps with edited hours and a reason; the fixer is credited.

    The "also return the tool to service" box is the steward's explicit choice; a form that
    does not show it (no live ticket) leaves nothing to return.
    """
    hours = form_text("hours") or None
    with transaction() as db:
        claim = claims.get_claim(db, claim_id)
        if hours is not None and hours == f"{claim.hours}":
            hours = None  # the claimed hours, untouched: no reason needed
        claim = timebank_stewarding.approve_claim(
            db,
            acting_member(),
            claim_id,
            return_to_service=form_flag("return_to_service"),
            hours=hours,
            reason=form_text("reason") or None,
        )
    flash(f"Claim {claim_id} approved: {claim.approved_hours} h credited.")
    return back("steward_maintenance.overview")


@bp.post("/claims/<int:claim_id>/decline")
@steward_required
def decline_claim(claim_id: int) -> ResponseReturnValue:
    """Decline a repair claim with a reason; nothing is credited."""
    with transaction() as db:
        timebank_stewarding.decline_claim(db, acting_member(), claim_id, form_text("reason"))
    flash(f"Claim {claim_id} declined.")
    return back("steward_maintenance.overview")


def _to_overview(anchor: str) -> Response:
    return redirect(url_for("steward_maintenance.overview") + f"#{anchor}")
