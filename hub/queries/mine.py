"""What is one member's own, as their pages and API read it: loans out, loans past, hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import Tool
from hub.loans.records import Loan
from hub.loans.renewals import RenewalRefused, may_renew, renewals_of
from hub.members.roster import Member
from hub.timebank.gifts import available_to_give
from hub.timebank.ledger import DEFAULT_MEMBER_CREDIT_LIMIT, find_member_account, member_balance


@dataclass(frozen=True)
class MyLoan:
    """A loan of mine with its tool, whether it is overdue, and whether I may renew it."""

    loan: Loan
    tool_code: str
    tool_name: str
    overdue: bool
    renewals: int
    renew_refusal: RenewalRefused | None

    @property
    def renewable(self) -> bool:
        return self.renew_refusal is None


@dataclass(frozen=True)
class MyHours:
    """My timebank account: balance, the lowest it may go, and what I could give now."""

    balance: Decimal
    credit_limit: Decimal | None
    available: Decimal | None


def my_loans(session: Session, member: Member, *, now: datetime | None = None) -> list[MyLoan]:
    """Return ``member``'s open loans, due soonest first, each with its renewal verdict."""
    now = as_utc(now or utcnow())
    query = (
        select(Loan, Tool)
        .join(Tool, col(Tool.id) == Loan.tool_id)
        .where(Loan.member_id == member.id, col(Loan.returned_at).is_(None))
        .order_by(col(Loan.due_at), col(Loan.id))
    )
    return [
        MyLoan(
            loan,
            tool.code,
            tool.name,
            as_utc(loan.due_at) < now,
            renewals_of(session, loan.id or 0),
            may_renew(session, loan, now=now),
        )
        for loan, tool in session.exec(query)
    ]


def my_history(session: Session, member: Member, *, limit: int = 100) -> list[tuple[Loan, Tool]]:
    """Return ``member``'s returned loans with their tools, latest return first."""
    query = (
        select(Loan, Tool)
        .join(Tool, col(Tool.id) == Loan.tool_id)
        .where(Loan.member_id == member.id, col(Loan.returned_at).is_not(None))
        .order_by(col(Loan.returned_at).desc(), col(Loan.id).desc())
        .limit(limit)
    )
    return [(loan, tool) for loan, tool in session.exec(query)]


def my_hours(session: Session, member: Member) -> MyHours:
    """Return ``member``'s balance, credit limit and the hours they could give now."""
    account = find_member_account(session, member.id or 0)
    limit = account.credit_limit if account else DEFAULT_MEMBER_CREDIT_LIMIT
    return MyHours(
        member_balance(session, member.id or 0), limit, available_to_give(session, member)
    )
