"""Loans and returns a kiosk reports: facts decided at the locker, paired and never rewritten.

The rules, one set for every path:

- A loan ends only by its own return or a steward's recorded correction (``corrections``).
- A ``loan_out`` of a tool already on a standing loan is kept as a *conflict*: the earlier loan
  stays open, both show to stewards, and the allow-list lists the tool under both members.
- A return closes an open loan of its tool that came before it: at the same kiosk (and the same
  run of its sequence, ``epoch``) by ``seq``, across kiosks by the hub's time of each event,
  with ``CROSS_KIOSK_SLACK`` for clocks that differ within the allowed skew. The returning
  member's own loan first; another member's only if it is the one such loan (a friend brought
  it back). Anything else waits as an unmatched return for its loan to arrive.
- A conflict settles itself only when the facts show the two loans never overlapped (its own
  return came before the other loan began, or after it ended); otherwise a steward decides.
- A loan at a site that does not allow its member (a kiosk with a stale allow-list) is a fact
  all the same: recorded, with a ``site_note`` for stewards (``hub.inventory.sites``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from hub.infra.clock import as_utc
from hub.infra.rows import transaction_cache
from hub.infra.settings import clock_skew_bound
from hub.inventory import sites
from hub.inventory.registry import Kiosk, Tool, ToolStatus
from hub.loans import holds, policy
from hub.loans.lending import new_loan, place_standing_loan
from hub.loans.records import (
    REASON_MAX,
    Loan,
    ReturnCondition,
    UnmatchedReturn,
    open_loan,
    open_loans_of_tool,
)
from hub.loans.returning import Returned, close_loan
from hub.members.roster import Member

log = logging.getLogger("commonshed.hub.loans")


@dataclass(frozen=True)
class Stamp:
    """Where and when a kiosk event happened, as the hub places it.

    ``at`` is the hub's time of the event (the kiosk's clock, never later than ``received_at``,
    when the hub received it: due dates count from that); ``seq`` and ``epoch`` are its place
    in the kiosk's sequence (``epoch`` counts restarts of the sequence).
    """

    kiosk_id: str
    event_id: str
    seq: int
    epoch: int
    at: datetime
    received_at: datetime
    # Whether every seq of this kiosk's epoch strictly between two has reached the hub (the
    # ingest's sequencer answers); a loan and a return with an unknown event between them
    # are not paired yet: that event may be the loan's own return, or the return's own loan.
    arrived: Callable[[int, int], bool] = field(default=lambda _after, _before: True, compare=False)


@dataclass(frozen=True)
class Recorded:
    """What a kiosk loan or return became: the loan it made or closed (None: the return waits
    for its loan), and a note for the kiosk's ack and the logs."""

    loan: Loan | None
    note: str | None = None


def record_loan_out(session: Session, stamp: Stamp, member: Member, tool: Tool) -> Recorded:
    """Record the loan a kiosk made: closed at once by a return that overtook it, else the
    tool's standing loan, else a conflict with the loan already standing; then settle the
    tool's holds (a loan of a tool kept for another member is noted for stewards, as is a
    loan at a site that does not allow the member)."""
    recorded = _record_loan_out(session, stamp, member, tool)
    assert recorded.loan is not None
    kept = holds.loan_made(session, recorded.loan, at=stamp.received_at)
    stray = _site_note(session, stamp, member, recorded.loan, tool)
    notes = "; ".join(note for note in (kept, recorded.note, stray) if note)
    return Recorded(recorded.loan, notes or None)


def _site_note(
    session: Session, stamp: Stamp, member: Member, loan: Loan, tool: Tool
) -> str | None:
    """Note on ``loan`` (for stewards) that its kiosk's site does not allow ``member``; None
    when it does (the common case: one cached read of the site)."""
    kiosk = session.get(Kiosk, stamp.kiosk_id)
    if kiosk is None or sites.may_borrow_at(session, kiosk.site, member):
        return None
    loan.site_note = (
        f"site: member {member.number} is not allowed to borrow at site {kiosk.site}, but "
        f"{kiosk.id} lent them {tool.code} (its allow-list was older than the site's list)"
    )[:REASON_MAX]
    session.add(loan)
    log.warning("%s", loan.site_note)
    return loan.site_note


def _record_loan_out(session: Session, stamp: Stamp, member: Member, tool: Tool) -> Recorded:
    assert member.id is not None
    loan = new_loan(
        tool,
        member.id,
        out_at=stamp.at,
        kiosk_id=stamp.kiosk_id,
        event_id=stamp.event_id,
        due_from=stamp.received_at,
        loan_days=policy.loan_days_for(session, tool),
    )
    loan.seq, loan.seq_epoch = stamp.seq, stamp.epoch
    if (back := _waiting_return_for(session, loan, stamp)) is not None:
        # NOTE: written already closed: inserted open first, it would break the one-standing-
        # loan index whenever a later loan of the tool stands (a broker restart's reordering).
        _close_with(session, loan, back)
        return Recorded(loan)
    standing = open_loan(session, tool.id)
    if standing is None:
        # NOTE: no savepoint (``lending.add_standing_loan`` has one for stewards): nothing here
        # catches a lost race, which fails the batch for the ingest to retry whole; the
        # savepoint only cost three statements a loan (SAVEPOINT, RELEASE, a sync bump).
        place_standing_loan(session, tool, loan)
        session.flush()
        return Recorded(loan)
    loan.in_conflict, loan.conflict_of = True, standing.id
    if tool.status == ToolStatus.AVAILABLE:
        tool.status = ToolStatus.ON_LOAN
    session.add_all([loan, tool])
    session.flush()
    _loans_in_conflict(session).update({loan.id, standing.id})
    return Recorded(loan, _conflict_note(session, tool, standing))


def record_return(
    session: Session,
    stamp: Stamp,
    member: Member,
    tool: Tool,
    condition: ReturnCondition,
    note: str | None,
) -> Recorded:
    """Close the loan this return ends, or keep the return until its loan arrives."""
    returned = Returned(stamp.at, condition, note, stamp.kiosk_id, stamp.event_id)
    assert tool.id is not None
    open_loans = open_loans_of_tool(session, tool.id)
    loan = _loan_returned_by(open_loans, stamp, member.id)
    if loan is not None:
        others = [other for other in open_loans if other is not loan]
        close_loan(session, loan, returned, others_open=others)
        settle_conflicts(session, loan)
        return Recorded(loan, _on_behalf(session, loan, member))
    corrected = _corrected_loan_for(session, stamp, member, tool)
    if corrected is not None:
        # A steward closed it before the return arrived: keep the return's answer beside it.
        corrected.return_kiosk_id, corrected.return_event_id = stamp.kiosk_id, stamp.event_id
        corrected.return_condition, corrected.return_note = condition, note
        session.add(corrected)
        return Recorded(corrected, "the loan was already closed by a steward's correction")
    assert member.id is not None and tool.id is not None
    session.add(
        UnmatchedReturn(
            tool_id=tool.id,
            member_id=member.id,
            kiosk_id=stamp.kiosk_id,
            returned_at=stamp.at,
            condition=condition,
            note=note,
            event_id=stamp.event_id,
            seq=stamp.seq,
            seq_epoch=stamp.epoch,
        )
    )
    session.flush()
    _tools_with_waiting_returns(session).add(tool.id)
    return Recorded(None, f"kept until its loan of {tool.code} arrives")


def settle_conflicts(session: Session, loan: Loan) -> None:
    """Resolve the conflicts ``loan`` takes part in whose two loans the facts show never
    overlapped; leave the rest to a steward."""
    if loan.id not in _loans_in_conflict(session):
        return  # the common case: no conflict to settle
    query = select(Loan).where(
        Loan.in_conflict.is_(True), (Loan.id == loan.id) | (Loan.conflict_of == loan.id)
    )
    for conflict in session.exec(query).all():
        other = session.get(Loan, conflict.conflict_of) if conflict.conflict_of else None
        if other is None or not _disjoint(conflict, other):
            continue
        if conflict.returned_at is None and open_loan(session, conflict.tool_id) is not None:
            continue  # it cannot become the standing loan while another stands
        conflict.in_conflict = False
        conflict.conflict_resolution = (
            f"Settled by the returns: loans {conflict.id} and {other.id} never overlapped."
        )[:REASON_MAX]
        conflict.conflict_resolved_at = conflict.returned_at or other.returned_at
        session.add(conflict)
    session.flush()


# --- pairing --------------------------------------------------------------------------------


def _precedes(
    first_kiosk: str | None,
    first_epoch: int | None,
    first_seq: int | None,
    first_at: datetime,
    then: Stamp,
) -> bool:
    """Tell whether an event (the first four) can have come before ``then``: by ``seq`` at
    the same kiosk and epoch, else by the hub's times, within the clocks' allowed skew."""
    if first_kiosk == then.kiosk_id and first_epoch == then.epoch and first_seq is not None:
        return first_seq < then.seq
    return as_utc(first_at) <= as_utc(then.at) + cross_kiosk_slack()


def cross_kiosk_slack() -> timedelta:
    """Return how far two kiosks' clocks may disagree and still be taken as they say."""
    return clock_skew_bound()


def _loan_returned_by(open_loans: list[Loan], stamp: Stamp, member_id: int | None) -> Loan | None:
    """Return the open loan (of the tool's ``open_loans``) this return ends, or None if none
    is certain."""
    before = [
        loan
        for loan in open_loans
        if _precedes(loan.kiosk_id, loan.seq_epoch, loan.seq, loan.out_at, stamp)
    ]
    own = [loan for loan in before if loan.member_id == member_id]
    if own:
        chosen: Loan | None = max(own, key=lambda loan: (as_utc(loan.out_at), loan.id or 0))
    else:
        chosen = before[0] if len(before) == 1 else None
    if chosen is not None and not _nothing_unknown_between(chosen, stamp):
        return None  # wait: an event not yet arrived may be this loan's own return
    return chosen


def _nothing_unknown_between(loan: Loan, stamp: Stamp) -> bool:
    """Tell whether no event of the kiosk lies unknown between ``loan`` and ``stamp``'s event
    (always true across kiosks, which no seq orders)."""
    if loan.kiosk_id != stamp.kiosk_id or loan.seq_epoch != stamp.epoch or loan.seq is None:
        return True
    low, high = sorted((loan.seq, stamp.seq))
    return stamp.arrived(low, high)


def retry_waiting_returns(
    session: Session, kiosk_id: str, stamp_of: Callable[[UnmatchedReturn], Stamp]
) -> int:
    """Pair the returns waiting at ``kiosk_id`` that the events just arrived make certain
    (an unknown event between a return and its loan kept it waiting); return how many."""
    if not _tools_with_waiting_returns(session):
        return 0  # the common case: nothing waits
    waiting = session.exec(
        select(UnmatchedReturn).where(UnmatchedReturn.kiosk_id == kiosk_id)
    ).all()
    paired = 0
    for back in sorted(waiting, key=lambda b: (b.seq or 0, as_utc(b.returned_at))):
        loan = _loan_returned_by(
            open_loans_of_tool(session, back.tool_id), stamp_of(back), back.member_id
        )
        if loan is not None:
            session.delete(back)
            _close_with(session, loan, back)
            paired += 1
    return paired


def _waiting_return_for(session: Session, loan: Loan, stamp: Stamp) -> UnmatchedReturn | None:
    """Remove and return the borrower's earliest waiting return of the tool made after
    ``loan`` (it overtook the loan on the way to the hub), if no unknown event of the kiosk
    lies between them."""
    if loan.tool_id not in _tools_with_waiting_returns(session):
        return None  # the common case: no return of this tool is waiting
    waiting = session.exec(
        select(UnmatchedReturn).where(
            UnmatchedReturn.tool_id == loan.tool_id, UnmatchedReturn.member_id == loan.member_id
        )
    ).all()
    later = [back for back in waiting if _return_follows(loan, back)]
    if not later:
        return None
    first = min(later, key=lambda back: (as_utc(back.returned_at), back.seq or 0))
    if first.kiosk_id == loan.kiosk_id and first.seq_epoch == loan.seq_epoch and first.seq:
        if not stamp.arrived(stamp.seq, first.seq):
            return None  # an event between them may be this loan's own return
    session.delete(first)
    return first


def _tools_with_waiting_returns(session: Session) -> set[int]:
    """Return the ids of the tools with a return waiting for its loan, read once per
    transaction; ``record_return`` adds the ones it keeps.

    NOTE: every kiosk loan asked the database for a waiting return, a query per loan
    (bench/hub_ingest_bench.py --in-process); almost always there is none. A waiting return
    paired (deleted) in this transaction stays listed, which costs only a query again.
    """
    cache = transaction_cache(session, "waiting_returns")
    if "tools" not in cache:
        cache["tools"] = set(session.exec(select(UnmatchedReturn.tool_id).distinct()).all())
    tools: set[int] = cache["tools"]
    return tools


def _loans_in_conflict(session: Session) -> set[int]:
    """Return the ids of the loans on either side of an unresolved conflict, read once per
    transaction; ``record_loan_out`` adds the ones it records.

    NOTE: every kiosk return asked the database for conflicts to settle, a query per return;
    almost always there is none. A conflict settled in this transaction stays listed, which
    costs only a query again.
    """
    cache = transaction_cache(session, "loans_in_conflict")
    if "loans" not in cache:
        pairs = session.exec(select(Loan.id, Loan.conflict_of).where(Loan.in_conflict.is_(True)))
        cache["loans"] = {loan_id for pair in pairs for loan_id in pair if loan_id is not None}
    loans: set[int] = cache["loans"]
    return loans


def _return_follows(loan: Loan, back: UnmatchedReturn) -> bool:
    """Tell whether ``back`` can be the return of ``loan`` (it comes after it)."""
    if back.kiosk_id == loan.kiosk_id and back.seq_epoch == loan.seq_epoch and back.seq is not None:
        return loan.seq is not None and back.seq > loan.seq
    return as_utc(back.returned_at) + cross_kiosk_slack() >= as_utc(loan.out_at)


def _close_with(session: Session, loan: Loan, back: UnmatchedReturn) -> None:
    """Close ``loan`` with the return that was waiting for it."""
    returned = Returned(
        back.returned_at, ReturnCondition(back.condition), back.note, back.kiosk_id, back.event_id
    )
    close_loan(session, loan, returned)
    settle_conflicts(session, loan)


def _corrected_loan_for(session: Session, stamp: Stamp, member: Member, tool: Tool) -> Loan | None:
    """Return the member's newest loan of the tool a steward closed without its return."""
    loan = session.exec(
        select(Loan)
        .where(
            Loan.tool_id == tool.id,
            Loan.member_id == member.id,
            Loan.corrected_by.is_not(None),
            Loan.return_event_id.is_(None),
        )
        .order_by(Loan.out_at.desc())
    ).first()
    if loan is None or not _precedes(loan.kiosk_id, loan.seq_epoch, loan.seq, loan.out_at, stamp):
        return None
    return loan


def _disjoint(a: Loan, b: Loan) -> bool:
    """Tell whether two loans' spans, by the hub's times, never overlapped."""
    a_end, b_end = a.returned_at, b.returned_at
    return bool(
        (a_end is not None and as_utc(a_end) <= as_utc(b.out_at))
        or (b_end is not None and as_utc(b_end) <= as_utc(a.out_at))
    )


def _conflict_note(session: Session, tool: Tool, standing: Loan) -> str:
    holder = session.get(Member, standing.member_id)
    who = holder.number if holder else str(standing.member_id)
    return (
        f"conflict: {tool.code} is on loan to member {who} since "
        f"{as_utc(standing.out_at):%Y-%m-%d %H:%M}Z; both loans are kept for a steward to check"
    )


def _on_behalf(session: Session, loan: Loan, member: Member) -> str | None:
    if loan.member_id == member.id:
        return None
    borrower = session.get(Member, loan.member_id)
    return f"returned by member {member.number} for {borrower.number if borrower else '?'}"
