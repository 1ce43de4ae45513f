"""Which mail a member wants: every kind is on until the member turns it off on /me."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel

from hub.errors import InvalidInput
from hub.infra.clock import utcnow
from hub.members.roster import Member


class MailKind(StrEnum):
    """A kind of mail the hub sends; each one a member may turn off."""

    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"
    HOLD_READY = "hold_ready"
    BOOKING_TOMORROW = "booking_tomorrow"
    CLAIM_DECIDED = "claim_decided"
    BOOKING_PAUSED = "booking_paused"
    FIX_REQUEST = "fix_request"


# What each kind is called where a member chooses (plain words, the member's side).
KIND_LABELS: dict[MailKind, str] = {
    MailKind.DUE_TOMORROW: "A tool I borrowed is due back tomorrow",
    MailKind.OVERDUE: "A tool I borrowed is overdue (then once a week)",
    MailKind.HOLD_READY: "A tool I put a hold on is ready to collect",
    MailKind.BOOKING_TOMORROW: "I have a machine booked tomorrow",
    MailKind.CLAIM_DECIDED: "My repair claim was approved or declined",
    MailKind.BOOKING_PAUSED: "My booking rights were paused",
    MailKind.FIX_REQUEST: "A broken tool matches my skills and a steward asks for help",
}


class MailChoice(SQLModel, table=True):
    """The kinds of mail a member turned off (no row: they get every kind)."""

    __tablename__ = "mail_choice"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    # Space-separated MailKind values; stored as "off" so a new kind reaches everyone.
    kinds_off: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


def parse_kind(value: str) -> MailKind:
    """Return the mail kind ``value`` names, or refuse it naming the kinds there are."""
    try:
        return MailKind(value)
    except ValueError:
        known = ", ".join(kind.value for kind in MailKind)
        raise InvalidInput(
            f"Unknown reminder {value!r}; there are {known}.", field="kinds"
        ) from None


def kinds_wanted(session: Session, member_id: int) -> frozenset[MailKind]:
    """Return the kinds of mail member ``member_id`` gets."""
    row = session.get(MailChoice, member_id)
    off = set(row.kinds_off.split()) if row else set()
    return frozenset(kind for kind in MailKind if kind.value not in off)


def wants(session: Session, member: Member, kind: MailKind) -> bool:
    """Tell whether ``member`` gets mail of ``kind`` (and has an address to get it at)."""
    return bool(member.email) and kind in kinds_wanted(session, member.id or 0)


def choose_kinds(
    session: Session, member: Member, wanted: list[str], *, now: datetime | None = None
) -> frozenset[MailKind]:
    """Keep exactly ``wanted`` as the kinds ``member`` gets (an empty list turns all off)."""
    chosen = frozenset(parse_kind(value) for value in wanted)
    row = session.get(MailChoice, member.id) or MailChoice(member_id=member.id or 0)
    row.kinds_off = " ".join(kind.value for kind in MailKind if kind not in chosen)
    row.updated_at = now or utcnow()
    session.add(row)
    session.flush()
    return chosen
