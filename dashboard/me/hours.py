"""My hours (balance, credit limit, statement) and giving hours to another member."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.me.access import me, me_required, now
from hub.errors import DomainError
from hub.queries import mine
from hub.timebank import gifts, ledger, statements

bp = Blueprint("me_hours", __name__, url_prefix="/me")
FORM_FIELDS = ("to", "hours", "note")


@bp.get("/hours")
@me_required
def hours() -> ResponseReturnValue:
    """Show my balance, how low it may go, and every transfer, newest first."""
    with reading() as db:
        mine_now = mine.my_hours(db, me())
        lines = list(reversed(statements.statement(db, me().id or 0)))
    return render_template("me/hours.html", hours=mine_now, lines=lines)


@bp.route("/hours/give", methods=["GET", "POST"])
@me_required
def give() -> ResponseReturnValue:
    """Give hours to another member by their number, with a note.

    The form carries a one-time key made when it was shown: submitting it twice (a double
    tap, a reload) moves the hours once.
    """
    if request.method == "GET":
        return _give_form({"key": secrets.token_urlsafe(16)})
    typed = {name: request.form.get(name, "") for name in (*FORM_FIELDS, "key")}
    try:
        with transaction() as db:
            transfer = gifts.give_hours(
                db,
                me(),
                to_number=typed["to"],
                hours=typed["hours"],
                note=typed["note"],
                key=typed["key"],
                now=now(),
            )
            amount = ledger.transfer_legs(db, transfer.id or 0).amount
            said = f"You gave {amount} hours to member {typed['to'].strip()}."
    except DomainError as refused:
        return _give_form(typed, refused, status_of(type(refused)))
    flash(said, "ok")
    return redirect(url_for("me_hours.hours"))


def _give_form(
    typed: dict[str, str], refused: DomainError | None = None, status: int = 200
) -> ResponseReturnValue:
    with reading() as db:
        mine_now = mine.my_hours(db, me())
    page = render_template(
        "me/give.html",
        hours=mine_now,
        typed=typed,
        error=refused.message if refused else None,
        field=(refused.field if refused else None),
        suspended=not me().is_active,
    )
    return page, status
