import pytest

from broker.topics import RESERVED_KIOSK_IDS, RESERVED_SITE_IDS
from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.infra.db import transaction
from hub.inventory.registry import (
    ToolStatus,
    add_locker,
    add_tool,
    get_tool,
    register_kiosk,
    return_to_service,
    take_out_of_service,
)
from hub.inventory.tools import retire_tool
from hub.members.ranks import OPERATOR
from hub.queries.tools import tool_board
from tests.hub.builders import a_kiosk, a_tool


def test_tool_lives_in_its_home_locker(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        drill = a_tool(session, slot=2)
    with transaction(engine) as session:
        board = tool_board(session)
    assert [(r.tool.id, r.tool.code, r.kiosk_id, r.slot) for r in board] == [
        (drill.id, "DRILL-1", "shed-1", 2)
    ]


def test_a_locker_holds_one_tool(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        a_tool(session, "DRILL-1", slot=1)
    with pytest.raises(Conflict, match="Locker 1 at shed-1 already holds tool DRILL-1"):
        with transaction(engine) as session:
            a_tool(session, "DRILL-2", slot=1)


@pytest.mark.parametrize(
    "kiosk_id, slot, error, message",
    [
        ("shed-1", 9, NotFound, "shed-1 has no locker 9"),
        ("shed-9", 1, NotFound, "shed-9 is not registered"),
        ("shed-1", None, InvalidInput, "needs both a kiosk and a slot"),
    ],
)
def test_tool_needs_a_real_locker(engine, kiosk_id, slot, error, message):
    with transaction(engine) as session:
        a_kiosk(session)
    with pytest.raises(error, match=message):
        with transaction(engine) as session:
            a_tool(session, kiosk_id=kiosk_id, slot=slot)


def test_kiosk_ids_are_mqtt_safe(engine):
    with pytest.raises(InvalidInput) as refused:
        with transaction(engine) as session:
            register_kiosk(session, "Shed #1", site="north", name="x")
    assert refused.value.field == "kiosk_id"


def test_duplicate_kiosk_locker_and_tool_are_conflicts(engine):
    with transaction(engine) as session:
        a_kiosk(session, slots=1)
        a_tool(session)
    for action in (
        lambda s: register_kiosk(s, "shed-1", site="north", name="again"),
        lambda s: add_locker(s, "shed-1", 1),
        lambda s: add_tool(s, code="drill-1", name="x", category="y"),
    ):
        with pytest.raises(Conflict):
            with transaction(engine) as session:
                action(session)


def test_out_of_service_and_back(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        tool_id = a_tool(session).id
        take_out_of_service(session, tool_id, "battery swollen")
        assert get_tool(session, tool_id).status_reason == "battery swollen"
        return_to_service(session, tool_id)
        assert get_tool(session, tool_id).status == ToolStatus.AVAILABLE


def test_retired_tool_cannot_come_back(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        tool_id = a_tool(session).id
        retire_tool(session, OPERATOR, tool_id, "beyond repair")
        with pytest.raises(ToolUnavailable, match="retired"):
            take_out_of_service(session, tool_id, "x")
        assert return_to_service(session, tool_id).status == ToolStatus.RETIRED


@pytest.mark.parametrize("kiosk_id", sorted(RESERVED_KIOSK_IDS))
def test_every_reserved_kiosk_id_is_refused_naming_the_field(engine, kiosk_id):
    with pytest.raises(InvalidInput, match="is reserved") as refused:
        with transaction(engine) as session:
            register_kiosk(session, f" {kiosk_id} ", site="north", name="x")
    assert refused.value.field == "kiosk_id"


@pytest.mark.parametrize("site", sorted(RESERVED_SITE_IDS))
def test_every_reserved_site_id_is_refused_naming_the_field(engine, site):
    with pytest.raises(InvalidInput, match="is reserved") as refused:
        with transaction(engine) as session:
            register_kiosk(session, "shed-1", site=site, name="x")
    assert refused.value.field == "site"


def test_a_kiosk_name_the_wire_cannot_carry_is_refused(engine):
    with pytest.raises(InvalidInput, match="control characters") as refused:
        with transaction(engine) as session:
            register_kiosk(session, "shed-1", site="north", name="Shed\x00")
    assert refused.value.field == "name"
