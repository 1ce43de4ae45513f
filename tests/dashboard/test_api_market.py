"""The market's API: members post, answer, move hours and vote as themselves; stewards hide and
execute; every refusal names its field and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import Tool
from hub.market.exchanges import Exchange
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.timebank import ledger
from tests.dashboard.api_fixtures import api_world  # noqa: F401  (fixture)
from tests.dashboard.conftest import csrf_token

ADA, BEA, STEWARD = "1004", "1006", "1001"


@pytest.fixture
def as_member(api_world, engine):  # noqa: F811
    """Return a function giving the headers of a member-scoped token for a member number."""

    def headers(number: str) -> dict[str, str]:
        with transaction(engine) as session:
            member = member_by_number(session, number)
            token = tokens.issue_token(session, OPERATOR, member.id, "test", scope="member")
        return {"Authorization": f"Bearer {token}"}

    return headers


def balance(engine, number: str) -> Decimal:
    with reading(engine) as session:
        return ledger.member_balance(session, member_by_number(session, number).id)


def test_an_offer_from_post_to_confirmed_hours(client, as_member, engine):
    ada, bea = as_member(ADA), as_member(BEA)
    posted = client.post(
        "/api/v1/market/posts",
        json={"kind": "offer", "category": "garden", "title": "Hedge trimming", "text": "Evenings"},
        headers=ada,
    )
    assert posted.status_code == 201, posted.get_json()
    post_id = posted.get_json()["id"]
    found = client.get("/api/v1/market/posts?q=hedge", headers=bea).get_json()["posts"]
    assert [p["id"] for p in found] == [post_id]
    answered = client.post(
        f"/api/v1/market/posts/{post_id}/answers", json={"note": "Yes!"}, headers=bea
    )
    assert answered.status_code == 201
    before = balance(engine, ADA), balance(engine, BEA)
    claim = client.post(
        f"/api/v1/market/posts/{post_id}/claims",
        json={"receiver_number": BEA, "hours": "2.25"},
        headers=ada,
    ).get_json()
    assert claim["status"] == "claimed" and balance(engine, ADA) == before[0]
    refused = client.post(f"/api/v1/market/exchanges/{claim['id']}/confirm", headers=ada)
    assert refused.status_code == 403 and refused.get_json()["field"] == "exchange_id"
    confirmed = client.post(f"/api/v1/market/exchanges/{claim['id']}/confirm", headers=bea)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    assert balance(engine, ADA) == before[0] + Decimal("2.25")
    assert balance(engine, BEA) == before[1] - Decimal("2.25")
    again = client.post(f"/api/v1/market/exchanges/{claim['id']}/confirm", headers=bea)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gift"}, "kind"),
        ({"title": "   "}, "title"),
        ({"category": "Not A Slug"}, "category"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_post_is_refused_naming_its_field(client, as_member, body, field):
    good = {"kind": "offer", "category": "garden", "title": "Hedges", "text": "Evenings"}
    answer = client.post("/api/v1/market/posts", json=good | body, headers=as_member(ADA))
    assert answer.status_code == 422 and answer.get_json()["field"] == field


def test_hours_beyond_the_credit_limit_are_refused_and_nothing_is_written(
    client, as_member, engine
):
    ada, bea = as_member(ADA), as_member(BEA)
    post_id = client.post(
        "/api/v1/market/posts",
        json={"kind": "request", "category": "lessons", "title": "Teach me", "text": "Please"},
        headers=ada,
    ).get_json()["id"]
    client.post(f"/api/v1/market/posts/{post_id}/answers", json={"note": "I can"}, headers=bea)
    answer = client.post(
        f"/api/v1/market/posts/{post_id}/gifts",
        json={"giver_number": BEA, "hours": "999"},
        headers=ada,
    )
    assert answer.status_code == 422 and "limit" in answer.get_json()["error"]
    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(Exchange)).one() == 0


def test_hiding_a_post_is_for_stewards_and_audited(client, as_member, engine):
    post_id = client.get("/api/v1/market/posts?q=sharpen", headers=as_member(ADA)).get_json()[
        "posts"
    ][0]["id"]
    refused = client.post(
        f"/api/v1/market/posts/{post_id}/hide", json={"reason": "spam"}, headers=as_member(ADA)
    )
    assert refused.status_code == 403
    hidden = client.post(
        f"/api/v1/market/posts/{post_id}/hide",
        json={"reason": "sells things"},
        headers=as_member(STEWARD),
    )
    assert hidden.status_code == 200 and hidden.get_json()["status"] == "hidden"
    assert client.get(f"/api/v1/market/posts/{post_id}", headers=as_member(ADA)).status_code == 404
    with reading(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "post.hide")).one()
        assert entry.target == f"post:{post_id}"


def test_a_proposal_voted_on_through_the_api(client, as_member):
    closes = (utcnow() + timedelta(days=3)).isoformat()
    made = client.post(
        "/api/v1/proposals",
        json={"title": "Open on Sundays", "text": "Noon to four.", "closes_at": closes},
        headers=as_member(ADA),
    )
    assert made.status_code == 201, made.get_json()
    proposal_id = made.get_json()["id"]
    blank_block = client.post(
        f"/api/v1/proposals/{proposal_id}/votes", json={"choice": "block"}, headers=as_member(BEA)
    )
    assert blank_block.status_code == 422 and blank_block.get_json()["field"] == "reason"
    client.post(
        f"/api/v1/proposals/{proposal_id}/votes",
        json={"choice": "block", "reason": "Nobody to open up"},
        headers=as_member(BEA),
    )
    shown = client.get(f"/api/v1/proposals/{proposal_id}", headers=as_member(ADA)).get_json()
    assert (shown["block"], shown["passes_now"]) == (1, False)
    assert shown["votes"][0]["member_number"] == BEA


def test_a_steward_token_reaches_the_market_too_and_anonymous_none(client, as_member):
    assert client.get("/api/v1/market/categories").status_code == 401
    listed = client.get("/api/v1/market/categories", headers=as_member(STEWARD)).get_json()
    assert {c["slug"] for c in listed["categories"]} >= {"repairs", "lessons"}


def test_a_steward_sees_who_might_fix_the_sander_and_asks_them(client, steward, engine):
    with reading(engine) as session:
        sander = session.exec(select(Tool).where(Tool.code == "SAND-1")).one()
        borrower = member_by_number(session, ADA)
    page = client.get("/steward/tools/SAND-1/fixers").get_data(as_text=True)
    assert f"{ADA} {borrower.name}" in page and "skill: sanding" in page
    listed = client.get(f"/api/v1/tools/{sander.id}/fixers").get_json()
    assert [f["number"] for f in listed["fixers"]] == [ADA]
    token = csrf_token(client, "/steward/tools/SAND-1/fixers")
    asked = client.post(
        "/steward/tools/SAND-1/fixers",
        data={"members": ADA, "csrf_token": token},
        follow_redirects=True,
    )
    said = "Asked 1 of 1 by email." if borrower.email else "Asked 0 of 1 by email"
    assert said in asked.get_data(as_text=True)
    with reading(engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "tool.ask_fixers")).one()
