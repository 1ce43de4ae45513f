"""Open records: anyone at the shed may see the tools, where they are and their histories."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, render_template

from dashboard import charts
from dashboard.database import reading
from hub.inventory import registry
from hub.market import records, skills
from hub.queries import loans, tools
from hub.timebank import statements

bp = Blueprint("records", __name__)


@bp.get("/")
def index() -> str:
    """Show the tool library: every tool, its locker and whether it can be borrowed."""
    with reading() as session:
        board = tools.tool_board(session)
    return render_template("records/index.html", board=board)


@bp.get("/tools/<code>")
def tool(code: str) -> str:
    """Show one tool and its loan history."""
    with reading() as session:
        item = registry.tool_by_code(session, code)
        history = loans.loan_history(session, item.id)
    return render_template("records/tool.html", tool=item, history=history)


@bp.get("/ledger")
def ledger() -> str:
    """Show the open timebank ledger: every balance and the latest transfers.

    Open records, but not a directory: members appear by number and first name only.
    """
    with reading() as db:
        balances = statements.balance_sheet(db)
        transfers = statements.recent_transfers(db, limit=30)
        total = statements.sum_of_balances(db)
    return render_template(
        "records/ledger.html",
        balances=balances,
        transfers=transfers,
        total=total,
        first_name=first_name,
    )


def first_name(display: str) -> str:
    """Turn "1005 Kofi Nakamura" (or "Kofi Nakamura") into "1005 Kofi"."""
    if display == statements.COMMUNITY_NAME:
        return display
    words = display.split()
    keep = 2 if words and words[0].isdigit() else 1
    return " ".join(words[:keep])


@bp.get("/records/market")
def market() -> str:
    """Show what the commons exchanged by category and month, the pool over time, and the
    network's decisions: counts and hours, never who."""
    with reading() as db:
        exchanged = records.exchanges_by_month(db)
        pool = records.pool_by_month(db)
        decided = records.decisions(db)
        skill_hours = skills.skill_hours(db)
    by_month: dict[str, Decimal] = {}
    for row in exchanged:
        by_month[row.month] = by_month.get(row.month, Decimal(0)) + row.hours
    chart = charts.column_chart(
        "Hours exchanged between members, by month",
        "Total hours of services members gave each other through the timebank, per month.",
        charts.bars(sorted(by_month.items()), unit=" h"),
        x_label="Month",
        y_label="Hours",
    )
    return render_template(
        "records/market.html",
        exchanged=exchanged,
        pool=pool,
        decided=decided,
        chart=chart,
        skill_hours=skill_hours,
    )


@bp.get("/records/market.json")
def market_json() -> Response:
    """The market's open records as one JSON document (docs/open-records.md)."""
    with reading() as db:
        return Response(records.export_json(db), mimetype="application/json")


@bp.get("/records/market/<any(exchanges, pool, decisions):table>.csv")
def market_csv(table: str) -> Response:
    """One table of the market's open records as CSV (docs/open-records.md)."""
    with reading() as db:
        text = records.export_csv(db, table)
    disposition = f'attachment; filename="commonshed-{table}.csv"'
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": disposition})
