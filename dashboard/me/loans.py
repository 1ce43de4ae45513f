"""My loans (due dates, overdue marks, renew where the rules allow) and my history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.me.access import me, me_required, now
from hub.errors import DomainError, InvalidInput
from hub.loans import renewals
from hub.mail.reminders import site_time
from hub.queries import mine

bp = Blueprint("me_loans", __name__, url_prefix="/me")
ID = "<int(min=1, max=2147483647):loan_id>"


@bp.app_context_processor
def me_helpers() -> dict[str, Any]:
    """Give templates the site's wall clock: "Tuesday 01 December at 18:00"."""
    return {"site_time": site_time}


@bp.get("/")
@me_required
def home() -> ResponseReturnValue:
    """Show what I have out, when each is due, and my hours at a glance."""
    return _home()


def _home(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    with reading() as db:
        loans = mine.my_loans(db, me(), now=now())
        hours = mine.my_hours(db, me())
    page = render_template("me/home.html", loans=loans, hours=hours, error=error)
    return page, status


@bp.post(f"/loans/{ID}/renew")
@me_required
def renew(loan_id: int) -> ResponseReturnValue:
    """Renew one of my loans (a second submit of the same form renews it once)."""
    try:
        seen = _seen_due(request.form.get("seen_due", ""))
        with transaction() as db:
            loan = renewals.renew_loan(db, me(), loan_id, seen_due=seen, now=now())
            due = loan.due_at
    except DomainError as refused:
        return _home(refused.message, status_of(type(refused)))
    flash(f"Renewed: now due back {site_time(due)}.", "ok")
    return redirect(url_for("me_loans.home"))


def _seen_due(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "The form's due date is garbled; reload the page.", field="seen_due"
        ) from None


@bp.get("/history")
@me_required
def history() -> ResponseReturnValue:
    """Show the tools I borrowed and brought back, latest first."""
    with reading() as db:
        rows = mine.my_history(db, me())
    return render_template("me/history.html", rows=rows)
