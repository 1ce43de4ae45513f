"""Throttles: growing delays after repeated failures, kept in the database so that every hub
process counts the same failures.

A throttle is a (scope, key) pair, such as ("signin.address", "203.0.113.9"). Each failure
counts; past a policy's free failures every further one doubles the wait before the next try is
heard, up to a cap, and a quiet spell forgets the count. A success clears the count of its pair
and remembers when it happened (so "has this address signed in to this account before?" can be
asked). The refusals themselves belong to the domain that uses a throttle: this module only
answers how long to wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, func, select

from hub.infra.clock import as_utc, utcnow

KEY_MAX = 120


@dataclass(frozen=True)
class Policy:
    """How many failures are free, how the wait grows after them, and when they are forgotten."""

    free_failures: int
    first_delay: timedelta
    longest_delay: timedelta
    forget_after: timedelta

    def delay_after(self, failures: int) -> timedelta:
        """Return the wait imposed after ``failures`` failures in a row: none until
        ``free_failures`` of them, then ``first_delay``, doubling with each further one."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return timedelta(0)
        grown: timedelta = self.first_delay * 2 ** min(beyond, 30)
        return min(self.longest_delay, grown)


class Throttle(SQLModel, table=True):
    scope: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=KEY_MAX)
    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    last_success_at: datetime | None = None


def wait_seconds(session: Session, scope: str, key: str, *, now: datetime | None = None) -> int:
    """Return how many seconds must pass before ``key`` may try again (0: it may now)."""
    row = session.get(Throttle, (scope, _key(key)))
    if row is None or row.blocked_until is None:
        return 0
    left = (as_utc(row.blocked_until) - as_utc(now or utcnow())).total_seconds()
    return max(0, math.ceil(left))


def fail(
    session: Session, scope: str, key: str, policy: Policy, *, now: datetime | None = None
) -> int:
    """Count a failure of ``key``; return the wait (seconds) it now imposes (0: none yet)."""
    now = as_utc(now or utcnow())
    row = _row(session, scope, key)
    if row.last_failure_at and now - as_utc(row.last_failure_at) > policy.forget_after:
        row.failures = 0  # a quiet spell: start counting afresh
    row.failures += 1
    row.last_failure_at = now
    delay = policy.delay_after(row.failures)
    row.blocked_until = now + delay if delay else None
    session.add(row)
    session.flush()
    return math.ceil(delay.total_seconds())


def succeed(session: Session, scope: str, key: str, *, now: datetime | None = None) -> None:
    """Clear the failures of ``key`` and remember that it succeeded ``now``."""
    row = _row(session, scope, key)
    row.failures, row.blocked_until = 0, None
    row.last_success_at = as_utc(now or utcnow())
    session.add(row)
    session.flush()


def failures(session: Session, scope: str, key: str, policy: Policy, *, now: datetime) -> int:
    """Return the failures of ``key`` that are not yet forgotten."""
    row = session.get(Throttle, (scope, _key(key)))
    if row is None or row.last_failure_at is None:
        return 0
    return row.failures if now - as_utc(row.last_failure_at) <= policy.forget_after else 0


def last_success(session: Session, scope: str, key: str) -> datetime | None:
    """Return when ``key`` last succeeded, if it ever did."""
    row = session.get(Throttle, (scope, _key(key)))
    return as_utc(row.last_success_at) if row and row.last_success_at else None


def failing_keys(session: Session, scope: str, prefix: str, *, since: datetime) -> int:
    """Return how many keys of ``scope`` starting with ``prefix`` failed since ``since``."""
    query = (
        select(func.count())
        .select_from(Throttle)
        .where(
            Throttle.scope == scope,
            col(Throttle.key).startswith(_key(prefix), autoescape=True),
            col(Throttle.last_failure_at) >= since,
            Throttle.failures > 0,
        )
    )
    return int(session.exec(query).one())


def prune(session: Session, *, before: datetime) -> int:
    """Delete throttles untouched since ``before`` (housekeeping); return how many went."""
    stale = select(Throttle).where(
        func.coalesce(Throttle.last_failure_at, Throttle.last_success_at) < before
    )
    rows = list(session.exec(stale))
    for row in rows:
        session.delete(row)
    return len(rows)


def _row(session: Session, scope: str, key: str) -> Throttle:
    """Return the throttle row of ``key``, created if new and locked for this transaction."""
    # NOTE: insert-if-missing first, so two processes counting a new key's first failure at once
    # both land on one row instead of one of them failing on the primary key; the row lock
    # (PostgreSQL; SQLite's write transaction serialises anyway) makes the counts add up.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"scope": scope, "key": _key(key), "failures": 0}
    session.exec(insert(Throttle).values(**values).on_conflict_do_nothing())
    row = session.get(Throttle, (scope, _key(key)), with_for_update=True, populate_existing=True)
    assert row is not None  # inserted just above, or already there
    return row


def _key(key: str) -> str:
    return key[:KEY_MAX]
