"""The stewards' market page: moderate posts, add categories, pay a passed spend (audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.market import posts, proposals
from hub.members.roster import member_by_number
from hub.timebank import ledger
from tests.dashboard.conftest import csrf_token


def test_a_steward_hides_and_shows_a_post_and_adds_a_category(client, steward, engine):
    page = client.get("/steward/market").get_data(as_text=True)
    assert "I can sharpen blades" in page
    with reading(engine) as session:
        post_id = posts.search_posts(session, words="sharpen")[0].id
    token = csrf_token(client, "/steward/market")
    client.post(
        f"/steward/market/posts/{post_id}/hide", data={"reason": "sells", "csrf_token": token}
    )
    with reading(engine) as session:
        assert posts.search_posts(session, words="sharpen") == []
    client.post(f"/steward/market/posts/{post_id}/show", data={"csrf_token": token})
    client.post(
        "/steward/market/categories",
        data={"slug": "cooking", "name": "Cooking", "csrf_token": token},
    )
    with reading(engine) as session:
        assert [p.id for p in posts.search_posts(session, words="sharpen")] == [post_id]
        assert "cooking" in {c.slug for c in posts.categories(session)}
        actions = {e.action for e in session.exec(select(AuditEntry)).all()}
    assert {"post.hide", "post.show", "market_category.add"} <= actions


def test_a_passed_spend_is_paid_from_the_page(client, steward, engine):
    with transaction(engine) as session:
        ledger.charge_to_pool(
            session,
            key="fees",
            member_id=member_by_number(session, "1005").id,
            hours="5",
            description="booking fees",
        )
        made = proposals.propose(
            session,
            member_by_number(session, "1004"),
            title="Saw blades",
            text="New blades",
            closes_at=utcnow() + timedelta(hours=2),
            cost_hours="3",
            payee_number="1006",
        )
        proposals.decide_closed(session, now=made.closes_at + timedelta(seconds=1))
    assert "Pay 3.00 h" in client.get("/steward/market").get_data(as_text=True)
    token = csrf_token(client, "/steward/market")
    paid = client.post(
        f"/steward/market/proposals/{made.id}/execute",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "paid: transfer" in paid.get_data(as_text=True)
    again = client.post(f"/steward/market/proposals/{made.id}/execute", data={"csrf_token": token})
    assert again.status_code == 409
