"""Care for the tools: maintenance tickets, repair records, preventive plans and tool history.

A blocking ticket takes its tool out of service; closing the last blocking ticket puts the tool
back. Preventive plans fall due by loans, days or hours of use since the tool's last service,
whichever comes first; a plan that ``blocks_when_overdue`` stops the tool being lent while due.
Credit for repairs (claims, approvals, the ledger) lives in :mod:`hub.timebank`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, Session, SQLModel, select

from hub.clock import utcnow
from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.inventory import Tool, ToolStatus, get_tool, return_to_service, take_out_of_service
from hub.ledger import HoursType, parse_hours, require_steward
from hub.loans import Loan, ReturnCondition, open_loan, return_tool
from hub.members import NAME_MAX, NOTE_MAX, Member, clean_text, get_member, require_active

MAX_REPAIR_HOURS = Decimal("24")
HOUR = timedelta(hours=1)


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    WONT_FIX = "wont_fix"


CLOSED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.WONT_FIX)
LIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class TicketSource(StrEnum):
    RETURN = "return"
    STEWARD = "steward"
    SCHEDULE = "schedule"
    KIOSK = "kiosk"


class RepairSource(StrEnum):
    KIOSK = "kiosk"
    DASHBOARD = "dashboard"
    STEWARD = "steward"


class Ticket(SQLModel, table=True):
    __tablename__ = "maintenance_ticket"

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    status: str = Field(default=TicketStatus.OPEN, max_length=16, index=True)
    source: str = Field(max_length=16)
    note: str = Field(max_length=NOTE_MAX)
    blocking: bool = Field(default=False)
    opened_by: int | None = Field(default=None, foreign_key="member.id")
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="member.id")
    resolution_note: str | None = Field(default=None, max_length=NOTE_MAX)
    loan_id: int | None = Field(default=None, foreign_key="loan.id")
    plan_id: int | None = Field(default=None, foreign_key="maintenance_plan.id", index=True)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class MaintenancePlan(SQLModel, table=True):
    __tablename__ = "maintenance_plan"
    __table_args__ = (
        CheckConstraint(
            "(tool_id IS NULL) <> (category IS NULL)", name="ck_maintenance_plan_one_target"
        ),
        CheckConstraint(
            "every_loans IS NOT NULL OR every_days IS NOT NULL OR every_use_hours IS NOT NULL",
            name="ck_maintenance_plan_has_interval",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX)
    tool_id: int | None = Field(default=None, foreign_key="tool.id", index=True)
    category: str | None = Field(default=None, max_length=60, index=True)
    every_loans: int | None = None
    every_days: int | None = None
    every_use_hours: int | None = None
    blocks_when_overdue: bool = Field(default=False)
    created_at: datetime
    created_by: int | None = Field(default=None, foreign_key="member.id")


class ServiceRecord(SQLModel, table=True):
    __tablename__ = "maintenance_service"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="maintenance_plan.id", index=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    serviced_at: datetime
    serviced_by: int | None = Field(default=None, foreign_key="member.id")
    ticket_id: int | None = Field(default=None, foreign_key="maintenance_ticket.id")
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class RepairLog(SQLModel, table=True):
    __tablename__ = "repair_log"

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="maintenance_ticket.id", index=True)
    hours: Decimal = Field(sa_column=Column(HoursType(), nullable=False))
    note: str = Field(max_length=NOTE_MAX)
    source: str = Field(max_length=16)
    logged_at: datetime


@dataclass(frozen=True)
class ReturnOutcome:
    """A kiosk return: the closed loan, and the ticket it opened if the tool needs repair."""

    loan: Loan
    ticket: Ticket | None


# --- tickets ------------------------------------------------------------------------------


def open_ticket(
    session: Session,
    *,
    tool_id: int,
    note: str,
    source: str,
    opened_by: int | None = None,
    blocking: bool = False,
    loan_id: int | None = None,
    plan_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a maintenance ticket on a tool; a blocking one takes the tool out of service.

    Stewards open ``steward`` tickets; ``return`` and ``kiosk`` tickets name the member who
    reported the fault; ``schedule`` tickets come from :func:`open_due_tickets`.
    """
    tool = _serviceable_tool(session, tool_id)
    source = _parse_ticket_source(source)
    _require_reporter(session, source, opened_by)
    now = now or utcnow()
    ticket = Ticket(
        tool_id=tool.id,
        source=source,
        note=clean_text(note, "note", limit=NOTE_MAX),
        blocking=blocking,
        opened_by=opened_by,
        opened_at=now,
        updated_at=now,
        loan_id=loan_id,
        plan_id=plan_id,
    )
    session.add(ticket)
    session.flush()
    if blocking:
        _block_tool(session, ticket)
    return ticket


def _serviceable_tool(session: Session, tool_id: int) -> Tool:
    """Return the tool, refusing a retired one (nothing to maintain)."""
    tool = get_tool(session, tool_id)
    if tool.status == ToolStatus.RETIRED:
        raise ToolUnavailable(f"Tool {tool.code} is retired; it takes no more tickets.")
    return tool


def _require_reporter(session: Session, source: TicketSource, opened_by: int | None) -> None:
    """Check who may open a ticket from ``source``."""
    if source == TicketSource.STEWARD:
        if opened_by is None:
            raise InvalidInput("A steward ticket names the steward.", field="opened_by")
        require_steward(session, opened_by, "open steward tickets")
    elif source in (TicketSource.RETURN, TicketSource.KIOSK):
        if opened_by is None:
            raise InvalidInput(
                f"A {source} ticket names the member who reported it.", field="opened_by"
            )
        # NOTE: no active check: a suspended member must still be able to report a broken tool.
        get_member(session, opened_by)


def _parse_ticket_source(value: str) -> TicketSource:
    """Return the ticket source or refuse it by name."""
    try:
        return TicketSource(value)
    except ValueError:
        known = ", ".join(s.value for s in TicketSource)
        raise InvalidInput(
            f"Ticket source {value!r} is not one of {known}.", field="source"
        ) from None


def _block_tool(session: Session, ticket: Ticket) -> None:
    """Take the ticket's tool out of service, giving the ticket as the reason."""
    reason = f"ticket {ticket.id}: {ticket.note}"
    take_out_of_service(session, ticket.tool_id, reason[:NOTE_MAX])


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """Return ticket ``ticket_id`` or refuse."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.", field="ticket_id")
    return ticket


def live_tickets(session: Session, *, tool_id: int | None = None) -> list[Ticket]:
    """Return tickets not yet closed, oldest first, optionally of one tool."""
    query = select(Ticket).where(Ticket.status.in_(LIVE_STATUSES)).order_by(Ticket.opened_at)
    if tool_id is not None:
        query = query.where(Ticket.tool_id == tool_id)
    return list(session.exec(query))


def mark_blocking(
    session: Session, ticket_id: int, *, steward_id: int, now: datetime | None = None
) -> Ticket:
    """Mark a live ticket blocking, taking its tool out of service; stewards only."""
    require_steward(session, steward_id, "mark tickets blocking")
    ticket = _live_ticket(session, ticket_id)
    if not ticket.blocking:
        ticket.blocking, ticket.updated_at = True, now or utcnow()
        session.add(ticket)
        _block_tool(session, ticket)
    return ticket


def start_ticket(
    session: Session, ticket_id: int, *, member_id: int, now: datetime | None = None
) -> Ticket:
    """Record that someone is working on an open ticket."""
    require_active(get_member(session, member_id))
    ticket = _live_ticket(session, ticket_id)
    ticket.status, ticket.updated_at = TicketStatus.IN_PROGRESS, now or utcnow()
    session.add(ticket)
    return ticket


def resolve_ticket(
    session: Session,
    ticket_id: int,
    *,
    steward_id: int,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolve a ticket as fixed; stewards only. A scheduled ticket counts as a service."""
    require_steward(session, steward_id, "resolve tickets")
    return close_ticket(
        session, ticket_id, status=TicketStatus.RESOLVED, by=steward_id, note=note, now=now
    )


def wont_fix_ticket(
    session: Session, ticket_id: int, *, steward_id: int, note: str, now: datetime | None = None
) -> Ticket:
    """Close a ticket without a fix, saying why; stewards only."""
    require_steward(session, steward_id, "close tickets")
    clean_text(note, "note", limit=NOTE_MAX)
    return close_ticket(
        session, ticket_id, status=TicketStatus.WONT_FIX, by=steward_id, note=note, now=now
    )


def close_ticket(
    session: Session,
    ticket_id: int,
    *,
    status: TicketStatus,
    by: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close a live ticket (the caller has checked who may); free its tool if nothing blocks it.

    Resolving a ticket opened by a plan records a service, which resets the plan's counters.
    """
    ticket = _live_ticket(session, ticket_id)
    now = now or utcnow()
    ticket.status, ticket.updated_at, ticket.resolved_at = status, now, now
    ticket.resolved_by = by
    ticket.resolution_note = clean_text(note, "note", limit=NOTE_MAX, required=False)
    session.add(ticket)
    session.flush()
    if status == TicketStatus.RESOLVED and ticket.plan_id is not None:
        _record_service(
            session,
            plan_id=ticket.plan_id,
            tool_id=ticket.tool_id,
            by=by,
            ticket_id=ticket.id,
            note=ticket.resolution_note,
            now=now,
        )
    if ticket.blocking:
        _release_tool_if_unblocked(session, ticket.tool_id)
    return ticket


def _live_ticket(session: Session, ticket_id: int) -> Ticket:
    """Return a ticket that is still open or in progress, else refuse."""
    ticket = get_ticket(session, ticket_id)
    if ticket.is_closed:
        raise Conflict(
            f"Ticket {ticket.id} is already {ticket.status.replace('_', ' ')}.", field="ticket_id"
        )
    return ticket


def _release_tool_if_unblocked(session: Session, tool_id: int) -> None:
    """Return the tool to service once no live blocking ticket holds it."""
    still_blocked = session.exec(
        select(Ticket.id).where(
            Ticket.tool_id == tool_id, Ticket.blocking, Ticket.status.in_(LIVE_STATUSES)
        )
    ).first()
    if still_blocked is None:
        return_to_service(session, tool_id, on_loan=open_loan(session, tool_id) is not None)


def return_with_condition(
    session: Session,
    *,
    tool_id: int,
    condition: str,
    note: str | None = None,
    kiosk_id: str | None = None,
    member_id: int | None = None,
    now: datetime | None = None,
) -> ReturnOutcome:
    """Close a tool's loan from a kiosk; "needs repair" also opens a blocking ticket.

    ``member_id`` is who returned it (the card tapped); by default, the borrower.
    """
    if member_id is not None:
        get_member(session, member_id)
    loan = return_tool(
        session, tool_id=tool_id, condition=condition, note=note, kiosk_id=kiosk_id, now=now
    )
    if loan.return_condition != ReturnCondition.NEEDS_REPAIR:
        return ReturnOutcome(loan, None)
    ticket = open_ticket(
        session,
        tool_id=tool_id,
        note=loan.return_note,
        source=TicketSource.RETURN,
        opened_by=member_id or loan.member_id,
        blocking=True,
        loan_id=loan.id,
        now=loan.returned_at,
    )
    return ReturnOutcome(loan, ticket)


# --- repairs ------------------------------------------------------------------------------


def record_repair(
    session: Session,
    *,
    member_id: int,
    tool_id: int,
    hours: Decimal | int | str,
    note: str,
    source: str,
    ticket_id: int | None = None,
    now: datetime | None = None,
) -> RepairLog:
    """Record who repaired which tool, for how long, and which ticket the work was for.

    Credit for it is claimed through :func:`hub.timebank.log_repair`, which calls this.
    """
    member, tool = get_member(session, member_id), get_tool(session, tool_id)
    require_active(member)
    hours = parse_hours(hours, maximum=MAX_REPAIR_HOURS)
    repair = RepairLog(
        tool_id=tool.id,
        member_id=member.id,
        hours=hours,
        note=clean_text(note, "note", limit=NOTE_MAX),
        source=_parse_repair_source(source),
        logged_at=now or utcnow(),
    )
    if ticket_id is not None:
        repair.ticket_id = _ticket_for_repair(session, ticket_id, tool, repair.logged_at).id
    session.add(repair)
    session.flush()
    return repair


def _ticket_for_repair(session: Session, ticket_id: int, tool: Tool, now: datetime) -> Ticket:
    """Return the live ticket a repair is for, now in progress; it must be about the same tool."""
    ticket = _live_ticket(session, ticket_id)
    if ticket.tool_id != tool.id:
        raise InvalidInput(
            f"Ticket {ticket.id} is about another tool, not {tool.code}.", field="ticket_id"
        )
    if ticket.status == TicketStatus.OPEN:
        ticket.status, ticket.updated_at = TicketStatus.IN_PROGRESS, now
        session.add(ticket)
    return ticket


def _parse_repair_source(value: str) -> RepairSource:
    """Return where a repair was logged from, or refuse it by name."""
    try:
        return RepairSource(value)
    except ValueError:
        known = ", ".join(s.value for s in RepairSource)
        raise InvalidInput(
            f"Repair source {value!r} is not one of {known}.", field="source"
        ) from None


def get_repair(session: Session, repair_id: int) -> RepairLog:
    """Return repair record ``repair_id`` or refuse."""
    repair = session.get(RepairLog, repair_id)
    if repair is None:
        raise NotFound(f"Repair {repair_id} does not exist.", field="repair_id")
    return repair


# --- preventive plans ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanStatus:
    """Where one tool stands against one plan since its last service."""

    plan: MaintenancePlan
    tool_id: int
    tool_code: str
    since: datetime
    loans: int
    elapsed: timedelta
    use: timedelta

    @property
    def loans_over(self) -> int | None:
        """Loans past the threshold (0 when exactly due), or None if not reached."""
        return _over(self.loans, self.plan.every_loans)

    @property
    def days_over(self) -> timedelta | None:
        """Time past the day threshold, or None if not reached."""
        every = self.plan.every_days
        return _over(self.elapsed, timedelta(days=every) if every else None)

    @property
    def use_over(self) -> timedelta | None:
        """Hours of use past the threshold, or None if not reached."""
        every = self.plan.every_use_hours
        return _over(self.use, every * HOUR if every else None)

    @property
    def is_due(self) -> bool:
        return any(o is not None for o in (self.loans_over, self.days_over, self.use_over))

    @property
    def progress(self) -> float:
        """Return the largest share of a threshold used up: 1.0 is just due, 1.5 half over."""
        plan, shares = self.plan, [0.0]
        if plan.every_loans:
            shares.append(self.loans / plan.every_loans)
        if plan.every_days:
            shares.append(self.elapsed / timedelta(days=plan.every_days))
        if plan.every_use_hours:
            shares.append(self.use / (plan.every_use_hours * HOUR))
        return max(shares)

    def reasons(self) -> list[str]:
        """Say in words which thresholds are reached and by how much."""
        plan, said = self.plan, []
        if self.loans_over is not None:
            said.append(f"{self.loans} loans (every {plan.every_loans}: {self.loans_over} over)")
        if self.days_over is not None:
            said.append(
                f"{self.elapsed.days} days (every {plan.every_days}: "
                f"{self.days_over.days} days over)"
            )
        if self.use_over is not None:
            said.append(
                f"{self.use / HOUR:.1f} hours of use (every {plan.every_use_hours}: "
                f"{self.use_over / HOUR:.1f} over)"
            )
        return said


def _over(value, threshold):
    """Return how far ``value`` is past ``threshold`` (None if below or no threshold)."""
    if threshold is None or value < threshold:
        return None
    return value - threshold


def add_plan(
    session: Session,
    *,
    name: str,
    steward_id: int,
    tool_id: int | None = None,
    category: str | None = None,
    every_loans: int | None = None,
    every_days: int | None = None,
    every_use_hours: int | None = None,
    blocks_when_overdue: bool = False,
    now: datetime | None = None,
) -> MaintenancePlan:
    """Add a preventive plan for one tool or a whole category; stewards only.

    It falls due every ``every_loans`` loans, ``every_days`` days or ``every_use_hours`` hours
    on loan since the last service, whichever comes first; counting starts now.
    """
    require_steward(session, steward_id, "add maintenance plans")
    if (tool_id is None) == (category is None):
        raise InvalidInput("A plan is for one tool or for one category.", field="tool_id")
    for field, value in (
        ("every_loans", every_loans),
        ("every_days", every_days),
        ("every_use_hours", every_use_hours),
    ):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InvalidInput(
                f"{field} must be a whole number of at least 1, not {value!r}.", field=field
            )
    if every_loans is None and every_days is None and every_use_hours is None:
        raise InvalidInput(
            "A plan needs every_loans, every_days or every_use_hours.", field="every_loans"
        )
    plan = MaintenancePlan(
        name=clean_text(name, "name", limit=NAME_MAX),
        tool_id=get_tool(session, tool_id).id if tool_id is not None else None,
        category=clean_text(category, "category", limit=60).lower() if category else None,
        every_loans=every_loans,
        every_days=every_days,
        every_use_hours=every_use_hours,
        blocks_when_overdue=blocks_when_overdue,
        created_at=now or utcnow(),
        created_by=steward_id,
    )
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, plan_id: int) -> MaintenancePlan:
    """Return plan ``plan_id`` or refuse."""
    plan = session.get(MaintenancePlan, plan_id)
    if plan is None:
        raise NotFound(f"Maintenance plan {plan_id} does not exist.", field="plan_id")
    return plan


def plans_for_tool(session: Session, tool: Tool) -> list[MaintenancePlan]:
    """Return the plans that apply to ``tool``: its own and its category's."""
    return list(
        session.exec(
            select(MaintenancePlan)
            .where(
                (MaintenancePlan.tool_id == tool.id) | (MaintenancePlan.category == tool.category)
            )
            .order_by(MaintenancePlan.id)
        )
    )


def tools_under_plan(session: Session, plan: MaintenancePlan) -> list[Tool]:
    """Return the tools a plan covers, retired ones excepted."""
    query = select(Tool).where(Tool.status != ToolStatus.RETIRED).order_by(Tool.code)
    if plan.tool_id is not None:
        return list(session.exec(query.where(Tool.id == plan.tool_id)))
    return list(session.exec(query.where(Tool.category == plan.category)))


def plan_status(
    session: Session, plan: MaintenancePlan, tool: Tool, now: datetime | None = None
) -> PlanStatus:
    """Count loans, days and hours of use of ``tool`` since its last service under ``plan``."""
    now = now or utcnow()
    since = last_service_time(session, plan, tool.id)
    loans = list(session.exec(select(Loan).where(Loan.tool_id == tool.id, Loan.out_at >= since)))
    use = sum((_time_on_loan(loan, now) for loan in loans), timedelta())
    return PlanStatus(
        plan=plan,
        tool_id=tool.id,
        tool_code=tool.code,
        since=since,
        loans=len(loans),
        elapsed=now - since,
        use=use,
    )


def _time_on_loan(loan: Loan, now: datetime) -> timedelta:
    """Return how long a loan has kept the tool out (up to now if it is still out)."""
    return max((loan.returned_at or now) - loan.out_at, timedelta())


def last_service_time(session: Session, plan: MaintenancePlan, tool_id: int) -> datetime:
    """Return when ``tool_id`` was last serviced under ``plan``, or when the plan began."""
    latest = session.exec(
        select(ServiceRecord.serviced_at)
        .where(ServiceRecord.plan_id == plan.id, ServiceRecord.tool_id == tool_id)
        .order_by(ServiceRecord.serviced_at.desc())
    ).first()
    return latest or plan.created_at


def due_plans(session: Session, now: datetime | None = None) -> list[PlanStatus]:
    """Return every (plan, tool) pair now due, the most overdue first."""
    now = now or utcnow()
    statuses = (
        plan_status(session, plan, tool, now)
        for plan in session.exec(select(MaintenancePlan).order_by(MaintenancePlan.id))
        for tool in tools_under_plan(session, plan)
    )
    return sorted((s for s in statuses if s.is_due), key=lambda s: -s.progress)


def require_service_not_overdue(
    session: Session, tool: Tool, *, now: datetime | None = None
) -> None:
    """Refuse to lend a tool while a plan that blocks when overdue is due on it.

    :func:`hub.loans.lend_tool` calls this before every loan.
    """
    for plan in plans_for_tool(session, tool):
        if not plan.blocks_when_overdue:
            continue
        status = plan_status(session, plan, tool, now)
        if status.is_due:
            raise ToolUnavailable(
                f"Tool {tool.code} is overdue for maintenance "
                f"'{plan.name}': {'; '.join(status.reasons())}."
            )


def log_service(
    session: Session,
    *,
    plan_id: int,
    tool_id: int,
    member_id: int,
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceRecord:
    """Record a service of a tool under a plan, resetting its counters.

    Any live ticket the schedule opened for that plan and tool is resolved with it.
    """
    require_active(get_member(session, member_id))
    plan, tool = get_plan(session, plan_id), get_tool(session, tool_id)
    if plan.tool_id not in (None, tool.id) or plan.category not in (None, tool.category):
        raise InvalidInput(f"Plan '{plan.name}' does not cover tool {tool.code}.", field="tool_id")
    now = now or utcnow()
    service = _record_service(
        session, plan_id=plan.id, tool_id=tool.id, by=member_id, ticket_id=None, note=note, now=now
    )
    for ticket in _schedule_tickets(session, plan.id, tool.id):
        close_ticket(
            session,
            ticket.id,
            status=TicketStatus.RESOLVED,
            by=member_id,
            note=f"serviced (service record {service.id})",
            now=now,
        )
    return service


def _record_service(
    session: Session,
    *,
    plan_id: int,
    tool_id: int,
    by: int | None,
    ticket_id: int | None,
    note: str | None,
    now: datetime,
) -> ServiceRecord:
    """Insert a service record: the plan's counters for this tool start again from ``now``."""
    service = ServiceRecord(
        plan_id=plan_id,
        tool_id=tool_id,
        serviced_at=now,
        serviced_by=by,
        ticket_id=ticket_id,
        note=clean_text(note, "note", limit=NOTE_MAX, required=False),
    )
    session.add(service)
    session.flush()
    return service


def _schedule_tickets(session: Session, plan_id: int, tool_id: int) -> list[Ticket]:
    """Return live tickets the schedule opened for ``plan_id`` on ``tool_id``."""
    return list(
        session.exec(
            select(Ticket).where(
                Ticket.plan_id == plan_id,
                Ticket.tool_id == tool_id,
                Ticket.status.in_(LIVE_STATUSES),
            )
        )
    )


def open_due_tickets(session: Session, now: datetime | None = None) -> list[Ticket]:
    """Open a schedule ticket for each due plan and tool that has none yet; return the new ones.

    Run it periodically. A plan that blocks when overdue opens a blocking ticket, so the tool
    leaves service and the kiosks learn it through the allow-list.
    """
    now = now or utcnow()
    opened = []
    for status in due_plans(session, now):
        if _schedule_tickets(session, status.plan.id, status.tool_id):
            continue
        note = f"Maintenance due: {status.plan.name} ({'; '.join(status.reasons())})"
        opened.append(
            open_ticket(
                session,
                tool_id=status.tool_id,
                note=note[:NOTE_MAX],
                source=TicketSource.SCHEDULE,
                blocking=status.plan.blocks_when_overdue,
                plan_id=status.plan.id,
                now=now,
            )
        )
    return opened


# --- history ------------------------------------------------------------------------------


class HistoryKind(StrEnum):
    LENT = "lent"
    RETURNED = "returned"
    TICKET_OPENED = "ticket_opened"
    TICKET_CLOSED = "ticket_closed"
    REPAIRED = "repaired"
    SERVICED = "serviced"


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to a tool: when, what, who, and the record it came from."""

    at: datetime
    kind: HistoryKind
    member_id: int | None
    member_name: str | None
    summary: str
    record_id: int


def tool_history(session: Session, tool_id: int) -> list[HistoryEntry]:
    """Return everything recorded about a tool — loans, tickets, repairs, services — by time."""
    tool = get_tool(session, tool_id)
    raw = [
        *_loan_events(session, tool.id),
        *_ticket_events(session, tool.id),
        *_repair_events(session, tool.id),
        *_service_events(session, tool.id),
    ]
    names = _member_names(session, {member_id for _, _, member_id, _, _ in raw})
    entries = [
        HistoryEntry(at, kind, member_id, names.get(member_id), summary, record_id)
        for at, kind, member_id, summary, record_id in raw
    ]
    return sorted(entries, key=lambda e: e.at)


def _loan_events(session: Session, tool_id: int) -> Iterable[tuple]:
    for loan in session.exec(select(Loan).where(Loan.tool_id == tool_id)):
        yield (
            loan.out_at,
            HistoryKind.LENT,
            loan.member_id,
            f"lent, due back {loan.due_at:%Y-%m-%d}",
            loan.id,
        )
        if loan.returned_at is not None:
            note = f": {loan.return_note}" if loan.return_note else ""
            yield (
                loan.returned_at,
                HistoryKind.RETURNED,
                loan.member_id,
                f"returned {loan.return_condition.replace('_', ' ')}{note}",
                loan.id,
            )


def _ticket_events(session: Session, tool_id: int) -> Iterable[tuple]:
    for ticket in session.exec(select(Ticket).where(Ticket.tool_id == tool_id)):
        blocking = "blocking " if ticket.blocking else ""
        yield (
            ticket.opened_at,
            HistoryKind.TICKET_OPENED,
            ticket.opened_by,
            f"{blocking}ticket {ticket.id} opened ({ticket.source}): {ticket.note}",
            ticket.id,
        )
        if ticket.resolved_at is not None:
            note = f": {ticket.resolution_note}" if ticket.resolution_note else ""
            yield (
                ticket.resolved_at,
                HistoryKind.TICKET_CLOSED,
                ticket.resolved_by,
                f"ticket {ticket.id} {ticket.status.replace('_', ' ')}{note}",
                ticket.id,
            )


def _repair_events(session: Session, tool_id: int) -> Iterable[tuple]:
    for repair in session.exec(select(RepairLog).where(RepairLog.tool_id == tool_id)):
        for_ticket = f" for ticket {repair.ticket_id}" if repair.ticket_id else ""
        yield (
            repair.logged_at,
            HistoryKind.REPAIRED,
            repair.member_id,
            f"repaired{for_ticket}, {repair.hours} h: {repair.note}",
            repair.id,
        )


def _service_events(session: Session, tool_id: int) -> Iterable[tuple]:
    query = (
        select(ServiceRecord, MaintenancePlan.name)
        .join(MaintenancePlan, MaintenancePlan.id == ServiceRecord.plan_id)
        .where(ServiceRecord.tool_id == tool_id)
    )
    for service, plan_name in session.exec(query):
        yield (
            service.serviced_at,
            HistoryKind.SERVICED,
            service.serviced_by,
            f"serviced under plan '{plan_name}'",
            service.id,
        )


def _member_names(session: Session, member_ids: set[int | None]) -> dict[int, str]:
    """Return names of the given members by id."""
    ids = [member_id for member_id in member_ids if member_id is not None]
    rows = session.exec(select(Member.id, Member.name).where(Member.id.in_(ids))) if ids else []
    return {member_id: name for member_id, name in rows}
