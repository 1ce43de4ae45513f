"""A second site on top of the demo library (whose kiosks are all at north), for the reports."""

from __future__ import annotations

import pytest

from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.loans.lending import lend_tool
from tests.hub.builders import a_kiosk, a_member, a_tool


@pytest.fixture
def south(engine) -> str:
    """Add site south: kiosk s-1 with SOUTH-1, lent there just now; return the site."""
    with transaction(engine) as session:
        a_kiosk(session, "s-1", site="south", slots=2)
        tool = a_tool(session, "SOUTH-1", kiosk_id="s-1", slot=1)
        member = a_member(session, "Sol South")
        lend_tool(session, tool_id=tool.id, member_id=member.id, kiosk_id="s-1", now=utcnow())
    return "south"
