import pytest
from sqlmodel import select

from hub.bulk.demo import LOCKERS_PER_KIOSK, add_sites, is_empty, seed
from hub.errors import RuleViolation
from hub.infra.db import transaction
from hub.inventory.registry import Kiosk, Locker, Tool, ToolStatus, lockers_of
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


def test_further_sites_get_a_kiosk_with_lockers_and_tools_once(engine):
    with transaction(engine) as session:
        seed(session)
        assert add_sites(session, 1) == []  # one site: the library as it was
        assert add_sites(session, 3) == ["south-1", "east-1"]
        assert add_sites(session, 3) == []  # a second run adds nothing
    with transaction(engine) as session:
        south = session.get(Kiosk, "south-1")
        assert south is not None and south.site == "south"
        assert len(lockers_of(session, "south-1")) == LOCKERS_PER_KIOSK
        at_south = select(Tool.code).join(Locker).where(Locker.kiosk_id == "south-1")
        assert set(session.exec(at_south)) == {"DRILL-SOUTH", "HEDGE-SOUTH", "BARROW-SOUTH"}
        assert session.get(Kiosk, "west-1") is None


@pytest.mark.parametrize("count", [0, 5])
def test_the_demo_has_one_to_four_sites(engine, count):
    with transaction(engine) as session, pytest.raises(RuleViolation) as refused:
        add_sites(session, count)
    assert refused.value.field == "sites"
