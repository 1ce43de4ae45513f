"""Stewards' acts on members' trainings: grant one (with an expiry date if it has one), revoke one.

A training gates tools and machines, at the kiosk and the tablet, so granting or taking one away
is a steward's act, audited here in the caller's transaction whichever door it came through.
Kiosks learn of it from the next allow-list (a member's trainings are kiosk-visible).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlmodel import Session

from hub.errors import InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import LATEST_DAY, utcnow
from hub.members import roster
from hub.members.ranks import Actor, actor_id, require_role
from hub.members.roster import (
    NOTE_MAX,
    MemberTraining,
    Role,
    clean_text,
    get_member,
    training_by_code,
)

TRAINING_GRANT: Final = audit.Action("training.grant", ("training_id", "expires_at", "granted_by"))
TRAINING_REVOKE: Final = audit.Action("training.revoke", ("training_id", "expires_at"))


def grant_training(
    session: Session,
    actor: Actor,
    member_id: int,
    code: str,
    *,
    expires_on: date | None = None,
    now: datetime | None = None,
) -> MemberTraining:
    """Record that a member passed training ``code``, valid to the end of ``expires_on`` (UTC)
    if given, else for the training's own ``valid_days``; audited.

    Granting a held training renews it: the expiry moves to the new one. An expiry date must be
    after today (refused by ``expires_on``).
    """
    require_role(actor, Role.STEWARD, "grant a training")
    member, training = get_member(session, member_id), training_by_code(session, code)
    now = now or utcnow()
    if expires_on is not None:
        expires_at: datetime | None = _end_of(expires_on, now)
    else:
        expires_at = now + timedelta(days=training.valid_days) if training.valid_days else None
    held = roster.training_held_by(session, member, training)
    row = held or MemberTraining(member_id=member.id, training_id=training.id)
    with audit.audited(session, actor, TRAINING_GRANT, row, f"member:{member.number}") as notes:
        row.granted_at, row.expires_at, row.granted_by = now, expires_at, actor_id(actor)
        session.add(row)
        notes["training"] = training.code
    return row


def revoke_training(
    session: Session, actor: Actor, member_id: int, code: str, *, reason: str | None = None
) -> None:
    """Take training ``code`` away from a member (an induction found wanting); audited, with
    ``reason`` if given.

    The holding is deleted: the audit entry keeps when it would have expired. A training the
    member does not hold is refused by ``training``.
    """
    require_role(actor, Role.STEWARD, "revoke a training")
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    member, training = get_member(session, member_id), training_by_code(session, code)
    held = roster.training_held_by(session, member, training)
    if held is None:
        raise NotFound(
            f"Member {member.number} does not hold the {training.code} training.", field="training"
        )
    with audit.audited(session, actor, TRAINING_REVOKE, held, f"member:{member.number}") as notes:
        notes.update(training=training.code, revoked=True)
        notes.update({"reason": why} if why else {})
        session.delete(held)


def _end_of(day: date, now: datetime) -> datetime:
    """Return the last second of ``day`` in UTC; refuse a day that is not after today."""
    if not now.date() < day <= LATEST_DAY:
        raise InvalidInput(
            f"The expiry date {day:%Y-%m-%d} must be after today ({now:%Y-%m-%d}) and no later "
            f"than {LATEST_DAY:%Y-%m-%d}.",
            field="expires_on",
        )
    return datetime.combine(day, time(23, 59, 59), UTC)
