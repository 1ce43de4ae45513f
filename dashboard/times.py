"""The site's one time zone on every page: the ``local`` Jinja filter.

    {{ loan.due_at|local('%a %d %b') }}         -> "Tue 01 Dec" (or "Wed 01 Dec 2027")
    {{ entry.at|local('%Y-%m-%d %H:%M:%S') }}   -> on the site's clock, not UTC

The zone is the app's ``TIMEZONE`` setting ($COMMONSHED_TIMEZONE, default Europe/London),
checked once at start; see ``hub.infra.wallclock``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from flask import Flask, current_app

from hub.infra import settings
from hub.infra.wallclock import site_format

EXTENSION = "commonshed.timezone"
DEFAULT_FORMAT = "%a %d %b %H:%M"


def init_app(app: Flask) -> None:
    """Check the configured time zone and give templates the ``local`` filter."""
    zone = settings.site_timezone(app.config.get("TIMEZONE"))
    app.config["TIMEZONE"] = zone.key
    app.extensions[EXTENSION] = zone
    app.add_template_filter(local)
    app.add_template_global(zone.key, "site_timezone")


def site_zone() -> tzinfo:
    """Return the current app's site time zone."""
    zone: tzinfo = current_app.extensions[EXTENSION]
    return zone


def local(moment: datetime | date | None, fmt: str = DEFAULT_FORMAT) -> str:
    """Format ``moment`` on the site's clock (a year added when it is not this year)."""
    if moment is None:
        return ""
    return site_format(moment, fmt, site_zone(), now=_now())


def _now() -> datetime | None:
    """Return the app's clock when a test set one (the tablet's), else None: the real time."""
    clock = current_app.config.get("TABLET_CLOCK")
    return clock() if callable(clock) else None
