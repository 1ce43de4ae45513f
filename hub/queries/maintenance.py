"""Care for the tools as stewards read it: live tickets, a tool's tickets, plans, what is due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, case, false, func
from sqlmodel import Session, col, select

from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import Tool, ToolStatus
from hub.loans.records import Loan
from hub.maintenance.models import LIVE_STATUSES, MaintenancePlan, ServiceRecord, Ticket
from hub.maintenance.plans import PlanStatus


class TicketRow(NamedTuple):
    """A ticket with its tool's code and name."""

    ticket: Ticket
    tool_code: str
    tool_name: str


class PlanRow(NamedTuple):
    """A preventive plan and what it covers, in words."""

    plan: MaintenancePlan
    covers: str


# --- tickets ------------------------------------------------------------------------------


def live_tickets_with_tools(
    session: Session, *, tool_id: int | None = None, blocking_first: bool = False
) -> list[TicketRow]:
    """Return tickets still open or in progress, oldest first, optionally of one tool.

    With ``blocking_first``, tickets that keep a tool out of service come before the rest:
    the order a steward works in.
    """
    order = (Ticket.blocking.desc(),) if blocking_first else ()
    query = (
        select(Ticket, Tool.code, Tool.name)
        .join(Tool, Tool.id == Ticket.tool_id)
        .where(Ticket.status.in_(LIVE_STATUSES))
        .order_by(*order, Ticket.opened_at)
    )
    if tool_id is not None:
        query = query.where(Ticket.tool_id == tool_id)
    return [TicketRow(*row) for row in session.exec(query)]


def ticket_row(session: Session, ticket: Ticket) -> TicketRow:
    """Return ``ticket`` with its tool's code and name."""
    tool = session.get(Tool, ticket.tool_id)
    return TicketRow(ticket, tool.code, tool.name)


def tickets_of_tool(session: Session, tool_id: int, *, limit: int = 50) -> list[Ticket]:
    """Return a tool's tickets, live ones first, then the newest."""
    live = case((Ticket.status.in_(LIVE_STATUSES), 0), else_=1)
    query = (
        select(Ticket)
        .where(Ticket.tool_id == tool_id)
        .order_by(live, Ticket.opened_at.desc())
        .limit(limit)
    )
    return list(session.exec(query))


# --- preventive plans ---------------------------------------------------------------------


def plan_rows(session: Session) -> list[PlanRow]:
    """Return every maintenance plan with the tool or category it covers."""
    query = (
        select(MaintenancePlan, Tool.code)
        .join(Tool, Tool.id == MaintenancePlan.tool_id, isouter=True)
        .order_by(MaintenancePlan.id)
    )
    return [
        PlanRow(plan, f"tool {code}" if code else f"every {plan.category} tool")
        for plan, code in session.exec(query)
    ]


def due_maintenance(session: Session, *, now: datetime | None = None) -> list[PlanStatus]:
    """Return every (plan, tool) pair now due, most overdue first.

    The same answer as :func:`hub.maintenance.plans.due_plans`, counted per plan in grouped
    queries instead of one query per tool: with a thousand tools that is milliseconds, not
    seconds. Hours of use are counted only for plans measured in them (elsewhere they show as
    zero).
    """
    now = now or utcnow()
    plans = session.exec(select(MaintenancePlan).order_by(MaintenancePlan.id)).all()
    first = _first_loan_since(session, plans)
    statuses = [status for plan in plans for status in _plan_statuses(session, plan, now, first)]
    return sorted((s for s in statuses if s.is_due), key=lambda s: -s.progress)


def _plan_statuses(
    session: Session, plan: MaintenancePlan, now: datetime, first_loan_id: int | None
) -> list[PlanStatus]:
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
    in_window: ColumnElement[bool] = false()  # no loan since the oldest plan began: none
    if first_loan_id is not None:
        in_window = (col(Loan.tool_id) == col(Tool.id)) & (col(Loan.id) >= first_loan_id)
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


def _first_loan_since(session: Session, plans: list[MaintenancePlan]) -> int | None:
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
    return session.exec(select(func.min(col(Loan.id) + 0)).where(Loan.out_at >= start)).one()


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
