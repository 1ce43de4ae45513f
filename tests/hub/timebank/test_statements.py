import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from hub.errors import NotFound
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.members.roster import get_member
from hub.timebank import stewarding
from hub.timebank.ledger import TransferKind, credit_from_pool, exchange_hours
from hub.timebank.statements import (
    COMMUNITY_NAME,
    balance_sheet,
    recent_transfers,
    statement,
    statement_csv,
    write_statement_csv,
)
from tests.hub.builders import a_member

T0 = utcnow().replace(microsecond=0) - timedelta(days=10)


@pytest.fixture
def books(engine):
    """Ada opens with 5 h and pays Bob 1.5 h for a bike repair; Sam is a steward."""
    with transaction(engine) as session:
        sam = a_member(session, "Sam Steward", roles="steward").id
        ada, bob = a_member(session, "Ada Lovelace").id, a_member(session, "Bob Builder").id
        credit_from_pool(
            session,
            key="open-ada",
            member_id=ada,
            hours="5",
            now=T0,
            description="Opening balance",
            kind=TransferKind.OPENING,
        )
        exchange_hours(
            session,
            key="bike",
            payer_id=ada,
            payee_id=bob,
            hours="1.5",
            description='=HYPERLINK("http://evil")',
            category="Bikes",
            now=T0 + timedelta(days=1),
        )
        return engine, sam, ada, bob


def test_statement_lists_signed_hours_with_a_running_balance(books):
    engine, _, ada, _ = books
    with reading(engine) as session:
        lines = statement(session, ada)
    assert [(line.hours, line.balance) for line in lines] == [
        (Decimal("5.00"), Decimal("5.00")),
        (Decimal("-1.50"), Decimal("3.50")),
    ]
    assert [line.counterparty for line in lines] == [COMMUNITY_NAME, "1003 Bob Builder"]
    assert lines[1].category == "bikes"


def test_statement_since_keeps_the_balance_brought_forward(books):
    engine, _, ada, _ = books
    with reading(engine) as session:
        (line,) = statement(session, ada, since=T0 + timedelta(hours=1))
    assert line.balance == Decimal("3.50")


def test_csv_statement_is_plain_and_safe_to_open_in_a_spreadsheet(books):
    engine, _, _, bob = books
    with reading(engine) as session:
        text = statement_csv(session, bob)
        out = io.StringIO()
        write_statement_csv(session, bob, out)
    assert out.getvalue() == text
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == [
        "date",
        "transfer",
        "kind",
        "description",
        "category",
        "counterparty",
        "hours",
        "balance",
    ]
    assert row[3] == '\'=HYPERLINK("http://evil")'
    assert row[5:] == ["1002 Ada Lovelace", "1.50", "1.50"]
    assert row[0].startswith(str((T0 + timedelta(days=1)).date()))


def test_statement_of_a_member_without_an_account_is_empty_and_unknown_is_refused(books):
    engine, sam, _, _ = books
    with reading(engine) as session:
        assert statement(session, sam) == []
        with pytest.raises(NotFound):
            statement(session, 999)


def test_open_ledger_shows_every_balance_and_the_latest_transfers(books):
    engine, sam, _, _ = books
    with transaction(engine) as session:
        stewarding.reverse_transfer(session, get_member(session, sam), 2, "paid twice", utcnow())
    with reading(engine) as session:
        sheet = balance_sheet(session)
        recent = recent_transfers(session, limit=2)
    assert [(row.name, row.balance) for row in sheet] == [
        (COMMUNITY_NAME, Decimal("-5.00")),
        ("Ada Lovelace", Decimal("5.00")),
        ("Bob Builder", Decimal("0.00")),
    ]
    assert sheet[0].credit_limit is None and sheet[1].credit_limit == Decimal("-10.00")
    assert [(t.kind, t.payer, t.payee, t.hours, t.reverses_transfer_id) for t in recent] == [
        ("correction", "1003 Bob Builder", "1002 Ada Lovelace", Decimal("1.50"), 2),
        ("exchange", "1002 Ada Lovelace", "1003 Bob Builder", Decimal("1.50"), None),
    ]
