"""A tool's history: who did what, in order."""

from datetime import timedelta

from hub.infra.db import reading, transaction
from hub.maintenance.history import HistoryKind, tool_history
from hub.maintenance.returns import return_with_condition
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.timebank import stewarding
from hub.timebank.claims import log_repair
from tests.hub.maintenance.conftest import T0


def test_tool_history_tells_who_did_what_in_order(shed):
    engine = shed.engine
    shed.lend(T0)
    with transaction(engine) as session:
        outcome = return_with_condition(
            session,
            OPERATOR,
            tool_id=shed.tool_id,
            condition="needs_repair",
            note="battery dead",
            now=T0 + timedelta(hours=3),
        )
        claim = log_repair(
            session,
            member_id=shed.fixer_id,
            tool_id=shed.tool_id,
            hours="0.5",
            note="new cells",
            ticket_id=outcome.ticket.id,
            source="kiosk",
            now=T0 + timedelta(hours=5),
        )
        stewarding.approve_claim(
            session,
            get_member(session, shed.steward_id),
            claim.id,
            return_to_service=True,
            now=T0 + timedelta(hours=6),
        )
    with reading(engine) as session:
        history = tool_history(session, shed.tool_id)
    assert [entry.kind for entry in history] == [
        HistoryKind.LENT,
        HistoryKind.RETURNED,
        HistoryKind.TICKET_OPENED,
        HistoryKind.REPAIRED,
        HistoryKind.TICKET_CLOSED,
    ]
    assert [entry.member_name for entry in history] == [
        "Ada Lovelace",
        "Ada Lovelace",
        "Ada Lovelace",
        "Bob Builder",
        "Bob Builder",
    ]
    assert "battery dead" in history[1].summary and "0.50 h: new cells" in history[3].summary
    assert history == sorted(history, key=lambda entry: entry.at)
