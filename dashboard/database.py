"""The application's database engine, kept in ``app.extensions`` (Flask's extension pattern)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlmodel import Session

from hub.infra import db

EXTENSION = "commonshed.engine"


def init_app(app: Flask) -> None:
    """Create the engine for the app's DATABASE_URL and dispose of it at shutdown."""
    app.extensions[EXTENSION] = db.make_engine(app.config["DATABASE_URL"])


def engine() -> Engine:
    """Return the current application's engine."""
    # app.extensions is dict[str, Any]; init_app put an Engine under this key.
    app_engine: Engine = current_app.extensions[EXTENSION]
    return app_engine


@contextmanager
def transaction() -> Iterator[Session]:
    """Yield a session in one write transaction of the current app's database."""
    with db.transaction(engine()) as session:
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """Yield a read-only session of the current app's database."""
    with db.reading(engine()) as session:
        yield session


def dispose(app: Flask) -> None:
    """Close every pooled connection of ``app`` (at shutdown, and between tests)."""
    app.extensions[EXTENSION].dispose()
