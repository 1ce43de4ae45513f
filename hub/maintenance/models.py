"""The maintenance tables: tickets, repair logs, preventive plans and service records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from hub.infra import audit
from hub.members.roster import NAME_MAX, NOTE_MAX
from hub.timebank.ledger import HoursType

MAX_REPAIR_HOURS = Decimal("24")


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


# A due plan opens one ticket per tool; the database keeps it one even if two housekeeping
# passes raced (``hub.worker.jobs`` also keeps them apart).
LIVE_PLAN_TICKET = "plan_id IS NOT NULL AND status IN ('open', 'in_progress')"


class Ticket(SQLModel, table=True):
    __tablename__ = "maintenance_ticket"
    __table_args__ = (
        Index(
            "uq_maintenance_ticket_live_plan_tool",
            "plan_id",
            "tool_id",
            unique=True,
            sqlite_where=text(LIVE_PLAN_TICKET),
            postgresql_where=text(LIVE_PLAN_TICKET),
        ),
    )

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


# --- what stewards do to these records, as the audit log names it ----------------------------

PLAN_FIELDS = (
    "name",
    "tool_id",
    "category",
    "every_loans",
    "every_days",
    "every_use_hours",
    "blocks_when_overdue",
)
PLAN_ADD = audit.Action("plan.add", PLAN_FIELDS)
PLAN_EDIT = audit.Action("plan.edit", PLAN_FIELDS)
PLAN_REMOVE = audit.Action("plan.remove", PLAN_FIELDS)
SERVICE_LOG = audit.Action("service.log", ("plan_id", "tool_id", "serviced_by", "note"))
TICKET_FIELDS = ("status", "blocking", "resolution_note", "resolved_by")
TICKET_OPEN = audit.Action("ticket.open", ("tool_id", "source", "note", *TICKET_FIELDS))
TICKET_START = audit.Action("ticket.start", TICKET_FIELDS)
TICKET_RESOLVE = audit.Action("ticket.resolve", TICKET_FIELDS)
TICKET_WONT_FIX = audit.Action("ticket.wont_fix", TICKET_FIELDS)
TICKET_BLOCK = audit.Action("ticket.block", TICKET_FIELDS)
TICKET_UNBLOCK = audit.Action("ticket.unblock", TICKET_FIELDS)
