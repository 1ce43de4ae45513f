"""Time as the hub records it: timezone-aware UTC, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The days the hub accepts from people and scripts: a day beyond these is a typo or a probe,
# and the date arithmetic around 9999-12-31 overflows.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Convert ``moment`` to aware UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
