"""A steward settles each dead letter: apply it again, or set it aside with a note.

A message becomes a dead letter when the hub cannot take it: a payload no version of the wire
can read, a kiosk the hub has not registered, or an event the hub failed to apply (a bug, a
rule it broke). The kiosk is told ``rejected`` and moves on, so the letter holds the only copy:
nothing is lost as long as a person can still act on it. Applying again decodes the kept bytes
afresh and applies the event as if it had just arrived (late events are paired as usual,
``hub.worker.sequence``); a refusal changes nothing and says why. Each settlement is audited.
"""

from __future__ import annotations

from sqlmodel import Session

from broker.inbound import KioskEvent, Undecodable, from_kiosk
from hub.errors import Conflict, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory.registry import Kiosk
from hub.members.ranks import Actor, require_role
from hub.members.roster import NOTE_MAX, Role, clean_text
from hub.worker import trust
from hub.worker.events import apply_events
from hub.worker.inbox import DEAD_LETTER_APPLY, DEAD_LETTER_SET_ASIDE, DeadLetter


def get_letter(session: Session, letter_id: int) -> DeadLetter:
    """Return dead letter ``letter_id`` or refuse."""
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise NotFound(f"Dead letter {letter_id} does not exist.", field="letter_id")
    return letter


def apply_again(
    session: Session, actor: Actor, letter_id: int, note: str | None = None
) -> DeadLetter:
    """Apply a dead letter's event now, as if it had just arrived; settle it (with ``note``,
    e.g. what was fixed), audited.

    Refuse, changing nothing, a letter already settled, one that is not a kiosk event the hub
    can read, and an event the hub still refuses (its reason is the refusal's).
    """
    require_role(actor, Role.STEWARD, "apply a dead letter again")
    letter = _unsettled(session, letter_id)
    event = _readable_event(session, letter)
    (outcome,) = apply_events(session, [event.event], isolate=True)
    if outcome.status == "rejected":
        # NOTE: raising rolls back the rejected inbox row with the caller's transaction, so
        # the letter stays the one record of the event, still waiting.
        raise RuleViolation(f"The hub still refuses it: {outcome.reason}", field="letter_id")
    with audit.audited(session, actor, DEAD_LETTER_APPLY, letter, f"dead_letter:{letter_id}"):
        why = clean_text(note, "note", limit=NOTE_MAX, required=False)
        _settle(letter, actor, f"applied again ({outcome.status})" + (f": {why}" if why else ""))
        session.add(letter)
    return letter


def set_aside(session: Session, actor: Actor, letter_id: int, note: str) -> DeadLetter:
    """Settle a dead letter without applying it (a test message, a kiosk long retired), saying
    why; audited. The bytes are kept."""
    require_role(actor, Role.STEWARD, "set a dead letter aside")
    why = clean_text(note, "note", limit=NOTE_MAX)
    letter = _unsettled(session, letter_id)
    with audit.audited(session, actor, DEAD_LETTER_SET_ASIDE, letter, f"dead_letter:{letter_id}"):
        _settle(letter, actor, f"set aside: {why}")
        session.add(letter)
    return letter


def _unsettled(session: Session, letter_id: int) -> DeadLetter:
    letter = get_letter(session, letter_id)
    if letter.settled_at is not None:
        raise Conflict(
            f"Dead letter {letter_id} was settled already: {letter.settlement}", field="letter_id"
        )
    return letter


def _readable_event(session: Session, letter: DeadLetter) -> KioskEvent:
    """Decode the letter's bytes afresh; refuse what is not a registered kiosk's event."""
    message = from_kiosk(letter.topic, letter.payload)
    if isinstance(message, Undecodable):
        raise RuleViolation(f"The hub still cannot read it: {message.reason}", field="letter_id")
    if not isinstance(message, KioskEvent):
        raise RuleViolation(
            "Only a kiosk's event can be applied again; set this one aside.", field="letter_id"
        )
    kiosk = session.get(Kiosk, message.where.kiosk_id)
    refusal = trust.kiosk_refusal(session, message.where, kiosk)
    if refusal is not None:
        raise RuleViolation(f"The hub still refuses it: {refusal}", field="letter_id")
    return message


def _settle(letter: DeadLetter, actor: Actor, settlement: str) -> None:
    letter.settled_at, letter.settled_by = utcnow(), actor.id
    letter.settlement = settlement[:600]
