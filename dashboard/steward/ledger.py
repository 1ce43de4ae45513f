"""The open ledger: every balance, the latest transfers, the community pool, a member's statement
as CSV; and the stewards' corrections: reversals, credit limits, trusted fixers, transfers.

Every correction goes through ``hub.timebank.stewarding``, which checks the steward's role and
writes the audit entry; a refused form comes back with what was typed and the field at fault.
"""

from __future__ import annotations

from uuid import uuid4

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session
from werkzeug.wrappers import Response as Redirect

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, form_text
from dashboard.steward.typed_forms import FormRefusal, refused_form
from hub.errors import DomainError, NotFound
from hub.members import roster
from hub.members.roster import Member
from hub.timebank import claims, statements, stewarding

bp = Blueprint("steward_ledger", __name__, url_prefix="/steward")
NAV = (NavLink("steward_ledger.ledger", "Ledger"),)


@bp.get("/ledger")
@steward_required
def ledger() -> str:
    """Show the balance sheet (which sums to zero), the pool, the latest transfers, the forms."""
    return _ledger()


def _ledger(refusal: FormRefusal | None = None) -> str:
    with reading() as db:
        transfers = statements.recent_transfers(db, limit=50)
        page = dict(
            balances=statements.balance_sheet(db),
            total=statements.sum_of_balances(db),
            transfers=transfers,
            reversed_ids={t.reverses_transfer_id for t in transfers if t.reverses_transfer_id},
            pool=stewarding.community_account(db, limit=10),
            fixers=stewarding.trusted_fixers(db),
        )
    # A fresh key per rendering: submitting the same form twice posts one transfer.
    return render_template(
        "steward/ledger.html", refusal=refusal, transfer_key=f"form:{uuid4().hex}", **page
    )


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


# --- corrections --------------------------------------------------------------------------


@bp.post("/ledger/transfers/<int:transfer_id>/reverse")
@steward_required
def reverse_transfer(transfer_id: int) -> ResponseReturnValue:
    """Reverse a transfer with a reason (once only)."""
    try:
        with transaction() as db:
            correction = stewarding.reverse_transfer(
                db, acting_member(), transfer_id, form_text("reason")
            )
    except DomainError as error:
        return refused_form(_ledger, f"reverse-{transfer_id}", error)
    flash(f"Transfer {transfer_id} reversed by transfer {correction.id}.")
    return _to_ledger("transfers")


@bp.post("/ledger/transfers")
@steward_required
def enter_transfer() -> ResponseReturnValue:
    """Enter a transfer between two members (say, for a workshop taught)."""
    try:
        with transaction() as db:
            payer = _numbered(db, "payer")
            payee = _numbered(db, "payee")
            transfer = stewarding.transfer_hours(
                db,
                acting_member(),
                payer_id=payer.id,
                payee_id=payee.id,
                hours=form_text("hours"),
                description=form_text("description"),
                category=form_text("category"),
                key=form_text("key") or None,
            )
    except DomainError as error:
        return refused_form(_ledger, "transfer", error)
    flash(f"Transfer {transfer.id}: {payer.number} paid {payee.number} {form_text('hours')} h.")
    return _to_ledger("transfers")


@bp.post("/ledger/credit-limits")
@steward_required
def set_credit_limit() -> ResponseReturnValue:
    """Set how many hours a member may owe; blank for no limit."""
    try:
        with transaction() as db:
            member = _numbered(db, "number")
            owed = form_text("may_owe") or None
            stewarding.set_credit_limit(db, acting_member(), member.id, owed)
    except DomainError as error:
        return refused_form(_ledger, "limit", _as_form_field(error, "credit_limit", "may_owe"))
    said = "no limit" if owed is None else f"may owe up to {owed} h"
    flash(f"Member {member.number}: {said}.")
    return _to_ledger("limits")


@bp.post("/ledger/trusted-fixers")
@steward_required
def mark_trusted_fixer() -> ResponseReturnValue:
    """Trust a member's repair claims up to some hours each."""
    try:
        with transaction() as db:
            member = _numbered(db, "number")
            fixer = stewarding.mark_trusted_fixer(
                db,
                acting_member(),
                member.id,
                form_text("up_to") or claims.DEFAULT_AUTO_APPROVE_HOURS,
            )
    except DomainError as error:
        return refused_form(_ledger, "fixer", _as_form_field(error, "member_id", "number"))
    flash(f"Member {member.number} is a trusted fixer up to {fixer.auto_approve_up_to} h.")
    return _to_ledger("fixers")


@bp.post("/ledger/trusted-fixers/<int:member_id>/remove")
@steward_required
def unmark_trusted_fixer(member_id: int) -> ResponseReturnValue:
    """Stop approving a member's claims at once."""
    with transaction() as db:
        stewarding.unmark_trusted_fixer(db, acting_member(), member_id)
        number = roster.get_member(db, member_id).number
    flash(f"Member {number} is no longer a trusted fixer.")
    return _to_ledger("fixers")


def _numbered(db: Session, field: str) -> Member:
    """Return the member whose number is in form field ``field``, or refuse naming it."""
    number = form_text(field)
    if not number:
        raise NotFound("Give a member number.", field=field)
    try:
        return roster.member_by_number(db, number)
    except NotFound as missing:
        raise NotFound(missing.message, field=field) from None


def _as_form_field(error: DomainError, hub_name: str, form_name: str) -> DomainError:
    """Name the form's field where the hub named its own (``credit_limit`` is ``may_owe``)."""
    if error.field == hub_name:
        error.field = form_name
    return error


def _to_ledger(anchor: str) -> Redirect:
    return redirect(url_for("steward_ledger.ledger") + f"#{anchor}")
