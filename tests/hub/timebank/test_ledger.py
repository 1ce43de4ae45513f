import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from hub.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    MemberSuspended,
    NotFound,
    RuleViolation,
)
from hub.infra.db import make_engine, reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.members.standing import suspend_member
from hub.timebank import stewarding
from hub.timebank.claims import log_repair
from hub.timebank.ledger import (
    Account,
    Entry,
    Transfer,
    TransferKind,
    apply_credit_limit,
    balance,
    charge_to_pool,
    community_account,
    credit_from_pool,
    exchange_hours,
    member_account,
    member_balance,
    parse_hours,
    post_reversal,
    transfer_legs,
)
from hub.timebank.statements import balance_sheet, sum_of_balances
from tests.hub.builders import a_kiosk, a_member, a_tool

H = Decimal


@pytest.fixture
def people(engine):
    """A steward and two members; returns (engine, steward_id, ada_id, bob_id)."""
    with transaction(engine) as session:
        steward = a_member(session, "Sam Steward", roles="steward")
        ada, bob = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        return engine, steward.id, ada.id, bob.id


def pay(session, payer_id, payee_id, hours, key="k1", **extra):
    """Exchange hours between two members with a plain description."""
    return exchange_hours(
        session,
        key=key,
        payer_id=payer_id,
        payee_id=payee_id,
        hours=hours,
        description=extra.pop("description", "Fixed a bike"),
        category=extra.pop("category", "repairs"),
        **extra,
    )


def reverse(session, steward_id, transfer_id, reason):
    """Reverse a transfer through the stewards' door, as member ``steward_id``."""
    return stewarding.reverse_transfer(
        session, get_member(session, steward_id), transfer_id, reason
    )


def transfer_count(engine) -> int:
    with reading(engine) as session:
        return len(session.exec(select(Transfer.id)).all())


def test_exchange_moves_hours_as_two_entries_summing_to_zero(people):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        transfer = pay(session, ada, bob, "1.5")
    with reading(engine) as session:
        entries = session.exec(select(Entry).where(Entry.transfer_id == transfer.id)).all()
        assert sorted(e.amount for e in entries) == [H("-1.50"), H("1.50")]
        assert member_balance(session, ada) == H("-1.50")
        assert member_balance(session, bob) == H("1.50")
        assert sum_of_balances(session) == 0
        assert transfer.kind == TransferKind.EXCHANGE and transfer.category == "repairs"


def test_amounts_stay_exact_over_many_small_entries(people):
    """Ten entries of 0.10 sum to exactly 1.00 (a float column would give 0.9999999999999999)."""
    engine, _, ada, bob = people
    with transaction(engine) as session:
        for n in range(10):
            pay(session, ada, bob, "0.10", key=f"dime-{n}")
    with reading(engine) as session:
        assert member_balance(session, bob) == H("1.00")
        assert str(member_balance(session, bob)) == "1.00"


def test_repeated_key_with_same_content_returns_the_first_transfer(people):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        first = pay(session, ada, bob, "2")
    with transaction(engine) as session:
        again = pay(session, ada, bob, "2.00")
    assert again.id == first.id
    assert transfer_count(engine) == 1
    with reading(engine) as session:
        assert member_balance(session, bob) == H("2.00")


@pytest.mark.parametrize("change", [{"hours": "3"}, {"description": "Something else"}])
def test_repeated_key_with_different_content_is_a_conflict(people, change):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        pay(session, ada, bob, "2")
    with pytest.raises(Conflict, match="key 'k1' was already used") as refused:
        with transaction(engine) as session:
            pay(session, ada, bob, **{"hours": "2", **change})
    assert refused.value.field == "key"
    assert transfer_count(engine) == 1


def test_payment_below_the_credit_limit_is_refused_and_nothing_is_written(people):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        pay(session, ada, bob, "10", key="to-the-limit")
    with pytest.raises(RuleViolation, match="Credit limit: .* below its limit of -10.00") as no:
        with transaction(engine) as session:
            pay(session, ada, bob, "0.01", key="one-cent-too-far")
    assert no.value.field == "hours"
    with reading(engine) as session:
        assert member_balance(session, ada) == H("-10.00")
    assert transfer_count(engine) == 1


def test_member_cannot_pay_themself(people):
    engine, _, ada, _ = people
    with pytest.raises(InvalidInput, match="cannot pay themself") as refused:
        with transaction(engine) as session:
            pay(session, ada, ada, "1")
    assert refused.value.field == "payee_id"
    assert transfer_count(engine) == 0


@pytest.mark.parametrize(
    "hours, why",
    [
        ("0", "more than 0"),
        ("-1", "more than 0"),
        ("1.005", "two decimal places"),
        ("lots", "not a number"),
        (1.5, "not 1.5"),
        ("NaN", "more than 0"),
        ("Infinity", "more than 0"),
        ("1000.01", "1000 hours allowed"),
    ],
)
def test_bad_hours_are_refused_naming_the_rule(people, hours, why):
    engine, _, ada, bob = people
    with pytest.raises(InvalidInput, match=why) as refused:
        with transaction(engine) as session:
            pay(session, ada, bob, hours)
    assert refused.value.field == "hours"
    assert transfer_count(engine) == 0


def test_exchange_needs_a_category_and_a_description(people):
    engine, _, ada, bob = people
    with pytest.raises(InvalidInput, match="needs a category"):
        with transaction(engine) as session:
            pay(session, ada, bob, "1", category=" ")
    with pytest.raises(InvalidInput, match="description is required"):
        with transaction(engine) as session:
            pay(session, ada, bob, "1", description="")


def test_suspended_members_may_neither_pay_nor_be_credited(people):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, bob, "unreturned tools")
    for payer, payee in ((ada, bob), (bob, ada)):
        with pytest.raises(MemberSuspended, match="unreturned tools"):
            with transaction(engine) as session:
                pay(session, payer, payee, "1")
    with pytest.raises(MemberSuspended):
        with transaction(engine) as session:
            credit_from_pool(
                session,
                key="open",
                member_id=bob,
                hours="5",
                description="Opening balance",
                kind=TransferKind.OPENING,
            )
    assert transfer_count(engine) == 0


def test_unknown_member_is_not_found(people):
    engine, _, ada, _ = people
    with pytest.raises(NotFound, match="Member 999 does not exist"):
        with transaction(engine) as session:
            pay(session, ada, 999, "1")


def test_someone_else_entering_an_exchange_must_be_a_steward(people):
    engine, steward, ada, bob = people
    with pytest.raises(RuleViolation, match="Only stewards may enter an exchange"):
        with transaction(engine) as session:
            pay(session, ada, steward, "1", created_by=bob)
    with transaction(engine) as session:
        assert pay(session, ada, bob, "1", created_by=steward).created_by == steward


def test_pool_credits_and_charges_move_hours_against_the_community_account(people):
    engine, _, ada, _ = people
    with transaction(engine) as session:
        credit_from_pool(
            session,
            key="open-ada",
            member_id=ada,
            hours="5",
            description="Opening balance",
            kind=TransferKind.OPENING,
        )
        charge_to_pool(
            session, key="fee-1", member_id=ada, hours="1.25", description="Laser cutter booking"
        )
    with reading(engine) as session:
        assert member_balance(session, ada) == H("3.75")
        assert balance(session, community_account(session).id) == H("-3.75")


def test_reversal_mirrors_the_original_and_links_to_it(people):
    engine, steward, ada, bob = people
    with transaction(engine) as session:
        original = pay(session, ada, bob, "2")
    with transaction(engine) as session:
        correction = stewarding.reverse_transfer(
            session, get_member(session, steward), original.id, "paid the wrong member"
        )
    with reading(engine) as session:
        assert correction.reverses_transfer_id == original.id
        assert correction.kind == TransferKind.CORRECTION
        legs, mirrored = transfer_legs(session, original.id), transfer_legs(session, correction.id)
        assert (mirrored.payer_account_id, mirrored.payee_account_id) == (
            legs.payee_account_id,
            legs.payer_account_id,
        )
        assert member_balance(session, ada) == member_balance(session, bob) == 0
        assert "paid the wrong member" in correction.description


def test_a_transfer_is_reversed_once_and_a_correction_not_at_all(people):
    engine, steward, ada, bob = people
    with transaction(engine) as session:
        original = pay(session, ada, bob, "2")
        correction = reverse(session, steward, original.id, "typo")
    with pytest.raises(Conflict, match=f"already reversed by transfer {correction.id}"):
        with transaction(engine) as session:
            reverse(session, steward, original.id, "again")
    with pytest.raises(Conflict, match=f"already reversed by transfer {correction.id}"):
        with transaction(engine) as session:  # its own key, as a retried request would
            post_reversal(session, transfer_id=original.id, by=steward, reason="x", key="2nd")
    with pytest.raises(RuleViolation, match="itself a correction"):
        with transaction(engine) as session:
            reverse(session, steward, correction.id, "x")
    assert transfer_count(engine) == 2


def test_only_stewards_reverse_and_reversals_obey_the_credit_limit(people):
    engine, steward, ada, bob = people
    with transaction(engine) as session:
        original = pay(session, ada, bob, "6")
        pay(session, bob, ada, "1", key="k2")
        pay(session, bob, steward, "9.5", key="k3")  # bob now holds -4.50
    with pytest.raises(RuleViolation, match="may not correct the ledger"):
        with transaction(engine) as session:
            reverse(session, ada, original.id, "x")
    with pytest.raises(RuleViolation, match="Credit limit: .*Bob Builder"):
        with transaction(engine) as session:
            reverse(session, steward, original.id, "x")
    with pytest.raises(NotFound, match="Transfer 999"):
        with transaction(engine) as session:
            reverse(session, steward, 999, "x")


def test_credit_limits_are_set_by_stewards_and_never_above_the_balance(people):
    engine, steward, ada, bob = people
    with transaction(engine) as session:
        account_id = member_account(session, ada).id
        pool_id = community_account(session).id
        pay(session, ada, bob, "3")
    with pytest.raises(RuleViolation, match="holds -3.00 hours, below the proposed"):
        with transaction(engine) as session:
            stewarding.set_credit_limit(session, get_member(session, steward), ada, H("2"))
    with pytest.raises(InvalidInput, match="zero or negative"):
        with transaction(engine) as session:
            apply_credit_limit(session, account_id, H("5"))
    with pytest.raises(RuleViolation, match="may not set credit limits"):
        with transaction(engine) as session:
            stewarding.set_credit_limit(session, get_member(session, bob), ada, H("20"))
    with transaction(engine) as session:
        apply_credit_limit(session, pool_id, H("-1"))  # no door sets the pool's; the rule holds
    with pytest.raises(RuleViolation, match="community pool"):
        with transaction(engine) as session:
            credit_from_pool(
                session, key="big", member_id=ada, hours="1.01", description="Too much for the pool"
            )


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_transfer"])
def test_database_refuses_to_change_or_delete_ledger_rows(people, table):
    engine, _, ada, bob = people
    with transaction(engine) as session:
        pay(session, ada, bob, "1")
    column = "amount = 99" if table == "ledger_entry" else "description = 'forged'"
    for statement in (f"UPDATE {table} SET {column}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="immutable"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    with reading(engine) as session:
        assert member_balance(session, bob) == H("1.00")
        assert session.exec(select(Transfer.description)).one() == "Fixed a bike"


def test_concurrent_payments_from_one_account_never_breach_its_limit(database_url):
    """Eight workers, each with its own engine, try 24 payments of 1 hour from a limit of -10."""
    setup = make_engine(database_url)
    with transaction(setup) as session:
        ada, bob = a_member(session, "Ada Lovelace").id, a_member(session, "Bob Builder").id
        member_account(session, ada)
    start, outcomes = threading.Barrier(8), []

    def worker(n: int) -> None:
        engine = make_engine(database_url)
        start.wait()
        for attempt in range(3):
            try:
                with transaction(engine) as session:
                    pay(session, ada, bob, "1", key=f"w{n}-{attempt}")
                outcomes.append("paid")
            except RuleViolation:
                outcomes.append("refused")
        engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("paid") == 10 and outcomes.count("refused") == 14
    with reading(setup) as session:
        assert member_balance(session, ada) == H("-10.00")
        assert sum_of_balances(session) == 0
    setup.dispose()


# --- property: whatever happens, the books balance ----------------------------------------

HOURS = st.decimals(min_value=-2, max_value=30, places=2, allow_nan=False, allow_infinity=False)
MEMBER = st.integers(min_value=0, max_value=3)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("exchange"), MEMBER, MEMBER, HOURS, st.sampled_from("abcde")),
        st.tuples(st.just("opening"), MEMBER, HOURS),
        st.tuples(st.just("repair"), MEMBER, HOURS, MEMBER),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("limit"), MEMBER, HOURS),
        # The stewards' doors (hub.timebank.stewarding), acting as the steward or the operator.
        st.tuples(st.just("steward_transfer"), MEMBER, MEMBER, HOURS, st.booleans()),
        st.tuples(st.just("steward_reverse"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("steward_limit"), MEMBER, HOURS),
        st.tuples(st.just("steward_repair"), MEMBER, HOURS, st.booleans()),
    ),
    max_size=12,
)


@pytest.fixture
def commons(engine):
    """Four members (the first a steward), one tool; returns (engine, member ids, tool id)."""
    with transaction(engine) as session:
        a_kiosk(session)
        ids = [a_member(session, "Sam Steward", roles="steward").id]
        ids += [a_member(session, name).id for name in ("Ada", "Bob", "Cy")]
        return engine, ids, a_tool(session).id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS, run=st.uuids())
def test_any_sequence_keeps_the_books_balanced_within_limits_and_unchanged(
    commons, operations, run
):
    engine, ids, tool_id = commons
    before, transfers_before = _entry_snapshot(engine), _transfer_snapshot(engine)
    for operation in operations:
        try:
            with transaction(engine) as session:
                _apply(session, operation, ids, tool_id, key=f"{run}-{operation[-1]}")
        except DomainError:
            pass  # a refusal; the transaction rolled back
    after, transfers_after = _entry_snapshot(engine), _transfer_snapshot(engine)
    assert {entry_id: after[entry_id] for entry_id in before} == before
    assert {key: transfers_after[key] for key in transfers_before} == transfers_before
    with reading(engine) as session:
        assert sum_of_balances(session) == 0
        for row in balance_sheet(session):
            assert row.credit_limit is None or row.balance >= row.credit_limit
        for transfer_id in session.exec(select(Transfer.id)):
            amounts = session.exec(select(Entry.amount).where(Entry.transfer_id == transfer_id))
            assert sorted(a > 0 for a in amounts.all()) == [False, True]


def _apply(session, operation, ids, tool_id, *, key):
    """Run one generated operation (refusals raise DomainError)."""
    kind, *args = operation
    steward = ids[0]
    if kind.startswith("steward_"):
        _apply_as_steward(session, operation, ids, tool_id, key=key)
    elif kind == "exchange":
        payer, payee, hours, _ = args
        pay(session, ids[payer], ids[payee], hours, key=key)
    elif kind == "opening":
        member, hours = args
        credit_from_pool(
            session,
            key=key,
            member_id=ids[member],
            hours=hours,
            description="Opening balance",
            kind=TransferKind.OPENING,
        )
    elif kind == "repair":
        fixer, hours, approver = args
        claim = log_repair(
            session,
            member_id=ids[fixer],
            tool_id=tool_id,
            hours=hours,
            note="Sharpened",
            source="dashboard",
        )
        approver = ids[approver] if approver else steward
        stewarding.approve_claim(
            session, get_member(session, approver), claim.id, return_to_service=True
        )
    elif kind == "reverse":
        transfers = session.exec(select(Transfer.id).order_by(Transfer.id)).all()
        if transfers:
            post_reversal(
                session,
                transfer_id=transfers[args[0] % len(transfers)],
                by=steward,
                reason="property test",
            )
    elif kind == "limit":
        member, hours = args
        apply_credit_limit(session, member_account(session, ids[member]).id, -hours)


def _apply_as_steward(session, operation, ids, tool_id, *, key):
    """Run one generated operation through the stewards' doors (refusals raise DomainError)."""
    kind, *args = operation
    steward = get_member(session, ids[0])
    if kind == "steward_transfer":
        payer, payee, hours, as_operator = args
        stewarding.transfer_hours(
            session,
            OPERATOR if as_operator else steward,
            payer_id=ids[payer],
            payee_id=ids[payee],
            hours=hours,
            description="Taught a workshop",
            category="workshop",
            key=key,
        )
    elif kind == "steward_reverse":
        transfers = session.exec(select(Transfer.id).order_by(Transfer.id)).all()
        if transfers:
            picked = transfers[args[0] % len(transfers)]
            stewarding.reverse_transfer(session, steward, picked, "property test")
    elif kind == "steward_limit":
        member, hours = args
        stewarding.set_credit_limit(session, steward, ids[member], hours)
    elif kind == "steward_repair":
        fixer, hours, back_in_service = args
        claim = log_repair(
            session,
            member_id=ids[fixer],
            tool_id=tool_id,
            hours=hours,
            note="Oiled",
            source="kiosk",
        )
        stewarding.approve_claim(session, OPERATOR, claim.id, return_to_service=back_in_service)


def _transfer_snapshot(engine) -> dict[str, tuple]:
    with reading(engine) as session:
        return {
            t.key: (t.id, t.kind, t.description, t.created_by, t.reverses_transfer_id)
            for t in session.exec(select(Transfer))
        }


def _entry_snapshot(engine) -> dict[int, tuple]:
    with reading(engine) as session:
        return {e.id: (e.transfer_id, e.account_id, e.amount) for e in session.exec(select(Entry))}


def test_parse_hours_keeps_two_decimals():
    assert parse_hours("1.5") == H("1.50") and str(parse_hours(2)) == "2.00"


def test_one_community_account_and_one_account_per_member(people):
    engine, _, ada, _ = people
    with transaction(engine) as session:
        assert community_account(session).id == community_account(session).id
        assert member_account(session, ada).id == member_account(session, ada).id
    with reading(engine) as session:
        assert len(session.exec(select(Account)).all()) == 2
