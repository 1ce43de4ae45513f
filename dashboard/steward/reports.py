"""Pictures of the commons, for the whole network or one site (``?site=north``): loans,
repairs and credited hours over time; busiest and most broken tools; door alarms by kiosk; and
the sites side by side."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, render_template, request
from markupsafe import Markup

from dashboard import charts
from dashboard.auth import steward_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.queries import reports

bp = Blueprint("steward_reports", __name__, url_prefix="/steward")
NAV = (NavLink("steward_reports.show", "Reports"),)
# The sites side by side: each column's field and heading.
SITE_COLUMNS = (
    ("kiosks", "Kiosks"),
    ("tools", "Tools"),
    ("loans_this_month", "Loans this month"),
    ("returned_elsewhere", "Returned at another site"),
    ("returned_here_from_elsewhere", "Returned here from another"),
    ("open_fault_tickets", "Open faults"),
    ("overdue_loans", "Overdue loans"),
)


@bp.get("/reports")
@steward_required
def show() -> str:
    """Draw the charts from the records, for the network or the site asked for."""
    with reading() as db:
        found = reports.report(db, request.args.get("site"))
    figures = [
        _loans_chart(found.loans_per_week),
        _repairs_chart(found.repairs_per_month),
        _hours_chart(found.hours_credited_per_month),
        _ranked("Most borrowed tools", "loans", found.most_borrowed),
        _ranked("Most broken tools", "fault tickets", found.most_broken),
        _ranked("Door alarms by kiosk", "alarms", found.alarms_per_kiosk),
    ]
    return render_template(
        "steward/reports.html", report=found, figures=figures, columns=SITE_COLUMNS
    )


def _loans_chart(weeks: list[tuple[date, int]]) -> Markup:
    total = sum(count for _, count in weeks)
    return charts.column_chart(
        "Loans per week",
        f"Loans started in each of the last {len(weeks)} weeks; {total} in all.",
        charts.bars(weeks, label=lambda day: f"{day:%d %b}"),
        x_label="Week starting (Monday)",
        y_label="Loans",
    )


def _repairs_chart(months: list[tuple[date, int]]) -> Markup:
    total = sum(count for _, count in months)
    return charts.column_chart(
        "Repairs per month",
        f"Repairs logged in each of the last {len(months)} months; {total} in all.",
        charts.bars(months, label=lambda day: f"{day:%b}"),
        x_label="Month",
        y_label="Repairs",
    )


def _hours_chart(months: list[tuple[date, Decimal]]) -> Markup:
    total = sum(hours for _, hours in months)
    return charts.column_chart(
        "Repair hours credited per month",
        f"Timebank hours approved for repairs in each of the last {len(months)} months; "
        f"{total} h in all.",
        charts.bars(months, label=lambda day: f"{day:%b}"),
        x_label="Month",
        y_label="Hours",
    )


def _ranked(title: str, unit: str, pairs: list[tuple[str, int]]) -> Markup:
    listed = ", ".join(f"{key} {count}" for key, count in pairs) or "none yet"
    return charts.ranked_chart(
        title,
        f"{title}, with the number of {unit}: {listed}.",
        charts.bars(pairs),
        x_label=unit.capitalize(),
    )
