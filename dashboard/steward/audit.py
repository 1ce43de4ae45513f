"""The audit log, for admins: who changed what, with the record before and after; and the
security log: sign-ins, refusals and throttles."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from dashboard.auth import admin_required
from dashboard.database import reading
from dashboard.steward.common import NavLink
from hub.infra import audit, security_log
from hub.queries import members

bp = Blueprint("steward_audit", __name__, url_prefix="/steward")
NAV = (NavLink("steward_audit.log", "Audit", admin_only=True),)


@bp.get("/audit")
@admin_required
def log() -> str:
    """Show the newest audit entries, optionally for one target (``?target=member:1005``)."""
    target = request.args.get("target", "").strip() or None
    with reading() as db:
        entries = audit.recent(db, limit=200, target=target)
        actors = members.member_numbers(db, {e.actor_member_id for e in entries})
        events = security_log.recent(db, limit=200)
    return render_template(
        "steward/audit.html",
        entries=entries,
        actors=actors,
        target=target,
        security_events=events,
    )
