"""Tools as people read them: the board, a tool's home, what is out of service and why."""

from __future__ import annotations

from hub.infra.db import reading, transaction
from hub.inventory.registry import get_tool
from hub.maintenance.tickets import open_ticket
from hub.queries.tools import home_of, out_of_service, tool_board
from tests.hub.builders import a_kiosk, a_member, a_tool


def test_the_board_by_kiosk_and_slot(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        a_kiosk(session, "shed-2")
        a_tool(session, "SAW-1", kiosk_id="shed-2", slot=1)
        a_tool(session, "DRILL-1", kiosk_id="shed-1", slot=3)
        a_tool(session, "LEVEL-1", kiosk_id=None, slot=None)
    with reading(engine) as session:
        board = tool_board(session)
        homes = [home_of(session, row.tool) for row in board]
    where = [(r.tool.code, r.kiosk_id, r.slot) for r in board]
    # NOTE: where the shelf (no locker) sorts differs: first on SQLite, last on PostgreSQL.
    in_lockers = [w for w in where if w[1] is not None]
    assert in_lockers == [("DRILL-1", "shed-1", 3), ("SAW-1", "shed-2", 1)]
    assert ("LEVEL-1", None, None) in where
    assert homes == [(r.kiosk_id, r.slot) for r in board]


def test_out_of_service_with_home_and_live_tickets(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        drill = a_tool(session, "DRILL-1", slot=2)
        a_tool(session, "SAW-1", slot=3)
        steward = a_member(session, "Sam Steward", roles="steward")
        for note in ("Chuck slips", "Battery swollen"):
            open_ticket(
                session,
                tool_id=drill.id,
                note=note,
                source="steward",
                opened_by=steward.id,
                blocking=True,
            )
    with reading(engine) as session:
        (broken,) = out_of_service(session)
        assert get_tool(session, drill.id).status == "out_of_service"
    assert (broken.tool.code, broken.kiosk_id, broken.slot) == ("DRILL-1", "shed-1", 2)
    assert [t.note for t in broken.tickets] == ["Chuck slips", "Battery swollen"]
