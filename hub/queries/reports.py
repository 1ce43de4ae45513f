"""The reports for the whole network or one site: every chart's series, and the sites side by
side (kiosks, tools, loans this month, returns across sites, open faults, overdue loans).

The steward's reports page, the API and ``commonshed hub reports`` all read :func:`report`, so
the three doors show the same figures. Each figure is one grouped query, never one per site.
Where a loan, tool or alarm belongs is as ``charts`` says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.errors import NotFound
from hub.infra.clock import as_utc, utcnow
from hub.inventory.registry import Kiosk, Locker, Tool
from hub.loans.records import Loan
from hub.maintenance.models import LIVE_STATUSES, Ticket
from hub.queries import charts
from hub.wire import parse_site_id

WEEKS = 12
MONTHS = 12
RANKED = 10


@dataclass(frozen=True)
class SiteFigures:
    """One site's row of the sites side by side."""

    site: str
    kiosks: int = 0
    tools: int = 0  # in its lockers (retired tools are in none)
    loans_this_month: int = 0  # started at its kiosks since the 1st (UTC)
    returned_elsewhere: int = 0  # lent here, returned at another site's kiosk
    returned_here_from_elsewhere: int = 0  # lent at another site, returned here
    open_fault_tickets: int = 0  # live tickets on its tools that someone raised
    overdue_loans: int = 0  # open, past due, started at its kiosks


@dataclass(frozen=True)
class Report:
    """Every figure of the reports page, for the network (``site`` None) or one site."""

    site: str | None
    sites: list[str]
    loans_per_week: list[tuple[date, int]]
    repairs_per_month: list[tuple[date, int]]
    hours_credited_per_month: list[tuple[date, Decimal]]
    most_borrowed: list[tuple[str, int]]
    most_broken: list[tuple[str, int]]
    alarms_per_kiosk: list[tuple[str, int]]
    side_by_side: list[SiteFigures] = field(default_factory=list)


def site_names(session: Session) -> list[str]:
    """Return every site that has a kiosk, by name."""
    return list(session.exec(select(Kiosk.site).distinct().order_by(Kiosk.site)))


def parse_report_site(session: Session, value: str | None) -> str | None:
    """Return the site a report is asked for (None or "" for the whole network), or refuse a
    site no kiosk is at."""
    if not (value or "").strip():
        return None
    site = parse_site_id(value or "")
    if site not in site_names(session):
        raise NotFound(f"No kiosk is at site {site!r}.", field="site")
    return site


def report(session: Session, site: str | None = None, *, now: datetime | None = None) -> Report:
    """Return the reports for the whole network (``site`` None) or one site.

    An unknown site is refused (NotFound, naming ``site``).
    """
    now = now or utcnow()
    site = parse_report_site(session, site)
    rows = sites_side_by_side(session, now=now)
    return Report(
        site=site,
        sites=[row.site for row in rows],
        loans_per_week=charts.loans_per_week(session, weeks=WEEKS, now=now, site=site),
        repairs_per_month=charts.repairs_per_month(session, months=MONTHS, now=now, site=site),
        hours_credited_per_month=charts.hours_credited_per_month(
            session, months=MONTHS, now=now, site=site
        ),
        most_borrowed=charts.most_borrowed(session, limit=RANKED, site=site),
        most_broken=charts.most_broken(session, limit=RANKED, site=site),
        alarms_per_kiosk=charts.alarms_per_kiosk(session, site=site),
        side_by_side=[row for row in rows if site in (None, row.site)],
    )


def sites_side_by_side(session: Session, *, now: datetime | None = None) -> list[SiteFigures]:
    """Return each site's figures, by site name (a site is any site with a kiosk)."""
    now = now or utcnow()
    kiosks = _kiosks_per_site(session)
    tools = _tools_per_site(session)
    loans = _loans_this_month_per_site(session, now)
    away, home = _returns_across_sites(session)
    faults = _open_faults_per_site(session)
    overdue = _overdue_per_site(session, now)
    return [
        SiteFigures(
            site=site,
            kiosks=kiosks[site],
            tools=tools[site],
            loans_this_month=loans[site],
            returned_elsewhere=away[site],
            returned_here_from_elsewhere=home[site],
            open_fault_tickets=faults[site],
            overdue_loans=overdue[site],
        )
        for site in sorted(kiosks)
    ]


def _counted(session: Session, query: Any) -> Counter[str]:
    return Counter({site: int(n) for site, n in session.exec(query)})


def _kiosks_per_site(session: Session) -> Counter[str]:
    return _counted(session, select(Kiosk.site, func.count(Kiosk.id)).group_by(Kiosk.site))


def _tools_per_site(session: Session) -> Counter[str]:
    query = (
        select(Kiosk.site, func.count(Tool.id))
        .join(Locker, col(Locker.id) == Tool.locker_id)
        .join(Kiosk, col(Kiosk.id) == Locker.kiosk_id)
        .group_by(Kiosk.site)
    )
    return _counted(session, query)


def _loans_this_month_per_site(session: Session, now: datetime) -> Counter[str]:
    first = charts.month_starts(now, 1)[0]
    query = (
        select(Kiosk.site, func.count(Loan.id))
        .join(Kiosk, col(Kiosk.id) == Loan.kiosk_id)
        .where(Loan.out_at >= first)
        .group_by(Kiosk.site)
    )
    return _counted(session, query)


def _returns_across_sites(session: Session) -> tuple[Counter[str], Counter[str]]:
    """Return, per site, the loans lent there and returned elsewhere, and the reverse."""
    lent, back = aliased(Kiosk), aliased(Kiosk)
    query = (
        select(lent.site, back.site, func.count(Loan.id))
        .join(lent, col(lent.id) == Loan.kiosk_id)
        .join(back, col(back.id) == Loan.return_kiosk_id)
        .where(lent.site != back.site)
        .group_by(lent.site, back.site)
    )
    away: Counter[str] = Counter()
    home: Counter[str] = Counter()
    for lent_site, back_site, n in session.exec(query):
        away[lent_site] += int(n)
        home[back_site] += int(n)
    return away, home


def _open_faults_per_site(session: Session) -> Counter[str]:
    query = (
        select(Kiosk.site, func.count(Ticket.id))
        .join(Tool, col(Tool.id) == Ticket.tool_id)
        .join(Locker, col(Locker.id) == Tool.locker_id)
        .join(Kiosk, col(Kiosk.id) == Locker.kiosk_id)
        .where(col(Ticket.status).in_(LIVE_STATUSES), col(Ticket.source).in_(charts.FAULT_SOURCES))
        .group_by(Kiosk.site)
    )
    return _counted(session, query)


def _overdue_per_site(session: Session, now: datetime) -> Counter[str]:
    # NOTE: past due is judged here, not in SQL, as hub.queries.loans does: open loans alone
    # (about one per tool) come from the partial index on open loans.
    query = (
        select(Kiosk.site, Loan.due_at)
        .join(Kiosk, col(Kiosk.id) == Loan.kiosk_id)
        .where(col(Loan.returned_at).is_(None))
    )
    return Counter(site for site, due_at in session.exec(query) if as_utc(due_at) < now)
