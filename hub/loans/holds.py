"""Holds: members queue for a tool, first come first served, and the first in line gets it
kept for them when it comes back.

A hold is ``waiting`` in its tool's queue until the tool is available (back in its locker, in
service); then the first waiting hold becomes ``ready``: the tool is *reserved* for that
member until ``expires_at`` (the policy's ``hold_hours``), and kiosks refuse everyone else
its locker (the allow-list's ``reservations``). A loan by that member *collects* it; if the
time runs out the hold *lapses* and the next in line gets the tool (``advance_holds``, a
housekeeping job). A member or a steward may cancel a hold; stewards may reorder a queue.

A kiosk's loan of a tool reserved for someone else is still a fact (the kiosk decided, from
an older allow-list perhaps): it is recorded with a note for stewards, and the hold goes back
to the front of its queue for when the tool returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, func, text
from sqlmodel import Field, Session, SQLModel, col, select

from broker import messages as wire
from hub.errors import Conflict, MemberSuspended, NotFound, RuleViolation, ToolUnavailable
from hub.infra import audit, settings, wallclock
from hub.infra.clock import as_utc, utcnow
from hub.infra.rows import transaction_cache
from hub.infra.sync import KioskVisible
from hub.inventory.registry import Tool, ToolStatus, get_tool, tool_by_code
from hub.loans.policy import current_policy
from hub.loans.records import REASON_MAX, Loan
from hub.mail.choices import MailKind
from hub.mail.outbox import queue_mail
from hub.members.ranks import Actor, Operator, require_role
from hub.members.roster import Member, Role, get_member

log = logging.getLogger("commonshed.hub.holds")

LIVE = ("waiting", "ready")
LIVE_HOLD = text("status IN ('waiting', 'ready')")
READY_HOLD = text("status = 'ready'")


class HoldStatus(StrEnum):
    WAITING = "waiting"  # in the queue
    READY = "ready"  # the tool is kept for this member until ``expires_at``
    COLLECTED = "collected"  # the member borrowed it
    LAPSED = "lapsed"  # not collected in time
    CANCELLED = "cancelled"  # by the member or a steward (or the tool was retired)


class Hold(SQLModel, KioskVisible, table=True):
    """A member's place in a tool's queue. Kiosk-visible: a ready hold is a reservation in
    the allow-list."""

    __table_args__ = (
        # No duplicate holds: one live hold per member and tool.
        Index(
            "uq_hold_live_member_tool",
            "tool_id",
            "member_id",
            unique=True,
            sqlite_where=LIVE_HOLD,
            postgresql_where=LIVE_HOLD,
        ),
        # A tool is kept for one member at a time.
        Index(
            "uq_hold_ready_tool",
            "tool_id",
            unique=True,
            sqlite_where=READY_HOLD,
            postgresql_where=READY_HOLD,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=HoldStatus.WAITING, max_length=16, index=True)
    position: int  # order in the queue among live holds (lower first); stewards may move it
    placed_at: datetime
    ready_at: datetime | None = None
    expires_at: datetime | None = None  # while ready: kept until then
    ended_at: datetime | None = None
    loan_id: int | None = Field(default=None, foreign_key="loan.id")  # the loan that collected it
    note: str | None = Field(default=None, max_length=REASON_MAX)  # for stewards


HOLD_PLACE = audit.Action("hold.place", ("tool_id", "member_id", "status", "position"))
HOLD_CANCEL = audit.Action("hold.cancel", ("status", "ended_at"))
HOLD_MOVE = audit.Action("hold.move", ("position",))


# --- reading ------------------------------------------------------------------------------


def get_hold(session: Session, hold_id: int) -> Hold:
    """Return hold ``hold_id`` or refuse."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"Hold {hold_id} does not exist.", field="hold_id")
    return hold


def queue_of(session: Session, tool_id: int) -> list[Hold]:
    """Return the tool's live holds in queue order: the ready one first, then by position."""
    query = (
        select(Hold)
        .where(Hold.tool_id == tool_id, col(Hold.status).in_(LIVE))
        .order_by(col(Hold.status) != HoldStatus.READY, col(Hold.position), col(Hold.id))
    )
    return list(session.exec(query))


def holds_of_member(session: Session, member_id: int) -> list[Hold]:
    """Return the member's live holds, oldest first."""
    query = (
        select(Hold)
        .where(Hold.member_id == member_id, col(Hold.status).in_(LIVE))
        .order_by(col(Hold.placed_at), col(Hold.id))
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class HoldView:
    """A live or ended hold as pages and the API show it."""

    hold: Hold
    tool_code: str
    tool_name: str
    member_number: str
    member_name: str
    place: int | None  # in the queue (1: next, or kept now); None once ended


def views_of(session: Session, rows: list[Hold]) -> list[HoldView]:
    """Return ``rows`` with their tool, member and place in the queue."""
    places: dict[int, dict[int | None, int]] = {}
    views = []
    for hold in rows:
        tool, member = get_tool(session, hold.tool_id), get_member(session, hold.member_id)
        if hold.tool_id not in places:
            queue = queue_of(session, hold.tool_id)
            places[hold.tool_id] = {h.id: i for i, h in enumerate(queue, 1)}
        place = places[hold.tool_id].get(hold.id)
        views.append(HoldView(hold, tool.code, tool.name, member.number, member.name, place))
    return views


def queues(session: Session, tool_code: str | None = None) -> list[HoldView]:
    """Return every live hold (or those of ``tool_code``), by tool code and queue order."""
    query = select(Hold.tool_id).where(col(Hold.status).in_(LIVE)).distinct()
    if tool_code is not None:
        query = query.where(Hold.tool_id == tool_by_code(session, tool_code).id)
    tools = sorted(
        (get_tool(session, tool_id) for tool_id in session.exec(query).all()),
        key=lambda tool: tool.code,
    )
    return views_of(session, [hold for tool in tools for hold in queue_of(session, tool.id or 0)])


def has_waiting_hold(session: Session, tool_id: int) -> bool:
    """Tell whether any member is queued for the tool (a loan of it may not be renewed)."""
    query = select(Hold.id).where(Hold.tool_id == tool_id, col(Hold.status).in_(LIVE))
    return session.exec(query.limit(1)).first() is not None


def reservations(session: Session, now: datetime) -> dict[str, wire.Reservation]:
    """Return the tools kept for a member now: tool code -> member number and until when."""
    query = (
        select(Tool.code, Member.number, Hold.expires_at)
        .join(Tool, Hold.tool_id == Tool.id)
        .join(Member, Hold.member_id == Member.id)
        .where(Hold.status == HoldStatus.READY)
    )
    return {
        code: wire.Reservation(member_number=number, until=as_utc(until))
        for code, number, until in session.exec(query)
        if until is not None and as_utc(until) > now
    }


# --- members and stewards -----------------------------------------------------------------


def place_hold(
    session: Session,
    actor: Actor,
    *,
    member_id: int,
    tool_code: str,
    now: datetime | None = None,
) -> Hold:
    """Put member ``member_id`` in the queue for the tool ``tool_code`` (a member for
    themselves; a steward for anyone); audited. An available tool with nobody queued is
    kept for them at once.

    Refused, naming the field, with nothing written: an unknown or retired tool, a tool the
    member has out, a second hold on one tool, more holds than the policy allows, a
    suspended member.
    """
    now = now or utcnow()
    member = get_member(session, member_id)
    _require_self_or_steward(actor, member, "place a hold")
    tool = tool_by_code(session, tool_code)
    _require_holdable(session, member, tool)
    assert tool.id is not None and member.id is not None
    hold = Hold(
        tool_id=tool.id,
        member_id=member.id,
        position=_next_position(session, tool.id),
        placed_at=now,
    )
    with audit.audited(session, actor, HOLD_PLACE, hold, _target(tool, member)):
        session.add(hold)
    _tools_with_holds(session).add(tool.id)
    advance_queue(session, tool, now)
    return hold


def cancel_hold(
    session: Session, actor: Actor, hold_id: int, *, now: datetime | None = None
) -> Hold:
    """End a live hold (its member, or a steward); audited. A ready hold's tool goes to the
    next in line."""
    now = now or utcnow()
    hold = get_hold(session, hold_id)
    member = get_member(session, hold.member_id)
    _require_self_or_steward(actor, member, "cancel this hold")
    if hold.status not in LIVE:
        raise Conflict(f"Hold {hold.id} is already {hold.status}.", field="hold_id")
    tool = get_tool(session, hold.tool_id)
    with audit.audited(session, actor, HOLD_CANCEL, hold, _target(tool, member)):
        _end(hold, HoldStatus.CANCELLED, now)
        session.add(hold)
    advance_queue(session, tool, now)
    return hold


def move_hold(session: Session, actor: Actor, hold_id: int, position: int) -> list[Hold]:
    """Move a waiting hold to ``position`` (1: next in line) among its tool's waiting holds;
    stewards only, audited. Return the queue as it now stands."""
    require_role(actor, Role.STEWARD, "reorder a hold queue")
    hold = get_hold(session, hold_id)
    if hold.status != HoldStatus.WAITING:
        raise Conflict(
            f"Hold {hold.id} is {hold.status}; only a waiting hold can be moved.", field="hold_id"
        )
    waiting = [h for h in queue_of(session, hold.tool_id) if h.status == HoldStatus.WAITING]
    if not isinstance(position, int) or not 1 <= position <= len(waiting):
        raise RuleViolation(
            f"position: {position!r} must be from 1 to {len(waiting)} (the waiting holds).",
            field="position",
        )
    order = [h for h in waiting if h.id != hold.id]
    order.insert(position - 1, hold)
    tool, member = get_tool(session, hold.tool_id), get_member(session, hold.member_id)
    with audit.audited(session, actor, HOLD_MOVE, hold, _target(tool, member)) as notes:
        notes["queue_place"] = position
        for place, queued in enumerate(order, 1):
            queued.position = place
            session.add(queued)
    return queue_of(session, hold.tool_id)


# --- the tool's life: back, lent, time passing --------------------------------------------


def advance_queue(session: Session, tool: Tool, now: datetime) -> Hold | None:
    """Keep an available tool for the first in its queue, unless it is kept for someone
    already; return the hold made ready, if any."""
    if tool.status != ToolStatus.AVAILABLE or tool.id not in _tools_with_holds(session):
        return None
    queue = queue_of(session, tool.id)
    if not queue or queue[0].status == HoldStatus.READY:
        return None
    first = queue[0]
    first.status, first.ready_at = HoldStatus.READY, now
    first.expires_at = now + timedelta(hours=current_policy(session).hold_hours)
    session.add(first)
    session.flush()
    notify_hold_ready(session, first)
    return first


def notify_hold_ready(session: Session, hold: Hold) -> None:
    """Tell the member their tool is kept for them: the one place "hold ready" mail is queued
    (once per hold; not at all if they turned it off or have no address)."""
    log.info("hold %s ready: tool %s kept until %s", hold.id, hold.tool_id, hold.expires_at)
    member, tool = get_member(session, hold.member_id), get_tool(session, hold.tool_id)
    until = wallclock.site_format(hold.expires_at, "%A %d %B at %H:%M", settings.site_timezone())
    text = (
        f"Hello {member.name.split()[0]},\n\n"
        f"The {tool.name} ({tool.code}) you put a hold on is back, and kept for you until "
        f"{until}. Tap your card at the kiosk to take it; after that it goes to the next "
        f"member in line.\nYour loans: {settings.public_url()}/me/"
    )
    subject = f"{tool.name} is ready for you"
    queue_mail(session, member, MailKind.HOLD_READY, subject, text, key=f"hold_ready:{hold.id}")


def loan_made(session: Session, loan: Loan, *, at: datetime) -> str | None:
    """Settle the holds a new loan touches: the borrower's own hold is collected; a tool kept
    for someone else stays theirs for when it comes back, and the loan is noted. Return the
    note for stewards (None when nothing was amiss)."""
    if loan.tool_id not in _tools_with_holds(session):
        return None  # the common case: nobody queues for it
    own = session.exec(
        select(Hold).where(
            Hold.tool_id == loan.tool_id,
            Hold.member_id == loan.member_id,
            col(Hold.status).in_(LIVE),
        )
    ).first()
    if own is not None:
        _end(own, HoldStatus.COLLECTED, at)
        own.loan_id = loan.id
        session.add(own)
        return None
    kept = session.exec(
        select(Hold).where(Hold.tool_id == loan.tool_id, Hold.status == HoldStatus.READY)
    ).first()
    if kept is None or kept.expires_at is None or as_utc(kept.expires_at) <= as_utc(at):
        return None
    return _lent_while_kept(session, kept, loan)


def _lent_while_kept(session: Session, kept: Hold, loan: Loan) -> str:
    holder, borrower = get_member(session, kept.member_id), get_member(session, loan.member_id)
    tool = get_tool(session, kept.tool_id)
    until = as_utc(kept.expires_at or loan.out_at)
    note = (
        f"reserved: {tool.code} was kept for member {holder.number} until "
        f"{until:%Y-%m-%d %H:%M}Z but lent to member {borrower.number}"
        f"{f' at {loan.kiosk_id}' if loan.kiosk_id else ''}; the hold stays first in line"
    )[:REASON_MAX]
    kept.status, kept.ready_at, kept.expires_at, kept.note = HoldStatus.WAITING, None, None, note
    kept.position = min(_positions(session, kept.tool_id), default=1) - 1
    session.add(kept)
    log.warning("%s", note)
    return note


def advance_holds(session: Session, now: datetime | None = None) -> int:
    """Housekeeping: lapse the ready holds whose time ran out, put back in line those whose
    tool is no longer available, end the holds of retired tools, and keep each available tool
    for the first in its queue. Return how many holds changed."""
    now = now or utcnow()
    changed = 0
    for hold in session.exec(select(Hold).where(col(Hold.status).in_(LIVE))).all():
        changed += _settle(session, hold, now)
    session.flush()
    tools = session.exec(
        select(Tool)
        .join(Hold, Hold.tool_id == Tool.id)
        .where(Hold.status == HoldStatus.WAITING, Tool.status == ToolStatus.AVAILABLE)
        .distinct()
    ).all()
    changed += sum(advance_queue(session, tool, now) is not None for tool in tools)
    return changed


def _settle(session: Session, hold: Hold, now: datetime) -> int:
    tool = get_tool(session, hold.tool_id)
    if tool.status == ToolStatus.RETIRED:
        _end(hold, HoldStatus.CANCELLED, now)
        hold.note = f"{tool.code} was retired."
    elif hold.status != HoldStatus.READY:
        return 0
    elif hold.expires_at is not None and as_utc(hold.expires_at) <= now:
        _end(hold, HoldStatus.LAPSED, now)
    elif tool.status != ToolStatus.AVAILABLE:
        hold.status, hold.ready_at, hold.expires_at = HoldStatus.WAITING, None, None
    else:
        return 0
    session.add(hold)
    return 1


def _tools_with_holds(session: Session) -> set[int | None]:
    """Return the ids of the tools with a live hold, read once per transaction;
    ``place_hold`` adds the ones it queues for.

    NOTE: a kiosk's every loan and return asks about holds; almost always there are none, and
    a query per tap would double the ingest's reads (tests/hub/worker/test_events.py).
    """
    cache = transaction_cache(session, "tools_with_holds")
    if "tools" not in cache:
        query = select(Hold.tool_id).where(col(Hold.status).in_(LIVE)).distinct()
        cache["tools"] = set(session.exec(query).all())
    tools: set[int | None] = cache["tools"]
    return tools


# --- rules --------------------------------------------------------------------------------


def _require_self_or_steward(actor: Actor, member: Member, doing: str) -> None:
    if isinstance(actor, Operator) or actor.id == member.id:
        return
    require_role(actor, Role.STEWARD, f"{doing} for another member")


def _require_holdable(session: Session, member: Member, tool: Tool) -> None:
    if not member.is_active:
        raise MemberSuspended(
            f"Member {member.number} is suspended and may not place holds.", field="member_id"
        )
    if tool.status == ToolStatus.RETIRED:
        raise ToolUnavailable(f"Tool {tool.code} is retired: it cannot be held.", field="tool_code")
    live = holds_of_member(session, member.id or 0)
    if any(hold.tool_id == tool.id for hold in live):
        raise Conflict(
            f"Member {member.number} already holds a place in the queue for {tool.code}.",
            field="tool_code",
        )
    if _has_out(session, member, tool):
        raise Conflict(f"Member {member.number} has {tool.code} out already.", field="tool_code")
    limit = current_policy(session).max_holds
    if len(live) >= limit:
        raise RuleViolation(
            f"Member {member.number} has {len(live)} holds; the limit is {limit} at once.",
            field="tool_code",
        )


def _has_out(session: Session, member: Member, tool: Tool) -> bool:
    query = select(Loan.id).where(
        Loan.tool_id == tool.id, Loan.member_id == member.id, Loan.returned_at.is_(None)
    )
    return session.exec(query.limit(1)).first() is not None


def _positions(session: Session, tool_id: int) -> list[int]:
    query = select(Hold.position).where(Hold.tool_id == tool_id, col(Hold.status).in_(LIVE))
    return list(session.exec(query))


def _next_position(session: Session, tool_id: int) -> int:
    query = select(func.max(Hold.position)).where(
        Hold.tool_id == tool_id, col(Hold.status).in_(LIVE)
    )
    highest = session.exec(query).one()
    return (highest or 0) + 1


def _end(hold: Hold, status: HoldStatus, at: datetime) -> None:
    hold.status, hold.ended_at = status, at


def _target(tool: Tool, member: Member) -> str:
    return f"hold:{tool.code}:{member.number}"
