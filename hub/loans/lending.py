"""Loans: a tool goes out to a member and comes back."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import InvalidInput, NotFound, ToolUnavailable
from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.members.roster import (
    NOTE_MAX,
    Member,
    clean_text,
    get_member,
    require_active,
    require_training,
)

OPEN_LOAN = text("returned_at IS NULL")


class ReturnCondition(StrEnum):
    OK = "ok"
    NEEDS_REPAIR = "needs_repair"


class Loan(SQLModel, table=True):
    # The database itself guarantees a tool is never on two open loans.
    __table_args__ = (
        Index(
            "uq_loan_open_tool",
            "tool_id",
            unique=True,
            sqlite_where=OPEN_LOAN,
            postgresql_where=OPEN_LOAN,
        ),
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


def lend_tool(
    session: Session,
    *,
    tool_id: int,
    member_id: int,
    kiosk_id: str | None = None,
    event_id: str | None = None,
    now: datetime | None = None,
) -> Loan:
    """Lend a tool to a member, checking every rule of the commons first."""
    now = now or utcnow()
    member, tool = get_member(session, member_id), get_tool(session, tool_id)
    require_active(member)
    require_lendable(session, tool)
    # NOTE: imported here, not at the top, because hub.maintenance builds on this module.
    from hub.maintenance.plans import require_service_not_overdue

    require_service_not_overdue(session, tool, now=now)
    require_training(session, member, tool.training_id, now=now)
    loan = Loan(
        tool_id=tool.id,
        member_id=member.id,
        kiosk_id=kiosk_id,
        out_at=now,
        due_at=now + timedelta(days=tool.loan_days),
        event_id=event_id,
    )
    try:
        with session.begin_nested():  # a savepoint, so a lost race leaves the session usable
            tool.status = ToolStatus.ON_LOAN
            session.add_all([loan, tool])
    except IntegrityError:
        # Another transaction lent it between our check and our insert.
        raise ToolUnavailable(f"Tool {tool.code} was just lent to someone else.") from None
    return loan


def require_lendable(session: Session, tool: Tool) -> None:
    """Refuse a tool that is on loan, out of service or retired, saying which."""
    if tool.status == ToolStatus.AVAILABLE:
        return
    if tool.status == ToolStatus.ON_LOAN:
        loan = open_loan(session, tool.id)
        holder = session.get(Member, loan.member_id) if loan else None
        until = f", due back {loan.due_at:%Y-%m-%d}" if loan else ""
        who = f" to member {holder.number}" if holder else ""
        raise ToolUnavailable(f"Tool {tool.code} is on loan{who}{until}.")
    why = f": {tool.status_reason}" if tool.status_reason else ""
    raise ToolUnavailable(f"Tool {tool.code} is {tool.status.replace('_', ' ')}{why}.")


def open_loan(session: Session, tool_id: int) -> Loan | None:
    """Return the tool's open loan, if it is out."""
    return session.exec(
        select(Loan).where(Loan.tool_id == tool_id, Loan.returned_at.is_(None))
    ).first()


def return_tool(
    session: Session,
    *,
    tool_id: int,
    condition: str = ReturnCondition.OK,
    note: str | None = None,
    kiosk_id: str | None = None,
    now: datetime | None = None,
) -> Loan:
    """Close a tool's open loan with the one-question condition check."""
    tool = get_tool(session, tool_id)
    loan = open_loan(session, tool.id)
    if loan is None:
        raise NotFound(f"Tool {tool.code} is not on loan.", field="tool_id")
    condition = _parse_condition(condition)
    note = clean_text(
        note, "note", limit=NOTE_MAX, required=condition == ReturnCondition.NEEDS_REPAIR
    )
    loan.returned_at, loan.return_kiosk_id = now or utcnow(), kiosk_id
    loan.return_condition, loan.return_note = condition, note
    if tool.status == ToolStatus.ON_LOAN:
        tool.status = ToolStatus.AVAILABLE
    session.add_all([loan, tool])
    session.flush()
    return loan


def _parse_condition(value: str) -> ReturnCondition:
    """Return the return condition or refuse it by name."""
    try:
        return ReturnCondition(value)
    except ValueError:
        raise InvalidInput(
            f"Condition {value!r} must be 'ok' or 'needs_repair'.", field="condition"
        ) from None


class UnmatchedReturn(SQLModel, table=True):
    """A kiosk return that reached the hub before the loan it closes (events can overtake
    each other across reconnects and kiosks); the loan, when it arrives, is closed by it."""

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    kiosk_id: str | None = Field(default=None, foreign_key="kiosk.id", max_length=32)
    returned_at: datetime
    condition: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    event_id: str | None = Field(default=None, max_length=36)


def record_unmatched_return(session: Session, **fields: Any) -> UnmatchedReturn:
    """Keep a return whose loan has not arrived yet."""
    early = UnmatchedReturn(**fields)
    session.add(early)
    return early


def take_unmatched_return(
    session: Session, tool_id: int, *, after: datetime
) -> UnmatchedReturn | None:
    """Remove and return the earliest waiting return of the tool made at or after ``after``."""
    early = session.exec(
        select(UnmatchedReturn)
        .where(UnmatchedReturn.tool_id == tool_id, UnmatchedReturn.returned_at >= after)
        .order_by(UnmatchedReturn.returned_at)
    ).first()
    if early is not None:
        session.delete(early)
    return early
