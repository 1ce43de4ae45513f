"""The booking tablet by the door: identify by card or PIN, see slots, book in two taps, cancel.

The member is always the one identified on this tablet (kept in the server-side signed session),
never one named by a form. The tablet forgets the member after a short idle time, both in the
page (a timer) and here (a timestamp checked on every request).

A card is read only on a tablet a steward enrolled (``/tablet/enrol`` leaves a device token in
the tablet's browser as a long-lived cookie); anywhere else a member types a number and a PIN.
Both ways are throttled by ``hub.bookings.tablets``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlmodel import Session

from dashboard import times
from dashboard.auth import current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.errors import status_of, with_retry_after
from hub import bookings
from hub.bookings import pins, tablets
from hub.bookings.hours import local, local_day
from hub.bookings.models import Resource
from hub.errors import DomainError, InvalidInput
from hub.infra.clock import EARLIEST_DAY, LATEST_DAY, as_utc, utcnow
from hub.members.roster import Member, get_member, require_active

bp = Blueprint("tablet", __name__, url_prefix="/tablet")
IDLE_SECONDS = 90
MEMBER_KEY, SEEN_KEY, BY_KEY = "tablet_member_id", "tablet_seen_at", "tablet_identified_by"
DEVICE_COOKIE = "commonshed_tablet"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chromium's cap)
P = ParamSpec("P")


# --- who is at the tablet -----------------------------------------------------------------


def now() -> datetime:
    """Return the tablet's time (tests set TABLET_CLOCK to control it)."""
    return as_utc(current_app.config.get("TABLET_CLOCK", utcnow)())


def idle_seconds() -> int:
    return int(current_app.config.get("TABLET_IDLE_SECONDS", IDLE_SECONDS))


@bp.before_request
def forget_idle_member() -> None:
    """Forget the member after the idle time; otherwise count this request as a touch."""
    seen = session.get(SEEN_KEY)
    if session.get(MEMBER_KEY) is not None and now().timestamp() - (seen or 0) > idle_seconds():
        _forget_member()
        _say_signed_out_when_idle()
    if session.get(MEMBER_KEY) is not None:
        session[SEEN_KEY] = now().timestamp()


@bp.before_request
def refuse_forged_member() -> None:
    """Refuse a POST whose form names a member other than the one identified here."""
    named = request.form.get("member_id") if request.method == "POST" else None
    if named is not None and named != str(session.get(MEMBER_KEY)):
        abort(403, "The member comes from who is identified on this tablet, never from the form.")


def _say_signed_out_when_idle() -> None:
    """Flash, once per request, that the tablet signed the member out for being idle."""
    if not g.get("told_idle"):
        g.told_idle = True
        flash(f"Signed out after {idle_seconds()} seconds without a touch.", "info")


def _forget_member() -> None:
    for key in (MEMBER_KEY, SEEN_KEY, BY_KEY):
        session.pop(key, None)


def _remember_member(member: Member, by: str) -> None:
    require_active(member)
    session[MEMBER_KEY], session[SEEN_KEY] = member.id, now().timestamp()
    session[BY_KEY] = by


def this_tablet(db: Session) -> tablets.Tablet | None:
    """Return the enrolled tablet this browser is (by its device cookie), or None."""
    return tablets.tablet_for_token(db, request.cookies.get(DEVICE_COOKIE))


def client_address() -> str:
    """Return the client's address (the last trusted proxy's word when behind proxies)."""
    return request.remote_addr or "?"


def member_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Send a visitor who has not identified to the identify screen."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        member_id = session.get(MEMBER_KEY)
        if member_id is None:
            return redirect(url_for("tablet.index"))
        with reading() as db:
            g.tablet_member = get_member(db, member_id)
        return view(*args, **kwargs)

    return guarded


def tablet_member() -> Member:
    """Return the member identified on this tablet (in a view behind ``member_required``)."""
    member: Member = g.tablet_member  # flask.g is untyped; member_required sets this
    return member


@bp.context_processor
def tablet_helpers() -> dict[str, Any]:
    """Give tablet templates the idle time and wall-clock formatting."""
    return {
        "idle_seconds": idle_seconds(),
        "wall": local,
        "site_time": _site_time,
        "identified": MEMBER_KEY in session,
        "enrolled": _is_enrolled(),
    }


def _is_enrolled() -> bool:
    """Tell whether this browser holds a live tablet token (cached for the request)."""
    if "tablet_enrolled" not in g:
        with reading() as db:
            g.tablet_enrolled = this_tablet(db) is not None
    enrolled: bool = g.tablet_enrolled  # flask.g is untyped; only this function sets it
    return enrolled


def _site_time(moment: datetime) -> str:
    """Return ``moment`` as the site's wall clock shows it, e.g. "Monday 30 November 09:00"."""
    return times.local(moment, "%A %d %B %H:%M")


# --- identify -----------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the identify screen, or the machines once a member is identified."""
    if session.get(MEMBER_KEY) is None:
        return render_template("tablet/identify.html")
    return machines()


@member_required
def machines() -> str:
    """Show every bookable machine (or one site's, ``?site=south``) and whether it can be
    booked now."""
    chosen = request.args.get("site") or None
    with reading() as db:
        found = bookings.list_resources(db)
        sites = sorted({r.site for r in found if r.site})
        rows = [(r, bookings.unavailability(db, r)) for r in found if chosen in (None, r.site)]
        pause = bookings.booking_pause_of(db, tablet_member().id, now=now())
    return render_template(
        "tablet/machines.html", rows=rows, pause=pause, sites=sites, chosen=chosen
    )


@bp.post("/identify/card")
def identify_by_card() -> ResponseReturnValue:
    """Identify the member whose card the USB reader typed in, on an enrolled tablet only; a tap
    also checks in any booking whose check-in window is open (the card tap at the door)."""
    uid = request.form.get("uid", "")
    with transaction() as db:  # commits the count of a failure too
        outcome = tablets.identify_by_card(
            db, this_tablet(db), uid, address=client_address(), now=now()
        )
        names = [bookings.get_resource(db, b.resource_id).label for b in outcome.checked_in]
    return _identified(outcome, "card", names=names)


@bp.post("/identify/pin")
def identify_by_pin() -> ResponseReturnValue:
    """Identify a member by member number and PIN; wrong PINs are counted per member, address
    and tablet, and each count slows the next try."""
    number = request.form.get("number", "").strip()
    with transaction() as db:  # commits the count of a wrong try
        outcome = tablets.identify_by_pin(
            db,
            number,
            request.form.get("pin", ""),
            tablet=this_tablet(db),
            address=client_address(),
            now=now(),
        )
    return _identified(outcome, "pin", number=number)


def _identified(
    outcome: tablets.Identified, by: str, *, number: str = "", names: list[str] | None = None
) -> ResponseReturnValue:
    """Remember the identified member, or show the refusal on the identify screen."""
    refused = outcome.refusal
    if refused is None and outcome.member is not None:
        try:
            _remember_member(outcome.member, by)
        except DomainError as suspended:
            refused = suspended
    if refused is not None:
        page = _refuse_identify(refused.message, status_of(type(refused)), number)
        return with_retry_after(page, refused)
    if names:
        flash(f"Checked in: {', '.join(names)}. Enjoy the session!", "ok")
    return redirect(url_for("tablet.index"))


def _refuse_identify(message: str, status: int, number: str = "") -> tuple[str, int]:
    return render_template("tablet/identify.html", error=message, number=number), status


@bp.post("/leave")
def leave() -> ResponseReturnValue:
    """Forget the member at once ("Done", or the page's idle timer)."""
    _forget_member()
    if request.form.get("idle"):
        _say_signed_out_when_idle()
    return redirect(url_for("tablet.index"))


# --- PINs and enrolment ------------------------------------------------------------------


@bp.route("/pin", methods=["GET", "POST"])
@member_required
def change_pin() -> ResponseReturnValue:
    """Set or change the member's PIN: after a card tap no old PIN is asked; after a PIN, it is."""
    by_card = session.get(BY_KEY) == "card"
    if request.method == "GET":
        return render_template("tablet/pin.html", by_card=by_card)
    new, again = request.form.get("new_pin", ""), request.form.get("new_pin_again", "")
    try:
        if new != again:
            raise InvalidInput("The two new PINs differ; type the same PIN twice.", field="new_pin")
        with transaction() as db:  # commits the count of a wrong old PIN too
            _set_or_change_pin(db, tablet_member().id, new, by_card=by_card)
    except DomainError as refused:
        page = render_template("tablet/pin.html", by_card=by_card, error=refused.message)
        return page, status_of(type(refused))
    flash("Your PIN is set.", "ok")
    return redirect(url_for("tablet.index"))


def _set_or_change_pin(db: Session, member_id: int, new: str, *, by_card: bool) -> None:
    if by_card:
        pins.set_pin(db, member_id, new, now=now())
    else:
        pins.change_pin(db, member_id, request.form.get("old_pin", ""), new, now=now())


@bp.route("/enrol", methods=["GET", "POST"])
@steward_required
def enrol() -> ResponseReturnValue:
    """Enrol this browser as a tablet (a steward, signed in on the tablet itself), or list and
    revoke the enrolled ones."""
    if request.method == "POST":
        with transaction() as db:
            tablet, token = tablets.enrol_tablet(
                db, request.form.get("name", ""), by_member_id=_steward_id(), now=now()
            )
        answer = redirect(url_for("tablet.enrol"))
        answer.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            path="/tablet",
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        flash(f"This browser is now tablet {tablet.id} ({tablet.name}). Sign out when done.", "ok")
        return answer
    with reading() as db:
        listed, mine = tablets.list_tablets(db), this_tablet(db)
    return render_template("tablet/enrol.html", tablets=listed, this=mine)


@bp.post("/devices/<int:tablet_id>/revoke")
@steward_required
def revoke(tablet_id: int) -> ResponseReturnValue:
    """Revoke an enrolled tablet: its card reader no longer identifies anyone."""
    with transaction() as db:
        tablets.revoke_tablet(db, tablet_id, by_member_id=_steward_id(), now=now())
    flash(f"Tablet {tablet_id} is revoked.", "ok")
    return redirect(url_for("tablet.enrol"))


def _steward_id() -> int:
    steward = current_member()
    assert steward is not None and steward.id is not None  # steward_required let them in
    return steward.id


# --- slots and booking --------------------------------------------------------------------


@bp.get("/machines/<code>")
@member_required
def slots(code: str) -> str:
    """Show a machine's slots for a day or a week: free to tap, taken (never by whom), yours."""
    week = request.args.get("view") == "week"
    with reading() as db:
        resource = bookings.resource_by_code(db, code)
        chosen = _day_arg(request.args.get("day")) or local_day(resource, now())
        # NOTE: the week shows its seven days as tabs and one day's slots at a time: seven
        # columns of slots were 3,309 px tall and too narrow to read at arm's length.
        first = chosen - timedelta(days=chosen.weekday()) if week else chosen
        plans = bookings.availability(
            db, resource.id, first, 7 if week else 1, member_id=tablet_member().id, now=now()
        )
        down = bookings.unavailability(db, resource)
    step = timedelta(days=7 if week else 1)
    return render_template(
        "tablet/slots.html",
        resource=resource,
        plans=plans,
        week=week,
        down=down,
        first=first,
        chosen=chosen,
        before=chosen - step,
        after=chosen + step,
        today=local_day(resource, now()),
    )


@bp.get("/machines/<code>/confirm")
@member_required
def confirm(code: str) -> str:
    """Ask to confirm a booking that starts at the tapped slot (the second tap books)."""
    with reading() as db:
        resource = bookings.resource_by_code(db, code)
        starts = _start_arg(request.args.get("start"))
        choices = _choices(db, resource, starts)
    return render_template(
        "tablet/confirm.html",
        resource=resource,
        starts=starts,
        choices=choices,
        chosen=resource.slot_minutes,
    )


@bp.post("/bookings")
@member_required
def book() -> ResponseReturnValue:
    """Book the confirmed slot for the identified member; refusals say which rule and when."""
    code = request.form.get("resource", "")
    with reading() as db:
        resource = bookings.resource_by_code(db, code)
    starts, minutes = _start_arg(request.form.get("start")), _minutes_arg(request.form)
    try:
        with transaction() as db:
            made = bookings.create_booking(
                db,
                resource_id=resource.id,
                member_id=tablet_member().id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                now=now(),
            )
    except DomainError as refused:
        return _refuse_booking(resource, starts, minutes, refused)
    flash(f"Booked: {resource.label}, {_span(resource, made.starts_at, made.ends_at)}.", "ok")
    return redirect(url_for("tablet.slots", code=resource.code, day=local_day(resource, starts)))


def _refuse_booking(
    resource: Resource, starts: datetime, minutes: int, refused: DomainError
) -> tuple[str, int]:
    """Show the confirm page again with the refusal, its rule, and when it would be possible."""
    with reading() as db:
        choices = _choices(db, resource, starts)
    status = status_of(type(refused))
    page = render_template(
        "tablet/confirm.html",
        resource=resource,
        starts=starts,
        choices=choices,
        chosen=minutes,
        refusal=refused,
        possible_from=getattr(refused, "possible_from", None),
    )
    return page, status


@bp.get("/mine")
@member_required
def mine() -> str:
    """Show the identified member's bookings, with any notice about them."""
    with reading() as db:
        rows = bookings.bookings_of_member(db, tablet_member().id, now=now())
        pause = bookings.booking_pause_of(db, tablet_member().id, now=now())
    upcoming = [row for row in rows if row.booking.ends_at > now()]
    return render_template("tablet/mine.html", rows=upcoming, pause=pause, now=now())


@bp.post("/bookings/<int:booking_id>/cancel")
@member_required
def cancel(booking_id: int) -> ResponseReturnValue:
    """Cancel one of the identified member's bookings; the slot is free again at once."""
    try:
        with transaction() as db:
            done = bookings.cancel_booking(
                db, booking_id, by_member_id=tablet_member().id, now=now()
            )
            resource = bookings.get_resource(db, done.resource_id)
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for("tablet.mine"))
    flash(f"Cancelled: {resource.label}, {_span(resource, done.starts_at, done.ends_at)}.", "ok")
    return redirect(url_for("tablet.mine"))


@bp.post("/calendar-link")
@member_required
def calendar_link() -> str:
    """Make a new private calendar link for the member (the old one stops working)."""
    with transaction() as db:
        token = bookings.issue_member_feed(db, tablet_member().id, now=now())
    link = url_for("tablet.calendar_feed", token=token, _external=True)
    return render_template("tablet/calendar_link.html", link=link, qr=Markup(qr_svg(link)))


def qr_svg(text: str) -> str:
    """Return ``text`` as a QR code in inline SVG (one unit per module, sized by CSS), to scan
    with one's own phone rather than copy a long link off a shared screen."""
    code = segno.make(text, error="m")
    return str(
        code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", title="Calendar link")
    )


@bp.get("/calendars/<token>.ics")
def calendar_feed(token: str) -> Response:
    """Serve a private iCalendar feed; an unknown or revoked token is a 404."""
    with reading() as db:
        body = bookings.feed_for_token(db, token, now=now())
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "no-store"})


# --- form values --------------------------------------------------------------------------


def _day_arg(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput(f"Day {value!r} must look like 2026-11-30.", field="day") from None
    return _kept(day, "day") if day else None


def _start_arg(value: str | None) -> datetime:
    try:
        starts = as_utc(datetime.fromisoformat(value or ""))
    except (ValueError, OverflowError):
        raise InvalidInput(f"Start {value!r} is not a time.", field="start") from None
    _kept(starts.date(), "start")
    return starts


def _kept(day: date, field: str) -> date:
    """Refuse a day outside the years the hub keeps bookings for (their sums would overflow)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            f"{field.capitalize()} {day.isoformat()} is outside {EARLIEST_DAY.year} to "
            f"{LATEST_DAY.year}.",
            field=field,
        )
    return day


def _minutes_arg(form: Mapping[str, str]) -> int:
    value = form.get("minutes", "")
    if not value.isdigit():
        raise InvalidInput(f"Length {value!r} must be a whole number of minutes.", field="minutes")
    return int(value)


def _choices(db: Session, resource: Resource, starts: datetime) -> list[tuple[int, datetime]]:
    """Return (minutes, end) for each length bookable from ``starts`` without a clash."""
    return [(m, starts + timedelta(minutes=m)) for m in _free_lengths(db, resource, starts)]


def _free_lengths(db: Session, resource: Resource, starts: datetime) -> list[int]:
    """Return the lengths (minutes) bookable from ``starts`` without running into another."""
    plans = bookings.availability(db, resource.id, local_day(resource, starts), now=now())
    free = {slot.starts_at for slot in plans[0].slots if slot.state == bookings.SlotState.FREE}
    lengths: list[int] = []
    step = resource.slot_minutes
    while len(lengths) * step < resource.max_booking_minutes:
        if starts + timedelta(minutes=len(lengths) * step) not in free:
            break
        lengths.append((len(lengths) + 1) * step)
    return lengths or [step]


def _span(resource: Resource, starts: datetime, ends: datetime) -> str:
    return f"{times.local(starts, '%A %d %B %H:%M')}-{times.local(ends, '%H:%M')}"
