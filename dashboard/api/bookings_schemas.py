"""Request and response bodies of the bookable resources' operations (the steward's doors).

The schemas declare what a single field can say: a code's letters, a rule's range, a time's
form, a non-blank reason. Two rules span fields and are in the descriptions instead: an
opening interval ends after it starts (and a day's intervals do not overlap), and the longest
booking is a whole number of slots; the hub refuses either with 422 naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from hub.bookings.attendance import PausedMember
from hub.bookings.models import Resource
from hub.bookings.resources import RULE_LIMITS
from hub.members.roster import NAME_MAX

from .inventory_schemas import SiteId
from .schemas import NOT_BLANK, Body, Day, Id, Note, Query, Stamp

# "09:00-21:00": a start from 00:00 to 23:59, an end up to 24:00 (midnight at the day's end).
INTERVAL = r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Interval = Annotated[
    str,
    StringConstraints(pattern=INTERVAL),
    Field(description="HH:MM-HH:MM, local time; the end must be after the start."),
]
DayHours = Annotated[list[Interval], Field(max_length=6)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
TrainingCode = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NOT_BLANK)]
ToolCode = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NOT_BLANK)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK),
]
Holders = Annotated[
    Literal["keep", "cancel"],
    Field(
        description=(
            "What happens to the future bookings it touches: `keep` (they stay booked and "
            "each holder sees a notice that it may not go ahead) or `cancel` (they are "
            "cancelled and each holder sees why)."
        )
    ),
]


def _rule(name: str, description: str) -> Any:
    """Return the field of integer rule ``name``, with the hub's bounds (None: unchanged)."""
    low, high = RULE_LIMITS[name]
    return Field(None, ge=low, le=high, description=description)


class OpeningHours(Body):
    """A week of opening hours; a day left out (or an empty list) is closed."""

    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []


class ResourceRules(Body):
    """The rules of a machine. ``max_booking_minutes`` must be a whole number of slots."""

    slot_minutes: int | None = _rule("slot_minutes", "Length of one slot, in minutes.")
    max_booking_minutes: int | None = _rule(
        "max_booking_minutes", "Longest single booking, a whole number of slots."
    )
    max_minutes_per_week: int | None = _rule(
        "max_minutes_per_week", "Minutes one member may book per week."
    )
    max_future_bookings: int | None = _rule(
        "max_future_bookings", "Upcoming bookings one member may hold at once."
    )
    cost_minutes_per_hour: int | None = _rule(
        "cost_minutes_per_hour", "Timebank minutes charged per hour booked; 0 is free."
    )
    checkin_grace_minutes: int | None = _rule(
        "checkin_grace_minutes", "Minutes after the start a booking waits for its check-in."
    )
    opening_hours: OpeningHours | None = None


class ResourceCreate(ResourceRules):
    """A new bookable machine; rules left out take the hub's defaults (09:00-21:00 daily,
    30-minute slots, 2 hours a booking, 4 hours a week, 3 upcoming, free, 15 minutes' grace)."""

    code: Code = Field(description="Lowercase letters, digits, - or _; unique.")
    name: Name
    training: TrainingCode | None = Field(None, description="Training code a booker needs.")
    tool_code: ToolCode | None = Field(None, description="The library tool it is, if any.")
    site: SiteId | None = Field(None, description="The site it stands at, if any.")


class ResourceChange(ResourceRules):
    """The fields to change; those left out stay as they are. ``training``, ``tool_code`` or
    ``site`` null removes it."""

    name: Name | None = None
    training: TrainingCode | None = None
    tool_code: ToolCode | None = None
    site: SiteId | None = None


class ClosingDay(Body):
    day: Day = Field(description="The local day to close: today or later.")
    reason: Note | None = Field(None, description="Why; the holders see it.")
    bookings: Holders


class ClosedDayQuery(Query):
    day: Day = Field(description="The closed local day to open again.")


class Pausing(Body):
    reason: Note = Field(description="Why; the holders see it.")
    bookings: Holders


class Resuming(Body):
    reason: Note = Field(description="What was put right; kept in the audit log.")


class ClosedDayOut(BaseModel):
    day: date
    reason: str | None


class ResourceDetail(BaseModel):
    id: int
    code: str
    name: str
    tool_id: int | None
    training_id: int | None
    slot_minutes: int
    max_booking_minutes: int
    max_minutes_per_week: int
    max_future_bookings: int
    cost_minutes_per_hour: int
    checkin_grace_minutes: int
    timezone: str
    opening_hours: dict[str, list[str]]
    paused: bool
    paused_reason: str | None
    site: str | None = Field(description="The site it stands at (null: none given).")
    closed_days: list[ClosedDayOut] = Field(description="Closed days from today on.")


class HoldersOutcome(BaseModel):
    """A change that touched future bookings: which, what became of them, in words."""

    resource: ResourceDetail
    bookings: Literal["keep", "cancel"] | None
    booking_ids: list[int]
    outcome: str


def resource_detail(resource: Resource, closed: list[ClosedDayOut]) -> ResourceDetail:
    """Return a resource with its upcoming closed days as the API shows it."""
    data = resource.model_dump(exclude={"added_at"})
    return ResourceDetail.model_validate(data | {"closed_days": closed})


class PausedMemberOut(BaseModel):
    """A member whose booking rights are paused (after no-shows), until when and why."""

    member_id: Id
    member_number: str
    member_name: str
    starts_at: Stamp
    ends_at: Stamp = Field(description="When the pause ends; lifting it ends it now.")
    reason: str


class PausedList(BaseModel):
    paused: list[PausedMemberOut]


class CalendarLink(BaseModel):
    resource_id: Id
    url: str = Field(
        description="The machine's private busy-time iCalendar feed. Shown once; the earlier "
        "link stops working."
    )


def paused_member_out(row: PausedMember) -> PausedMemberOut:
    """Return a pause in force as the API shows it."""
    return PausedMemberOut(
        member_id=row.member.id or 0,
        member_number=row.member.number,
        member_name=row.member.name,
        starts_at=row.pause.starts_at,
        ends_at=row.pause.ends_at,
        reason=row.pause.reason,
    )


class PauseLifting(Body):
    reason: Note | None = Field(
        default=None, description="Why the pause ends early; kept in the audit log."
    )


class NewCalendarLink(Body):
    """Nothing to say: the link is made for the machine in the path."""
