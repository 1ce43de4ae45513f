"""The hub's web face: steward pages, the booking tablet, open records and the JSON API."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from hub.infra import settings


class DatabaseId(IntegerConverter):
    """An ``<int:...>`` URL part that only matches ids a database column can hold."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, 2**31 - 1 if max is None else max, signed)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Assemble the Flask application from its configuration, extensions and blueprints."""
    app = Flask(__name__)
    # Ids beyond a 32-bit integer cannot exist; refuse them as unknown (404) before they reach
    # the database, where SQLite overflows and PostgreSQL raises NumericValueOutOfRange.
    app.url_map.converters["int"] = DatabaseId
    data = settings.data_dir(test_config and test_config.get("DATA_DIR"))
    app.config.from_mapping(
        DATA_DIR=str(data),
        DATABASE_URL=settings.database_url(data),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        TRUSTED_PROXIES=settings.trusted_proxies(),
    )
    app.config.from_prefixed_env("COMMONSHED")
    if test_config:
        app.config.update(test_config)
    _trust_proxies(app, int(app.config["TRUSTED_PROXIES"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(data)
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _trust_proxies(app: Flask, count: int) -> None:
    """Believe the last ``count`` X-Forwarded-For/-Proto hops, so the address is the client's.

    NOTE: with 0 (the default) no forwarded header is believed: a client could otherwise claim
    any address and walk past the per-address throttles.
    """
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    """Attach the database, sign-in, CSRF protection, refusal handlers and security headers."""
    from dashboard import auth, csrf, database, errors, headers

    database.init_app(app)
    headers.init_app(app)
    auth.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)


def _register_blueprints(app: Flask) -> None:
    """Register every feature's blueprint."""
    from dashboard import auth, health, records, steward

    app.register_blueprint(health.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(auth.bp)
    steward.register(app)  # each steward page's blueprint, and the nav that links them
    from dashboard import tablet  # the booking tablet by the door

    app.register_blueprint(tablet.bp)
    from dashboard import me  # the member's own pages, phone first

    me.register(app)
    from dashboard import api  # the JSON API for scripts, at /api/v1

    app.register_blueprint(api.bp)


def _secret_key(data: Path) -> str:
    """Return the persistent session key in the data dir, creating it on first use."""
    path = data / "secret_key"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
