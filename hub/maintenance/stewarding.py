"""What a steward does to care for the tools: plans, services and tickets.

Each takes the acting member first (``hub.members.ranks.Actor``; the CLI acts as ``OPERATOR``),
checks they are a steward, and writes its own audit entry in the caller's transaction, so a page,
the API and the CLI are checked and audited alike. The rules themselves live in
:mod:`hub.maintenance.plans` and :mod:`hub.maintenance.tickets`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, SQLModel, func, select

from hub.errors import Conflict
from hub.infra import audit
from hub.maintenance import plans, tickets
from hub.maintenance.models import (
    PLAN_ADD,
    PLAN_EDIT,
    PLAN_FIELDS,
    PLAN_REMOVE,
    SERVICE_LOG,
    TICKET_BLOCK,
    TICKET_OPEN,
    TICKET_RESOLVE,
    TICKET_START,
    TICKET_UNBLOCK,
    TICKET_WONT_FIX,
    MaintenancePlan,
    ServiceRecord,
    Ticket,
    TicketSource,
    TicketStatus,
)
from hub.members.ranks import Actor, require_role
from hub.members.roster import NOTE_MAX, Role, clean_text

PlanValue = str | int | bool | None


def _require_steward(actor: Actor, doing: str) -> None:
    require_role(actor, Role.STEWARD, doing)


# --- plans --------------------------------------------------------------------------------


def add_plan(
    session: Session, actor: Actor, *, now: datetime | None = None, **fields: PlanValue
) -> MaintenancePlan:
    """Add a preventive plan for one tool or one category (``plans.checked_plan_fields``).

    The same plan twice (a double submit) is the plan already there, added and audited once.
    """
    _require_steward(actor, "add maintenance plans")
    plan = plans.new_plan(session, created_by=actor.id, now=now, **fields)
    same = _same_plan(session, plan)
    if same is not None:
        return same
    session.add(plan)
    session.flush()
    _record_created(session, actor, PLAN_ADD, plan, f"plan:{plan.id}")
    return plan


def _same_plan(session: Session, plan: MaintenancePlan) -> MaintenancePlan | None:
    """Return a stored plan with exactly ``plan``'s fields, if there is one."""
    query = select(MaintenancePlan).where(
        *(getattr(MaintenancePlan, name) == getattr(plan, name) for name in PLAN_FIELDS)
    )
    return session.exec(query).first()


def edit_plan(session: Session, actor: Actor, plan_id: int, **fields: PlanValue) -> MaintenancePlan:
    """Change a plan's name, target, intervals or blocking; its counters carry on."""
    _require_steward(actor, "edit maintenance plans")
    plan = plans.get_plan(session, plan_id)
    checked = plans.checked_plan_fields(session, **fields)
    with audit.audited(session, actor, PLAN_EDIT, plan, f"plan:{plan.id}"):
        for name, value in checked.items():
            setattr(plan, name, value)
        session.add(plan)
    return plan


def remove_plan(session: Session, actor: Actor, plan_id: int) -> None:
    """Remove a plan that has no history yet; one with services or tickets is kept (refused).

    A plan's service records and tickets are part of its tools' histories, so they stay; a
    steward who wants such a plan to stop mattering edits it instead (e.g. not blocking).
    """
    _require_steward(actor, "remove maintenance plans")
    plan = plans.get_plan(session, plan_id)
    services, raised = _history_of(session, plan_id)
    if services or raised:
        raise Conflict(
            f"Plan '{plan.name}' has {services} service record(s) and {raised} ticket(s) in its "
            "tools' histories, so it is kept: edit it instead.",
            field="plan_id",
        )
    audit.record(
        session,
        actor_member_id=actor.id,
        action=PLAN_REMOVE.name,
        target=f"plan:{plan.id}",
        before=audit.snapshot(plan, *PLAN_REMOVE.fields),
        after=None,
    )
    session.delete(plan)
    session.flush()


def _history_of(session: Session, plan_id: int) -> tuple[int, int]:
    """Return how many service records and tickets name plan ``plan_id``."""
    count = func.count()
    services = session.exec(
        select(count).select_from(ServiceRecord).where(ServiceRecord.plan_id == plan_id)
    ).one()
    raised = session.exec(select(count).select_from(Ticket).where(Ticket.plan_id == plan_id)).one()
    return services, raised


def log_service(
    session: Session,
    actor: Actor,
    *,
    plan_id: int,
    tool_id: int,
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceRecord:
    """Record that a tool was serviced under a plan: its counters start again."""
    _require_steward(actor, "log maintenance services")
    service = plans.service_tool(
        session, plan_id=plan_id, tool_id=tool_id, by=actor.id, note=note, now=now
    )
    _record_created(session, actor, SERVICE_LOG, service, f"service:{service.id}")
    return service


# --- tickets ------------------------------------------------------------------------------


def open_ticket(
    session: Session, actor: Actor, *, tool_id: int, note: str, blocking: bool = False
) -> Ticket:
    """Open a steward ticket on a tool; a blocking one takes the tool out of service."""
    _require_steward(actor, "open steward tickets")
    ticket = tickets.add_ticket(
        session,
        tool_id=tool_id,
        note=note,
        source=TicketSource.STEWARD,
        opened_by=actor.id,
        blocking=blocking,
    )
    _record_created(session, actor, TICKET_OPEN, ticket, f"ticket:{ticket.id}")
    return ticket


def start_ticket(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    """Record that work on a live ticket has begun."""
    _require_steward(actor, "start tickets")
    ticket = tickets.get_ticket(session, ticket_id)
    with audit.audited(session, actor, TICKET_START, ticket, f"ticket:{ticket_id}"):
        tickets.set_in_progress(session, ticket_id)
    return ticket


def resolve_ticket(
    session: Session,
    actor: Actor,
    ticket_id: int,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolve a live ticket as fixed; the tool returns to service once nothing blocks it.

    A ticket the schedule opened counts as a service of its plan.
    """
    _require_steward(actor, "resolve tickets")
    return _close(session, actor, ticket_id, TicketStatus.RESOLVED, note, now)


def wont_fix_ticket(
    session: Session, actor: Actor, ticket_id: int, note: str, now: datetime | None = None
) -> Ticket:
    """Close a live ticket without a fix, saying why."""
    _require_steward(actor, "close tickets")
    clean_text(note, "note", limit=NOTE_MAX)
    return _close(session, actor, ticket_id, TicketStatus.WONT_FIX, note, now)


def _close(
    session: Session,
    actor: Actor,
    ticket_id: int,
    status: TicketStatus,
    note: str | None,
    now: datetime | None,
) -> Ticket:
    action = TICKET_RESOLVE if status == TicketStatus.RESOLVED else TICKET_WONT_FIX
    ticket = tickets.get_ticket(session, ticket_id)
    with audit.audited(session, actor, action, ticket, f"ticket:{ticket_id}"):
        tickets.close_ticket(session, ticket_id, status=status, by=actor.id, note=note, now=now)
    return ticket


def set_blocking(session: Session, actor: Actor, ticket_id: int, blocking: bool) -> Ticket:
    """Make a live ticket keep its tool out of service, or stop it doing so."""
    _require_steward(actor, "mark tickets blocking" if blocking else "unmark blocking tickets")
    ticket = tickets.get_ticket(session, ticket_id)
    action = TICKET_BLOCK if blocking else TICKET_UNBLOCK
    with audit.audited(session, actor, action, ticket, f"ticket:{ticket_id}"):
        tickets.set_blocking(session, ticket_id, blocking)
    return ticket


def _record_created(
    session: Session, actor: Actor, action: audit.Action, row: SQLModel, target: str
) -> None:
    """Audit a record just created (its id is only known now, so not through ``audited``)."""
    audit.record(
        session,
        actor_member_id=actor.id,
        action=action.name,
        target=target,
        after=audit.snapshot(row, *action.fields),
    )
