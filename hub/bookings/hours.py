"""Opening hours and slot arithmetic in a resource's local time (pure functions, no database)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.bookings.models import EVERY_DAY, Resource
from hub.errors import InvalidInput

INTERVAL_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Interval = tuple[datetime, datetime]


def parse_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else refuse it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Time zone {name!r} is not known.", field="timezone") from None
    return name


def parse_opening_hours(hours: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return opening hours ``{"mon": ["09:00-21:00"], ...}`` checked; missing days are closed."""
    unknown = set(hours) - set(EVERY_DAY)
    if unknown:
        raise InvalidInput(
            f"Unknown weekday {sorted(unknown)[0]!r}; use {', '.join(EVERY_DAY)}.",
            field="opening_hours",
        )
    checked = {
        day: [_checked_interval(day, text) for text in hours.get(day, [])] for day in EVERY_DAY
    }
    for day, intervals in checked.items():
        _require_apart(day, intervals)
    return checked


def _checked_interval(day: str, text: str) -> str:
    """Return an "HH:MM-HH:MM" interval whose end follows its start, or refuse it, naming the
    weekday (``opening_hours.mon``) so a form can point at the row."""
    text = str(text).strip()
    if not INTERVAL_PATTERN.match(text) or _minutes(text[6:]) > 1440:
        raise InvalidInput(
            f"Opening hours on {_day_name(day)}: {text!r} must look like 09:00-21:00.",
            field=f"opening_hours.{day}",
        )
    if _minutes(text[:5]) >= _minutes(text[6:]):
        raise InvalidInput(
            f"Opening hours on {_day_name(day)}: closing at {text[6:]} is not after opening "
            f"at {text[:5]}; the end must be after the start (24:00 is midnight).",
            field=f"opening_hours.{day}",
        )
    return text


def _require_apart(day: str, intervals: list[str]) -> None:
    """Refuse a day whose opening intervals overlap (slots would be counted twice)."""
    ordered = sorted(intervals)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if _minutes(later[:5]) < _minutes(earlier[6:]):
            raise InvalidInput(
                f"Opening hours on {_day_name(day)}: {earlier} and {later} overlap.",
                field=f"opening_hours.{day}",
            )


def _day_name(day: str) -> str:
    return DAY_NAMES[EVERY_DAY.index(day)]


def _minutes(clock: str) -> int:
    """Return minutes since midnight of "HH:MM" ("24:00" is 1440)."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def zone(resource: Resource) -> ZoneInfo:
    """Return the resource's site time zone."""
    return ZoneInfo(resource.timezone)


def local(resource: Resource, moment: datetime) -> datetime:
    """Return ``moment`` on the resource's wall clock."""
    return moment.astimezone(zone(resource))


def local_day(resource: Resource, moment: datetime) -> date:
    """Return the resource's local date at ``moment``."""
    return local(resource, moment).date()


def at_local(resource: Resource, day: date, minutes: int) -> datetime:
    """Return the UTC moment ``minutes`` after local midnight of ``day`` by the wall clock."""
    day, minutes = day + timedelta(days=minutes // 1440), minutes % 1440
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone(resource))
    return wall.astimezone(UTC)


def opening_intervals(resource: Resource, day: date) -> list[Interval]:
    """Return the resource's opening intervals on local ``day``, in UTC, ignoring closures."""
    texts = resource.opening_hours.get(EVERY_DAY[day.weekday()], [])
    return [
        (at_local(resource, day, _minutes(text[:5])), at_local(resource, day, _minutes(text[6:])))
        for text in texts
    ]


def slot_starts(resource: Resource, interval: Interval) -> list[datetime]:
    """Return every slot start in an opening interval (slots count from the opening time)."""
    step = timedelta(minutes=resource.slot_minutes)
    opens, closes = interval
    count = int((closes - opens) / step)
    return [opens + index * step for index in range(count)]


def week_start(resource: Resource, moment: datetime) -> datetime:
    """Return the UTC moment of local Monday 00:00 of the week holding ``moment``."""
    day = local_day(resource, moment)
    return at_local(resource, day - timedelta(days=day.weekday()), 0)


def describe_day(resource: Resource, moment: datetime) -> str:
    """Return e.g. "Monday 2026-11-30" in the resource's local time."""
    wall = local(resource, moment)
    return f"{DAY_NAMES[wall.weekday()]} {wall:%Y-%m-%d}"


def describe_moment(resource: Resource, moment: datetime) -> str:
    """Return e.g. "Monday 2026-11-30 09:00" in the resource's local time."""
    return f"{describe_day(resource, moment)} {local(resource, moment):%H:%M}"


def describe_span(resource: Resource, starts: datetime, ends: datetime) -> str:
    """Return e.g. "Monday 2026-11-30 09:00-10:30" in the resource's local time."""
    return f"{describe_moment(resource, starts)}-{local(resource, ends):%H:%M}"


def describe_minutes(minutes: int) -> str:
    """Return a length as people say it: "30 minutes", "1.5 hours", "2 hours"."""
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes / 60
    text = f"{hours:g}"
    return f"{text} hour" if text == "1" else f"{text} hours"
