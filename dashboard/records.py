"""Open records: anyone at the shed may see the tools, where they are and their histories."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from dashboard.database import reading
from hub import inventory, loans

bp = Blueprint("records", __name__)


@bp.get("/")
def index():
    """Show the tool library: every tool, its locker and whether it can be borrowed."""
    with reading() as session:
        board = inventory.tool_board(session)
    return render_template("records/index.html", board=board)


@bp.get("/tools/<code>")
def tool(code: str):
    """Show one tool and its loan history."""
    with reading() as session:
        item = inventory.tool_by_code(session, code)
        history = loans.loan_history(session, item.id)
    return render_template("records/tool.html", tool=item, history=history)


@bp.get("/healthz")
def health():
    """Answer that the web process is up and its database reachable."""
    with reading() as session:
        tools = len(inventory.list_tools(session))
    return jsonify(status="ok", tools=tools)
