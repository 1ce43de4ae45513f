"""Open records: anyone at the shed may see the tools, where they are and their histories."""

from __future__ import annotations

from flask import Blueprint, render_template

from dashboard.database import reading
from hub.inventory import registry
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
