"""The API blueprint at /api/v1: its operation registry, CSRF rule and refusal shape."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from dashboard.auth import current_member, steward_required
from dashboard.csrf import protect
from dashboard.openapi import InvalidRequest, OpenApi

from .schemas import Error

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
api = OpenApi(
    bp,
    title="Commonshed API",
    version="1.0.0",
    description=(
        "The steward dashboard's data as JSON, for scripts. Send a steward's API token as "
        "`Authorization: Bearer <token>` (a signed-in browser session works too, and then "
        "every write also needs its CSRF token in an `X-CSRFToken` header). Open records "
        "(the tool board and tool histories, which show member numbers but never names) need "
        "no sign-in; everything else is for stewards only. Tokens expire and have a scope: "
        "`steward` (all its holder may do), `read` (GET only; writes answer 403) or `member` "
        "(open records only). Acting on a member needs a rank above theirs (403), and the "
        "last active admin can be neither suspended nor demoted (409)."
    ),
    guard=steward_required,
    error_model=Error,
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# NOTE: Flask-WTF's blanket check is lifted for the API and done again below, where a bearer
# token is known: a browser never sends that header by itself, but it does send the cookie.
protect.exempt(bp)


@bp.before_request
def check_csrf_of_cookie_writes() -> None:
    """Require the CSRF token on a write signed in by session cookie; bearer tokens need none."""
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if _has_bearer_token() or current_member() is None:
        return  # the guard answers 401 to the anonymous
    protect.protect()


def _has_bearer_token() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


@bp.errorhandler(InvalidRequest)
def refuse_invalid_request(invalid: InvalidRequest) -> ResponseReturnValue:
    """Answer 422 naming the first field at fault, and listing every fault."""
    errors = [
        {"field": _field_of(e["loc"], invalid.part), "error": e["msg"]} for e in invalid.errors
    ]
    first = errors[0]
    body = {"error": f"{first['field']}: {first['error']}", "field": first["field"]}
    return jsonify(body | {"errors": errors}), 422


def _field_of(location: tuple[int | str, ...], part: str) -> str:
    """Name a pydantic error location as the client spelt it: ``hours``, ``lines.0.amount``."""
    return ".".join(str(step) for step in location) or part.split()[0]
