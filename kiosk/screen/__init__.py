"""The kiosk's touch screen: one page that follows the session, and the actions it offers.

    GET  /                        the page (Chromium shows it full-screen in kiosk mode)
    GET  /api/screen?after=N      the screen view, as soon as its version is above N (long poll)
    POST /api/actions/<action>    pick, borrow, return, repair, maintenance, ticket, cancel
    GET  /api/sim                 simulation only: demo cards, doors and relays
    POST /api/sim/tap             simulation only: tap a card   {"uid": "DEADBEEF"}
    POST /api/sim/door            simulation only: open/shut    {"slot": 3, "open": true}

The screen listens on localhost by default. Still, every request must name this kiosk as its
Host (no DNS rebinding), and a POST must be JSON (a cross-site form cannot send that without a
CORS preflight, which this app never grants) whose Origin or Referer, when sent, is this page.

Bound to every address (0.0.0.0 or ::) the check still holds: the Host must be a loopback name,
the configured ``screen_host``, or an IP address literal. A DNS-rebinding page always sends its
own domain name as Host, never a bare IP, so it is refused whatever the screen binds to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypedDict, overload
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from broker import messages as wire
from kiosk.session import BadEntry, NotNow, Session

if TYPE_CHECKING:
    from kiosk.simulation import SimulatedHardware
    from kiosk.station import Station

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})
LONG_POLL_MAX_S = 10.0
SIM_CARDS_SHOWN = 24
# What a member is asked for when an input is missing, in the screen's plain words.
MISSING = {
    "hours": "Choose how many hours.",
    "note": "Write a few words in the box.",
    "condition": "Say whether the tool is OK.",
}

bp = Blueprint("screen", __name__)
Body = dict[str, object]  # a request's JSON object


class DemoCard(TypedDict):
    """A card of the allow-list, as the simulation panel offers it for tapping."""

    uid: str
    name: str
    status: str
    roles: list[wire.Role]


def create_screen(station: Station) -> Flask:
    """Return the screen app of ``station`` (a kiosk.station.Station)."""
    app = Flask(__name__)
    app.extensions["kiosk"] = station
    app.config["TRUSTED_HOSTS_EXTRA"] = station.settings.screen_host
    app.before_request(refuse_foreign_requests)
    app.register_blueprint(bp)
    app.register_error_handler(400, _json_error)
    app.register_error_handler(403, _json_error)
    app.register_error_handler(404, _json_error)
    app.register_error_handler(409, _json_error)
    return app


def kiosk() -> Station:
    station: Station = current_app.extensions["kiosk"]
    return station


# --- security -----------------------------------------------------------------------------


def refuse_foreign_requests() -> None:
    """Refuse a request for another host name, and a cross-origin or non-JSON POST."""
    host = urlsplit(f"//{request.host}").hostname or ""
    bound = current_app.config["TRUSTED_HOSTS_EXTRA"]
    if not _answers_to(host, bound):
        abort(403, f"This screen answers to {bound or 'its own addresses'}, not to {host!r}.")
    if request.method != "POST":
        return
    if not request.is_json:
        abort(403, "POST requests must be JSON (application/json).")
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source and _origin(source) != _origin(request.host_url):
        abort(403, f"Cross-origin request from {_origin(source)} refused.")


def _answers_to(host: str, bound: str) -> bool:
    """Tell whether a request for ``host`` is for this screen, bound to ``bound``."""
    if host in LOCAL_HOSTS or (host == bound and bound not in ANY_ADDRESS):
        return True
    return bound in ANY_ADDRESS and _is_ip_literal(host)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _json_error(error: HTTPException) -> tuple[Response, int]:
    return jsonify(error=error.description), error.code or 500


# --- the page and the view ----------------------------------------------------------------


@bp.get("/")
def page() -> str:
    """Show the kiosk screen (and the simulation panel when simulated)."""
    return render_template("screen.html", simulation=kiosk().simulation is not None)


@bp.get("/api/screen")
def screen() -> Response:
    """Return the screen view once it is newer than ``after`` (or after ``wait`` seconds)."""
    after = request.args.get("after", -1, type=int)
    wait = min(request.args.get("wait", 0.0, type=float), LONG_POLL_MAX_S)
    return jsonify(kiosk().board.wait(after, wait))


# --- actions ------------------------------------------------------------------------------

ACTIONS: dict[str, Callable[[Session, Body], None]] = {
    "pick": lambda s, b: s.pick(_int(b, "slot")),
    "borrow": lambda s, b: s.borrow(_int(b, "slot")),
    "return": lambda s, b: s.return_tool(
        _int(b, "slot"),
        _text(b, "condition"),
        _text(b, "note", required=False),
        tool_code=_text(b, "tool_code", required=False),
    ),
    "repair": lambda s, b: s.log_repair(_text(b, "tool_code"), _text(b, "hours"), _text(b, "note")),
    "maintenance": lambda s, b: s.open_for_maintenance(_int(b, "slot")),
    "ticket": lambda s, b: s.open_ticket(_text(b, "tool_code"), _text(b, "note")),
    "cancel": lambda s, b: s.cancel(),
}


@bp.post("/api/actions/<name>")
def act(name: str) -> Response | tuple[Response, int]:
    """Do what the member chose on the screen; answer with the screen that follows."""
    action = ACTIONS.get(name)
    if action is None:
        abort(404, f"There is no action {name!r}.")
    body = _body()
    return _run(lambda session: action(session, body))


def _run(action: Callable[[Session], object]) -> Response | tuple[Response, int]:
    """Run ``action``; a refusal is a 409 whose ``field`` (or null) tells the page where to
    show it, next to what caused it."""
    try:
        kiosk().submit(action)
    except NotNow as refused:
        return jsonify(error=str(refused), field=None), 409
    except BadEntry as refused:
        return jsonify(error=str(refused), field=refused.field), 409
    return jsonify(ok=True, screen=kiosk().board.view)


def _body() -> Body:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "The request body must be a JSON object.")
    return body


def _int(body: Body, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadEntry(f"{key}: a whole number is needed, not {value!r}", field=key)
    return value


@overload
def _text(body: Body, key: str) -> str: ...


@overload
def _text(body: Body, key: str, *, required: Literal[False]) -> str | None: ...


def _text(body: Body, key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadEntry(MISSING.get(key, f"{key}: some text is needed"), field=key)
    return value


# --- simulation ---------------------------------------------------------------------------


@bp.get("/api/sim")
def simulation_state() -> Response:
    """Return the demo cards (from the allow-list), and each locker's door and relay."""
    hardware = _simulation()
    cards = kiosk().submit(_demo_cards)
    return jsonify(cards=cards, lockers=hardware.lockers())


@bp.post("/api/sim/tap")
def simulate_tap() -> Response | tuple[Response, int]:
    """Tap a card on the simulated reader."""
    hardware, body = _simulation(), _body()
    try:
        hardware.tap(str(body.get("uid", "")))
    except ValueError as error:
        abort(400, str(error))
    return _run(lambda session: None)  # queued behind the tap: its outcome is on the board


@bp.post("/api/sim/door")
def simulate_door() -> Response | tuple[Response, int]:
    """Open or shut a simulated locker door."""
    hardware, body = _simulation(), _body()
    wanted = body.get("slot")
    slot = next((slot for slot in hardware.slots if slot == wanted), None)
    if slot is None:
        abort(404, f"There is no locker {wanted!r}.")
    hardware.set_door(slot, bool(body.get("open")))
    return _run(lambda session: None)


def _simulation() -> SimulatedHardware:
    hardware = kiosk().simulation
    if hardware is None:
        abort(404, "This kiosk is not simulated.")
    return hardware


def _demo_cards(session: Session) -> list[DemoCard]:
    allowlist = session.store.allowlist
    if allowlist is None:
        return []
    return [
        {"uid": uid, "name": member.name, "status": member.status, "roles": member.roles}
        for uid, member in list(allowlist.entries.items())[:SIM_CARDS_SHOWN]
    ]
