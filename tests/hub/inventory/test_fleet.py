"""Door alarms: a 'left open' alarm is cleared when its door closes, within a transaction or
across them, and only for its own kiosk and locker."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from hub.infra.db import reading, transaction
from hub.inventory import fleet
from tests.hub.builders import a_kiosk

AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def open_alarms(engine) -> list[tuple[str, int, str]]:
    with reading(engine) as session:
        alarms = session.exec(select(fleet.KioskAlarm).where(fleet.KioskAlarm.cleared_at.is_(None)))
        return sorted((a.kiosk_id, a.locker_slot, a.kind) for a in alarms)


def test_a_door_that_closes_clears_its_left_open_alarm_in_the_same_transaction(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        a_kiosk(session, "shed-2")
        assert fleet.clear_door_left_open(session, "shed-1", 1, AT) == 0
        fleet.raise_alarm(session, "shed-1", 1, fleet.AlarmKind.DOOR_LEFT_OPEN, AT)
        fleet.raise_alarm(session, "shed-2", 1, fleet.AlarmKind.DOOR_LEFT_OPEN, AT)
        fleet.raise_alarm(session, "shed-1", 2, fleet.AlarmKind.DOOR_FORCED, AT)
        assert fleet.clear_door_left_open(session, "shed-1", 1, AT) == 1
        assert fleet.clear_door_left_open(session, "shed-1", 2, AT) == 0  # forced stays
    assert open_alarms(engine) == [("shed-1", 2, "door_forced"), ("shed-2", 1, "door_left_open")]


def test_a_door_that_closes_later_clears_an_alarm_raised_in_an_earlier_transaction(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        fleet.raise_alarm(session, "shed-1", 3, fleet.AlarmKind.DOOR_LEFT_OPEN, AT)
    with transaction(engine) as session:
        assert fleet.clear_door_left_open(session, "shed-1", 4, AT) == 0
        assert fleet.clear_door_left_open(session, "shed-1", 3, AT) == 1
    assert open_alarms(engine) == []
