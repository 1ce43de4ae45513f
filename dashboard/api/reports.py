"""The reports as JSON: the same figures as the steward's reports page, for the whole network
or one site (``?site=north``), from :func:`hub.queries.reports.report`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from dashboard.database import reading
from hub.queries import reports

from .blueprint import api
from .inventory_schemas import SiteId
from .schemas import Query


class ReportQuery(Query):
    site: SiteId | None = Field(
        None, description="One site's figures (a site some kiosk is at); left out: the network."
    )


class CountOut(BaseModel):
    start: date = Field(description="The first day of the week (a Monday) or month.")
    count: int


class HoursOut(BaseModel):
    start: date = Field(description="The first day of the month.")
    hours: Decimal


class ToolCountOut(BaseModel):
    tool_code: str
    count: int


class KioskCountOut(BaseModel):
    kiosk_id: str
    count: int


class SiteFiguresOut(BaseModel):
    site: str
    kiosks: int
    tools: int = Field(description="Tools in its lockers.")
    loans_this_month: int = Field(description="Loans started at its kiosks since the 1st (UTC).")
    returned_elsewhere: int = Field(description="Loans started here, returned at another site.")
    returned_here_from_elsewhere: int = Field(
        description="Loans started at another site, returned here."
    )
    open_fault_tickets: int = Field(description="Live tickets someone raised on its tools.")
    overdue_loans: int = Field(description="Open loans past due that started at its kiosks.")


class ReportOut(BaseModel):
    site: str | None = Field(description="The site reported on; null: the whole network.")
    sites: list[str] = Field(description="Every site some kiosk is at.")
    loans_per_week: list[CountOut] = Field(description="Loans started, the last 12 weeks.")
    repairs_per_month: list[CountOut] = Field(description="Repairs logged, the last 12 months.")
    hours_credited_per_month: list[HoursOut] = Field(
        description="Repair hours approved, the last 12 months."
    )
    most_borrowed: list[ToolCountOut]
    most_broken: list[ToolCountOut] = Field(description="By fault tickets (not scheduled care).")
    alarms_per_kiosk: list[KioskCountOut]
    side_by_side: list[SiteFiguresOut] = Field(
        description="Each site's row (one site's report: its own row only)."
    )


@api.operation(
    "GET", "/reports", query=ReportQuery, response=ReportOut, refusals=(404,), tag="reports"
)
def show_report(query: ReportQuery) -> ReportOut:
    """Return the reports page's figures for the whole network or one site.

    A site no kiosk is at is 404. A loan belongs to the site of the kiosk it started at, a
    tool (its repairs, hours and faults) to the site of its locker. Stewards only (a `read`
    token is enough).
    """
    with reading() as db:
        found = reports.report(db, query.site)
    return ReportOut(
        site=found.site,
        sites=found.sites,
        loans_per_week=[CountOut(start=d, count=n) for d, n in found.loans_per_week],
        repairs_per_month=[CountOut(start=d, count=n) for d, n in found.repairs_per_month],
        hours_credited_per_month=[
            HoursOut(start=d, hours=h) for d, h in found.hours_credited_per_month
        ],
        most_borrowed=[ToolCountOut(tool_code=c, count=n) for c, n in found.most_borrowed],
        most_broken=[ToolCountOut(tool_code=c, count=n) for c, n in found.most_broken],
        alarms_per_kiosk=[KioskCountOut(kiosk_id=k, count=n) for k, n in found.alarms_per_kiosk],
        side_by_side=[SiteFiguresOut(**asdict(row)) for row in found.side_by_side],
    )
