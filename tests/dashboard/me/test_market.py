"""The market's member pages (Flask client): proposals, votes, skills; the open records page."""

from __future__ import annotations

import csv
import io
import json

from sqlmodel import select

from hub.market.proposals import Proposal, Vote
from hub.market.skills import MemberSkill
from hub.members.roster import member_by_number
from tests.dashboard.conftest import csrf_token
from tests.dashboard.me.conftest import alert, hub_session


def test_a_member_proposes_and_votes_and_a_blank_block_is_refused(app, borrower):
    token = csrf_token(borrower, "/me/proposals/new")
    made = borrower.post(
        "/me/proposals/new",
        data={
            "title": "Buy a tile cutter",
            "text": "Ours is always out.",
            "days": "7",
            "rule": "majority",
            "quorum": "0",
            "cost_hours": "",
            "payee_number": "",
            "csrf_token": token,
        },
    )
    assert made.status_code == 302
    page = made.headers["Location"]
    blank = borrower.post(
        f"{page}/vote", data={"choice": "block", "reason": " ", "csrf_token": token}
    )
    assert blank.status_code == 422 and "reason is required" in alert(blank)
    voted = borrower.post(f"{page}/vote", data={"choice": "yes", "csrf_token": token})
    assert voted.status_code == 302
    shown = borrower.get(page).get_data(as_text=True)
    assert "1 yes · 0 no · 0 block" in shown and "it passes" in shown
    with hub_session(app) as db:
        assert [v.choice for v in db.exec(select(Vote)).all()] == ["yes"]


def test_a_spend_beyond_the_pool_is_refused_and_the_form_keeps_what_was_typed(app, borrower):
    token = csrf_token(borrower, "/me/proposals/new")
    refused = borrower.post(
        "/me/proposals/new",
        data={
            "title": "A van",
            "text": "For the shed",
            "days": "7",
            "rule": "consent",
            "quorum": "0",
            "cost_hours": "900",
            "payee_number": "1006",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422 and "The community account holds" in alert(refused)
    assert 'value="A van"' in refused.get_data(as_text=True)
    with hub_session(app) as db:
        assert db.exec(select(Proposal)).all() == []


def test_my_skills_are_kept_and_a_bad_tag_is_named(app, borrower):
    token = csrf_token(borrower, "/me/skills")
    bad = borrower.post("/me/skills", data={"skills": "bikes bad/tag", "csrf_token": token})
    assert bad.status_code == 422 and "bad/tag" in alert(bad)
    assert (
        borrower.post(
            "/me/skills", data={"skills": "Bikes, sewing", "csrf_token": token}
        ).status_code
        == 302
    )
    with hub_session(app) as db:
        mine = member_by_number(db, "1004").id
        query = select(MemberSkill).where(MemberSkill.member_id == mine)
        assert sorted(s.tag for s in db.exec(query).all()) == ["bikes", "sewing"]


def test_the_open_records_of_the_market_name_nobody(client):
    page = client.get("/records/market")
    assert page.status_code == 200 and "Exchanges and decisions" in page.get_data(as_text=True)
    document = json.loads(client.get("/records/market.json").get_data(as_text=True))
    assert document["format"] == "commonshed-open-records/1"
    table = client.get("/records/market/exchanges.csv")
    assert table.headers["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(table.get_data(as_text=True)))) == [
        "month",
        "category",
        "exchanges",
        "hours",
    ]
    assert client.get("/records/market/members.csv").status_code == 404
