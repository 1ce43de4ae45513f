from sqlmodel import select

from hub.bulk.demo import is_empty, seed
from hub.infra.db import transaction
from hub.inventory.registry import Tool, ToolStatus
from hub.loans.lending import Loan
from hub.members.roster import Member, member_for_card
from hub.queries.loans import overdue_loans


def test_demo_library_is_believable_and_consistent(engine):
    with transaction(engine) as session:
        assert is_empty(session)
        cards = seed(session)
    with transaction(engine) as session:
        assert len(session.exec(select(Member)).all()) >= 30
        tools = session.exec(select(Tool)).all()
        assert {t.status for t in tools} >= {
            ToolStatus.AVAILABLE,
            ToolStatus.ON_LOAN,
            ToolStatus.OUT_OF_SERVICE,
        }
        assert len(session.exec(select(Loan)).all()) > 20
        assert overdue_loans(session)
        for card in cards:
            assert member_for_card(session, card.uid).number == card.member_number
