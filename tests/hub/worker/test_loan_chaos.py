"""A broker SIGKILLed and restarted while a real kiosk process cycles loans, through the real
ingest worker: every loan ends with its own return, none before it began, no orphans."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hub.infra.clock import as_utc
from hub.infra.db import reading
from hub.inventory.registry import Tool
from hub.loans.records import Loan, UnmatchedReturn
from hub.worker.inbox import InboxEvent
from tests.fixtures.waiting import wait_until
from tests.kiosk.harness import CARD, KioskProcess, count, start_hub, stock_library

pytestmark = pytest.mark.slow


# --- a broker SIGKILL while a kiosk cycles loans -------------------------------------------------


@pytest.fixture
def drill_shed(sqlite_engine, mosquitto, tmp_path):
    stock_library(sqlite_engine)
    worker = start_hub(sqlite_engine, mosquitto)
    kiosk = KioskProcess(mosquitto, tmp_path / "kiosk", tmp_path / "kiosk.log").start()
    try:
        yield sqlite_engine, worker, kiosk
    finally:
        if kiosk.process is not None and kiosk.process.poll() is None:
            kiosk.kill()
        worker.stop()


def cycle(kiosk: KioskProcess) -> None:
    kiosk.tap(CARD)
    assert kiosk.act("borrow", slot=1)["title"] == "Locker 1 is open"
    assert kiosk.use_locker(1)["state"] == "done"
    kiosk.tap(CARD)
    assert kiosk.act("return", slot=1, condition="ok")["state"] == "open"
    assert kiosk.use_locker(1)["state"] == "done"


def test_loans_cycled_through_a_broker_sigkill_each_end_with_their_own_return(
    drill_shed, mosquitto
):
    engine, _worker, kiosk = drill_shed
    wait_until(lambda: kiosk.kiosk()["allowlist_version"], 20, "the allow-list at the kiosk")
    for _ in range(3):
        cycle(kiosk)
    mosquitto.kill()  # SIGKILL: whatever came since the last snapshot is gone
    for _ in range(3):
        cycle(kiosk)  # the kiosk lends on alone, its outbox filling
    mosquitto.start()
    for _ in range(2):
        cycle(kiosk)
    wait_until(lambda: kiosk.kiosk()["backlog"] == 0, 90, "the kiosk's outbox emptied")
    wait_until(lambda: count(engine, InboxEvent, InboxEvent.outcome == "held") == 0, 90, "held")
    with reading(engine) as session:
        loans = session.exec(select(Loan).order_by(Loan.out_at)).all()
        returns = {
            event_id: seq
            for event_id, seq in session.exec(
                select(InboxEvent.event_id, InboxEvent.seq).where(InboxEvent.kind == "tool_return")
            )
        }
        assert session.exec(select(UnmatchedReturn)).all() == []
        drill = session.exec(select(Tool)).one()
        assert drill.status == "available"
    assert len(loans) == 8
    for loan in loans:
        assert loan.returned_at is not None and not loan.in_conflict
        assert as_utc(loan.returned_at) >= as_utc(loan.out_at)
        assert returns[loan.return_event_id] == loan.seq + 3  # loan, door opened, shut, its return
    assert kiosk.stop() == 0
