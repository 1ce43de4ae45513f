"""The shed every maintenance test starts from: a kiosk, a drill, a borrower, a fixer, a steward."""

from datetime import timedelta

import pytest

from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import get_tool
from hub.loans.lending import lend_tool, return_tool
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = utcnow().replace(microsecond=0) - timedelta(days=400)


@pytest.fixture
def shed(engine):
    """A kiosk, a drill, a borrower, a fixer and a steward; returns a namespace of ids."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        borrower, fixer = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        steward = a_member(session, "Sam Steward", roles="steward")
        return Shed(engine, tool.id, borrower.id, fixer.id, steward.id)


class Shed:
    def __init__(self, engine, tool_id, borrower_id, fixer_id, steward_id):
        self.engine, self.tool_id = engine, tool_id
        self.borrower_id, self.fixer_id, self.steward_id = borrower_id, fixer_id, steward_id

    def lend(self, at, hours_out=None):
        """Lend the drill at ``at``; return it ``hours_out`` later if given."""
        with transaction(self.engine) as session:
            lend_tool(session, tool_id=self.tool_id, member_id=self.borrower_id, now=at)
            if hours_out is not None:
                return_tool(session, tool_id=self.tool_id, now=at + timedelta(hours=hours_out))

    def status(self):
        with reading(self.engine) as session:
            return get_tool(session, self.tool_id).status
