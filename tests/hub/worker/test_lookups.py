"""A batch's cards, members, tools and lockers are read at once, and its events then ask for
none."""

from __future__ import annotations

from sqlalchemy import event as sa_event

from broker import messages as wire
from hub.infra.db import transaction
from hub.inventory.registry import find_locker, tool_by_code
from hub.members.roster import card_by_uid, get_member
from hub.worker.lookups import read_ahead
from tests.hub.builders import a_kiosk, a_member, a_tool
from tests.hub.worker.world import event


def test_what_a_batch_names_is_read_in_four_queries_and_found_after(engine):
    uids = ["0A0B0C01", "0A0B0C02", "0A0B0C03"]
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=3)
        for n, uid in enumerate(uids):
            a_member(session, f"Member {n}", uid=uid)
            a_tool(session, f"TOOL-{n}", kiosk_id="kiosk-a", slot=n + 1)
    batch = [
        event(
            wire.LoanOutEvent,
            wire.LoanOut(card_uid=uid, tool_code=f"TOOL-{n}", locker_slot=n + 1),
            seq=n,
        )
        for n, uid in enumerate(uids)
    ]
    batch.append(event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), seq=9))
    statements: list[str] = []
    sa_event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction(engine) as session:
        read_ahead(session, batch)
        read_ahead_queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(read_ahead_queries) == 4
        asked = len(statements)
        for n, uid in enumerate(uids):
            assert get_member(session, card_by_uid(session, uid).member_id).name == f"Member {n}"
            assert tool_by_code(session, f"TOOL-{n}").code == f"TOOL-{n}"
            assert find_locker(session, "kiosk-a", n + 1) is not None
        assert len(statements) == asked
