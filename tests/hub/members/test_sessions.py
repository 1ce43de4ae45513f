"""Sign-in sessions kept on the hub: a key opens one until it ends, by any of its ends."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.members import sessions
from hub.members.roster import add_member

IDLE, LIFETIME = timedelta(minutes=30), timedelta(hours=8)


def lookup(session, key, now=None):
    """Look a key up and write down what it needs, as dashboard.auth does for each request."""
    found = sessions.look_up(session, key, idle=IDLE, lifetime=LIFETIME, now=now)
    sessions.record(session, key, found, now=now)
    return found.member


def test_a_key_opens_its_session_until_it_is_ended(engine):
    with transaction(engine) as session:
        grace = add_member(session, name="Grace", roles="steward")
        key = sessions.start_session(session, grace.id, address="10.0.0.5", agent="Firefox")
        assert lookup(session, key).id == grace.id
        assert lookup(session, "cs_guessed") is None
        sessions.end_session(session, key)
        assert lookup(session, key) is None
        (row,) = session.exec(select(sessions.SignInSession)).all()
        assert row.ended_why == "signed out" and row.key_hash != key and row.address == "10.0.0.5"


def test_ending_all_sessions_ends_only_that_members(engine):
    with transaction(engine) as session:
        grace, ada = add_member(session, name="Grace"), add_member(session, name="Ada")
        keys = [sessions.start_session(session, grace.id) for _ in range(3)]
        adas = sessions.start_session(session, ada.id)
        assert sessions.end_sessions_of(session, grace.id, "password changed") == 3
        assert all(lookup(session, key) is None for key in keys)
        assert lookup(session, adas).id == ada.id


def test_an_idle_or_old_session_ends_by_itself(engine):
    start = utcnow()
    with transaction(engine) as session:
        grace = add_member(session, name="Grace")
        idle_key = sessions.start_session(session, grace.id, now=start)
        busy_key = sessions.start_session(session, grace.id, now=start)
        for minutes in range(0, 8 * 60, 20):  # seen every 20 minutes, for 8 hours
            assert lookup(session, busy_key, now=start + timedelta(minutes=minutes))
        assert lookup(session, idle_key, now=start + timedelta(minutes=40)) is None
        assert lookup(session, busy_key, now=start + timedelta(hours=8, minutes=1)) is None
        ended = {row.ended_why for row in session.exec(select(sessions.SignInSession))}
        assert ended == {"idle", "lifetime over"}
