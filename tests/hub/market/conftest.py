"""A small network for the market's tests: three members, a steward, a category, a tool."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.infra.db import transaction
from hub.market import posts
from hub.members.ranks import OPERATOR
from tests.hub.builders import a_member, a_tool


@dataclass(frozen=True)
class Network:
    engine: object
    ada: int
    bea: int
    cy: int
    sam: int
    drill: int


@pytest.fixture
def network(engine) -> Network:
    return build_network(engine)


def build_network(engine) -> Network:
    """Enrol Ada (1001), Bea (1002), Cy (1003) and Sam (1004, steward); two categories."""
    with transaction(engine) as session:
        ada, bea, cy = (
            a_member(session, "Ada Lovelace"),
            a_member(session, "Bea"),
            a_member(session, "Cy"),
        )
        sam = a_member(session, "Sam", roles="steward")
        drill = a_tool(session, "DRILL-1", kiosk_id=None, slot=None)
        posts.add_category(session, OPERATOR, "repairs", "Repairs")
        posts.add_category(session, OPERATOR, "lessons", "Lessons")
    return Network(engine, ada.id, bea.id, cy.id, sam.id, drill.id)
