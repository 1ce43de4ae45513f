"""Rows a transaction looks up once: by a unique key (``find_unique``), or a batch's worth at a
time (``load_unique``), then found again without a query while the transaction lasts."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, SQLModel, select

Row = TypeVar("Row", bound=SQLModel)


def transaction_cache(session: Session, name: str) -> dict[Any, Any]:
    """Return a dict named ``name`` that lives as long as the session's current transaction
    (a new transaction, or a new session, starts with an empty one)."""
    root = session.get_transaction()
    held = session.info.get(("transaction_cache", name))
    if held is None or held[0] is not root:
        held = (root, {})
        session.info[("transaction_cache", name)] = held
    cache: dict[Any, Any] = held[1]
    return cache


def find_unique(
    session: Session, model: type[Row], column: InstrumentedAttribute[Any], value: object
) -> Row | None:
    """Return the ``model`` row whose unique ``column`` is ``value``, or None.

    A row found once in a transaction is kept and returned again, with no query, as long as it
    is in the session and its ``column`` still holds ``value``.

    NOTE: the ingest looks the same few cards and tools up for event after event of a batch;
    each query cost ~0.3 ms of ORM work on SQLite (bench/hub_ingest_bench.py --profile).
    """
    found = transaction_cache(session, "unique_rows")
    key = (model, column.key, value)
    # NOTE: the cache holds the row itself: the identity map only keeps rows someone holds.
    row: Row | None = found.get(key)
    if row is not None and inspect(row).persistent and getattr(row, column.key) == value:
        return row
    row = session.exec(select(model).where(column == value)).first()
    if row is not None:
        found[key] = row
    return row


def load_unique(
    session: Session, model: type[Row], column: InstrumentedAttribute[Any], values: set[Any]
) -> list[Row]:
    """Load the ``model`` rows whose unique ``column`` is one of ``values``, in one query, and
    remember them as ``find_unique`` does (a batch's lookups, asked for at once)."""
    found = transaction_cache(session, "unique_rows")
    wanted = {value for value in values if (model, column.key, value) not in found}
    if not wanted:
        return []
    rows = list(session.exec(select(model).where(column.in_(wanted))).all())
    for row in rows:
        found[(model, column.key, getattr(row, column.key))] = row
    return rows
