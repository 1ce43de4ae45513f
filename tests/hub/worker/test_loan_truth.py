"""Records you can trust (issue 11), end to end: real Mosquitto, a real kiosk process, the real
ingest worker, the real dashboard and API.

- TENT-1: on loan to member 1005 and overdue; a kiosk's loan_out of it to another member (forced
  through a raw event) keeps 1005's loan open and shows a conflict on the dashboard and the API,
  in both members' allow-list entries; a steward resolves it through the API.
(The broker SIGKILL while a kiosk cycles loans is in test_loan_chaos.py: an empty library.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from broker import messages as wire
from broker.local import LocalBroker
from broker.topics import Channel, kiosk_topic
from dashboard import create_app, database
from hub.bulk.demo import SITE
from hub.infra.clock import as_utc
from hub.infra.db import reading
from hub.inventory.registry import Locker, tool_by_code
from hub.loans.records import Loan, open_loan
from hub.members.roster import card_by_uid, get_member
from tests.dashboard.conftest import csrf_token, sign_in_by_session
from tests.fixtures.mosquitto import collect
from tests.fixtures.waiting import wait_until
from tests.kiosk.harness import KioskProcess, start_hub

pytestmark = pytest.mark.slow

RAVI = "C0DE0006"


def start_broker(data_dir, kiosks: tuple[str, ...], site: str) -> LocalBroker:
    broker = LocalBroker(data_dir, kiosks=kiosks, site=site)
    try:
        broker.start()
    except BaseException:
        broker.close()
        raise
    return broker


# --- TENT-1 -------------------------------------------------------------------------------


@pytest.fixture
def database_content() -> str:
    return "demo"


@pytest.fixture
def shed(engine, database_url, tmp_path):
    """The demo library (TENT-1 overdue with 1005), its broker, the ingest worker, the app."""
    broker = start_broker(tmp_path / "broker", ("shed-1", "shed-2"), SITE)
    worker = start_hub(engine, broker)
    app = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "TESTING": True})
    try:
        yield broker, worker, app
    finally:
        database.dispose(app)
        worker.stop()
        broker.close()


def tent_home(engine) -> int:
    with reading(engine) as session:
        tent = tool_by_code(session, "TENT-1")
        return session.get(Locker, tent.locker_id).slot


def test_tent_1_taken_while_on_loan_is_a_conflict_not_a_rewrite(engine, shed, tmp_path):
    broker, worker, app = shed
    with reading(engine) as session:
        tent = tool_by_code(session, "TENT-1")
        earlier = open_loan(session, tent.id)
        holder = get_member(session, earlier.member_id)
        ravi = get_member(session, card_by_uid(session, RAVI).member_id)
        assert holder.number == "1005" and as_utc(earlier.due_at) < datetime.now(UTC)
    kiosk = KioskProcess(
        broker, tmp_path / "kiosk", tmp_path / "kiosk.log", kiosk_id="shed-2", site=SITE
    ).start()
    try:
        wait_until(lambda: kiosk.kiosk()["allowlist_version"], 20, "the allow-list at shed-2")
        kiosk.tap(RAVI)  # Ravi at the locker: what the kiosk offers is the kiosk's part (edges)
        seq = kiosk.kiosk()["next_seq"]
    finally:
        assert kiosk.stop() == 0
    # Forced: shed-2 says Ravi took TENT-1 from its locker, whatever the hub knows.
    forced = wire.LoanOutEvent(
        event_id=wire.new_message_id(),
        kiosk_id="shed-2",
        seq=seq,
        kiosk_time=datetime.now(UTC),
        body=wire.LoanOut(card_uid=RAVI, tool_code="TENT-1", locker_slot=tent_home(engine)),
    )
    raw = broker.connect("shed-2")
    acks = collect(raw, kiosk_topic(SITE, "shed-2", Channel.ACKS))
    raw.publish(kiosk_topic(SITE, "shed-2", Channel.EVENTS), wire.encode(forced), qos=1)
    ack = _ack(acks, forced.event_id)
    assert ack.status == "applied"
    assert ack.reason.startswith("conflict: TENT-1 is on loan to member 1005 since")

    with reading(engine) as session:
        kept = session.get(Loan, earlier.id)
        assert kept.returned_at is None and kept.return_condition is None  # never rewritten
        conflict = session.exec(select(Loan).where(Loan.event_id == forced.event_id)).one()
        assert (conflict.member_id, conflict.in_conflict, conflict.conflict_of) == (
            ravi.id,
            True,
            earlier.id,
        )
    # Every kiosk is told: the tent is listed under both members.
    allowlist = wait_until(
        lambda: (a := worker.allowlist) and "TENT-1" in a.entries[RAVI].loans and a,
        10,
        "the allow-list listing Ravi's conflicting loan",
    )
    holder_cards = [uid for uid, e in allowlist.entries.items() if e.number == "1005"]
    assert holder_cards and all("TENT-1" in allowlist.entries[uid].loans for uid in holder_cards)

    client = app.test_client()
    sign_in_by_session(client)  # steward 1001; the API takes the session, writes its CSRF token
    steward = {"X-CSRFToken": csrf_token(client, "/steward/loans")}
    overdue = client.get("/api/v1/loans?state=overdue", headers=steward).get_json()["loans"]
    tents = [(o["tool_code"], o["member_number"]) for o in overdue if o["tool_code"] == "TENT-1"]
    assert tents == [("TENT-1", "1005")]
    conflicts = client.get("/api/v1/loans?state=conflict", headers=steward).get_json()["loans"]
    assert [c["id"] for c in conflicts] == [conflict.id]
    assert conflicts[0]["conflict"].startswith(
        f"TENT-1 taken by {ravi.number} at shed-2 while on loan to 1005 since"
    )
    front = client.get("/steward/").get_data(as_text=True)
    assert "Loan conflicts" in front and f"TENT-1 taken by {ravi.number} at shed-2" in front
    assert "check the locker" in client.get("/steward/loans").get_data(as_text=True)

    # The steward checks the locker: Ravi has it; 1005's loan ends by recorded correction.
    resolved = client.post(
        f"/api/v1/loans/{conflict.id}/resolve",
        json={"keep": "new", "reason": "Tent found with Ravi; 1005 brought it back by hand"},
        headers=steward,
    )
    assert resolved.status_code == 200, resolved.get_data(as_text=True)
    assert resolved.get_json()["in_conflict"] is False
    with reading(engine) as session:
        ended = session.get(Loan, earlier.id)
        assert ended.returned_at is not None and ended.correction_reason.startswith("Tent found")
        assert open_loan(session, ended.tool_id).member_id == ravi.id
    again = client.get("/api/v1/loans?state=conflict", headers=steward).get_json()["loans"]
    assert again == []


def _ack(inbox, event_id: str, timeout: float = 15.0) -> wire.EventAck:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while datetime.now(UTC) < deadline:
        message = inbox.get(timeout=timeout)
        ack = wire.decode_ack(message.payload)
        if ack.event_id == event_id:
            return ack
    raise AssertionError(f"no ack for {event_id}")
