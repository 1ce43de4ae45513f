"""Turn refusals into clear answers: a page for people, JSON naming the field for scripts.

One map, :data:`REFUSAL_STATUS`, gives every refusal of the hub its HTTP status. Each surface
keeps its own way of saying it (the error page, the tablet's screen, the API's JSON) but takes
the status from :func:`status_of`, so a refusal means the same on every door.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as NoSuchPage

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


# The error page's heading: what happened, in words, for each status (the number stays small).
HEADINGS = {
    400: "This form has expired",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not a way this page works",
    409: "Already changed",
    422: "That was refused",
    429: "Too many tries",
}
SOMETHING_BROKE = "Something went wrong on the hub"
# Werkzeug's stock descriptions, said plainly (a view's own abort(404, "...") is kept as is).
PLAIN_WORDS = {
    NoSuchPage.description: "There is no page at this address. Check the link, or use the menu.",
    MethodNotAllowed.description: "This page cannot do that. Go back and use its buttons.",
}
FORM_EXPIRED = "This form has expired; go back, reload the page and send it again."


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


def refusal(
    status: int, message: str, field: str | None = None, *, detail: str | None = None
) -> ResponseReturnValue:
    """Answer with ``message`` as JSON or as the error page, with ``status``.

    The page says ``message`` in words; ``detail``, for whoever debugs, goes in small print.
    """
    if wants_json():
        body = {"error": message} | ({"field": field} if field else {})
        return jsonify(body), status
    page = render_template(
        "error.html",
        status=status,
        heading=HEADINGS.get(status, SOMETHING_BROKE),
        message=message,
        field=None if field == "csrf_token" else field,
        detail=detail,
        steward=_signed_in_steward(),
    )
    return page, status


def _signed_in_steward() -> bool:
    """Tell whether a signed-in steward asked: their page keeps the steward navigation."""
    from dashboard.auth import current_member  # NOTE: dashboard.auth imports this module
    from hub.members.roster import Role

    try:
        member = current_member()
    except Exception:  # the error may be the database itself: show the page without the nav
        return False
    return member is not None and member.is_active and member.has_role(Role.STEWARD)


def _domain_error(error: DomainError) -> ResponseReturnValue:
    answer = refusal(status_of(type(error)), error.message, error.field)
    return with_retry_after(answer, error)


def with_retry_after(answer: ResponseReturnValue, error: DomainError) -> ResponseReturnValue:
    """Add ``Retry-After`` to the answer to a throttled request."""
    if isinstance(error, Throttled) and isinstance(answer, tuple):
        return (*answer, {"Retry-After": str(error.retry_after)})
    return answer


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    if wants_json():  # a script is told which check failed
        return refusal(400, f"The form was refused: {error.description}", "csrf_token")
    return refusal(400, FORM_EXPIRED, "csrf_token", detail=error.description)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if isinstance(error, MethodNotAllowed) and _no_such_record(error):
        error = NoSuchPage()
    description = error.description or error.name
    return refusal(error.code or 500, PLAIN_WORDS.get(description, description))


def _no_such_record(error: MethodNotAllowed) -> bool:
    """Tell whether a 405 is really a 404: no rule takes this address with its converters.

    NOTE: werkzeug's matcher reports a method mismatch before checking a rule's converters,
    so PATCH /api/v1/members/0 (ids start at 1) answered 405 "use GET" though GET answers 404.
    """
    adapter = current_app.url_map.bind("localhost")
    for method in error.valid_methods or ():
        try:
            adapter.match(request.path, method=method)
        except HTTPException:
            continue
        return False
    return True
