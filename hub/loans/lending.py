"""Lend a tool on the hub (stewards, the demo): every rule of the commons checked first.

A kiosk's loan is a fact already decided at the locker; it goes through ``kiosk`` instead, which
shares this module's loan builder so both paths date and store a loan the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.errors import ToolUnavailable
from hub.infra.clock import utcnow
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.loans import holds, policy
from hub.loans.records import Loan as Loan
from hub.loans.records import ReturnCondition as ReturnCondition
from hub.loans.records import UnmatchedReturn as UnmatchedReturn
from hub.loans.records import open_loan as open_loan
from hub.loans.returning import return_tool as return_tool
from hub.maintenance.plans import require_service_not_overdue
from hub.members.roster import Member, get_member, require_active, require_training


def lend_tool(
    session: Session,
    *,
    tool_id: int,
    member_id: int,
    kiosk_id: str | None = None,
    event_id: str | None = None,
    now: datetime | None = None,
) -> Loan:
    """Lend a tool to a member, checking every rule of the commons first (the borrowing
    policy, and a tool kept for another member's hold, included); the member's own hold on
    it is collected."""
    now = now or utcnow()
    member, tool = get_member(session, member_id), get_tool(session, tool_id)
    require_active(member)
    require_lendable(session, tool)
    require_service_not_overdue(session, tool, now=now)
    require_training(session, member, tool.training_id, now=now)
    policy.require_may_borrow(session, member, now)
    require_not_kept_for_another(session, tool, member, now)
    loan = new_loan(
        tool,
        member.id,
        out_at=now,
        kiosk_id=kiosk_id,
        event_id=event_id,
        loan_days=policy.loan_days_for(session, tool),
    )
    try:
        add_standing_loan(session, tool, loan)
    except IntegrityError:
        # Another transaction lent it between our check and our insert.
        raise ToolUnavailable(f"Tool {tool.code} was just lent to someone else.") from None
    holds.loan_made(session, loan, at=now)
    return loan


def require_not_kept_for_another(
    session: Session, tool: Tool, member: Member, now: datetime
) -> None:
    """Refuse a tool kept for another member's hold, saying until when."""
    kept = holds.reservations(session, now).get(tool.code)
    if kept is not None and kept.member_number != member.number:
        raise ToolUnavailable(
            f"Tool {tool.code} is reserved for member {kept.member_number} until "
            f"{kept.until:%Y-%m-%d %H:%M}Z.",
            field="tool_id",
        )


def new_loan(
    tool: Tool,
    member_id: int,
    *,
    out_at: datetime,
    kiosk_id: str | None = None,
    event_id: str | None = None,
    due_from: datetime | None = None,
    loan_days: int | None = None,
) -> Loan:
    """Return a loan of ``tool`` (not yet stored), due ``loan_days`` (the policy's length; by
    default the tool's own) after ``due_from`` (the hub's time of the loan; by default
    ``out_at``)."""
    assert tool.id is not None
    return Loan(
        tool_id=tool.id,
        member_id=member_id,
        kiosk_id=kiosk_id,
        out_at=out_at,
        due_at=(due_from or out_at) + timedelta(days=loan_days or tool.loan_days),
        event_id=event_id,
    )


def add_standing_loan(session: Session, tool: Tool, loan: Loan) -> None:
    """Store ``loan`` as the tool's one standing loan, in a savepoint so a lost race (the
    database's unique index) leaves the session usable; raises IntegrityError then."""
    with session.begin_nested():
        place_standing_loan(session, tool, loan)


def place_standing_loan(session: Session, tool: Tool, loan: Loan) -> None:
    """Add ``loan`` as the tool's one standing loan and mark the tool on loan, with no
    savepoint: a lost race fails the caller's next flush (IntegrityError), transaction and all.
    """
    if tool.status == ToolStatus.AVAILABLE:
        tool.status = ToolStatus.ON_LOAN
    session.add_all([loan, tool])


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
