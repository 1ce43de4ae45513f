"""The kiosk fleet: health, door alarms to acknowledge, refused cards, dead letters, set-up."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auditing import record_change
from dashboard.auth import steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, snapshot
from hub.infra.clock import utcnow
from hub.inventory import fleet
from hub.queries import fleet as fleet_rows
from hub.queries.ingest import ingest_health
from hub.worker import inbox

bp = Blueprint("steward_kiosks", __name__, url_prefix="/steward")
NAV = (NavLink("steward_kiosks.fleet_page", "Kiosks"),)

ALARM_FIELDS = ("kiosk_id", "locker_slot", "kind", "cleared_at")


@bp.get("/kiosks")
@steward_required
def fleet_page() -> str:
    """Show each kiosk's health, open alarms, recent refusals, dead letters and set-up command."""
    now = utcnow()
    with reading() as db:
        page = dict(
            version=fleet_rows.allowlist_version(db),
            kiosks=fleet_rows.fleet_health(db, now=now),
            refusals=fleet_rows.recent_refusals(db, limit=20),
            letters=inbox.dead_letters(db, limit=20),
            letter_count=fleet_rows.dead_letter_count(db),
            ingest=ingest_health(db, now=now),
            sites=fleet_rows.sites(db),
        )
    return render_template(
        "steward/kiosks.html", now=now, unacked_age=fleet_rows.unacked_age, **page
    )


@bp.post("/alarms/<int:alarm_id>/acknowledge")
@steward_required
def acknowledge(alarm_id: int) -> ResponseReturnValue:
    """Clear a door alarm a steward has dealt with."""
    with transaction() as db:
        alarm = fleet.get_alarm(db, alarm_id)
        before = snapshot(alarm, *ALARM_FIELDS)
        fleet.acknowledge_alarm(db, alarm_id)
        record_change(
            db, "alarm.acknowledge", f"alarm:{alarm_id}", before, snapshot(alarm, *ALARM_FIELDS)
        )
    flash(f"Alarm at {alarm.kiosk_id} locker {alarm.locker_slot} acknowledged.")
    return back("steward_kiosks.fleet_page")
