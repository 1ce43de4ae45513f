"""The member's API at /api/v1/me/...: a member-scoped token reads and acts only as its member."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from hub.infra.db import transaction
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.timebank.ledger import Transfer
from tests.dashboard.api_fixtures import api_world, bearer  # noqa: F401  (fixtures)

FIXER, FRIEND = "1004", "1006"


@pytest.fixture
def member_token(api_world, engine) -> dict[str, str]:  # noqa: F811
    """Return the headers of a member-scoped token for member 1004 (the fixer)."""
    with transaction(engine) as session:
        fixer = member_by_number(session, FIXER)
        token = tokens.issue_token(session, OPERATOR, fixer.id, "my script", scope="member")
    return {"Authorization": f"Bearer {token}"}


def transfers(engine) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(Transfer)).one()


def gift(client, headers, key="script-gift-0001", **body):
    payload = {"to": FRIEND, "hours": "1.50", "note": "Fixed my bike"} | body
    return client.post("/api/v1/me/gifts", json=payload, headers=headers | {"Idempotency-Key": key})


def test_me_and_my_loans_hours_claims_bookings_and_history(client, member_token):
    me = client.get("/api/v1/me", headers=member_token).get_json()
    assert me["number"] == FIXER and me["status"] == "active"
    [loan] = client.get("/api/v1/me/loans", headers=member_token).get_json()["loans"]
    assert loan["tool_code"] == "DRILL-2" and loan["renewable"] and not loan["overdue"]
    hours = client.get("/api/v1/me/hours", headers=member_token).get_json()
    assert hours["credit_limit"] == "-10.00" and "statement" in hours
    [claim] = client.get("/api/v1/me/claims", headers=member_token).get_json()["claims"]
    assert claim["status"] in {"pending", "approved"} and claim["hours"] == "1.50"
    booked = client.get("/api/v1/me/bookings", headers=member_token).get_json()["bookings"]
    assert {b["resource_code"] for b in booked} == {"api-bench"}
    past = client.get("/api/v1/me/history", headers=member_token).get_json()["loans"]
    assert all(p["returned_at"] for p in past)


def test_a_gift_with_the_same_key_moves_the_hours_once(client, member_token, engine):
    before = client.get("/api/v1/me/hours", headers=member_token).get_json()["balance"]
    first, again = gift(client, member_token), gift(client, member_token)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["transfer_id"] == again.get_json()["transfer_id"]
    after = client.get("/api/v1/me/hours", headers=member_token).get_json()["balance"]
    assert Decimal(after) == Decimal(before) - Decimal("1.50")
    other = gift(client, member_token, hours="2")  # the same key for another gift
    assert other.status_code == 409 and other.get_json()["field"] == "key"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"hours": "0"}, 422, "hours"),
        ({"hours": "-1"}, 422, "hours"),
        ({"hours": "1.005"}, 422, "hours"),
        ({"hours": "900"}, 422, "hours"),  # more than the credit limit allows
        ({"to": FIXER}, 422, "to"),
        ({"to": "99999"}, 404, "to"),
        ({"to": "12a"}, 422, "to"),
        ({"note": "  "}, 422, "note"),
    ],
)
def test_each_bad_gift_is_refused_naming_the_field_and_writes_nothing(
    client, member_token, engine, body, status, field
):
    before = transfers(engine)
    response = gift(client, member_token, **body)
    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert transfers(engine) == before


def test_a_gift_needs_a_key_and_none_goes_to_a_suspended_member(client, member_token, engine):
    before = transfers(engine)
    payload = {"to": FRIEND, "hours": "1", "note": "Thanks"}
    assert client.post("/api/v1/me/gifts", json=payload, headers=member_token).status_code == 422
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, member_by_number(session, FRIEND).id, "Away")
    refused = gift(client, member_token)
    assert refused.status_code == 403 and refused.get_json()["field"] == "to"
    assert transfers(engine) == before


def test_renew_and_reminders(client, member_token):
    [loan] = client.get("/api/v1/me/loans", headers=member_token).get_json()["loans"]
    renewed = client.post(f"/api/v1/me/loans/{loan['id']}/renew", headers=member_token)
    assert renewed.status_code == 200 and renewed.get_json()["renewals"] == 1
    assert renewed.get_json()["due_at"] > loan["due_at"]
    chosen = client.put("/api/v1/me/reminders", json={"on": ["overdue"]}, headers=member_token)
    on = {r["kind"]: r["on"] for r in chosen.get_json()["reminders"]}
    assert on["overdue"] and not on["due_tomorrow"]
    bad = client.put("/api/v1/me/reminders", json={"on": ["spam"]}, headers=member_token)
    assert bad.status_code == 422 and bad.get_json()["field"].startswith("on")


def test_another_members_loan_is_unknown_and_no_token_is_refused(client, member_token, engine):
    with transaction(engine) as session:
        from hub.loans.records import Loan

        theirs = session.exec(
            select(Loan.id).where(
                Loan.member_id != member_by_number(session, FIXER).id, Loan.returned_at.is_(None)
            )
        ).first()
    assert client.post(f"/api/v1/me/loans/{theirs}/renew", headers=member_token).status_code == 404
    assert client.get("/api/v1/me/loans").status_code == 401


def test_a_member_token_reaches_no_steward_data_and_a_read_token_writes_nothing(
    client,
    member_token,
    bearer,  # noqa: F811
    engine,
):
    assert client.get("/api/v1/members", headers=member_token).status_code == 403
    with transaction(engine) as session:
        steward = member_by_number(session, "1001")
        read = tokens.issue_token(session, OPERATOR, steward.id, "reports", scope="read")
    headers = {"Authorization": f"Bearer {read}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert gift(client, headers).status_code == 403


def test_the_openapi_document_tells_the_truth_about_gifts(client):
    document = client.get("/api/v1/openapi.json").get_json()
    gift_in = document["components"]["schemas"]["GiftIn"]
    hours = gift_in["properties"]["hours"]["anyOf"]
    number = next(option for option in hours if option.get("type") == "number")
    assert number["exclusiveMinimum"] == 0 and number["multipleOf"] == 0.01
    text = re.compile(next(o for o in hours if o.get("type") == "string")["pattern"])
    assert [
        bool(text.match(h)) for h in ("1.5", "0.05", "1000.00", "0", "0.00", "1.005", "-1")
    ] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert "/api/v1/me/gifts" in document["paths"]
    assert document["paths"]["/api/v1/me/gifts"]["post"]["tags"] == ["me"]
