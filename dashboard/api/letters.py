"""Dead letters: what the hub could not take, kept until a steward settles each one by
applying it again or setting it aside (stewards only; audited by ``hub.worker.letters``)."""

from __future__ import annotations

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.queries import fleet
from hub.worker import inbox, letters
from hub.worker.inbox import DeadLetter

from .blueprint import api
from .schemas import ApplyAgain, DeadLetterList, DeadLetterOut, LetterQuery, SetAside

ID = "<int(min=1, max=2147483647):letter_id>"


@api.operation("GET", "/dead-letters", query=LetterQuery, response=DeadLetterList, tag="kiosks")
def list_letters(query: LetterQuery) -> DeadLetterList:
    """List the newest 100 dead letters, newest first, and how many wait for a steward.

    Stewards only.
    """
    with reading() as db:
        rows = inbox.dead_letters(db, limit=100, unsettled=query.waiting_only)
        return DeadLetterList(
            waiting=fleet.dead_letter_count(db), letters=[letter_out(r) for r in rows]
        )


@api.operation(
    "POST",
    f"/dead-letters/{ID}/apply",
    body=ApplyAgain,
    response=DeadLetterOut,
    refusals=(404, 409),
    tag="kiosks",
)
def apply_letter(letter_id: int, body: ApplyAgain) -> DeadLetterOut:
    """Apply a dead letter's kiosk event again, as if it had just arrived.

    A letter already settled is a conflict (409); one the hub still cannot read or still
    refuses is a 422 with the hub's reason, and nothing changes. Stewards only; audited.
    """
    with transaction() as db:
        return letter_out(letters.apply_again(db, acting_member(), letter_id, body.note))


@api.operation(
    "POST",
    f"/dead-letters/{ID}/set-aside",
    body=SetAside,
    response=DeadLetterOut,
    refusals=(404, 409),
    tag="kiosks",
)
def set_letter_aside(letter_id: int, body: SetAside) -> DeadLetterOut:
    """Settle a dead letter without applying it, saying why; its bytes are kept.

    A letter already settled is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        return letter_out(letters.set_aside(db, acting_member(), letter_id, body.note))


def letter_out(letter: DeadLetter) -> DeadLetterOut:
    """Return a dead letter as the API shows it (its bytes stay at the hub)."""
    assert letter.id is not None, "a stored letter has its id"
    return DeadLetterOut(
        id=letter.id,
        received_at=letter.received_at,
        topic=letter.topic,
        kiosk_id=letter.kiosk_id,
        reason=letter.reason,
        settled_at=letter.settled_at,
        settlement=letter.settlement,
    )
