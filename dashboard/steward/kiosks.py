"""The kiosk fleet: health, door alarms to acknowledge, refused cards, dead letters to settle; and
setting kiosks up: register, rename, lockers, provision the broker login (shown once, with a
printable setup sheet), revoke it. Every change is audited by the hub's service."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.kiosk_setup import broker_address, broker_dir
from dashboard.steward.common import NavLink, back, form_text
from hub.errors import DomainError, InvalidInput
from hub.infra.clock import utcnow
from hub.inventory import fleet, kiosks, registry
from hub.queries import fleet as fleet_rows
from hub.queries.ingest import ingest_health
from hub.worker import inbox, letters

bp = Blueprint("steward_kiosks", __name__, url_prefix="/steward")
NAV = (NavLink("steward_kiosks.fleet_page", "Kiosks"),)


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
        alarm = fleet.acknowledge_alarm(db, acting_member(), alarm_id)
    flash(f"Alarm at {alarm.kiosk_id} locker {alarm.locker_slot} acknowledged.")
    return back("steward_kiosks.fleet_page")


@bp.post("/dead-letters/<int:letter_id>/apply")
@steward_required
def apply_letter_again(letter_id: int) -> ResponseReturnValue:
    """Apply a dead letter's event again, now that the hub may take it (a refusal shows the
    error page with the hub's reason; nothing changes)."""
    with transaction() as db:
        letter = letters.apply_again(db, acting_member(), letter_id)
        flash(f"Dead letter {letter_id} {letter.settlement}.")
    return back("steward_kiosks.fleet_page")


@bp.post("/dead-letters/<int:letter_id>/set-aside")
@steward_required
def set_letter_aside(letter_id: int) -> ResponseReturnValue:
    """Settle a dead letter without applying it, saying why."""
    with transaction() as db:
        letters.set_aside(db, acting_member(), letter_id, form_text("note"))
    flash(f"Dead letter {letter_id} set aside.")
    return back("steward_kiosks.fleet_page")


# --- setting kiosks up ----------------------------------------------------------------------


@bp.get("/new-kiosk")  # not under /kiosks/: "new" is a valid kiosk id
@steward_required
def new_kiosk() -> str:
    """Show the form that registers a kiosk."""
    return render_template("steward/kiosk_new.html", form={}, error=None)


@bp.post("/kiosks")
@steward_required
def register() -> ResponseReturnValue:
    """Register a kiosk with its first lockers; a refusal shows the form again as typed."""
    try:
        with transaction() as db:
            kiosk = kiosks.register_kiosk(
                db,
                acting_member(),
                form_text("kiosk_id"),
                site=form_text("site"),
                name=form_text("name"),
                slots=_whole_number("slots", default=0),
            )
    except DomainError as error:
        page = render_template("steward/kiosk_new.html", form=request.form, error=error)
        return page, 422
    flash(f"Kiosk {kiosk.id} registered. Provision its broker login when the Pi is ready.")
    return redirect(url_for("steward_kiosks.kiosk_page", kiosk_id=kiosk.id))


@bp.get("/kiosks/<kiosk_id>")
@steward_required
def kiosk_page(kiosk_id: str) -> str:
    """Show a kiosk's set-up: its name, lockers (and who lives in them), broker login."""
    return _kiosk_page(kiosk_id)


def _kiosk_page(kiosk_id: str, *, form: object = None, error: DomainError | None = None) -> str:
    with reading() as db:
        kiosk = registry.get_kiosk(db, kiosk_id)
        lockers = [
            (locker, registry.occupant_of(db, locker))
            for locker in registry.lockers_of(db, kiosk.id)
        ]
    return render_template(
        "steward/kiosk.html", kiosk=kiosk, lockers=lockers, form=form or {}, error=error
    )


@bp.post("/kiosks/<kiosk_id>/rename")
@steward_required
def rename(kiosk_id: str) -> ResponseReturnValue:
    """Rename a kiosk."""
    try:
        with transaction() as db:
            kiosk = kiosks.rename_kiosk(db, acting_member(), kiosk_id, form_text("name"))
    except InvalidInput as error:
        return _kiosk_page(kiosk_id, form=request.form, error=error), 422
    flash(f"Kiosk {kiosk.id} is now called {kiosk.name}.")
    return redirect(url_for("steward_kiosks.kiosk_page", kiosk_id=kiosk_id))


@bp.post("/kiosks/<kiosk_id>/lockers")
@steward_required
def add_lockers(kiosk_id: str) -> ResponseReturnValue:
    """Add lockers (``9``, ``9-12``, ``1-4, 7``): all of them, or none if any is taken."""
    try:
        slots = kiosks.parse_slots(form_text("slots"))
        with transaction() as db:
            kiosks.add_lockers(
                db, acting_member(), kiosk_id, slots, label=form_text("label") or None
            )
    except DomainError as error:
        if error.field == "kiosk_id":
            raise
        return _kiosk_page(kiosk_id, form=request.form, error=error), 422
    flash(f"Locker{'s' if len(slots) > 1 else ''} {', '.join(map(str, slots))} added.")
    return redirect(url_for("steward_kiosks.kiosk_page", kiosk_id=kiosk_id))


@bp.post("/kiosks/<kiosk_id>/lockers/<int:slot>/remove")
@steward_required
def remove_locker(kiosk_id: str, slot: int) -> ResponseReturnValue:
    """Remove an empty locker."""
    with transaction() as db:
        kiosks.remove_locker(db, acting_member(), kiosk_id, slot)
    flash(f"Locker {slot} removed from {kiosk_id}.")
    return redirect(url_for("steward_kiosks.kiosk_page", kiosk_id=kiosk_id))


@bp.post("/kiosks/<kiosk_id>/provision")
@steward_required
def provision(kiosk_id: str) -> ResponseReturnValue:
    """Make the kiosk's broker login and show it this once, with its printable setup sheet.

    NOTE: answered directly, not by redirect: the password must not sit in a session or a
    URL to be shown again. The page is not cached.
    """
    with transaction() as db:
        login = kiosks.provision_kiosk(db, acting_member(), kiosk_id, broker_dir())
    page = render_template("steward/kiosk_login.html", login=login, broker=broker_address())
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/kiosks/<kiosk_id>/revoke")
@steward_required
def revoke(kiosk_id: str) -> ResponseReturnValue:
    """Revoke the kiosk's broker login: cut off now, and no more logging in."""
    with transaction() as db:
        kiosks.revoke_kiosk(
            db, acting_member(), kiosk_id, broker_dir(), form_text("reason") or None
        )
    flash(f"Kiosk {kiosk_id} is disconnected and can no longer log in to the broker.")
    return redirect(url_for("steward_kiosks.kiosk_page", kiosk_id=kiosk_id))


def _whole_number(name: str, *, default: int) -> int:
    """Return a form field as a whole number (``default`` when empty), or refuse naming it."""
    text = form_text(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"{name} must be a whole number, not {text!r}.", field=name)
    return int(text)
