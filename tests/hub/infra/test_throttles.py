"""Throttles in the database: counts add up across transactions, waits grow, old rows go."""

from __future__ import annotations

from datetime import timedelta

from hub.infra import security_log, throttles
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.infra.throttles import Policy

POLICY = Policy(2, timedelta(seconds=5), timedelta(minutes=1), timedelta(hours=1))


def test_failures_count_across_transactions_and_impose_growing_waits(engine):
    now = utcnow()
    waits = []
    for _ in range(5):
        with transaction(engine) as session:
            waits.append(throttles.fail(session, "test", "key", POLICY, now=now))
    assert waits == [0, 5, 10, 20, 40]
    with reading(engine) as session:
        assert throttles.wait_seconds(session, "test", "key", now=now) == 40
        assert throttles.wait_seconds(session, "test", "key", now=now + timedelta(seconds=41)) == 0
        assert throttles.wait_seconds(session, "test", "other", now=now) == 0


def test_a_success_clears_the_count_and_is_remembered(engine):
    now = utcnow()
    with transaction(engine) as session:
        for _ in range(3):
            throttles.fail(session, "test", "key", POLICY, now=now)
        throttles.succeed(session, "test", "key", now=now)
    with reading(engine) as session:
        assert throttles.wait_seconds(session, "test", "key", now=now) == 0
        assert throttles.last_success(session, "test", "key") == now


def test_keys_failing_under_a_prefix_are_counted_literally(engine):
    now = utcnow()
    with transaction(engine) as session:
        for key in ("1001|a", "1001|b", "10011|c", "1%|d"):
            throttles.fail(session, "pair", key, POLICY, now=now)
    with reading(engine) as session:
        since = now - timedelta(minutes=1)
        assert throttles.failing_keys(session, "pair", "1001|", since=since) == 2
        assert throttles.failing_keys(session, "pair", "1%|", since=since) == 1


def test_housekeeping_forgets_old_throttles_and_security_events(engine):
    old, now = utcnow() - timedelta(days=100), utcnow()
    with transaction(engine) as session:
        throttles.fail(session, "test", "old", POLICY, now=old)
        throttles.fail(session, "test", "new", POLICY, now=now)
        security_log.record(session, "signin.failed", address="a", subject="1001", now=old)
        security_log.record(session, "signin.ok", address="a", subject="1001", now=now)
    with transaction(engine) as session:
        assert throttles.prune(session, before=now - timedelta(days=90)) == 1
        assert security_log.prune(session, before=now - timedelta(days=90)) == 1
    with reading(engine) as session:
        assert [e.event for e in security_log.recent(session)] == ["signin.ok"]
