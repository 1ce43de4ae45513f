"""Members: find them, add them, edit their details and roles, manage cards and trainings,
reset their PIN, suspend and reinstate them.

Every action is a hub service that checks who may act on whom and audits itself (``standing``,
``cards``, ``trainings``, ``credentials``); these views only read the form and show the outcome.
A refused form comes back as it was typed, with the refusal beside the field it names.
Suspension, cards and trainings reach the kiosks by themselves: every change moves the sync
version (``hub.sync``) and the allow-list publisher sends the new list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.errors import status_of, wants_json
from dashboard.steward.common import NavLink, back, form_text
from hub.bookings import pins
from hub.errors import DomainError, InvalidInput
from hub.members import cards, credentials, roster, standing, trainings
from hub.members.roster import Member, Role
from hub.queries import claims as claim_rows
from hub.queries import loans
from hub.queries import members as member_rows
from hub.queries import search as finding
from hub.timebank import ledger

bp = Blueprint("steward_members", __name__, url_prefix="/steward")
NAV = (NavLink("steward_members.member_list", "Members"),)
GRANTABLE = (Role.VOLUNTEER, Role.STEWARD, Role.ADMIN)


@bp.get("/members")
@steward_required
def member_list() -> str:
    """List members (the first hundred), or those whose name, number or card matches."""
    search = request.args.get("q", "").strip()
    with reading() as db:
        found = member_rows.find_members(db, search or None, limit=100)
    return render_template("steward/members.html", members=found, q=search)


@bp.get("/search")
@steward_required
def search() -> str:
    """Find members (name, number, card UID) and tools (code, name): the header's search box."""
    text = request.args.get("q", "").strip()[: finding.SEARCH_MAX]
    with reading() as db:
        found = finding.search(db, text)
    return render_template("steward/search.html", q=text, found=found)


@bp.get("/members/new")
@steward_required
def new_member() -> str:
    """Show the form that adds a member, with the next free number filled in."""
    with reading() as db:
        typed = {"number": roster.next_member_number(db)}
    return render_template("steward/member_new.html", typed=typed, refusal=None)


@bp.post("/members")
@steward_required
def add_member() -> ResponseReturnValue:
    """Add a member with the typed details and ticked roles; open their page.

    The number is on the form, so a second submit of the same form adds no one twice: it
    finds the member the first one added and opens their page.
    """
    fields: dict[str, Any] = {
        key: form_text(key) or None for key in ("number", "name", "email", "phone")
    }
    fields["roles"] = _ticked_roles()
    try:
        with transaction() as db:
            person = _same_member_added(db, fields) or standing.enrol_member(
                db, acting_member(), **fields
            )
    except DomainError as refused:
        if wants_json():
            raise
        page = render_template("steward/member_new.html", typed=request.form, refusal=refused)
        return page, status_of(type(refused))
    flash(f"Member {person.number} ({person.name}) added.")
    return redirect(url_for("steward_members.member", member_id=person.id))


@bp.get("/members/<int:member_id>")
@steward_required
def member(member_id: int) -> str:
    """Show one member: details, standing, cards, trainings, open loans, claims and balance."""
    return _member_page(member_id)


@bp.post("/members/<int:member_id>/edit")
@steward_required
def edit(member_id: int) -> ResponseReturnValue:
    """Change a member's name, email and phone (blank email or phone clears it)."""
    changes = {key: form_text(key) for key in standing.DETAILS}
    return _act(
        member_id,
        "details",
        lambda db: standing.edit_member(db, _me(), member_id, changes),
        "Details of member {number} saved.",
    )


@bp.post("/members/<int:member_id>/suspend")
@steward_required
def suspend(member_id: int) -> ResponseReturnValue:
    """Suspend a member with a reason; the kiosks refuse their cards from the next allow-list."""
    reason = request.form.get("reason", "")
    return _act(
        member_id,
        "standing",
        lambda db: standing.suspend_member(db, _me(), member_id, reason),
        "Member {number} ({name}) suspended.",
        to_list=True,
    )


@bp.post("/members/<int:member_id>/reinstate")
@steward_required
def reinstate(member_id: int) -> ResponseReturnValue:
    """Make a suspended member active again."""
    return _act(
        member_id,
        "standing",
        lambda db: standing.reinstate_member(db, _me(), member_id),
        "Member {number} ({name}) is active again.",
        to_list=True,
    )


@bp.post("/members/<int:member_id>/roles")
@steward_required
def change_roles(member_id: int) -> ResponseReturnValue:
    """Give a member exactly the ticked roles (the hub refuses what outranks the steward)."""
    ticked = _ticked_roles()
    return _act(
        member_id,
        "roles",
        lambda db: standing.set_roles(db, _me(), member_id, ticked),
        "Member {number} ({name}) now holds: {roles}.",
    )


@bp.post("/members/<int:member_id>/cards")
@steward_required
def assign_card(member_id: int) -> ResponseReturnValue:
    """Give a member a card by its UID, with an optional label."""
    uid, label = form_text("uid"), form_text("label") or None
    return _act(
        member_id,
        "card",
        lambda db: cards.assign_card(db, _me(), member_id, uid, label=label),
        f"Card {uid} now belongs to member {{number}} ({{name}}).",
    )


@bp.post("/members/<int:member_id>/cards/revoke")
@steward_required
def revoke_card(member_id: int) -> ResponseReturnValue:
    """Revoke one of a member's cards (stolen, handed back); its history stays."""
    uid = form_text("uid")
    return _act(
        member_id,
        "cards",
        lambda db: cards.revoke_card(db, _me(), member_id, uid),
        f"Card {uid} of member {{number}} revoked.",
    )


@bp.post("/members/<int:member_id>/cards/lost")
@steward_required
def card_lost(member_id: int) -> ResponseReturnValue:
    """Revoke a card its holder lost; their other cards still open lockers."""
    uid = form_text("uid")
    return _act(
        member_id,
        "cards",
        lambda db: cards.report_lost(db, _me(), member_id, uid),
        f"Card {uid} of member {{number}} revoked as lost; their other cards still work.",
    )


@bp.post("/members/<int:member_id>/trainings")
@steward_required
def grant_training(member_id: int) -> ResponseReturnValue:
    """Record that a member passed a training, until the date given (renewing moves it on)."""
    code = form_text("training")

    def grant(db: Any) -> object:
        expires = _form_date("expires_on")
        return trainings.grant_training(db, _me(), member_id, code, expires_on=expires)

    return _act(member_id, "training", grant, f"Member {{number}} ({{name}}) holds {code}.")


@bp.post("/members/<int:member_id>/trainings/revoke")
@steward_required
def revoke_training(member_id: int) -> ResponseReturnValue:
    """Take a training away from a member."""
    code = form_text("training")
    return _act(
        member_id,
        "trainings",
        lambda db: trainings.revoke_training(db, _me(), member_id, code),
        f"Member {{number}} no longer holds {code}.",
    )


@bp.post("/members/<int:member_id>/pin/reset")
@steward_required
def reset_pin(member_id: int) -> ResponseReturnValue:
    """Forget a member's tablet PIN; they set a new one after a card tap."""
    return _act(
        member_id,
        "pin",
        lambda db: credentials.reset_pin(db, _me(), member_id),
        "The PIN of member {number} is reset: they set a new one after a card tap.",
    )


# --- the page and its refusals --------------------------------------------------------------


def _act(
    member_id: int,
    form: str,
    action: Callable[[Any], object],
    done: str,
    *,
    to_list: bool = False,
) -> ResponseReturnValue:
    """Run ``action`` in one transaction, then say ``done`` and go back (to the form's ``next``,
    else the member's page, or the list found by their number); on a refusal, show the member
    page again with ``form`` as it was typed and the refusal beside its field."""
    try:
        with transaction() as db:
            action(db)
            person = roster.get_member(db, member_id)
            message = done.format(number=person.number, name=person.name, roles=person.roles)
    except DomainError as refused:
        if wants_json():
            raise  # a script gets the JSON refusal (dashboard.errors), not the page
        return _member_page(member_id, form=form, refusal=refused), status_of(type(refused))
    flash(message)
    if to_list:
        return back("steward_members.member_list", q=person.number)
    return back("steward_members.member", member_id=member_id)


def _member_page(
    member_id: int, *, form: str | None = None, refusal: DomainError | None = None
) -> str:
    with reading() as db:
        person = roster.get_member(db, member_id)
        page = dict(
            person=person,
            cards=roster.cards_of(db, member_id),
            held=member_rows.trainings_of(db, member_id),
            trainings=member_rows.list_trainings(db),
            open_loans=loans.open_loans_of_member(db, member_id),
            claims=claim_rows.claims_of_member(db, member_id, limit=10),
            balance=ledger.member_balance(db, member_id),
            has_pin=pins.has_pin(db, member_id),
        )
    typed = request.form if form else {}
    return render_template(
        "steward/member.html", **page, form=form, typed=typed, refusal=refusal, grantable=GRANTABLE
    )


def _me() -> Member:
    return acting_member()


def _ticked_roles() -> list[str]:
    return [role.value for role in GRANTABLE if request.form.get(f"role_{role.value}")]


def _form_date(name: str) -> date | None:
    """Return a form's date field (YYYY-MM-DD, as a date input sends it), None when blank."""
    text = form_text(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date like 2027-01-31, not {text!r}.", field=name
        ) from None


def _same_member_added(db: Any, fields: dict[str, Any]) -> Member | None:
    """Return the member a first submit of this very form added (same number and name)."""
    number, name = fields.get("number"), fields.get("name")
    if not number or not name:
        return None
    try:
        found = roster.member_by_number(db, number)
    except DomainError:
        return None
    return found if found.name == name.strip() else None
