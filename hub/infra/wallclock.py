"""Time as people at the site read it: the hub's UTC moments shown in the site's time zone.

Every page (steward dashboard, audit log, booking tablet, member pages) formats a moment with
``site_format`` (the dashboard's ``local`` Jinja filter), so one setting
(``hub.infra.settings.site_timezone``) decides the zone everywhere. A date in another year than
today's shows its year, even where the format leaves the year out ("Monday 01 December 2027").
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from hub.infra.clock import as_utc, utcnow

MONTHS = ("%B", "%b")  # where a missing year goes: after the month


def site_time(moment: datetime, zone: tzinfo) -> datetime:
    """Return ``moment`` (aware, or naive UTC as the database gives it) on the site's clock."""
    return as_utc(moment).astimezone(zone)


def site_format(
    moment: datetime | date, fmt: str, zone: tzinfo, *, now: datetime | None = None
) -> str:
    """Format ``moment`` with ``fmt`` on the site's clock; add the year after the month when
    ``fmt`` has none and the moment is not in this year (on the site's clock too)."""
    shown = site_time(moment, zone) if isinstance(moment, datetime) else moment
    this_year = site_time(now or utcnow(), zone).year
    return shown.strftime(_with_year(fmt) if shown.year != this_year else fmt)


def _with_year(fmt: str) -> str:
    """Return ``fmt`` with a year after its month, unless it shows a year already."""
    if "%Y" in fmt or "%y" in fmt:
        return fmt
    for month in MONTHS:
        if month in fmt:
            return fmt.replace(month, f"{month} %Y", 1)
    return fmt
