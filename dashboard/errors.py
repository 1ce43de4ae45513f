"""Turn refusals into clear answers: a page for people, JSON naming the field for scripts.

One map, :data:`REFUSAL_STATUS`, gives every refusal of the hub its HTTP status. Each surface
keeps its own way of saying it (the error page, the tablet's screen, the API's JSON) but takes
the status from :func:`status_of`, so a refusal means the same on every door.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hub.bookings.tablets import PinNotRecognised
from hub.errors import Conflict, DomainError, NotFound, Throttled
from hub.members.credentials import SignInRefused
from hub.members.ranks import LastAdmin, Outranked, SelfSuspension

# The first kind a refusal is wins. NOTE: SignInRefused is also a PermissionError, so it must
# come before PermissionError: unproven credentials are 401, a proven member refused by a rule
# about who may (suspended, untrained, paused, locked out) is 403.
REFUSAL_STATUS: tuple[tuple[type, int], ...] = (
    (Throttled, 429),  # too many failures from here: wait (it says how long)
    (SignInRefused, 401),  # who is asking is not proven
    (Outranked, 403),  # acting on, or granting, a rank not below one's own
    (SelfSuspension, 403),  # suspending oneself
    (LastAdmin, 409),  # the network would be left without an active admin
    (PinNotRecognised, 401),  # ... nor on the tablet
    (NotFound, 404),  # what the request names does not exist
    (Conflict, 409),  # it collides with what is recorded (taken, already decided or closed)
    (PermissionError, 403),  # a rule about who may
    (DomainError, 422),  # any other refusal: a malformed value or a rule of the commons
)


def status_of(kind: type[DomainError]) -> int:
    """Return the HTTP status that answers a refusal of ``kind``: 429, 401, 404, 409, 403 or 422."""
    return next(code for refused, code in REFUSAL_STATUS if issubclass(kind, refused))


def init_app(app: Flask) -> None:
    """Register the handlers that shape refusals."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    """Tell whether the caller is a script (API path or JSON accepted) rather than a browser."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def refusal(status: int, message: str, field: str | None = None) -> ResponseReturnValue:
    """Answer with ``message`` as JSON or as the error page, with ``status``."""
    if wants_json():
        body = {"error": message} | ({"field": field} if field else {})
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, field=field), status


def _domain_error(error: DomainError) -> ResponseReturnValue:
    answer = refusal(status_of(type(error)), error.message, error.field)
    return with_retry_after(answer, error)


def with_retry_after(answer: ResponseReturnValue, error: DomainError) -> ResponseReturnValue:
    """Add ``Retry-After`` to the answer to a throttled request."""
    if isinstance(error, Throttled) and isinstance(answer, tuple):
        return (*answer, {"Retry-After": str(error.retry_after)})
    return answer


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return refusal(
        400,
        f"The form was refused: {error.description} Reload the page and try again.",
        "csrf_token",
    )


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return refusal(error.code or 500, error.description or error.name)
