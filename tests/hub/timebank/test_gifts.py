"""Giving hours: zero-sum, within the giver's limit, idempotent by key; refusals write nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from hub.errors import Conflict, DomainError, InvalidInput, MemberSuspended, NotFound, RuleViolation
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.members.standing import suspend_member
from hub.timebank.gifts import available_to_give, give_hours
from hub.timebank.ledger import Entry, Transfer, credit_from_pool, member_balance
from hub.timebank.statements import sum_of_balances
from tests.hub.builders import a_member

H = Decimal


@pytest.fixture
def neighbours(engine):
    """Ada (5 hours, the default limit of -10) and Bob, members; return (engine, ada, bob)."""
    with transaction(engine) as session:
        ada, bob = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        credit_from_pool(session, key="opening", member_id=ada.id, hours="5", description="Start")
        return engine, ada.id, bob.id


def give(engine, giver_id, to_number, hours, *, note="Sharpened my saw", key="gift-key-0001"):
    with transaction(engine) as session:
        giver = get_member(session, giver_id)
        return give_hours(session, giver, to_number=to_number, hours=hours, note=note, key=key)


def number_of(engine, member_id):
    with reading(engine) as session:
        return get_member(session, member_id).number


def ledger_rows(engine):
    with reading(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Transfer)).one(),
            session.exec(select(func.count()).select_from(Entry)).one(),
        )


def balances(engine, *member_ids):
    with reading(engine) as session:
        return [member_balance(session, member_id) for member_id in member_ids]


def test_a_gift_moves_hours_from_giver_to_receiver(neighbours):
    engine, ada, bob = neighbours
    give(engine, ada, number_of(engine, bob), "1.50")
    assert balances(engine, ada, bob) == [H("3.50"), H("1.50")]


def test_the_same_gift_submitted_twice_moves_the_hours_once(neighbours):
    engine, ada, bob = neighbours
    first = give(engine, ada, number_of(engine, bob), "2")
    second = give(engine, ada, number_of(engine, bob), "2.00")
    assert first.id == second.id
    assert balances(engine, ada, bob) == [H("3.00"), H("2.00")]


def test_a_gift_up_to_the_limit_is_allowed_and_its_repeat_still_answers(neighbours):
    engine, ada, bob = neighbours
    give(engine, ada, number_of(engine, bob), "15")  # 5 held, may go down to -10
    again = give(engine, ada, number_of(engine, bob), "15")  # the double submit, not refused
    assert again.kind == "exchange"
    assert balances(engine, ada, bob) == [H("-10.00"), H("15.00")]


def test_a_key_reused_for_another_gift_is_a_conflict(neighbours):
    engine, ada, bob = neighbours
    give(engine, ada, number_of(engine, bob), "1")
    with pytest.raises(Conflict):
        give(engine, ada, number_of(engine, bob), "2")


@pytest.mark.parametrize(
    ("to", "hours", "note", "key", "refusal", "field"),
    [
        ("bob", "15.01", "x", "gift-key-0001", RuleViolation, "hours"),
        ("ada", "1", "x", "gift-key-0001", InvalidInput, "to"),
        ("bob", "0", "x", "gift-key-0001", InvalidInput, "hours"),
        ("bob", "-1", "x", "gift-key-0001", InvalidInput, "hours"),
        ("bob", "1.005", "x", "gift-key-0001", InvalidInput, "hours"),
        ("bob", "lots", "x", "gift-key-0001", InvalidInput, "hours"),
        ("99999", "1", "x", "gift-key-0001", NotFound, "to"),
        ("", "1", "x", "gift-key-0001", InvalidInput, "to"),
        ("bob", "1", "  ", "gift-key-0001", InvalidInput, "note"),
        ("bob", "1", "x", "short", InvalidInput, "key"),
        ("bob", "1", "x", "", InvalidInput, "key"),
    ],
)
def test_each_bad_gift_is_refused_naming_its_field_and_writes_nothing(
    neighbours, to, hours, note, key, refusal, field
):
    engine, ada, bob = neighbours
    number = {"bob": number_of(engine, bob), "ada": number_of(engine, ada)}.get(to, to)
    before = ledger_rows(engine)
    with pytest.raises(refusal) as refused:
        give(engine, ada, number, hours, note=note, key=key)
    assert refused.value.field == field
    assert ledger_rows(engine) == before
    assert balances(engine, ada, bob) == [H("5.00"), H("0.00")]


def test_a_suspended_member_neither_gives_nor_receives(neighbours):
    engine, ada, bob = neighbours
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, bob, "Kept a drill for a year")
    before = ledger_rows(engine)
    with pytest.raises(MemberSuspended) as to_suspended:
        give(engine, ada, number_of(engine, bob), "1")
    assert to_suspended.value.field == "to"
    with pytest.raises(MemberSuspended) as from_suspended:
        give(engine, bob, number_of(engine, ada), "1")
    assert from_suspended.value.field == "member"
    assert ledger_rows(engine) == before


def test_what_one_could_give_is_the_balance_down_to_the_limit(neighbours):
    engine, ada, bob = neighbours
    with reading(engine) as session:
        assert available_to_give(session, get_member(session, ada)) == H("15.00")
        assert available_to_give(session, get_member(session, bob)) == H("10.00")  # no account


GIFTS = st.lists(
    st.tuples(
        st.sampled_from(["ada", "bob", "cy"]),
        st.sampled_from(["ada", "bob", "cy", "0000"]),
        st.decimals(min_value=-2, max_value=30, places=3, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=5),  # a small key space: repeats and conflicts
    ),
    max_size=12,
)


@pytest.fixture
def three(neighbours):
    engine, ada, bob = neighbours
    with transaction(engine) as session:
        cy = a_member(session, "Cy Young")
    return engine, {"ada": ada, "bob": bob, "cy": cy.id}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(gifts=GIFTS, run=st.uuids())
def test_any_gifts_keep_the_ledger_zero_sum_and_within_limits(three, gifts, run):
    engine, ids = three
    for giver, to, hours, key in gifts:
        number = number_of(engine, ids[to]) if to in ids else to
        try:
            give(engine, ids[giver], number, str(hours), key=f"{run.hex}-{giver}-{key}")
        except DomainError:
            pass  # a refusal; its transaction rolled back
    with reading(engine) as session:
        assert sum_of_balances(session) == 0
        for member_id in ids.values():
            assert member_balance(session, member_id) >= H("-10.00")
