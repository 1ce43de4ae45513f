"""A steward's corrections: end a loan that has no return, or resolve a conflict; each with a
reason, by a named steward, audited in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlmodel import Session

from hub.errors import Conflict, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.loans.records import REASON_MAX, Loan, ReturnCondition, open_loan
from hub.loans.returning import Returned, close_loan
from hub.members.roster import Member, Role, clean_text, get_member, require_active

Keep = Literal["new", "earlier"]
AUDITED = (
    "returned_at",
    "corrected_by",
    "correction_reason",
    "in_conflict",
    "conflict_resolved_by",
    "conflict_resolution",
)


def get_loan(session: Session, loan_id: int) -> Loan:
    """Return loan ``loan_id`` or refuse naming it."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(f"Loan {loan_id} does not exist.", field="loan_id")
    return loan


def end_loan(
    session: Session,
    *,
    loan_id: int,
    steward_id: int,
    reason: str,
    now: datetime | None = None,
) -> Loan:
    """End an open loan that no return will close (lost, or settled in person), at the hub's
    time, saying why; the audit log keeps who and what it was before."""
    steward, reason = _steward(session, steward_id), _reason(reason)
    loan = get_loan(session, loan_id)
    if loan.returned_at is not None:
        raise Conflict(f"Loan {loan_id} is already closed.", field="loan_id")
    before = audit.snapshot(loan, *AUDITED)
    _close_by_correction(session, loan, steward, reason, now or utcnow())
    _audit(session, steward, "loan.correct", loan, before)
    return loan


def resolve_conflict(
    session: Session,
    *,
    loan_id: int,
    steward_id: int,
    keep: Keep,
    reason: str,
    now: datetime | None = None,
) -> Loan:
    """Resolve the conflict of loan ``loan_id`` after checking the locker and the people.

    ``keep="new"``: the conflicting loan is the true one; the earlier loan, if still open, ends
    by correction now. ``keep="earlier"``: the conflicting loan never happened as reported; it
    ends by correction where it began. Either way the reason is recorded and audited.
    """
    steward, reason = _steward(session, steward_id), _reason(reason)
    loan = get_loan(session, loan_id)
    if not loan.in_conflict:
        raise Conflict(f"Loan {loan_id} is not in conflict.", field="loan_id")
    if keep not in ("new", "earlier"):
        raise RuleViolation(f"keep must be 'new' or 'earlier', not {keep!r}.", field="keep")
    now = now or utcnow()
    before = audit.snapshot(loan, *AUDITED)
    if keep == "new":
        _end_earlier(session, loan, steward, reason, now)
    elif loan.returned_at is None:
        _close_by_correction(session, loan, steward, reason, as_utc(loan.out_at))
    loan.in_conflict = False
    loan.conflict_resolved_at, loan.conflict_resolved_by = now, steward.id
    loan.conflict_resolution = f"kept the {keep} loan: {reason}"[:REASON_MAX]
    session.add(loan)
    session.flush()
    _audit(session, steward, "loan.resolve_conflict", loan, before)
    return loan


def _end_earlier(session: Session, loan: Loan, steward: Member, reason: str, now: datetime) -> None:
    """End the loan(s) standing in the way of ``loan`` becoming the tool's standing loan."""
    earlier = session.get(Loan, loan.conflict_of) if loan.conflict_of else None
    in_the_way = {other.id: other for other in (earlier, open_loan(session, loan.tool_id)) if other}
    for other in in_the_way.values():
        if other.returned_at is None and other.id != loan.id:
            before = audit.snapshot(other, *AUDITED)
            _close_by_correction(session, other, steward, reason, now)
            _audit(session, steward, "loan.correct", other, before)


def _close_by_correction(
    session: Session, loan: Loan, steward: Member, reason: str, at: datetime
) -> None:
    loan.corrected_by, loan.correction_reason = steward.id, reason
    close_loan(session, loan, Returned(at, ReturnCondition.OK, None))
    loan.return_condition = None  # nobody answered the condition question


def _steward(session: Session, member_id: int) -> Member:
    member = get_member(session, member_id)
    if not member.has_role(Role.STEWARD):
        raise RuleViolation(
            f"Only stewards may correct loans; member {member.number} is not one.",
            field="steward_id",
        )
    require_active(member)
    return member


def _reason(reason: str) -> str:
    return clean_text(reason, "reason", limit=REASON_MAX)


def _audit(
    session: Session, steward: Member, action: str, loan: Loan, before: dict[str, object]
) -> None:
    audit.record(
        session,
        actor_member_id=steward.id,
        action=action,
        target=f"loan:{loan.id}",
        before=before,
        after=audit.snapshot(loan, *AUDITED),
    )
