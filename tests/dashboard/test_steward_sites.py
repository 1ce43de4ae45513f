"""Sites to stewards: the kiosks page shows each bridged site's link (a cut-off site first,
with its backlog); the Sites page's doors: add, rename, who may borrow, members listed, the
bridge's login shown once with its setup sheet, revoke; each audited. A loan a site did not
allow shows there and on the loans page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory import fleet, sites
from hub.inventory.registry import Tool
from hub.inventory.sites import get_site
from hub.loans.kiosk import Stamp, record_loan_out
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from tests.dashboard.conftest import csrf_token, sign_in_by_session


def test_a_cut_off_site_shows_first_with_when_and_its_kiosks_backlog(client, steward, engine):
    assert 'id="sites"' not in client.get("/steward/kiosks").get_data(as_text=True)
    with transaction(engine) as session:
        fleet.record_site_link(session, "north", True)
        fleet.record_site_link(session, "main", False, at=utcnow() - timedelta(minutes=12))
    page = client.get("/steward/kiosks").get_data(as_text=True)
    sites = page[page.index('id="sites"') : page.index("</section>", page.index('id="sites"'))]
    assert sites.index('id="site-main"') < sites.index('id="site-north"')
    main_row = sites[sites.index('id="site-main"') :]
    assert "cut off" in main_row and "12 min ago" in main_row


def test_a_kiosk_of_a_cut_off_site_is_not_shown_online(client, steward, engine):
    from hub.inventory.fleet import record_availability

    with transaction(engine) as session:
        record_availability(session, "shed-1", state="online", since=utcnow(), outbox_backlog=0)
        fleet.record_site_link(session, "north", False, at=utcnow() - timedelta(minutes=3))
    page = client.get("/steward/kiosks").get_data(as_text=True)
    shed = page[page.index("<h2>shed-1") : page.index("</h2>", page.index("<h2>shed-1"))]
    assert "cut off with north" in shed and ">online<" not in shed
    with transaction(engine) as session:
        fleet.record_site_link(session, "north", True)
    page = client.get("/steward/kiosks").get_data(as_text=True)
    shed = page[page.index("<h2>shed-1") : page.index("</h2>", page.index("<h2>shed-1"))]
    assert ">online<" in shed


# --- the Sites page (/steward/sites): sites as records with their doors ---------------------


@pytest.fixture
def post(steward):
    """Return a function that posts a form as steward 1001, CSRF token included."""
    token = csrf_token(steward, "/steward/sites")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def site_audit(engine) -> list[AuditEntry]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [e for e in rows if e.action.startswith("site.")]


def card_of(page: str, site_id: str) -> str:
    start = page.index(f'id="site-{site_id}"')
    return page[start : page.index("</section>", start)]


def test_the_sites_page_lists_each_site_with_its_kiosks_and_says_stewards_always_pass(steward):
    page = steward.get("/steward/sites").get_data(as_text=True)
    assert 'href="/steward/sites"' in page  # in the nav
    assert "Stewards always pass" in page
    north = card_of(page, "north")  # the demo's site, a record since its kiosks were registered
    assert "shed-1" in north and "shed-2" in north and "never reported" in north
    assert "not provisioned" in north and 'value="everyone" selected' in north


def test_add_a_site_list_members_and_change_who_may_borrow_each_audited(post, steward, engine):
    answer = post("/steward/sites", site_id="east", name="East shed", policy="listed")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#site-east")
    assert post("/steward/sites/east/members", number="1005").status_code == 302
    east = card_of(steward.get("/steward/sites").get_data(as_text=True), "east")
    assert 'id="site-east-member-1005"' in east and 'value="listed" selected' in east
    assert post("/steward/sites/east/members/1005/remove").status_code == 302
    assert post("/steward/sites/east/policy", policy="everyone").status_code == 302
    assert post("/steward/sites/east/rename", name="East barn").status_code == 302
    with reading(engine) as session:
        east_site = get_site(session, "east")
        steward_id = member_by_number(session, "1001").id
    assert (east_site.name, east_site.policy) == ("East barn", "everyone")
    audit = site_audit(engine)
    assert [e.action for e in audit] == [
        "site.add", "site.allow", "site.disallow", "site.policy", "site.rename"
    ]  # fmt: skip
    assert {e.actor_member_id for e in audit} == {steward_id}


def test_a_refused_form_comes_back_422_with_the_field_marked_and_nothing_written(post, engine):
    answer = post("/steward/sites/north/members", number="99999")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    tag = re.search(r'<input[^>]*id="s-north-number"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and 'value="99999"' in tag
    assert "Member number 99999 does not exist." in card_of(page, "north")
    answer = post("/steward/sites", site_id="hub", name="Hub")
    assert answer.status_code == 422 and 'id="f-site_id"' in answer.get_data(as_text=True)
    assert site_audit(engine) == []


def test_provision_shows_the_bridge_login_once_with_the_site_box_sheet_and_revoke(
    post, steward, app, engine
):
    app.config.update(MQTT_HOST="hub.example.org", MQTT_PORT=8883)
    answer = post("/steward/sites/north/provision")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code id="bridge-password">([^<]+)</code>', page).group(1)
    dynsec = broker_paths(app.config["DATA_DIR"]).dynsec
    client = find_client(read_config(dynsec), "site-north")
    assert PasswordHash.from_client(client).matches(password)
    commands = page[page.index('id="site-commands"') :]
    assert "join-network north --central-host hub.example.org --central-port 8883" in commands
    assert password not in commands and 'data-copy="bridge-password"' in page
    sites_page = steward.get("/steward/sites").get_data(as_text=True)
    assert password not in sites_page and "provisioned</span>" in card_of(sites_page, "north")
    assert post("/steward/sites/north/revoke", reason="box stolen").status_code == 302
    assert find_client(read_config(dynsec), "site-north") is None
    assert "revoked</span>" in card_of(
        steward.get("/steward/sites").get_data(as_text=True), "north"
    )
    audit = site_audit(engine)
    assert [e.action for e in audit] == ["site.provision", "site.revoke"]
    assert all(password not in (e.after or "") for e in audit)


def test_a_volunteer_cannot_change_a_site(client, engine):
    sign_in_by_session(client, "1004")
    token = csrf_token(client, "/")
    answer = client.post(
        "/steward/sites/north/policy", data={"csrf_token": token, "policy": "listed"}
    )
    assert answer.status_code == 403 and site_audit(engine) == []


def test_a_loan_a_site_did_not_allow_shows_on_the_sites_and_loans_pages(steward, engine):
    with transaction(engine) as session:
        sites.set_policy(session, OPERATOR, "north", "listed")
        member = member_by_number(session, "1005")
        tool = session.exec(
            select(Tool).where(Tool.status == "available", col(Tool.locker_id).is_not(None))
        ).first()
        now = utcnow()
        recorded = record_loan_out(session, Stamp("shed-1", "ev-1", 1, 0, now, now), member, tool)
        code, loan_id = tool.code, recorded.loan.id
    page = steward.get("/steward/sites").get_data(as_text=True)
    stray = page[page.index(f'id="stray-{loan_id}"') :]
    assert code in stray and "1005" in stray and "not allowed to borrow at site north" in stray
    loans = steward.get("/steward/loans").get_data(as_text=True)
    assert f'href="/steward/sites#stray-{loan_id}"' in loans
