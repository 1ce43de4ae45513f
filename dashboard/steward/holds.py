"""Holds and the borrowing policy: every tool's queue, which a steward may reorder or cancel,
and the policy (loans at once, the overdue pause, holds, loan lengths). The hub's services
check the steward's role and audit each change."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.steward.common import NavLink, back, form_text
from hub.errors import DomainError, InvalidInput
from hub.loans import holds, policy

bp = Blueprint("steward_holds", __name__, url_prefix="/steward")
NAV = (NavLink("steward_holds.hold_list", "Holds"),)
SETTINGS = tuple(policy.BOUNDS)


@bp.get("/holds")
@steward_required
def hold_list() -> str:
    """Show every tool's queue in order, and the borrowing policy."""
    return _page()


def _page(typed: dict[str, str] | None = None, error: DomainError | None = None) -> str:
    with reading() as db:
        queue = holds.queues(db)
        held = policy.current_policy(db)
        lengths = policy.loan_lengths_with_codes(db)
    values = {
        name: "" if getattr(held, name) is None else str(getattr(held, name)) for name in SETTINGS
    }
    return render_template(
        "steward/holds.html",
        queue=queue,
        values=values | (typed or {}),
        lengths=lengths,
        error=error,
        settings=SETTINGS,
        bounds=policy.BOUNDS,
    )


@bp.post("/holds/<int:hold_id>/move")
@steward_required
def move(hold_id: int) -> ResponseReturnValue:
    """Move a waiting hold to the position given (1: next in line); audited."""
    position = _whole("position", form_text("position"))
    with transaction() as db:
        holds.move_hold(db, acting_member(), hold_id, position)
    flash(f"Hold {hold_id} moved to place {position} among the waiting.")
    return back("steward_holds.hold_list")


@bp.post("/holds/<int:hold_id>/cancel")
@steward_required
def cancel(hold_id: int) -> ResponseReturnValue:
    """Cancel a member's hold; a tool kept for them goes to the next in line. Audited."""
    with transaction() as db:
        holds.cancel_hold(db, acting_member(), hold_id)
    flash(f"Hold {hold_id} cancelled.")
    return back("steward_holds.hold_list")


@bp.post("/policy")
@steward_required
def set_policy() -> ResponseReturnValue:
    """Change the borrowing policy; refused, the page comes back with what was typed."""
    typed = {name: form_text(name) for name in SETTINGS}
    try:
        with transaction() as db:
            policy.set_policy(db, acting_member(), **{k: v or None for k, v in typed.items()})
    except DomainError as error:
        return _page(typed, error), status_of(type(error))
    flash("Borrowing policy saved.")
    return back("steward_holds.hold_list")


@bp.post("/policy/loan-length")
@steward_required
def set_loan_length() -> ResponseReturnValue:
    """Set (or with no days, remove) how long loans of a tool or a category last; audited."""
    which, name, days = form_text("which"), form_text("name"), form_text("days")
    if which not in ("tool", "category"):
        raise InvalidInput(f"which must be 'tool' or 'category', not {which!r}.", field="which")
    with transaction() as db:
        policy.set_loan_length(
            db,
            acting_member(),
            days=_whole("days", days) if days else None,
            tool_code=name if which == "tool" else None,
            category=name if which == "category" else None,
        )
    flash(f"Loan length for {which} {name} {'set' if days else 'removed'}.")
    return back("steward_holds.hold_list")


def _whole(field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a whole number.", field=field) from None
