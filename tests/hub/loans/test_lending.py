from datetime import timedelta

import pytest

from hub.errors import (
    MemberSuspended,
    NotFound,
    ToolUnavailable,
    TrainingRequired,
)
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.inventory.registry import ToolStatus, get_tool, take_out_of_service
from hub.loans.lending import lend_tool, open_loan, return_tool
from hub.members.ranks import OPERATOR
from hub.members.roster import add_training, grant_training
from hub.members.standing import suspend_member
from hub.queries.loans import loan_history
from tests.hub.builders import a_kiosk, a_lending_library, a_member, a_tool


@pytest.fixture
def library(engine):
    return a_lending_library(engine)


def test_lend_puts_tool_on_loan_with_due_date(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        loan = lend_tool(session, tool_id=tool_id, member_id=member_id, kiosk_id="shed-1")
    with transaction(engine) as session:
        assert get_tool(session, tool_id).status == ToolStatus.ON_LOAN
        assert open_loan(session, tool_id).id == loan.id
        assert loan.due_at - loan.out_at == timedelta(days=7)


def test_tool_is_never_on_two_loans(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id)
        other = a_member(session, "Grace Hopper")
    with pytest.raises(ToolUnavailable, match="DRILL-1 is on loan to member 1001"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool_id, member_id=other.id)
    with transaction(engine) as session:
        assert len(loan_history(session, tool_id)) == 1


def test_open_loan_index_refuses_second_open_loan_even_if_status_lies(library):
    """The database, not only the service, keeps a tool on one loan at a time."""
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id)
        get_tool(session, tool_id).status = ToolStatus.AVAILABLE  # simulate a racing writer
    with pytest.raises(ToolUnavailable, match="just lent"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool_id, member_id=member_id)


def test_suspended_member_cannot_borrow_and_nothing_is_written(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, member_id, "unreturned tools")
    with pytest.raises(MemberSuspended, match="suspended: unreturned tools"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool_id, member_id=member_id)
    with transaction(engine) as session:
        assert get_tool(session, tool_id).status == ToolStatus.AVAILABLE
        assert loan_history(session, tool_id) == []


def test_out_of_service_tool_cannot_be_lent(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        take_out_of_service(session, tool_id, "chuck wobbles")
    with pytest.raises(ToolUnavailable, match="out of service: chuck wobbles"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool_id, member_id=member_id)


def test_training_gates_the_tool_and_expires(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        add_training(session, code="router", name="Router induction", valid_days=30)
        member, tool = a_member(session), a_tool(session, training="router")
    with pytest.raises(TrainingRequired, match="has not done the router training"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool.id, member_id=member.id)
    long_ago = utcnow() - timedelta(days=31)
    with transaction(engine) as session:
        grant_training(session, member.id, "router", now=long_ago)
    with pytest.raises(TrainingRequired, match="router training expired"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=tool.id, member_id=member.id)
    with transaction(engine) as session:
        grant_training(session, member.id, "router")
        assert lend_tool(session, tool_id=tool.id, member_id=member.id).id is not None


def test_return_closes_loan_and_frees_tool(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id)
    with transaction(engine) as session:
        loan = return_tool(session, tool_id=tool_id, kiosk_id="shed-1")
    with transaction(engine) as session:
        assert loan.returned_at is not None and loan.return_condition == "ok"
        assert get_tool(session, tool_id).status == ToolStatus.AVAILABLE
        assert open_loan(session, tool_id) is None


def test_return_needing_repair_requires_a_note(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id)
    with pytest.raises(Exception, match="note is required"):
        with transaction(engine) as session:
            return_tool(session, tool_id=tool_id, condition="needs_repair")
    with transaction(engine) as session:
        assert open_loan(session, tool_id) is not None


def test_return_of_tool_not_on_loan_is_refused(library):
    engine, _, tool_id = library
    with pytest.raises(NotFound, match="DRILL-1 is not on loan"):
        with transaction(engine) as session:
            return_tool(session, tool_id=tool_id)
