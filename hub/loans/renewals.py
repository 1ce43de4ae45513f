"""Renew a loan: the member who has a tool keeps it for another loan length, when rules allow.

:func:`may_renew` is the one place the rules are asked; each returns the refusal to show, or
None. The rules: the loan is open and undisputed; it is not overdue by more than the policy's
days; it has been renewed fewer times than the policy allows. A renewal moves the due date to
now plus the tool's loan length (never earlier than it was), is recorded as a row of its own,
and is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import Tool, get_tool
from hub.loans import holds
from hub.loans.records import Loan
from hub.members.roster import Member, require_active

LOAN_RENEW = audit.Action("loan.renew", ("due_at",))


@dataclass(frozen=True)
class RenewalPolicy:
    """How far renewing goes: renewals per loan, and days overdue after which it is refused."""

    max_renewals: int = 2
    overdue_days_allowed: int = 3


DEFAULT_RENEWAL_POLICY = RenewalPolicy()


class LoanRenewal(SQLModel, table=True):
    """One renewal of a loan: when, by whom, and the due date before and after."""

    __tablename__ = "loan_renewal"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    renewed_at: datetime
    due_before: datetime
    due_after: datetime


class RenewalRefused(RuleViolation):
    """A rule does not let this loan be renewed now; the message says which."""


# One rule: the refusal to show for this loan now, or None.
Rule = Callable[[Session, Loan, datetime, RenewalPolicy], RenewalRefused | None]


def renewals_of(session: Session, loan_id: int) -> int:
    """Return how many times loan ``loan_id`` was renewed."""
    counted = session.exec(
        select(func.count()).select_from(LoanRenewal).where(LoanRenewal.loan_id == loan_id)
    )
    return int(counted.one())


def _open(
    session: Session, loan: Loan, now: datetime, policy: RenewalPolicy
) -> RenewalRefused | None:
    if loan.returned_at is not None:
        return RenewalRefused("This loan is over: the tool was returned.", field="loan_id")
    if loan.in_conflict:
        return RenewalRefused(
            "A steward is checking this loan; it cannot be renewed until then.", field="loan_id"
        )
    return None


def _not_too_late(
    session: Session, loan: Loan, now: datetime, policy: RenewalPolicy
) -> RenewalRefused | None:
    late = now - as_utc(loan.due_at)
    if late > timedelta(days=policy.overdue_days_allowed):
        return RenewalRefused(
            f"It is {late.days} days overdue; a loan more than {policy.overdue_days_allowed} "
            "days overdue cannot be renewed. Please bring it back.",
            field="loan_id",
        )
    return None


def _renewals_left(
    session: Session, loan: Loan, now: datetime, policy: RenewalPolicy
) -> RenewalRefused | None:
    done = renewals_of(session, loan.id or 0)
    if done >= policy.max_renewals:
        return RenewalRefused(
            f"It was renewed {done} times already, the most a loan may be.", field="loan_id"
        )
    return None


def _nobody_waiting(
    session: Session, loan: Loan, now: datetime, policy: RenewalPolicy
) -> RenewalRefused | None:
    if holds.has_waiting_hold(session, loan.tool_id):
        return RenewalRefused(
            "Another member has a hold on it and is waiting: please bring it back by its due date.",
            field="loan_id",
        )
    return None


RULES: list[Rule] = [_open, _not_too_late, _renewals_left, _nobody_waiting]


def may_renew(
    session: Session,
    loan: Loan,
    *,
    now: datetime | None = None,
    policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
) -> RenewalRefused | None:
    """Return why ``loan`` may not be renewed now (the first rule that refuses), or None."""
    now = as_utc(now or utcnow())
    return next((r for rule in RULES if (r := rule(session, loan, now, policy))), None)


def renewed_due(tool: Tool, loan: Loan, now: datetime) -> datetime:
    """Return the due date a renewal now gives: a loan length from now, never earlier."""
    return max(as_utc(loan.due_at), now + timedelta(days=tool.loan_days))


def renew_loan(
    session: Session,
    member: Member,
    loan_id: int,
    *,
    seen_due: datetime | None = None,
    now: datetime | None = None,
    policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
) -> Loan:
    """Renew ``member``'s own loan ``loan_id``; audited. Refuse another member's loan (as
    unknown), a suspended member, and what :func:`may_renew` refuses.

    ``seen_due`` is the due date the member was shown: if the loan is already due later (the
    same renewal, submitted twice) it is returned as it is, renewed once.
    """
    now = as_utc(now or utcnow())
    loan = session.get(Loan, loan_id)
    if loan is None or loan.member_id != member.id:
        raise NotFound(f"You have no loan {loan_id}.", field="loan_id")
    require_active(member)
    if seen_due is not None and as_utc(loan.due_at) > as_utc(seen_due):
        return loan  # renewed already by the first of two submits
    refusal = may_renew(session, loan, now=now, policy=policy)
    if refusal is not None:
        raise refusal
    tool, done = get_tool(session, loan.tool_id), renewals_of(session, loan.id or 0)
    with audit.audited(session, member, LOAN_RENEW, loan, f"loan:{loan.id}") as notes:
        before = as_utc(loan.due_at)
        loan.due_at = renewed_due(tool, loan, now)
        session.add(loan)
        session.add(
            LoanRenewal(
                loan_id=loan.id or 0,
                member_id=member.id or 0,
                renewed_at=now,
                due_before=before,
                due_after=loan.due_at,
            )
        )
        notes["renewal"] = done + 1
    return loan
