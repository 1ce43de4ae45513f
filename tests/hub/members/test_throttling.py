"""Sign-in throttles: delays grow, are forgotten after a quiet hour, and spare the victim."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.errors import Throttled
from hub.infra import throttles
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.infra.hashing import hasher
from hub.members import credentials, throttling
from hub.members.roster import add_member
from tests.dashboard.security import test_signin_throttles as web

PASSWORD = "correct horse battery"


@pytest.fixture
def steward(engine):
    with transaction(engine) as session:
        member = add_member(session, name="Grace", roles="steward")
        login = credentials.StewardLogin(member_id=member.id, password_hash=hasher().hash(PASSWORD))
        session.add(login)  # as set_password leaves it (its signature is the roles' to change)
        return member


def attempt(engine, number, password, address, now):
    with transaction(engine) as session:
        return throttling.sign_in(session, number, password, address=address, now=now)


def test_the_web_tests_know_the_policy():
    assert (web.PAIR_FREE, web.ADDRESS_FREE, web.ACCOUNT_FREE) == (
        throttling.PAIR.free_failures,
        throttling.ADDRESS.free_failures,
        throttling.ACCOUNT.free_failures,
    )


def test_delays_double_after_the_free_failures_up_to_a_cap():
    policy = throttles.Policy(3, timedelta(seconds=2), timedelta(seconds=30), timedelta(hours=1))
    delays = [policy.delay_after(n).total_seconds() for n in range(1, 10)]
    assert delays == [0, 0, 2, 4, 8, 16, 30, 30, 30]


def test_the_wait_grows_with_each_failure_and_ends(engine, steward):
    now = utcnow()
    for _ in range(throttling.PAIR.free_failures):
        assert attempt(engine, steward.number, "wrong", "198.51.100.1", now).member is None
    waits = []
    for _ in range(3):
        refused = attempt(engine, steward.number, PASSWORD, "198.51.100.1", now).refusal
        assert isinstance(refused, Throttled)
        waits.append(refused.retry_after)
        now += timedelta(seconds=refused.retry_after)  # wait it out, then fail again
        assert attempt(engine, steward.number, "wrong", "198.51.100.1", now).member is None
    assert waits[0] < waits[1] < waits[2]
    later = now + timedelta(minutes=16)
    assert attempt(engine, steward.number, PASSWORD, "198.51.100.1", later).member is not None


def test_failures_are_forgotten_after_a_quiet_hour(engine, steward):
    now = utcnow()
    for _ in range(throttling.PAIR.free_failures - 1):
        attempt(engine, steward.number, "wrong", "198.51.100.1", now)
    later = now + timedelta(hours=2)
    attempt(engine, steward.number, "wrong", "198.51.100.1", later)
    assert attempt(engine, steward.number, PASSWORD, "198.51.100.1", later).member is not None


def test_junk_numbers_share_one_bucket_and_never_reach_an_account():
    assert throttling.account_key(" 1001 ") == "1001"
    assert throttling.account_key("1001%' OR 1=1") == "invalid"
    assert throttling.account_key("9" * 40) == "invalid"
