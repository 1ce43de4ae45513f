"""Who might fix a broken tool: the members suggested by skill and past repairs, and asking
the ones a steward chooses by email (the hub's service checks the role and audits)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.errors import status_of
from hub.errors import DomainError
from hub.inventory.registry import tool_by_code
from hub.market import asks, skills

bp = Blueprint("steward_fixers", __name__, url_prefix="/steward")
NAV = ()  # reached from a tool's page, not the nav


@bp.route("/tools/<code>/fixers", methods=["GET", "POST"])
@steward_required
def fixers(code: str) -> ResponseReturnValue:
    """Show who might fix the tool; ask the chosen ones by email."""
    error = None
    if request.method == "POST":
        chosen = request.form.getlist("members")
        try:
            with transaction() as db:
                tool = tool_by_code(db, code)
                mailed = asks.ask_fixers(db, acting_member(), tool.id or 0, chosen)
            flash(_said(chosen, mailed), "ok")
            return redirect(url_for("steward_fixers.fixers", code=code))
        except DomainError as refused:
            error = refused
    with reading() as db:
        tool = tool_by_code(db, code)
        suggested = skills.suggest_fixers(db, tool.id or 0, limit=10)
    page = render_template(
        "steward/fixers.html",
        tool=tool,
        suggested=suggested,
        error=error.message if error else None,
    )
    return page, (status_of(type(error)) if error else 200)


def _said(chosen: list[str], mailed: list[str]) -> str:
    skipped = sorted(set(chosen) - set(mailed))
    note = (
        f" ({', '.join(skipped)}: no address, or they turned these emails off)" if skipped else ""
    )
    return f"Asked {len(mailed)} of {len(chosen)} by email{note}."
