"""Stewards' acts on members' cards: assign one, revoke one, report one lost.

A card is a credential (it opens lockers and checks bookings in), so handing one out or taking it
back is an act on its holder: rank-checked (``hub.members.ranks``) and audited here, in the
caller's transaction, whichever door it came through. Kiosks learn of it from the next
allow-list (a card row is kiosk-visible).
"""

from __future__ import annotations

from typing import Final

from sqlmodel import Session

from hub.errors import NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.members import roster
from hub.members.ranks import Actor, require_may_act_on, require_role
from hub.members.roster import NOTE_MAX, Card, Member, Role, clean_text, get_member

CARD_ASSIGN: Final = audit.Action("card.assign", ("uid", "label", "revoked_at"))
CARD_REVOKE: Final = audit.Action("card.revoke", ("uid", "revoked_at"))
LOST: Final = "lost"


def target_of(member: Member) -> str:
    """Return the audit target of ``member``'s record."""
    return f"member:{member.number}"


def assign_card(
    session: Session, actor: Actor, member_id: int, uid: str, *, label: str | None = None
) -> Card:
    """Give member ``member_id`` the card ``uid`` (any UID spelling); audited.

    A card belongs to one member only: a UID anyone else holds (even revoked) is refused by
    ``uid``. Assigning a member's own live card again changes and records nothing, so a double
    submit is harmless.
    """
    require_role(actor, Role.STEWARD, "assign a card")
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "assign a card to")
    held = _live_card_of(session, member, uid)
    if held is not None:
        return held
    card = roster.new_card(session, member, uid, label=label)
    with audit.audited(session, actor, CARD_ASSIGN, card, target_of(member)):
        session.add(card)
    return card


def revoke_card(
    session: Session, actor: Actor, member_id: int, uid: str, *, reason: str | None = None
) -> Card:
    """Revoke member ``member_id``'s card ``uid`` (stolen, handed back...); its history stays.

    The card must be that member's (else refused by ``uid``); their other cards stay live.
    Revoking a revoked card changes and records nothing. ``reason`` goes to the audit log.
    """
    require_role(actor, Role.STEWARD, "revoke a card")
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "revoke a card of")
    card = roster.card_by_uid(session, uid)
    if card.member_id != member.id:
        raise NotFound(f"Card {card.uid} is not member {member.number}'s.", field="uid")
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    if card.revoked_at is not None:
        return card
    with audit.audited(session, actor, CARD_REVOKE, card, target_of(member)) as notes:
        card.revoked_at = utcnow()
        session.add(card)
        notes.update({"reason": why} if why else {})
    return card


def report_lost(
    session: Session, actor: Actor, member_id: int, uid: str, *, note: str | None = None
) -> Card:
    """Revoke a card its holder lost, with the reason 'lost' (and ``note``, where or when, if
    given); their other cards stay live."""
    where = clean_text(note, "note", limit=NOTE_MAX - len(LOST) - 2, required=False)
    return revoke_card(session, actor, member_id, uid, reason=f"{LOST}: {where}" if where else LOST)


def _live_card_of(session: Session, member: Member, uid: str) -> Card | None:
    """Return ``member``'s live card ``uid`` if they hold it already."""
    try:
        card = roster.card_by_uid(session, uid)
    except NotFound:
        return None
    return card if card.member_id == member.id and card.revoked_at is None else None
