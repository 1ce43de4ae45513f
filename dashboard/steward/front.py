"""The front page, "what needs me", and the live feed that keeps it current without a reload."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

from dashboard.auth import steward_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.infra.clock import utcnow
from hub.queries import front as front_page

bp = Blueprint("steward_front", __name__, url_prefix="/steward")
NAV = (NavLink("steward_front.front", "Needs me"),)

# How often an open front page asks whether anything changed (milliseconds).
POLL_MS = 2000


@bp.get("/")
@steward_required
def front() -> str:
    """Show what needs a steward now, each item linking to where it is resolved."""
    now = utcnow()
    with reading() as db:
        signature = front_page.change_signature(db, now=now)
        needs = front_page.what_needs_me(db, now=now)
    return render_template(
        "steward/front.html", needs=needs, now=now, signature=signature, poll_ms=POLL_MS
    )


@bp.get("/live")
@steward_required
def live() -> Response:
    """Send the front page's panels afresh, or 304 while nothing changed since the page's ETag.

    Short polling rather than a held stream: each answer frees its waitress thread at once, and
    an unchanged page costs one round trip of cheap aggregates.
    """
    now = utcnow()
    with reading() as db:
        signature = front_page.change_signature(db, now=now)
        if request.if_none_match.contains(signature):
            return _unchanged(signature)
        needs = front_page.what_needs_me(db, now=now)
    response = make_response(render_template("steward/_needs.html", needs=needs, now=now))
    response.set_etag(signature)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unchanged(signature: str) -> Response:
    response = make_response("", 304)
    response.set_etag(signature)
    response.headers["Cache-Control"] = "no-store"
    return response
