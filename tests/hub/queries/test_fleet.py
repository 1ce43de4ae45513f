"""The kiosk fleet as stewards read it: health, refusals, dead letters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from broker import messages as wire
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.infra.sync import SyncState
from hub.inventory import fleet
from hub.queries.fleet import (
    allowlist_version,
    dead_letter_count,
    fleet_health,
    recent_refusals,
)
from hub.worker.events import apply_event
from hub.worker.inbox import record_dead_letter
from tests.hub.builders import a_kiosk


def test_a_kiosk_without_the_list_the_publisher_sends_is_behind(engine):
    """The API compared kiosks with the raw sync version (0 on a new hub), the steward pages
    with what the publisher sends (at least 1); one answer now, the publisher's: a kiosk that
    holds no list at all is behind even before anything has changed."""
    now = utcnow()
    with transaction(engine) as session:
        for kiosk, version in (("shed-1", 1), ("shed-2", None)):
            a_kiosk(session, kiosk, slots=0)
            fleet.record_availability(
                session, kiosk, state="online", since=now, allowlist_version=version
            )
    with transaction(engine) as session:  # registering kiosks moved it; back to a new hub's
        session.exec(update(SyncState).values(version=0))
    with reading(engine) as session:
        assert allowlist_version(session) == 1
        health = {k.kiosk.id: k for k in fleet_health(session, now=now)}
    assert not health["shed-1"].allowlist_behind and health["shed-1"].healthy
    assert health["shed-2"].allowlist_behind and not health["shed-2"].healthy


def test_a_kiosk_silent_for_minutes_is_not_online(engine):
    now = utcnow()
    with transaction(engine) as session:
        a_kiosk(session, slots=0)
        fleet.record_availability(
            session, "shed-1", state="online", since=now, received_at=now - timedelta(minutes=6)
        )
        fleet.raise_alarm(session, "shed-1", 1, fleet.AlarmKind.DOOR_FORCED, now)
    with reading(engine) as session:
        (health,) = fleet_health(session, now=now)
    assert health.silent and not health.online
    assert [a.kind for a in health.open_alarms] == ["door_forced"]


def test_refusals_newest_first_and_dead_letters_counted(engine):
    now = utcnow()
    with transaction(engine) as session:
        a_kiosk(session, slots=0)
        for minutes, uid in ((2, "AA"), (1, "BB")):
            fleet.record_refusal(
                session, "shed-1", uid, "unknown card", None, now - timedelta(minutes=minutes)
            )
        record_dead_letter(session, topic="commonshed/x", payload=b"{", reason="not JSON")
    with reading(engine) as session:
        assert [r.card_uid for r in recent_refusals(session)] == ["BB", "AA"]
        assert [r.card_uid for r in recent_refusals(session, limit=1)] == ["BB"]
        assert dead_letter_count(session) == 1


@pytest.mark.parametrize(
    "skew, says",
    [
        (timedelta(hours=1), "about 60 min ahead of the hub"),
        (-timedelta(hours=1), "about 60 min behind the hub (or delivering old events)"),
        (timedelta(seconds=20), "in step with the hub"),
    ],
)
def test_a_kiosk_clock_off_by_more_than_the_bound_is_flagged(engine, skew, says):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
    door = wire.DoorClosedEvent(
        event_id=wire.new_message_id(),
        kiosk_id="shed-1",
        seq=0,
        kiosk_time=utcnow() + skew,
        body=wire.DoorChange(locker_slot=1),
    )
    with transaction(engine) as session:
        apply_event(session, door)
    with reading(engine) as session:
        (health,) = fleet_health(session)
    assert health.clock_says == says
    assert health.clock_skewed == (abs(skew) > timedelta(minutes=5))
    assert health.healthy is False  # never seen online here; the clock adds its own flag


def online_with(session, kiosk_id: str, at, **health) -> None:
    a_kiosk(session, kiosk_id, slots=0)
    fleet.record_availability(
        session,
        kiosk_id,
        state="online",
        since=at,
        allowlist_version=10_000,  # never behind: not what these tests are about
        outbox_backlog=health.pop("outbox_backlog", 0),
        received_at=at,
        health=fleet.KioskHealthReport(**health),
    )


def test_a_kiosk_online_but_sick_says_why(engine):
    now = utcnow()
    with transaction(engine) as session:
        online_with(session, "shed-ok", now, reader="ok", locks_safety="verified")
        online_with(session, "shed-old", now)  # reports no health at all: judged as before
        online_with(session, "shed-deaf", now, reader="missing", locks_safety="verified")
        online_with(session, "shed-unsafe", now, reader="ok")
        online_with(
            session,
            "shed-stuck",
            now - timedelta(minutes=2),
            reader="ok",
            locks_safety="not_applicable",
            outbox_backlog=7,
            oldest_unacked_s=240.0,
        )
    with reading(engine) as session:
        health = {k.kiosk.id: k for k in fleet_health(session, now=now)}
    assert health["shed-ok"].healthy and health["shed-old"].healthy
    assert health["shed-deaf"].problems == ("card reader not working",)
    assert [a.kind for a in health["shed-deaf"].open_alarms] == ["reader_missing"]
    assert health["shed-unsafe"].problems == ("lock safety settings not verified",)
    # 4 min old when reported, 2 min ago: 6 min by now
    assert health["shed-stuck"].problems == ("oldest event unacknowledged for 6 min",)
    assert all(health[k].online and not health[k].healthy for k in ("shed-deaf", "shed-stuck"))
