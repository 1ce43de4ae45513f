"""Maintenance: tickets (open, start, resolve, won't fix, blocking), preventive plans and
services, a tool handed back at the desk (stewards only; every change is checked and audited by
the hub's services)."""

from __future__ import annotations

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.inventory import registry
from hub.maintenance import plans as maintenance_plans
from hub.maintenance import returns, stewarding
from hub.maintenance.models import MaintenancePlan, ServiceRecord
from hub.queries import maintenance as maintenance_rows

from .blueprint import api
from .schemas import NewTicket, Resolution, TicketFilter, TicketList, TicketOut
from .upkeep_schemas import (
    Blocking,
    DeskReturn,
    DeskReturnOut,
    NewPlan,
    NewService,
    PlanChange,
    PlanList,
    PlanOut,
    ServiceOut,
    Start,
    WontFix,
)

ID = "<int(min=1, max=2147483647):ticket_id>"
PLAN = "<int(min=1, max=2147483647):plan_id>"
TOOL = "<int(min=1, max=2147483647):tool_id>"


@api.operation(
    "GET", "/maintenance/tickets", query=TicketFilter, response=TicketList, tag="maintenance"
)
def list_tickets(query: TicketFilter) -> TicketList:
    """List tickets not yet closed (open or in progress), oldest first; optionally one tool's.

    Stewards only: tickets name who reported a fault.
    """
    with reading() as db:
        rows = maintenance_rows.live_tickets_with_tools(db, tool_id=query.tool_id)
    return TicketList(tickets=[ticket_out(row) for row in rows])


@api.operation(
    "POST",
    "/maintenance/tickets",
    body=NewTicket,
    response=TicketOut,
    status=201,
    refusals=(404,),
    tag="maintenance",
)
def open_ticket(body: NewTicket) -> TicketOut:
    """Open a steward ticket on a tool; a blocking one takes the tool out of service.

    A retired tool takes no tickets (422). Stewards only; audited.
    """
    with transaction() as db:
        ticket = stewarding.open_ticket(
            db, acting_member(), tool_id=body.tool_id, note=body.note, blocking=body.blocking
        )
        return ticket_out(maintenance_rows.ticket_row(db, ticket))


@api.operation(
    "POST",
    f"/maintenance/tickets/{ID}/start",
    body=Start,
    response=TicketOut,
    refusals=(404, 409),
    tag="maintenance",
)
def start_ticket(ticket_id: int, body: Start) -> TicketOut:
    """Mark a live ticket in progress. A closed ticket is a conflict (409). Audited."""
    with transaction() as db:
        ticket = stewarding.start_ticket(db, acting_member(), ticket_id)
        return ticket_out(maintenance_rows.ticket_row(db, ticket))


@api.operation(
    "POST",
    f"/maintenance/tickets/{ID}/resolve",
    body=Resolution,
    response=TicketOut,
    refusals=(404, 409),
    tag="maintenance",
)
def resolve_ticket(ticket_id: int, body: Resolution) -> TicketOut:
    """Resolve a live ticket as fixed; the tool goes back into service once nothing blocks it.

    A ticket already closed is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        ticket = stewarding.resolve_ticket(db, acting_member(), ticket_id, body.note)
        return ticket_out(maintenance_rows.ticket_row(db, ticket))


@api.operation(
    "POST",
    f"/maintenance/tickets/{ID}/wont-fix",
    body=WontFix,
    response=TicketOut,
    refusals=(404, 409),
    tag="maintenance",
)
def wont_fix_ticket(ticket_id: int, body: WontFix) -> TicketOut:
    """Close a live ticket without a fix, saying why; the tool returns to service once nothing
    blocks it. A ticket already closed is a conflict (409). Stewards only; audited."""
    with transaction() as db:
        ticket = stewarding.wont_fix_ticket(db, acting_member(), ticket_id, body.note)
        return ticket_out(maintenance_rows.ticket_row(db, ticket))


@api.operation(
    "PUT",
    f"/maintenance/tickets/{ID}/blocking",
    body=Blocking,
    response=TicketOut,
    refusals=(404, 409),
    tag="maintenance",
)
def set_blocking(ticket_id: int, body: Blocking) -> TicketOut:
    """Make a live ticket keep its tool out of service (true), or stop it doing so (false: the
    tool returns to service once nothing else blocks it). Stewards only; audited."""
    with transaction() as db:
        ticket = stewarding.set_blocking(db, acting_member(), ticket_id, body.blocking)
        return ticket_out(maintenance_rows.ticket_row(db, ticket))


# --- plans and services -------------------------------------------------------------------


@api.operation("GET", "/plans", response=PlanList, tag="maintenance")
def list_plans() -> PlanList:
    """List every preventive maintenance plan, oldest first. Stewards only."""
    with reading() as db:
        return PlanList(plans=[plan_out(plan) for plan in maintenance_plans.all_plans(db)])


@api.operation(
    "POST", "/plans", body=NewPlan, response=PlanOut, status=201, refusals=(404,), tag="maintenance"
)
def add_plan(body: NewPlan) -> PlanOut:
    """Add a preventive plan for one tool or one category: due every N loans, N days or N
    hours of use since the last service, whichever comes first. Stewards only; audited."""
    with transaction() as db:
        return plan_out(stewarding.add_plan(db, acting_member(), **body.model_dump()))


@api.operation(
    "PATCH",
    f"/plans/{PLAN}",
    body=PlanChange,
    response=PlanOut,
    refusals=(404,),
    tag="maintenance",
)
def edit_plan(plan_id: int, body: PlanChange) -> PlanOut:
    """Change a plan: only the fields sent change (null clears an interval, or the target
    when the other is given). The result must still have one target and an interval (422).
    Stewards only; audited."""
    with transaction() as db:
        plan = maintenance_plans.get_plan(db, plan_id)
        fields = plan_out(plan).model_dump(include=set(PlanChange.model_fields))
        fields |= body.model_dump(exclude_unset=True)
        if fields.get("blocks_when_overdue") is None:
            fields["blocks_when_overdue"] = plan.blocks_when_overdue
        return plan_out(stewarding.edit_plan(db, acting_member(), plan_id, **fields))


@api.operation("DELETE", f"/plans/{PLAN}", response=PlanOut, refusals=(404, 409), tag="maintenance")
def remove_plan(plan_id: int) -> PlanOut:
    """Remove a plan that has no services or tickets yet, answering what it was; one with a
    history is kept (409: edit it instead). Stewards only; audited."""
    with transaction() as db:
        removed = plan_out(maintenance_plans.get_plan(db, plan_id))
        stewarding.remove_plan(db, acting_member(), plan_id)
    return removed


@api.operation(
    "POST",
    "/tools/<code>/services",
    body=NewService,
    response=ServiceOut,
    status=201,
    refusals=(404,),
    tag="maintenance",
)
def log_service(code: str, body: NewService) -> ServiceOut:
    """Record that tool ``code`` was serviced under a plan: the plan's counters start again and
    the tickets the schedule opened for it are resolved. Stewards only; audited."""
    with transaction() as db:
        tool = registry.tool_by_code(db, code)
        service = stewarding.log_service(
            db, acting_member(), plan_id=body.plan_id, tool_id=tool.id, note=body.note
        )
        return service_out(service)


def plan_out(plan: MaintenancePlan) -> PlanOut:
    """Return a plan as the API shows it."""
    return PlanOut.model_validate(plan.model_dump())


def service_out(service: ServiceRecord) -> ServiceOut:
    """Return a service record as the API shows it."""
    return ServiceOut.model_validate(service.model_dump())


def ticket_out(row: maintenance_rows.TicketRow) -> TicketOut:
    """Return a ticket with its tool's code."""
    ticket = row.ticket
    return TicketOut(
        id=ticket.id,
        tool_id=ticket.tool_id,
        tool_code=row.tool_code,
        status=ticket.status,
        source=ticket.source,
        note=ticket.note,
        blocking=ticket.blocking,
        opened_by=ticket.opened_by,
        opened_at=ticket.opened_at,
        resolved_at=ticket.resolved_at,
        resolved_by=ticket.resolved_by,
        resolution_note=ticket.resolution_note,
    )


@api.operation(
    "POST", f"/tools/{TOOL}/return", body=DeskReturn, response=DeskReturnOut, tag="maintenance"
)
def return_at_desk(tool_id: int, body: DeskReturn) -> DeskReturnOut:
    """Record a tool handed back at the desk: its open loan closes, the next hold is served.

    `needs_repair` (with a note) opens a blocking ticket. A tool not on loan is 404. Stewards
    only; audited on the loan.
    """
    with transaction() as db:
        outcome = returns.return_with_condition(
            db, acting_member(), tool_id=tool_id, condition=body.condition, note=body.note
        )
        loan, tool = outcome.loan, registry.get_tool(db, tool_id)
        assert loan is not None and loan.id is not None and loan.returned_at is not None
        return DeskReturnOut(
            loan_id=loan.id,
            tool_id=tool_id,
            tool_code=tool.code,
            returned_at=loan.returned_at,
            condition=loan.return_condition or body.condition,
            ticket_id=outcome.ticket.id if outcome.ticket else None,
        )
