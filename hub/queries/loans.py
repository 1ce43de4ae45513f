"""Loans as people read them: what is out, what is overdue, a member's loans, a tool's history,
the conflicts a steward must resolve and the returns still waiting for their loan."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, select

from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import Tool
from hub.loans.records import Loan, UnmatchedReturn, unresolved_conflicts
from hub.members.roster import Member


class LoanRow(NamedTuple):
    """A loan with its tool and borrower spelled out."""

    loan: Loan
    tool_code: str
    tool_name: str
    member_number: str
    member_name: str


class HistoryRow(NamedTuple):
    """A loan in a tool's open history: the borrower by member number only, never by name."""

    loan: Loan
    member_number: str


def open_loans(session: Session) -> list[LoanRow]:
    """Return every open loan, due soonest first, with tool and borrower."""
    return _open_loans(session, true())


def overdue_loans(session: Session, *, now: datetime | None = None) -> list[LoanRow]:
    """Return open loans past due, most overdue first, with tool and borrower."""
    now = now or utcnow()
    # NOTE: filtered here, not in SQL: given "due_at < now", SQLite walks the due_at index
    # over every loan ever made; open loans alone (about one per tool) come from the partial
    # index on open loans.
    return [row for row in open_loans(session) if as_utc(row.loan.due_at) < now]


def open_loans_of_member(session: Session, member_id: int) -> list[LoanRow]:
    """Return a member's open loans, due soonest first."""
    return _open_loans(session, Loan.member_id == member_id)


def _open_loans(session: Session, condition: ColumnElement[bool]) -> list[LoanRow]:
    # NOTE: open loans number about one per tool (a conflict adds one); the filter on
    # returned_at lets both backends read them through the partial index on open loans.
    query = (
        select(Loan, Tool.code, Tool.name, Member.number, Member.name)
        .join(Tool, Tool.id == Loan.tool_id)
        .join(Member, Member.id == Loan.member_id)
        .where(Loan.returned_at.is_(None), condition)
    )
    # Sorted here: ORDER BY due_at would tempt SQLite to walk the whole due_at index.
    rows = (LoanRow(*row) for row in session.exec(query))
    return sorted(rows, key=lambda row: (as_utc(row.loan.due_at), row.loan.id))


def loan_history(session: Session, tool_id: int) -> list[HistoryRow]:
    """Return a tool's loans with the borrower's member number (not name), newest first."""
    query = (
        select(Loan, Member.number)
        .join(Member, Loan.member_id == Member.id)
        .where(Loan.tool_id == tool_id)
        .order_by(Loan.out_at.desc())
    )
    return [HistoryRow(*row) for row in session.exec(query)]


class ConflictRow(NamedTuple):
    """A loan a kiosk reported while the hub had the tool on loan to someone: both loans."""

    loan: Loan
    tool_code: str
    member_number: str
    member_name: str
    earlier: Loan | None
    earlier_member_number: str | None

    @property
    def summary(self) -> str:
        """Say what collided, as a steward reads it on the dashboard."""
        where = f" at {self.loan.kiosk_id}" if self.loan.kiosk_id else ""
        if self.earlier is None:
            return f"{self.tool_code} taken by {self.member_number}{where}"
        since = as_utc(self.earlier.out_at)
        return (
            f"{self.tool_code} taken by {self.member_number}{where} while on loan to "
            f"{self.earlier_member_number} since {since:%Y-%m-%d %H:%M}Z: check the locker"
        )


class WaitingReturn(NamedTuple):
    """A kiosk return the hub has not paired with a loan (yet)."""

    back: UnmatchedReturn
    tool_code: str
    member_number: str


def conflicts(session: Session) -> list[ConflictRow]:
    """Return the loans in conflict no steward has resolved, oldest first, with both sides."""
    rows = []
    for loan in unresolved_conflicts(session):
        tool, member = session.get(Tool, loan.tool_id), session.get(Member, loan.member_id)
        earlier = session.get(Loan, loan.conflict_of) if loan.conflict_of else None
        holder = session.get(Member, earlier.member_id) if earlier else None
        rows.append(
            ConflictRow(
                loan,
                tool.code if tool else "?",
                member.number if member else "?",
                member.name if member else "?",
                earlier,
                holder.number if holder else None,
            )
        )
    return rows


def waiting_returns(session: Session) -> list[WaitingReturn]:
    """Return the kiosk returns not paired with a loan, oldest first."""
    query = (
        select(UnmatchedReturn, Tool.code, Member.number)
        .join(Tool, Tool.id == UnmatchedReturn.tool_id)
        .join(Member, Member.id == UnmatchedReturn.member_id)
        .order_by(UnmatchedReturn.returned_at)
    )
    return [WaitingReturn(*row) for row in session.exec(query)]
