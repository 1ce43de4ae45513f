"""Pictures of the commons: loans, repairs and credited hours over time; busiest and most
broken tools; door alarms by kiosk."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, render_template
from markupsafe import Markup

from dashboard import charts
from dashboard.auth import steward_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.infra.clock import utcnow
from hub.queries import charts as series

bp = Blueprint("steward_reports", __name__, url_prefix="/steward")
NAV = (NavLink("steward_reports.show", "Reports"),)


@bp.get("/reports")
@steward_required
def show() -> str:
    """Draw the charts from the records."""
    now = utcnow()
    with reading() as db:
        figures = [
            _loans_chart(series.loans_per_week(db, weeks=12, now=now)),
            _repairs_chart(series.repairs_per_month(db, months=12, now=now)),
            _hours_chart(series.hours_credited_per_month(db, months=12, now=now)),
            _ranked("Most borrowed tools", "loans", series.most_borrowed(db, limit=10)),
            _ranked("Most broken tools", "fault tickets", series.most_broken(db, limit=10)),
            _ranked("Door alarms by kiosk", "alarms", series.alarms_per_kiosk(db)),
        ]
    return render_template("steward/reports.html", figures=figures)


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
