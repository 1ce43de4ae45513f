"""The market seen by stewards: posts to moderate (hide with a reason, show again), categories,
passed proposals whose spend waits to be paid, and who might fix a broken tool (asked by email).
The hub's services check the role and audit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import col, select

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.steward.common import NavLink, back
from hub.errors import DomainError
from hub.inventory.registry import tool_by_code
from hub.market import asks, posts, proposals, skills

bp = Blueprint("steward_market", __name__, url_prefix="/steward")
NAV = (NavLink("steward_market.market", "Market"),)


@bp.get("/market")
@steward_required
def market() -> str:
    """Show the newest posts (hidden ones too), the categories, and spends waiting to be paid."""
    with reading() as db:
        latest = db.exec(select(posts.Post).order_by(col(posts.Post.id).desc()).limit(50)).all()
        waiting = [
            p
            for p in proposals.proposals(db, limit=200)
            if p.outcome == proposals.Outcome.PASSED and p.cost_hours and not p.transfer_id
        ]
        return render_template(
            "steward/market.html",
            posts=latest,
            categories=posts.categories(db),
            waiting=waiting,
            pool=proposals.pool_holds(db),
        )


@bp.post("/market/posts/<int:post_id>/hide")
@steward_required
def hide(post_id: int) -> ResponseReturnValue:
    """Hide a post that breaks the network's rules, saying which."""
    with transaction() as db:
        posts.hide_post(db, acting_member(), post_id, request.form.get("reason", ""))
    flash(f"Post {post_id} hidden.", "ok")
    return back("steward_market.market")


@bp.post("/market/posts/<int:post_id>/show")
@steward_required
def show(post_id: int) -> ResponseReturnValue:
    """Show a hidden post again."""
    with transaction() as db:
        posts.show_post(db, acting_member(), post_id)
    flash(f"Post {post_id} shown again.", "ok")
    return back("steward_market.market")


@bp.post("/market/categories")
@steward_required
def add_category() -> ResponseReturnValue:
    """Add a category of service."""
    with transaction() as db:
        added = posts.add_category(
            db, acting_member(), request.form.get("slug", ""), request.form.get("name", "")
        )
        said = f"Category {added.name} added."
    flash(said, "ok")
    return back("steward_market.market")


@bp.post("/market/proposals/<int:proposal_id>/execute")
@steward_required
def execute(proposal_id: int) -> ResponseReturnValue:
    """Pay a passed proposal's hours from the community account."""
    with transaction() as db:
        done = proposals.execute_spend(db, acting_member(), proposal_id)
        said = f"Proposal {proposal_id} paid: transfer {done.transfer_id}."
    flash(said, "ok")
    return back("steward_market.market")


# --- who might fix a broken tool ---------------------------------------------------------


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
            return redirect(url_for("steward_market.fixers", code=code))
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
