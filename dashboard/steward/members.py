"""Members: find them, see their standing, manage cards and trainings, suspend and reinstate,
change their roles (who may act on whom, and the audit of it, are the hub's: ``standing``).

Suspension, cards and trainings reach the kiosks by themselves: every change moves the sync
version (``hub.sync``) and the allow-list publisher sends the new list.
"""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from flask.typing import ResponseReturnValue

from dashboard.auditing import record_change
from dashboard.auth import acting_member, current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text, snapshot
from hub.errors import NotFound
from hub.members import credentials, roster, standing
from hub.members.roster import Role
from hub.queries import claims as claim_rows
from hub.queries import loans
from hub.queries import members as member_rows
from hub.timebank import ledger

bp = Blueprint("steward_members", __name__, url_prefix="/steward")
NAV = (NavLink("steward_members.member_list", "Members"),)


@bp.get("/members")
@steward_required
def member_list() -> str:
    """List members (the first hundred), or those whose name or number matches the search."""
    search = request.args.get("q", "").strip()
    with reading() as db:
        found = member_rows.find_members(db, search or None, limit=100)
    return render_template("steward/members.html", members=found, q=search)


@bp.get("/members/<int:member_id>")
@steward_required
def member(member_id: int) -> str:
    """Show one member: status, cards, trainings, open loans, claims and balance."""
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
        )
    return render_template("steward/member.html", **page)


@bp.post("/members/<int:member_id>/suspend")
@steward_required
def suspend(member_id: int) -> ResponseReturnValue:
    """Suspend a member with a reason; the kiosks refuse their cards from the next allow-list."""
    with transaction() as db:
        person = standing.suspend_member(
            db, acting_member(), member_id, request.form.get("reason", "")
        )
    flash(f"Member {person.number} ({person.name}) suspended.")
    return back("steward_members.member_list", q=person.number)


@bp.post("/members/<int:member_id>/reinstate")
@steward_required
def reinstate(member_id: int) -> ResponseReturnValue:
    """Make a suspended member active again."""
    with transaction() as db:
        person = standing.reinstate_member(db, acting_member(), member_id)
    flash(f"Member {person.number} ({person.name}) is active again.")
    return back("steward_members.member_list", q=person.number)


@bp.post("/members/<int:member_id>/roles")
@steward_required
def change_roles(member_id: int) -> ResponseReturnValue:
    """Give a member exactly the ticked roles (the hub refuses what outranks the steward)."""
    ticked = [role.value for role in Role if request.form.get(f"role_{role.value}")]
    with transaction() as db:
        person = standing.set_roles(db, acting_member(), member_id, ticked)
    flash(f"Member {person.number} ({person.name}) now holds: {person.roles}.")
    return back("steward_members.member", member_id=member_id)


@bp.post("/members/<int:member_id>/cards")
@steward_required
def assign_card(member_id: int) -> ResponseReturnValue:
    """Give a member a card by its UID, with an optional label."""
    with transaction() as db:
        person = roster.get_member(db, member_id)
        card = roster.assign_card(db, member_id, form_text("uid"), label=form_text("label") or None)
        record_change(db, "card.assign", _target(person), None, snapshot(card))
    flash(f"Card {card.uid} now belongs to member {person.number} ({person.name}).")
    return back("steward_members.member", member_id=member_id)


@bp.post("/members/<int:member_id>/cards/revoke")
@steward_required
def revoke_card(member_id: int) -> ResponseReturnValue:
    """Revoke one of a member's cards (lost, stolen, returned); its history stays."""
    with transaction() as db:
        person = roster.get_member(db, member_id)
        card = roster.card_by_uid(db, form_text("uid"))
        if card.member_id != person.id:
            raise NotFound(f"Card {card.uid} is not member {person.number}'s.", field="uid")
        before = snapshot(card, "uid", "revoked_at")
        roster.revoke_card(db, card.uid)
        record_change(
            db, "card.revoke", _target(person), before, snapshot(card, "uid", "revoked_at")
        )
    flash(f"Card {card.uid} of member {person.number} revoked.")
    return back("steward_members.member", member_id=member_id)


@bp.post("/members/<int:member_id>/trainings")
@steward_required
def grant_training(member_id: int) -> ResponseReturnValue:
    """Record that a member passed a training (renewing moves its expiry on)."""
    code = form_text("training")
    with transaction() as db:
        person = roster.get_member(db, member_id)
        before = snapshot(member_rows.training_held(db, member_id, code))
        held = roster.grant_training(db, member_id, code, granted_by=current_member().id)
        record_change(db, "training.grant", _target(person), before, snapshot(held))
    flash(f"Member {person.number} ({person.name}) holds the {code} training.")
    return back("steward_members.member", member_id=member_id)


@bp.post("/members/<int:member_id>/pin/reset")
@steward_required
def reset_pin(member_id: int) -> ResponseReturnValue:
    """Forget a member's tablet PIN (audited by the hub); they set a new one after a card tap."""
    with transaction() as db:
        person = credentials.reset_pin(db, acting_member(), member_id)
    flash(f"The PIN of member {person.number} is reset: they set a new one after a card tap.")
    return back("steward_members.member", member_id=member_id)


def _target(person: roster.Member) -> str:
    return f"member:{person.number}"
