"""Hours for a service done through a post: only its parties, once, within limits, zero-sum."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.infra.db import reading, transaction
from hub.market import exchanges, posts
from hub.members.roster import get_member
from hub.timebank import ledger
from tests.hub.market.conftest import build_network

NETWORKS: dict[int, object] = {}


def a_post(session, network, kind="offer", author="ada"):
    member = get_member(session, getattr(network, author))
    return posts.add_post(
        session, member, kind=kind, category="repairs", title="Sharpening", text="Blades"
    )


def answered(session, network, post, who="bea"):
    posts.answer_post(session, get_member(session, getattr(network, who)), post.id, "yes please")


def balances(session, network):
    return {
        who: ledger.member_balance(session, getattr(network, who)) for who in ("ada", "bea", "cy")
    }


def test_an_offer_from_post_to_confirmed_transfer(network):
    with transaction(network.engine) as session:
        post = a_post(session, network)
        answered(session, network, post)
        claim = exchanges.claim_hours(
            session, get_member(session, network.ada), post.id, receiver_number="1002", hours="1.50"
        )
        assert claim.status == "claimed" and claim.transfer_id is None
    with transaction(network.engine) as session:
        done = exchanges.confirm_hours(session, get_member(session, network.bea), claim.id)
        transfer = ledger.get_transfer(session, done.transfer_id)
        assert (transfer.kind, transfer.category) == ("exchange", "repairs")
        assert balances(session, network) == {
            "ada": Decimal("1.50"),
            "bea": Decimal("-1.50"),
            "cy": Decimal("0"),
        }
    with pytest.raises(Conflict, match="already confirmed"), transaction(network.engine) as session:
        exchanges.confirm_hours(session, get_member(session, network.bea), claim.id)


def test_a_request_answered_and_confirmed_by_its_receiver_at_once(network):
    with transaction(network.engine) as session:
        post = a_post(session, network, kind="request", author="bea")  # Bea needs help
        answered(session, network, post, who="cy")  # Cy helps
        exchanges.give_hours(
            session, get_member(session, network.bea), post.id, giver_number="1003", hours="2"
        )
        assert balances(session, network) == {
            "ada": Decimal("0"),
            "bea": Decimal("-2.00"),
            "cy": Decimal("2.00"),
        }


def test_hours_move_only_between_the_parties_of_the_post(network):
    with transaction(network.engine) as session:
        post = a_post(session, network)
        answered(session, network, post)
        cy = get_member(session, network.cy)
        with pytest.raises(RuleViolation, match="not party"):
            exchanges.give_hours(session, cy, post.id, giver_number="1001", hours="1")
        claim = exchanges.claim_hours(
            session, get_member(session, network.ada), post.id, receiver_number="1002", hours="1"
        )
        with pytest.raises(RuleViolation, match="not yours to confirm"):
            exchanges.confirm_hours(session, cy, claim.id)
        with pytest.raises(RuleViolation, match="not party"):  # Cy never answered
            exchanges.claim_hours(
                session,
                get_member(session, network.ada),
                post.id,
                receiver_number="1003",
                hours="1",
            )


@pytest.mark.parametrize("hours", ["0", "-1", "1.234", "lots"])
def test_bad_hours_are_refused_naming_the_field(network, hours):
    with pytest.raises(InvalidInput) as refused, transaction(network.engine) as session:
        post = a_post(session, network)
        answered(session, network, post)
        exchanges.give_hours(
            session, get_member(session, network.bea), post.id, giver_number="1001", hours=hours
        )
    assert refused.value.field == "hours"


def test_beyond_the_receivers_credit_limit_nothing_is_written(network):
    with transaction(network.engine) as session:
        post = a_post(session, network)
        answered(session, network, post)
    with pytest.raises(RuleViolation), transaction(network.engine) as session:
        exchanges.give_hours(
            session, get_member(session, network.bea), post.id, giver_number="1001", hours="11"
        )
    with reading(network.engine) as session:
        assert session.exec(select(func.count()).select_from(exchanges.Exchange)).one() == 0
        assert balances(session, network)["bea"] == 0


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["offer", "request"]),
            st.sampled_from(["ada", "bea", "cy"]),
            st.sampled_from(["ada", "bea", "cy"]),
            st.decimals(min_value="0.01", max_value="6", places=2),
            st.booleans(),
        ),
        max_size=8,
    )
)
def test_any_mix_of_exchanges_keeps_the_ledger_zero_sum(sqlite_engine, steps):
    # One network for every example: the balances carry over, which only widens the search.
    network = NETWORKS.get(id(sqlite_engine)) or NETWORKS.setdefault(
        id(sqlite_engine), build_network(sqlite_engine)
    )
    for kind, author, other, hours, at_once in steps:
        try:
            with transaction(sqlite_engine) as session:
                post = a_post(session, network, kind=kind, author=author)
                answered(session, network, post, who=other)
                giver, receiver = exchanges.parties(post, getattr(network, other))
                if at_once:
                    number = get_member(session, giver).number
                    exchanges.give_hours(
                        session,
                        get_member(session, receiver),
                        post.id,
                        giver_number=number,
                        hours=hours,
                    )
                else:
                    number = get_member(session, receiver).number
                    claim = exchanges.claim_hours(
                        session,
                        get_member(session, giver),
                        post.id,
                        receiver_number=number,
                        hours=hours,
                    )
                    exchanges.confirm_hours(session, get_member(session, receiver), claim.id)
        except (RuleViolation, InvalidInput):
            pass  # refused (own post, over a limit): nothing written, checked below
        with reading(sqlite_engine) as session:
            total = session.exec(select(func.sum(ledger.Entry.amount))).one() or 0
            assert Decimal(total) == 0
            for who in ("ada", "bea", "cy"):
                assert ledger.member_balance(session, getattr(network, who)) >= Decimal("-10.00")
