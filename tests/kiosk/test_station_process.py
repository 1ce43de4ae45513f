"""The real kiosk process against a real Mosquitto and the real hub ingest worker.

Each flow ends as rows in the hub's database: a loan, a ticket, a credit claim; a SIGKILLed
kiosk loses nothing and doubles nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from hub.infra.db import reading
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.loans.lending import Loan
from hub.maintenance.tickets import live_tickets
from hub.timebank.claims import CreditClaim
from hub.worker.inbox import InboxEvent
from tests.fixtures.waiting import wait_until
from tests.kiosk.harness import CARD, KioskProcess, count, start_hub, stock_library

pytestmark = pytest.mark.slow


@pytest.fixture
def library(sqlite_engine):
    stock_library(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def hub(library, mosquitto):
    worker = start_hub(library, mosquitto)
    yield worker
    worker.stop()


@pytest.fixture
def kiosk_process(mosquitto, tmp_path):
    process = KioskProcess(mosquitto, tmp_path / "kiosk", tmp_path / "kiosk.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.kill()


def synced(kiosk: KioskProcess) -> dict:
    """Wait until the kiosk holds the hub's allow-list and config."""
    return wait_until(
        lambda: (k := kiosk.kiosk())["allowlist_version"] and k["config_version"] and k,
        20,
        "the allow-list reaching the kiosk",
    )


def borrow_and_return(kiosk: KioskProcess, condition: str = "ok", note: str | None = None):
    kiosk.tap(CARD)
    assert kiosk.act("borrow", slot=1)["title"] == "Locker 1 is open"
    assert kiosk.use_locker(1)["state"] == "done"
    kiosk.tap(CARD)
    assert kiosk.act("return", slot=1, condition=condition, note=note)["state"] == "open"
    assert kiosk.use_locker(1)["state"] == "done"


def test_borrow_return_needing_repair_and_repair_log_reach_the_hub(hub, library, kiosk_process):
    kiosk = kiosk_process.start()
    synced(kiosk)
    borrow_and_return(kiosk, "needs_repair", "Chuck wobbles")
    kiosk.tap(CARD)
    logged = kiosk.act("repair", tool_code="DRILL-1", hours="1.5", note="New chuck")
    assert logged["state"] == "done"
    wait_until(
        lambda: kiosk.kiosk()["backlog"] == 0 and count(library, CreditClaim) == 1,
        20,
        "every event acknowledged",
    )
    with reading(library) as session:
        drill = tool_by_code(session, "DRILL-1")
        loan = session.exec(select(Loan)).one()
        assert loan.returned_at is not None and loan.return_condition == "needs_repair"
        assert drill.status == ToolStatus.OUT_OF_SERVICE
        assert [t.note for t in live_tickets(session, tool_id=drill.id)] == ["Chuck wobbles"]
        claim = session.exec(select(CreditClaim)).one()
        assert (claim.hours, claim.status) == (Decimal("1.50"), "pending")
    # the hub's new allow-list reaches the kiosk: the drill no longer lends
    wait_until(lambda: kiosk.tap(CARD)["choices"]["borrow"] == [], 20, "drill out of service")
    assert kiosk.stop() == 0


def test_a_sigkilled_kiosk_loses_nothing_and_doubles_nothing(
    hub, library, mosquitto, kiosk_process
):
    kiosk = kiosk_process.start()
    synced(kiosk)
    hub.stop()  # events now wait: in the kiosk's outbox, and queued at the broker for the hub
    for _ in range(5):
        borrow_and_return(kiosk)
    assert kiosk.kiosk()["backlog"] == 30  # 5 x (door, loan, door, door, return, door)
    kiosk.kill()
    restarted = KioskProcess(mosquitto, kiosk.data_dir, kiosk.log_path)
    restarted.port, restarted.url = kiosk.port, kiosk.url
    restarted.start()
    assert restarted.kiosk()["backlog"] == 30 and restarted.kiosk()["next_seq"] == 30
    assert restarted.tap("01020304")["state"] == "refused"  # seq 30: numbers go on, not reused
    worker = start_hub(library, mosquitto)
    try:
        wait_until(lambda: restarted.kiosk()["backlog"] == 0, 30, "the outbox emptied")
        with reading(library) as session:
            seqs = sorted(session.exec(select(InboxEvent.seq)).all())
            loans = session.exec(select(Loan)).all()
        assert seqs == list(range(31))
        assert len(loans) == 5 and all(loan.returned_at for loan in loans)
    finally:
        worker.stop()
        assert restarted.stop() == 0
