"""Preventive maintenance: plans that fall due by loans, days or hours of use, and service records.

A plan falls due by whichever comes first since the tool's last service; a plan that
``blocks_when_overdue`` stops the tool being lent while due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, select

from hub.errors import InvalidInput, NotFound, ToolUnavailable
from hub.infra.clock import utcnow
from hub.inventory.registry import (
    Tool,
    ToolStatus,
    get_tool,
)
from hub.loans.records import Loan
from hub.maintenance.models import (
    LIVE_STATUSES,
    MaintenancePlan,
    ServiceRecord,
    Ticket,
    TicketSource,
    TicketStatus,
)
from hub.maintenance.tickets import close_ticket, open_ticket, record_service
from hub.members.roster import NAME_MAX, NOTE_MAX, clean_text
from hub.timebank.ledger import require_steward

HOUR = timedelta(hours=1)


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


Amount = TypeVar("Amount", int, timedelta)


def _over(value: Amount, threshold: Amount | None) -> Amount | None:
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
    plan = new_plan(
        session,
        name=name,
        tool_id=tool_id,
        category=category,
        every_loans=every_loans,
        every_days=every_days,
        every_use_hours=every_use_hours,
        blocks_when_overdue=blocks_when_overdue,
        created_by=steward_id,
        now=now,
    )
    session.add(plan)
    session.flush()
    return plan


def new_plan(
    session: Session,
    *,
    created_by: int | None,
    now: datetime | None = None,
    **fields: str | int | bool | None,
) -> MaintenancePlan:
    """Return a new, unsaved plan with ``fields`` checked (see :func:`checked_plan_fields`)."""
    return MaintenancePlan(
        **checked_plan_fields(session, **fields),
        created_at=now or utcnow(),
        created_by=created_by,
    )


def checked_plan_fields(
    session: Session,
    *,
    name: str,
    tool_id: int | None = None,
    category: str | None = None,
    every_loans: int | None = None,
    every_days: int | None = None,
    every_use_hours: int | None = None,
    blocks_when_overdue: bool = False,
) -> dict[str, str | int | bool | None]:
    """Return a plan's fields cleaned, or refuse the first one at fault.

    A plan is for one tool or one category, with at least one interval, each a whole number
    of at least 1.
    """
    if (tool_id is None) == (category is None):
        raise InvalidInput("A plan is for one tool or for one category.", field="tool_id")
    for field, value in (
        ("every_loans", every_loans),
        ("every_days", every_days),
        ("every_use_hours", every_use_hours),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidInput(
                f"{field} must be a whole number of at least 1, not {value!r}.", field=field
            )
    if every_loans is None and every_days is None and every_use_hours is None:
        raise InvalidInput(
            "A plan needs every_loans, every_days or every_use_hours.", field="every_loans"
        )
    return dict(
        name=clean_text(name, "name", limit=NAME_MAX),
        tool_id=get_tool(session, tool_id).id if tool_id is not None else None,
        category=clean_text(category, "category", limit=60).lower() if category else None,
        every_loans=every_loans,
        every_days=every_days,
        every_use_hours=every_use_hours,
        blocks_when_overdue=bool(blocks_when_overdue),
    )


def get_plan(session: Session, plan_id: int) -> MaintenancePlan:
    """Return plan ``plan_id`` or refuse."""
    plan = session.get(MaintenancePlan, plan_id)
    if plan is None:
        raise NotFound(f"Maintenance plan {plan_id} does not exist.", field="plan_id")
    return plan


def all_plans(session: Session) -> list[MaintenancePlan]:
    """Return every plan, oldest first."""
    return list(session.exec(select(MaintenancePlan).order_by(MaintenancePlan.id)))


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

    :func:`hub.loans.lending.lend_tool` calls this before every loan it makes on the hub.
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


def service_tool(
    session: Session,
    *,
    plan_id: int,
    tool_id: int,
    by: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceRecord:
    """Record a service (the caller has checked who may); resolve the plan's live tickets."""
    plan, tool = get_plan(session, plan_id), get_tool(session, tool_id)
    if plan.tool_id not in (None, tool.id) or plan.category not in (None, tool.category):
        raise InvalidInput(f"Plan '{plan.name}' does not cover tool {tool.code}.", field="tool_id")
    now = now or utcnow()
    service = record_service(
        session, plan_id=plan.id, tool_id=tool.id, by=by, ticket_id=None, note=note, now=now
    )
    for ticket in _schedule_tickets(session, plan.id, tool.id):
        close_ticket(
            session,
            ticket.id,
            status=TicketStatus.RESOLVED,
            by=by,
            note=f"serviced (service record {service.id})",
            now=now,
        )
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
