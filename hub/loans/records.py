"""The loan records: a loan, a return still waiting for its loan, and how to read them.

Nothing here changes a loan; ``lending``, ``returning``, ``kiosk`` and ``corrections`` do. Other
rooms (maintenance counts loans, opens tickets on them) import this module only, so the loan
lifecycle can use their rules without an import cycle.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, Session, SQLModel, select

from hub.infra.sync import KioskVisible
from hub.members.roster import NOTE_MAX

# A tool's standing loan: open, and not a conflict still waiting for a steward.
STANDING_LOAN = text("returned_at IS NULL AND NOT in_conflict")
OPEN_LOAN = text("returned_at IS NULL")
REASON_MAX = 300


class ReturnCondition(StrEnum):
    OK = "ok"
    NEEDS_REPAIR = "needs_repair"


class Loan(SQLModel, KioskVisible, table=True):
    """A tool out with a member: from a kiosk's ``loan_out`` or a steward's lend on the hub.

    A loan is closed (``returned_at``) only by a return or by a steward's recorded correction
    (``corrected_by`` and ``correction_reason``). A kiosk's loan of a tool the hub already has
    on loan to someone is kept as a *conflict* (``in_conflict``, ``conflict_of`` the loan it
    collided with) until a steward resolves it; the earlier loan stays open meanwhile.

    Kiosk-visible: every open loan is listed in the allow-list under its borrower, so every
    kiosk knows the tool is out (a conflict too, which leaves the tool's status unchanged).
    """

    # The database itself guarantees a tool has one standing loan at a time.
    __table_args__ = (
        Index(
            "uq_loan_open_tool",
            "tool_id",
            unique=True,
            sqlite_where=STANDING_LOAN,
            postgresql_where=STANDING_LOAN,
        ),
        # Every open loan, conflicts included: the lists of what is out read only these.
        Index("ix_loan_open", "tool_id", sqlite_where=OPEN_LOAN, postgresql_where=OPEN_LOAN),
        # A tool's history and the dashboard's "most borrowed" read loans by tool and time.
        Index("ix_loan_tool_out_at", "tool_id", "out_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kiosk_id: str | None = Field(default=None, foreign_key="kiosk.id", max_length=32)
    out_at: datetime = Field(index=True)
    due_at: datetime = Field(index=True)
    returned_at: datetime | None = None
    return_kiosk_id: str | None = Field(default=None, foreign_key="kiosk.id", max_length=32)
    return_condition: str | None = Field(default=None, max_length=16)
    return_note: str | None = Field(default=None, max_length=NOTE_MAX)
    event_id: str | None = Field(default=None, max_length=36)
    # Where the loan_out stood in its kiosk's sequence (None: lent on the hub).
    seq: int | None = None
    seq_epoch: int | None = None
    return_event_id: str | None = Field(default=None, max_length=36)
    # Conflicts: this loan collided with loan ``conflict_of``; a steward resolves it.
    in_conflict: bool = Field(default=False, index=True)
    conflict_of: int | None = Field(default=None, foreign_key="loan.id")
    conflict_resolved_at: datetime | None = None
    conflict_resolved_by: int | None = Field(default=None, foreign_key="member.id")
    conflict_resolution: str | None = Field(default=None, max_length=REASON_MAX)
    # A steward's correction that ended the loan without a return.
    corrected_by: int | None = Field(default=None, foreign_key="member.id")
    correction_reason: str | None = Field(default=None, max_length=REASON_MAX)
    # Set when a return stamped before the loan began was clamped to its start.
    clock_note: str | None = Field(default=None, max_length=REASON_MAX)
    # Set when a kiosk lent to a member its site does not allow (a stale allow-list): the loan
    # is a fact all the same; stewards see the note (``hub.inventory.sites``).
    site_note: str | None = Field(default=None, max_length=REASON_MAX)


class UnmatchedReturn(SQLModel, table=True):
    """A kiosk return the hub could not pair with a loan yet: its loan has not arrived (events
    overtake each other across reconnects and kiosks), or it fits no open loan. The loan, when
    it arrives, is closed by it; one that never comes stays here for stewards to see."""

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    kiosk_id: str | None = Field(default=None, foreign_key="kiosk.id", max_length=32)
    returned_at: datetime
    condition: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    event_id: str | None = Field(default=None, max_length=36)
    seq: int | None = None
    seq_epoch: int | None = None


def open_loan(session: Session, tool_id: int) -> Loan | None:
    """Return the tool's standing loan (open, not a conflict), if it is out."""
    return session.exec(
        select(Loan).where(
            Loan.tool_id == tool_id, Loan.returned_at.is_(None), Loan.in_conflict.is_(False)
        )
    ).first()


def open_loans_of_tool(session: Session, tool_id: int) -> list[Loan]:
    """Return every open loan of the tool, conflicts included, oldest first."""
    query = (
        select(Loan)
        .where(Loan.tool_id == tool_id, Loan.returned_at.is_(None))
        .order_by(Loan.out_at, Loan.id)
    )
    return list(session.exec(query))


def unresolved_conflicts(session: Session) -> list[Loan]:
    """Return the loans in conflict that no steward has resolved yet, oldest first."""
    query = select(Loan).where(Loan.in_conflict.is_(True)).order_by(Loan.out_at, Loan.id)
    return list(session.exec(query))
