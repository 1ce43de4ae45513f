"""The report series the charts draw: counts per week or month, and the busiest ranked.

Each series is one pass over its date range on both backends, without dialect-specific date
functions. Each takes an optional ``site``: a loan belongs to the site of the kiosk it started
at (a loan lent on the hub belongs to no site), a tool to the site of its locker's kiosk (a
retired tool, out of every locker, to none), a repair and its hours to its tool's site, an
alarm to its kiosk's site.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from hub.infra.clock import as_utc, utcnow
from hub.inventory.fleet import KioskAlarm
from hub.inventory.registry import Kiosk, Locker, Tool
from hub.loans.records import Loan
from hub.maintenance.models import RepairLog, Ticket, TicketSource
from hub.timebank.claims import ClaimStatus, CreditClaim

# Tickets a person raised because something broke (the schedule's are routine care).
FAULT_SOURCES = (TicketSource.RETURN, TicketSource.KIOSK, TicketSource.STEWARD)


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """Return the Mondays (00:00 UTC) that start the last ``weeks`` weeks, oldest first."""
    today = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def month_starts(now: datetime, months: int) -> list[datetime]:
    """Return the first days (00:00 UTC) of the last ``months`` months, oldest first."""
    first = as_utc(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        previous = (starts[-1] - timedelta(days=1)).replace(day=1)
        starts.append(previous)
    return starts[::-1]


def kiosks_at(site: str) -> Any:
    """Return a subquery of the ids of the kiosks at ``site``."""
    return select(Kiosk.id).where(Kiosk.site == site)


def tools_at(site: str) -> Any:
    """Return a subquery of the ids of the tools whose locker is at ``site``."""
    return (
        select(Tool.id)
        .join(Locker, col(Locker.id) == Tool.locker_id)
        .join(Kiosk, col(Kiosk.id) == Locker.kiosk_id)
        .where(Kiosk.site == site)
    )


def _bucket_sums(
    session: Session, column: Any, starts: list[datetime], end: datetime, *where: Any
) -> list[Any]:
    """Count rows whose ``column`` falls in each [start, next start) bucket (and ``where``).

    One pass over the range, on both backends, without dialect-specific date functions.
    """
    edges = [*starts, end]
    sums = [
        func.coalesce(func.sum(case(((column >= lo) & (column < hi), 1), else_=0)), 0)
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
    query = select(*sums).where(column >= starts[0], column < end, *where)
    found = session.exec(query).one()
    return list(found) if len(sums) > 1 else [found]  # one column comes back as a scalar


def loans_per_week(
    session: Session, *, weeks: int = 12, now: datetime | None = None, site: str | None = None
) -> list[tuple[date, int]]:
    """Return how many loans went out in each of the last ``weeks`` weeks (at ``site``)."""
    now = now or utcnow()
    starts = week_starts(now, weeks)
    where = [col(Loan.kiosk_id).in_(kiosks_at(site))] if site else []
    counts = _bucket_sums(session, Loan.out_at, starts, starts[-1] + timedelta(weeks=1), *where)
    return [(start.date(), int(count)) for start, count in zip(starts, counts, strict=True)]


def repairs_per_month(
    session: Session, *, months: int = 12, now: datetime | None = None, site: str | None = None
) -> list[tuple[date, int]]:
    """Return how many repairs were logged in each of the last ``months`` months (at ``site``)."""
    now = now or utcnow()
    starts = month_starts(now, months)
    end = (starts[-1] + timedelta(days=32)).replace(day=1)
    where = [col(RepairLog.tool_id).in_(tools_at(site))] if site else []
    counts = _bucket_sums(session, RepairLog.logged_at, starts, end, *where)
    return [(start.date(), int(count)) for start, count in zip(starts, counts, strict=True)]


def hours_credited_per_month(
    session: Session, *, months: int = 12, now: datetime | None = None, site: str | None = None
) -> list[tuple[date, Decimal]]:
    """Return the repair hours approved in each of the last ``months`` months (at ``site``)."""
    now = now or utcnow()
    starts = month_starts(now, months)
    end = (starts[-1] + timedelta(days=32)).replace(day=1)
    query = select(col(CreditClaim.decided_at), col(CreditClaim.approved_hours)).where(
        CreditClaim.status == ClaimStatus.APPROVED,
        col(CreditClaim.decided_at) >= starts[0],
        col(CreditClaim.decided_at) < end,
    )
    if site:
        repairs_there = select(RepairLog.id).where(col(RepairLog.tool_id).in_(tools_at(site)))
        query = query.where(col(CreditClaim.repair_id).in_(repairs_there))
    rows = session.exec(query)
    # NOTE: summed here, not in SQL: hours are whole hundredths on SQLite and NUMERIC on
    # PostgreSQL, and only the column type knows how to read them back.
    totals = dict.fromkeys(starts, Decimal("0.00"))
    for decided_at, hours in rows:
        if decided_at is None or hours is None:  # an approved claim has both
            continue
        month = as_utc(decided_at).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        totals[month] += hours
    return [(start.date(), totals[start]) for start in starts]


def most_borrowed(
    session: Session, *, limit: int = 10, site: str | None = None
) -> list[tuple[str, int]]:
    """Return the tools lent most often (from ``site``'s kiosks), with their loan counts."""
    count = func.count(Loan.id)
    query = (
        select(Tool.code, count)
        .join(Loan, Loan.tool_id == Tool.id)
        .group_by(Tool.id, Tool.code)
        .order_by(count.desc(), Tool.code)
        .limit(limit)
    )
    if site:
        query = query.where(col(Loan.kiosk_id).in_(kiosks_at(site)))
    return [(code, int(n)) for code, n in session.exec(query)]


def most_broken(
    session: Session, *, limit: int = 10, site: str | None = None
) -> list[tuple[str, int]]:
    """Return the tools (at ``site``) with the most fault tickets (scheduled care not counted)."""
    count = func.count(Ticket.id)
    query = (
        select(Tool.code, count)
        .join(Ticket, Ticket.tool_id == Tool.id)
        .where(Ticket.source.in_(FAULT_SOURCES))
        .group_by(Tool.id, Tool.code)
        .order_by(count.desc(), Tool.code)
        .limit(limit)
    )
    if site:
        query = query.where(col(Tool.id).in_(tools_at(site)))
    return [(code, int(n)) for code, n in session.exec(query)]


def alarms_per_kiosk(session: Session, *, site: str | None = None) -> list[tuple[str, int]]:
    """Return how many door alarms each kiosk (at ``site``) has raised, most first."""
    count = func.count(KioskAlarm.id)
    query = (
        select(KioskAlarm.kiosk_id, count)
        .group_by(KioskAlarm.kiosk_id)
        .order_by(count.desc(), KioskAlarm.kiosk_id)
    )
    if site:
        query = query.where(col(KioskAlarm.kiosk_id).in_(kiosks_at(site)))
    return [(kiosk, int(n)) for kiosk, n in session.exec(query)]
