"""Turn refusals into clear answers: a page for people, JSON naming the field for scripts."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hub.errors import Conflict, DomainError, NotFound
from hub.members.credentials import SignInRefused

# The first matching class wins; any other refusal of a rule is 422.
STATUS_OF = {SignInRefused: 401, NotFound: 404, Conflict: 409, PermissionError: 403}


def init_app(app: Flask) -> None:
    """Register the handlers that shape refusals."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    """Tell whether the caller is a script (API path or JSON accepted) rather than a browser."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def refusal(status: int, message: str, field: str | None = None):
    """Answer with ``message`` as JSON or as the error page, with ``status``."""
    if wants_json():
        body = {"error": message} | ({"field": field} if field else {})
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, field=field), status


def _domain_error(error: DomainError):
    status = next((code for kind, code in STATUS_OF.items() if isinstance(error, kind)), 422)
    return refusal(status, error.message, error.field)


def _csrf_error(error: CSRFError):
    return refusal(
        400,
        f"The form was refused: {error.description} Reload the page and try again.",
        "csrf_token",
    )


def _http_error(error: HTTPException):
    return refusal(error.code or 500, error.description or error.name)
