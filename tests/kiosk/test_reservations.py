"""Holds and the borrowing policy end to end: the hub's services, a real Mosquitto, the hub's
ingest worker and a real kiosk process driven through its screen's API.

A hold's life: placed while the tool is out, the tool returned at the kiosk, kept for the first
in line (another member's card refused with the words), collected by that member's card; then
the lapse path, with the hub's time driven forward, to the next in line.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from hub.errors import RuleViolation
from hub.infra.clock import as_utc, utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import tool_by_code
from hub.loans import holds, policy
from hub.loans.holds import Hold, HoldStatus
from hub.loans.lending import Loan, lend_tool
from hub.members.ranks import OPERATOR
from hub.members.roster import card_by_uid, get_member, member_by_number
from kiosk.decision import local_time
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_member, a_tool
from tests.kiosk.harness import CARD, KioskProcess, start_hub, stock_library

pytestmark = pytest.mark.slow
BEA, CY, DEE = "CAFEBABE", "0BADF00D", "FEEDFACE"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def library(sqlite_engine, monkeypatch):
    """The harness's shed (DRILL-1 in locker 1, Ada), SAW-1 in locker 2, and Bea, Cy, Dee."""
    monkeypatch.setenv("COMMONSHED_TIMEZONE", "Europe/London")
    stock_library(sqlite_engine)
    with transaction(sqlite_engine) as session:
        a_tool(session, "SAW-1", kiosk_id="kiosk-a", slot=2)
        for name, uid in (("Bea Baker", BEA), ("Cy Cooper", CY), ("Dee Dyer", DEE)):
            a_member(session, name, uid=uid)
    return sqlite_engine


@pytest.fixture
def hub(library, mosquitto):
    worker = start_hub(library, mosquitto)
    yield worker
    worker.stop()


@pytest.fixture
def kiosk(mosquitto, tmp_path, hub):
    process = KioskProcess(mosquitto, tmp_path / "kiosk", tmp_path / "kiosk.log").start()
    yield process
    if process.process is not None and process.process.poll() is None:
        process.kill()


def number_of(engine, uid: str) -> str:
    with reading(engine) as session:
        return get_member(session, card_by_uid(session, uid).member_id).number


def place(engine, uid: str, tool: str = "DRILL-1") -> int:
    """Place the card holder's hold on ``tool`` as they would (acting for themselves)."""
    with transaction(engine) as session:
        member = member_by_number(session, number_of(engine, uid))
        return holds.place_hold(session, member, member_id=member.id, tool_code=tool).id


def hold(engine, hold_id: int) -> Hold:
    with reading(engine) as session:
        return session.get(Hold, hold_id)


def kiosk_holds(hub, kiosk: KioskProcess, check) -> None:
    """Wait until the hub has published an allow-list that passes ``check`` and the kiosk
    holds it (or a newer one)."""

    def arrived() -> bool:
        published = hub.snapshots.allowlist
        return bool(
            published is not None
            and check(published)
            and (kiosk.kiosk()["allowlist_version"] or 0) >= published.version
        )

    wait_until(arrived, 30, "the allow-list reaching the kiosk")


def loans_of(engine, tool: str) -> list[Loan]:
    with reading(engine) as session:
        tool_id = tool_by_code(session, tool).id
        return list(session.exec(select(Loan).where(Loan.tool_id == tool_id).order_by(Loan.id)))


def borrow(kiosk: KioskProcess, uid: str, slot: int = 1) -> dict:
    kiosk.tap(uid)
    return kiosk.act("borrow", slot=slot)


def borrow_and_close(kiosk: KioskProcess, uid: str, slot: int = 1) -> None:
    assert borrow(kiosk, uid, slot)["title"] == f"Locker {slot} is open"
    assert kiosk.use_locker(slot)["state"] == "done"


def give_back(kiosk: KioskProcess, uid: str, slot: int = 1) -> None:
    kiosk.tap(uid)
    assert kiosk.act("return", slot=slot, condition="ok")["state"] == "open"
    assert kiosk.use_locker(slot)["state"] == "done"


def until_on_screen(engine, hold_id: int) -> str:
    """The hold's time as the screen words it, in the site's zone ("Tue 1 Dec 15:32": 24 h)."""
    return local_time(as_utc(hold(engine, hold_id).expires_at), utcnow(), LONDON)


def reserved_for(number: str):
    return lambda allowlist: (
        (allowlist.reservations or {}).get("DRILL-1") is not None
        and allowlist.reservations["DRILL-1"].member_number == number
    )


def test_a_hold_is_kept_at_the_locker_collected_and_lapses_to_the_next(library, hub, kiosk):
    wait_until(lambda: kiosk.kiosk()["allowlist_version"], 20, "the first allow-list")
    borrow_and_close(kiosk, CARD)
    wait_until(lambda: len(loans_of(library, "DRILL-1")) == 1, 20, "Ada's loan at the hub")
    bea_hold, cy_hold = place(library, BEA), place(library, CY)
    assert hold(library, bea_hold).status == HoldStatus.WAITING  # the drill is out

    give_back(kiosk, CARD)
    wait_until(lambda: hold(library, bea_hold).status == HoldStatus.READY, 20, "Bea's hold ready")
    kiosk_holds(hub, kiosk, reserved_for(number_of(library, BEA)))

    refused = borrow(kiosk, CY)  # another member's card
    assert refused["state"] == "refused"
    assert (
        refused["message"] == f"Reserved for a member until {until_on_screen(library, bea_hold)}."
    )
    greeted = kiosk.tap(BEA)
    assert "DRILL-1 in locker 1 is kept for you until" in greeted["message"]
    assert kiosk.act("borrow", slot=1)["title"] == "Locker 1 is open"
    assert kiosk.use_locker(1)["state"] == "done"
    wait_until(lambda: hold(library, bea_hold).status == HoldStatus.COLLECTED, 20, "Bea collecting")
    assert loans_of(library, "DRILL-1")[-1].member_id == hold(library, bea_hold).member_id

    # The lapse path: Bea brings it back, Cy is next but never comes; Dee queues behind him.
    dee_hold = place(library, DEE)
    give_back(kiosk, BEA)
    wait_until(lambda: hold(library, cy_hold).status == HoldStatus.READY, 20, "Cy's turn")
    later = as_utc(hold(library, cy_hold).expires_at) + timedelta(seconds=1)
    with transaction(library) as session:  # the housekeeping job, a day on
        assert holds.advance_holds(session, later) == 2
    assert hold(library, cy_hold).status == HoldStatus.LAPSED
    assert hold(library, dee_hold).status == HoldStatus.READY
    kiosk_holds(hub, kiosk, reserved_for(number_of(library, DEE)))
    refused = borrow(kiosk, CY)
    assert refused["message"].startswith("Reserved for a member until ")
    borrow_and_close(kiosk, DEE)
    wait_until(lambda: hold(library, dee_hold).status == HoldStatus.COLLECTED, 20, "Dee collecting")


def test_a_member_over_the_loan_limit_is_refused_at_the_kiosk_and_at_the_hub(library, hub, kiosk):
    with transaction(library) as session:
        policy.set_policy(session, OPERATOR, max_loans=1)
    kiosk_holds(hub, kiosk, lambda allowlist: allowlist.limits is not None)
    borrow_and_close(kiosk, CARD, slot=1)
    kiosk_holds(
        hub,
        kiosk,
        lambda allowlist: any(entry.loans for entry in allowlist.entries.values()),
    )
    refused = borrow(kiosk, CARD, slot=2)
    assert refused["state"] == "refused"
    assert refused["message"].startswith("You have 1 tool out; the limit is 1 at once.")
    with transaction(library) as session:
        ada = member_by_number(session, number_of(library, CARD))
        saw = tool_by_code(session, "SAW-1")
        with pytest.raises(RuleViolation, match="the limit is 1 at once") as refusal:
            lend_tool(session, tool_id=saw.id, member_id=ada.id)
        assert refusal.value.field == "member_id"
    assert loans_of(library, "SAW-1") == []
