"""Read-only views for stewards: what needs attention now, and the counts the charts draw.

Nothing here writes. Each function answers one question in as few queries as it can, so the
steward's front page stays cheap with hundreds of thousands of loans on record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, false, func, true
from sqlmodel import Session, select

from hub.bookings.hours import local, local_day
from hub.bookings.models import Booking, BookingStatus, Resource
from hub.errors import NotFound
from hub.infra.clock import as_utc, utcnow
from hub.infra.sync import SyncState, current_version
from hub.inventory.fleet import KioskAlarm, KioskHealth, KioskStatus, fleet_health
from hub.inventory.registry import Locker, Tool, ToolStatus
from hub.loans.lending import Loan
from hub.maintenance import models
from hub.maintenance.models import RepairLog, ServiceRecord, Ticket, TicketSource
from hub.maintenance.plans import PlanStatus
from hub.members.roster import Member, MemberTraining, Training
from hub.timebank.claims import ClaimStatus, CreditClaim
from hub.worker.inbox import DeadLetter

# Tickets a person raised because something broke (the schedule's are routine care).
FAULT_SOURCES = (TicketSource.RETURN, TicketSource.KIOSK, TicketSource.STEWARD)


# --- what needs a steward -----------------------------------------------------------------


@dataclass(frozen=True)
class BrokenTool:
    """A tool out of service, where it lives, and the live tickets that explain why."""

    tool: Tool
    kiosk_id: str | None
    slot: int | None
    tickets: list[Ticket]


@dataclass(frozen=True)
class ClaimView:
    """A repair credit claim with who claims it and for which tool."""

    claim: CreditClaim
    member_number: str
    member_name: str
    tool_id: int
    tool_code: str
    note: str
    ticket_id: int | None


@dataclass(frozen=True)
class LoanView:
    """A loan with its tool and borrower spelled out."""

    loan: Loan
    tool_code: str
    tool_name: str
    member_number: str
    member_name: str


@dataclass(frozen=True)
class BookingView:
    """A booking with its machine and member spelled out."""

    booking: Booking
    resource_code: str
    resource_name: str
    member_number: str
    member_name: str
    when: str  # in the machine's local time, "Tue 14 May 18:00-19:30"


@dataclass(frozen=True)
class Needs:
    """Everything the steward's front page shows, read in one transaction."""

    broken: list[BrokenTool]
    due: list[PlanStatus]
    claims: list[ClaimView]
    overdue: list[LoanView]
    kiosks: list[KioskHealth]
    bookings: list[BookingView]
    dead_letters: int

    @property
    def troubled_kiosks(self) -> list[KioskHealth]:
        """Return kiosks that are offline, behind, backed up or alarming."""
        return [k for k in self.kiosks if not k.healthy or (k.status and k.status.outbox_backlog)]

    @property
    def no_shows(self) -> list[BookingView]:
        return [b for b in self.bookings if b.booking.status == BookingStatus.NO_SHOW]


def what_needs_me(session: Session, *, now: datetime | None = None) -> Needs:
    """Return what needs a steward now: broken tools, due care, claims, loans, kiosks, bookings."""
    now = now or utcnow()
    return Needs(
        broken=out_of_service(session),
        due=due_maintenance(session, now=now),
        claims=pending_claims(session),
        overdue=overdue_loans(session, now=now),
        kiosks=fleet_health(session, current_allowlist=allowlist_version(session), now=now),
        bookings=bookings_of_day(session, now=now),
        dead_letters=dead_letter_count(session),
    )


def allowlist_version(session: Session) -> int:
    """Return the allow-list version kiosks should hold (the publisher sends at least 1)."""
    return max(current_version(session), 1)


def out_of_service(session: Session) -> list[BrokenTool]:
    """Return tools out of service with their home locker and live tickets, by code."""
    rows = session.exec(
        select(Tool, Locker.kiosk_id, Locker.slot)
        .join(Locker, Tool.locker_id == Locker.id, isouter=True)
        .where(Tool.status == ToolStatus.OUT_OF_SERVICE)
        .order_by(Tool.code)
    ).all()
    ids = [tool.id for tool, _, _ in rows]
    tickets: dict[int, list[Ticket]] = {}
    if ids:
        live = select(Ticket).where(
            Ticket.tool_id.in_(ids), Ticket.status.in_(models.LIVE_STATUSES)
        )
        for ticket in session.exec(live.order_by(Ticket.opened_at)):
            tickets.setdefault(ticket.tool_id, []).append(ticket)
    return [BrokenTool(tool, kiosk, slot, tickets.get(tool.id, [])) for tool, kiosk, slot in rows]


def pending_claims(session: Session) -> list[ClaimView]:
    """Return repair claims awaiting a steward, oldest first, with claimant and tool."""
    return _claims(session, CreditClaim.status == ClaimStatus.PENDING, limit=None)


def decided_claims(session: Session, *, limit: int = 20) -> list[ClaimView]:
    """Return the latest approved or declined claims, newest first."""
    return _claims(session, CreditClaim.status != ClaimStatus.PENDING, limit=limit, newest=True)


def _claims(session: Session, condition, *, limit: int | None, newest: bool = False):
    order = (CreditClaim.id.desc(),) if newest else (CreditClaim.created_at, CreditClaim.id)
    query = (
        select(CreditClaim, Member.number, Member.name, RepairLog, Tool.code)
        .join(Member, Member.id == CreditClaim.member_id)
        .join(RepairLog, RepairLog.id == CreditClaim.repair_id)
        .join(Tool, Tool.id == RepairLog.tool_id)
        .where(condition)
        .order_by(*order)
        .limit(limit)
    )
    return [
        ClaimView(claim, number, name, repair.tool_id, code, repair.note, repair.ticket_id)
        for claim, number, name, repair, code in session.exec(query)
    ]


def overdue_loans(session: Session, *, now: datetime | None = None) -> list[LoanView]:
    """Return open loans past due, most overdue first, with tool and borrower."""
    now = now or utcnow()
    # NOTE: filtered here, not in SQL: given "due_at < now", SQLite walks the due_at index
    # over every loan ever made; open loans alone (one per tool at most) come from the partial
    # unique index on open loans.
    return [view for view in open_loans(session) if as_utc(view.loan.due_at) < now]


def open_loans(session: Session) -> list[LoanView]:
    """Return every open loan, due soonest first, with tool and borrower."""
    return _loans(session, true())


def open_loans_of(session: Session, member_id: int) -> list[LoanView]:
    """Return a member's open loans, due soonest first."""
    return _loans(session, Loan.member_id == member_id)


def _loans(session: Session, condition) -> list[LoanView]:
    # NOTE: open loans number at most one per tool; the filter on returned_at lets both
    # backends read them through the partial unique index on open loans.
    query = (
        select(Loan, Tool.code, Tool.name, Member.number, Member.name)
        .join(Tool, Tool.id == Loan.tool_id)
        .join(Member, Member.id == Loan.member_id)
        .where(Loan.returned_at.is_(None), condition)
    )
    # Sorted here: ORDER BY due_at would tempt SQLite to walk the whole due_at index.
    return sorted((LoanView(*row) for row in session.exec(query)), key=lambda v: v.loan.due_at)


def bookings_of_day(session: Session, *, now: datetime | None = None) -> list[BookingView]:
    """Return bookings starting on today's local date at each machine, by start time."""
    now = now or utcnow()
    query = (
        select(Booking, Resource, Member.number, Member.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Member, Member.id == Booking.member_id)
        .where(
            Booking.starts_at >= now - timedelta(days=1),
            Booking.starts_at < now + timedelta(days=1),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [
        _booking_view(booking, resource, number, name)
        for booking, resource, number, name in session.exec(query)
        if local_day(resource, booking.starts_at) == local_day(resource, now)
    ]


def upcoming_bookings(
    session: Session, resource_id: int, *, now: datetime | None = None, limit: int = 50
) -> list[BookingView]:
    """Return a machine's bookings from the start of yesterday on, soonest first."""
    since = (now or utcnow()) - timedelta(days=1)
    query = (
        select(Booking, Resource, Member.number, Member.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Member, Member.id == Booking.member_id)
        .where(Booking.resource_id == resource_id, Booking.ends_at >= since)
        .order_by(Booking.starts_at)
        .limit(limit)
    )
    return [
        _booking_view(booking, resource, number, name)
        for booking, resource, number, name in session.exec(query)
    ]


def _booking_view(booking: Booking, resource: Resource, number: str, name: str) -> BookingView:
    starts, ends = local(resource, booking.starts_at), local(resource, booking.ends_at)
    when = f"{starts:%a %d %b %H:%M}-{ends:%H:%M}"
    return BookingView(booking, resource.code, resource.name, number, name, when)


def dead_letter_count(session: Session) -> int:
    """Return how many malformed messages wait for a person to look at them."""
    return session.exec(select(func.count()).select_from(DeadLetter)).one()


def find_members(session: Session, search: str | None, *, limit: int = 100) -> list[Member]:
    """Return up to ``limit`` members by number, those matching ``search`` if given."""
    query = select(Member).order_by(Member.number).limit(limit)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(Member.name.ilike(pattern) | Member.number.like(pattern))
    return list(session.exec(query))


# --- the change signature -----------------------------------------------------------------


def change_signature(session: Session, *, now: datetime | None = None) -> str:
    """Return a short digest that moves whenever the front page would show something new.

    One round trip of cheap aggregates (maxima of ids, small counts, the sync version, which
    moves with every member, card and tool change), plus the minute, because loans fall
    overdue and kiosks fall silent by the clock alone.
    """
    now = now or utcnow()
    live_tickets = Ticket.status.in_(models.LIVE_STATUSES)
    parts = select(
        _scalar(select(SyncState.version).where(SyncState.id == 1)),
        _scalar(select(func.max(Loan.id))),
        _scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))),
        _scalar(select(func.max(Ticket.id))),
        _scalar(select(func.max(Ticket.updated_at)).where(live_tickets)),
        _scalar(select(func.count()).select_from(Ticket).where(live_tickets)),
        _scalar(select(func.max(ServiceRecord.id))),
        _scalar(select(func.max(models.MaintenancePlan.id))),
        _scalar(select(func.max(CreditClaim.id))),
        _scalar(
            select(func.count())
            .select_from(CreditClaim)
            .where(CreditClaim.status == ClaimStatus.PENDING)
        ),
        _scalar(select(func.max(KioskAlarm.id))),
        _scalar(
            select(func.count()).select_from(KioskAlarm).where(KioskAlarm.cleared_at.is_(None))
        ),
        _scalar(select(func.max(DeadLetter.id))),
        _scalar(select(func.max(Booking.id))),
        _scalar(
            select(func.count()).select_from(Booking).where(Booking.status != BookingStatus.BOOKED)
        ),
    )
    fleet = session.exec(
        select(
            KioskStatus.kiosk_id,
            KioskStatus.state,
            KioskStatus.allowlist_version,
            KioskStatus.outbox_backlog,
        ).order_by(KioskStatus.kiosk_id)
    ).all()
    text = repr((tuple(session.exec(parts).one()), fleet, f"{now:%Y-%m-%dT%H:%M}"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _scalar(query):
    return query.scalar_subquery()


# --- counts for the charts ----------------------------------------------------------------


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """Return the Mondays (00:00 UTC) that start the last ``weeks`` weeks, oldest first."""
    today = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def month_starts(now: datetime, months: int) -> list[datetime]:
    """Return the first days (00:00 UTC) of the last ``months`` months, oldest first."""
    first = as_utc(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        previous = (starts[-1] - timedelta(days=1)).replace(day=1)
        starts.append(previous)
    return starts[::-1]


def _bucket_sums(session: Session, column, value, starts: list[datetime], end: datetime, where):
    """Sum ``value`` over rows whose ``column`` falls in each [start, next start) bucket.

    One pass over the range, on both backends, without dialect-specific date functions.
    """
    edges = [*starts, end]
    sums = [
        func.coalesce(func.sum(case(((column >= lo) & (column < hi), value), else_=0)), 0)
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
    query = select(*sums).where(column >= starts[0], column < end, *where)
    return list(session.exec(query).one())


def loans_per_week(
    session: Session, *, weeks: int = 12, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Return how many loans went out in each of the last ``weeks`` weeks."""
    now = now or utcnow()
    starts = week_starts(now, weeks)
    counts = _bucket_sums(
        session, Loan.out_at, 1, starts, starts[-1] + timedelta(weeks=1), where=()
    )
    return [(start.date(), int(count)) for start, count in zip(starts, counts, strict=True)]


def repairs_per_month(
    session: Session, *, months: int = 12, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Return how many repairs were logged in each of the last ``months`` months."""
    now = now or utcnow()
    starts = month_starts(now, months)
    end = (starts[-1] + timedelta(days=32)).replace(day=1)
    counts = _bucket_sums(session, RepairLog.logged_at, 1, starts, end, where=())
    return [(start.date(), int(count)) for start, count in zip(starts, counts, strict=True)]


def hours_credited_per_month(
    session: Session, *, months: int = 12, now: datetime | None = None
) -> list[tuple[date, Decimal]]:
    """Return the repair hours approved in each of the last ``months`` months."""
    now = now or utcnow()
    starts = month_starts(now, months)
    end = (starts[-1] + timedelta(days=32)).replace(day=1)
    rows = session.exec(
        select(CreditClaim.decided_at, CreditClaim.approved_hours).where(
            CreditClaim.status == ClaimStatus.APPROVED,
            CreditClaim.decided_at >= starts[0],
            CreditClaim.decided_at < end,
        )
    )
    # NOTE: summed here, not in SQL: hours are whole hundredths on SQLite and NUMERIC on
    # PostgreSQL, and only the column type knows how to read them back.
    totals = dict.fromkeys(starts, Decimal("0.00"))
    for decided_at, hours in rows:
        month = as_utc(decided_at).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        totals[month] += hours
    return [(start.date(), totals[start]) for start in starts]


def most_borrowed(session: Session, *, limit: int = 10) -> list[tuple[str, int]]:
    """Return the tools lent most often, with their loan counts."""
    count = func.count(Loan.id)
    query = (
        select(Tool.code, count)
        .join(Loan, Loan.tool_id == Tool.id)
        .group_by(Tool.id, Tool.code)
        .order_by(count.desc(), Tool.code)
        .limit(limit)
    )
    return [(code, int(n)) for code, n in session.exec(query)]


def most_broken(session: Session, *, limit: int = 10) -> list[tuple[str, int]]:
    """Return the tools with the most fault tickets (scheduled care not counted)."""
    count = func.count(Ticket.id)
    query = (
        select(Tool.code, count)
        .join(Ticket, Ticket.tool_id == Tool.id)
        .where(Ticket.source.in_(FAULT_SOURCES))
        .group_by(Tool.id, Tool.code)
        .order_by(count.desc(), Tool.code)
        .limit(limit)
    )
    return [(code, int(n)) for code, n in session.exec(query)]


def alarms_per_kiosk(session: Session) -> list[tuple[str, int]]:
    """Return how many door alarms each kiosk has raised, most first."""
    count = func.count(KioskAlarm.id)
    query = (
        select(KioskAlarm.kiosk_id, count)
        .group_by(KioskAlarm.kiosk_id)
        .order_by(count.desc(), KioskAlarm.kiosk_id)
    )
    return [(kiosk, int(n)) for kiosk, n in session.exec(query)]


# --- members ------------------------------------------------------------------------------


def list_trainings(session: Session) -> list[Training]:
    """Return every training, by code."""
    return list(session.exec(select(Training).order_by(Training.code)))


def trainings_of(session: Session, member_id: int) -> list[tuple[MemberTraining, Training]]:
    """Return the trainings a member holds, by code."""
    query = (
        select(MemberTraining, Training)
        .join(Training, Training.id == MemberTraining.training_id)
        .where(MemberTraining.member_id == member_id)
        .order_by(Training.code)
    )
    return list(session.exec(query))


def training_held(session: Session, member_id: int, code: str) -> MemberTraining | None:
    """Return the member's record of training ``code``, if they hold it."""
    query = (
        select(MemberTraining)
        .join(Training, Training.id == MemberTraining.training_id)
        .where(MemberTraining.member_id == member_id, Training.code == code.strip().lower())
    )
    return session.exec(query).first()


def tickets_of_tool(session: Session, tool_id: int, *, limit: int = 50) -> list[Ticket]:
    """Return a tool's tickets, live ones first, then the newest."""
    live = case((Ticket.status.in_(models.LIVE_STATUSES), 0), else_=1)
    query = (
        select(Ticket)
        .where(Ticket.tool_id == tool_id)
        .order_by(live, Ticket.opened_at.desc())
        .limit(limit)
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class TicketView:
    """A ticket with its tool's code and name."""

    ticket: Ticket
    tool_code: str
    tool_name: str


def live_ticket_views(session: Session) -> list[TicketView]:
    """Return tickets still open or in progress, blocking ones first, then oldest."""
    query = (
        select(Ticket, Tool.code, Tool.name)
        .join(Tool, Tool.id == Ticket.tool_id)
        .where(Ticket.status.in_(models.LIVE_STATUSES))
        .order_by(Ticket.blocking.desc(), Ticket.opened_at)
    )
    return [TicketView(*row) for row in session.exec(query)]


@dataclass(frozen=True)
class PlanView:
    """A preventive plan and what it covers, in words."""

    plan: models.MaintenancePlan
    covers: str


def plan_views(session: Session) -> list[PlanView]:
    """Return every maintenance plan with the tool or category it covers."""
    query = (
        select(models.MaintenancePlan, Tool.code)
        .join(Tool, Tool.id == models.MaintenancePlan.tool_id, isouter=True)
        .order_by(models.MaintenancePlan.id)
    )
    return [
        PlanView(plan, f"tool {code}" if code else f"every {plan.category} tool")
        for plan, code in session.exec(query)
    ]


def get_alarm(session: Session, alarm_id: int) -> KioskAlarm:
    """Return door alarm ``alarm_id`` or refuse."""
    alarm = session.get(KioskAlarm, alarm_id)
    if alarm is None:
        raise NotFound(f"Alarm {alarm_id} does not exist.", field="alarm_id")
    return alarm


def member_numbers(session: Session, member_ids: set[int | None]) -> dict[int, str]:
    """Return 'number name' of the given members, by id."""
    ids = [member_id for member_id in member_ids if member_id is not None]
    if not ids:
        return {}
    query = select(Member.id, Member.number, Member.name).where(Member.id.in_(ids))
    return {member_id: f"{number} {name}" for member_id, number, name in session.exec(query)}


# --- preventive maintenance due -----------------------------------------------------------


def due_maintenance(session: Session, *, now: datetime | None = None) -> list[PlanStatus]:
    """Return every (plan, tool) pair now due, most overdue first.

    The same answer as :func:`hub.maintenance.due_plans`, counted per plan in grouped queries
    instead of one query per tool: with a thousand tools that is milliseconds, not seconds.
    Hours of use are counted only for plans measured in them (elsewhere they show as zero).
    """
    now = now or utcnow()
    plans = session.exec(select(models.MaintenancePlan).order_by(models.MaintenancePlan.id)).all()
    first = _first_loan_since(session, plans)
    statuses = [status for plan in plans for status in _plan_statuses(session, plan, now, first)]
    return sorted((s for s in statuses if s.is_due), key=lambda s: -s.progress)


def _plan_statuses(
    session: Session, plan: models.MaintenancePlan, now: datetime, first_loan_id: int | None
):
    """Return the status of every tool under ``plan``: loans and time since its last service."""
    served = (
        select(ServiceRecord.tool_id, func.max(ServiceRecord.serviced_at).label("at"))
        .where(ServiceRecord.plan_id == plan.id)
        .group_by(ServiceRecord.tool_id)
        .subquery()
    )
    covered = (
        Tool.id == plan.tool_id if plan.tool_id is not None else Tool.category == plan.category
    )
    # NOTE: one grouped query per plan; each tool's loans are counted from its own last service.
    # "id >= first id lent in the window" adds nothing logically, but lets SQLite walk the
    # loan.tool_id index (which ends in the id) over the window alone rather than over all of a
    # tool's loans. An index on loan (tool_id, out_at) would do it on both backends.
    since = func.coalesce(served.c.at, plan.created_at)
    if first_loan_id is None:  # no loan since the oldest plan began: none to count
        in_window = false()
    else:
        in_window = (Loan.tool_id == Tool.id) & (Loan.id >= first_loan_id)
    query = (
        select(Tool.id, Tool.code, served.c.at, func.count(Loan.id))
        .join(served, served.c.tool_id == Tool.id, isouter=True)
        .join(Loan, in_window & (Loan.out_at >= since), isouter=True)
        .where(covered, Tool.status != ToolStatus.RETIRED)
        .group_by(Tool.id, Tool.code, served.c.at)
    )
    rows = session.exec(query).all()
    starts = {tool_id: as_utc(at or plan.created_at) for tool_id, _, at, _ in rows}
    use = _use_since(session, starts, now) if plan.every_use_hours else {}
    return [
        PlanStatus(
            plan=plan,
            tool_id=tool_id,
            tool_code=code,
            since=starts[tool_id],
            loans=count,
            elapsed=now - starts[tool_id],
            use=use.get(tool_id, timedelta()),
        )
        for tool_id, code, _, count in rows
    ]


def _first_loan_since(session: Session, plans: list[models.MaintenancePlan]) -> int | None:
    """Return the lowest id of a loan out since the oldest plan began (services come later).

    None when no loan went out since then (or there are no plans).
    """
    if not plans:
        return None
    # NOTE: a service record could predate its plan only if written by hand; allow for it.
    serviced = session.exec(select(func.min(ServiceRecord.serviced_at))).one()
    start = min(as_utc(p.created_at) for p in plans)
    start = min(start, as_utc(serviced)) if serviced else start
    # NOTE: min(id + 0), not min(id): SQLite answers min(id) by walking the primary key from
    # the first loan ever until one matches; "+ 0" makes it read the out_at index range instead.
    # NOTE: no loan since is None, not a huge id: PostgreSQL refuses ids past its INTEGER.
    return session.exec(select(func.min(Loan.id + 0)).where(Loan.out_at >= start)).one()


def _use_since(
    session: Session, starts: dict[int, datetime], now: datetime
) -> dict[int, timedelta]:
    """Return each tool's time out on loan since its start, for plans counted in hours of use."""
    if not starts:
        return {}
    query = select(Loan.tool_id, Loan.out_at, Loan.returned_at).where(
        Loan.tool_id.in_(list(starts)), Loan.out_at >= min(starts.values())
    )
    use: dict[int, timedelta] = {}
    for tool_id, out_at, returned_at in session.exec(query):
        if as_utc(out_at) >= starts[tool_id]:
            spent = max(as_utc(returned_at or now) - as_utc(out_at), timedelta())
            use[tool_id] = use.get(tool_id, timedelta()) + spent
    return use
