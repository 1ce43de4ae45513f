"""The tables of shared-asset scheduling: resources, closed days, bookings, pauses, PINs, feeds."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.infra import audit
from hub.infra.clock import utcnow
from hub.members.roster import NAME_MAX, NOTE_MAX

DEFAULT_TIMEZONE = "Europe/London"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# The statuses that hold a slot; the PostgreSQL exclusion constraint names the same two.
ACTIVE_STATUSES = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)


def default_opening_hours() -> dict[str, list[str]]:
    """Return the opening hours a new resource gets: every day 09:00 to 21:00."""
    return {day: ["09:00-21:00"] for day in EVERY_DAY}


class Resource(SQLModel, table=True):
    """A bookable machine or bench, with the rules its bookings must keep."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=NAME_MAX)
    tool_id: int | None = Field(default=None, foreign_key="tool.id")
    training_id: int | None = Field(default=None, foreign_key="training.id")
    slot_minutes: int = Field(default=30)
    max_booking_minutes: int = Field(default=120)
    max_minutes_per_week: int = Field(default=240)
    max_future_bookings: int = Field(default=3)
    # Timebank minutes a member pays per hour booked; 0 means free.
    cost_minutes_per_hour: int = Field(default=0)
    checkin_grace_minutes: int = Field(default=15)
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=64)
    opening_hours: dict[str, list[str]] = Field(
        default_factory=default_opening_hours, sa_column=Column(JSON, nullable=False)
    )
    paused: bool = Field(default=False)
    paused_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    added_at: datetime = Field(default_factory=utcnow)
    # The site it stands at (a site id, as kiosks have one), if the network has several.
    site: str | None = Field(default=None, max_length=32)

    @property
    def label(self) -> str:
        """Return the name members see: "Laser cutter · south", or the name alone."""
        return f"{self.name} · {self.site}" if self.site else self.name


class HolderChoice(StrEnum):
    """What a steward's closing or pausing does to the future bookings it touches."""

    KEEP = "keep"  # they stay booked; each holder gets a notice that it may not go ahead
    CANCEL = "cancel"  # they are cancelled; each holder sees why on their bookings


# The steward actions on resources and bookings, each with the fields its audit entry shows.
RESOURCE_FIELDS = (
    "code",
    "name",
    "tool_id",
    "training_id",
    "slot_minutes",
    "max_booking_minutes",
    "max_minutes_per_week",
    "max_future_bookings",
    "cost_minutes_per_hour",
    "checkin_grace_minutes",
    "timezone",
    "opening_hours",
    "site",
)
RESOURCE_ADD = audit.Action("resource.add", RESOURCE_FIELDS)
RESOURCE_EDIT = audit.Action("resource.edit", RESOURCE_FIELDS)
RESOURCE_PAUSE = audit.Action("resource.pause", ("paused", "paused_reason"))
RESOURCE_RESUME = audit.Action("resource.resume", ("paused", "paused_reason"))
CLOSURE_ADD = audit.Action("resource.close_day", ("resource_id", "day", "reason"))
CLOSURE_REMOVE = audit.Action("resource.reopen_day", ("resource_id", "day", "reason"))
BOOKING_CANCEL = audit.Action(
    "booking.cancel", ("status", "cancelled_at", "cancelled_by", "cancel_reason")
)


class ResourceClosure(SQLModel, table=True):
    """A whole local day on which a resource cannot be booked (a holiday, a workshop day)."""

    __table_args__ = (UniqueConstraint("resource_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    day: date
    reason: str | None = Field(default=None, max_length=NOTE_MAX)


class Booking(SQLModel, table=True):
    """One member's hold on one resource from ``starts_at`` (inclusive) to ``ends_at``."""

    # NOTE: on PostgreSQL migration 0004 adds the exclusion constraint booking_no_overlap;
    # it is not declared here because SQLite cannot create it.
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_booking_positive_length"),
        Index("ix_booking_resource_starts", "resource_id", "starts_at"),
        Index("ix_booking_member_starts", "member_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id")
    member_id: int = Field(foreign_key="member.id")
    starts_at: datetime
    ends_at: datetime
    status: str = Field(default=BookingStatus.BOOKED, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: int | None = Field(default=None, foreign_key="member.id")
    cancel_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    notice: str | None = Field(default=None, max_length=NOTE_MAX)
    notice_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class BookingPause(SQLModel, table=True):
    """A stretch of time in which a member may not make new bookings, and why."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(max_length=NOTE_MAX)


RESOURCE_FEED_ISSUE = audit.Action("resource.feed_link", ("resource_id", "created_at"))
BOOKING_PAUSE_LIFT = audit.Action("booking_pause.lift", ("member_id", "ends_at", "reason"))


class MemberPin(SQLModel, table=True):
    """A member's tablet PIN, argon2-hashed, with the wrong tries since the last good one."""

    __tablename__ = "member_pin"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    pin_hash: str = Field(max_length=255)
    failed_tries: int = Field(default=0)
    locked_until: datetime | None = None
    set_at: datetime = Field(default_factory=utcnow)


class CalendarFeed(SQLModel, table=True):
    """A private iCalendar feed of one member or one resource, reached by a secret token."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the token in the URL: a leaked database does not leak working feed URLs.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    resource_id: int | None = Field(default=None, foreign_key="resource.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
