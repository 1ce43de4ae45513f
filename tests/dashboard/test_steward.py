"""The steward's front page and actions: what it shows, what each action changes and audits."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from broker import messages as wire
from broker.provision import provision_kiosk
from hub.bookings import BookingStatus, get_booking
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.inventory import fleet
from hub.inventory.registry import ToolStatus, get_tool
from hub.maintenance import tickets
from hub.members.roster import card_by_uid, get_member
from hub.queries.fleet import fleet_health
from hub.timebank import claims, ledger
from hub.worker.events import apply_event
from hub.worker.inbox import record_dead_letter
from tests.dashboard.conftest import csrf_token
from tests.dashboard.steward_fixtures import add_steward_work


@pytest.fixture
def work(app, engine):
    with transaction(engine) as session:
        return add_steward_work(session)


@pytest.fixture
def post(steward):
    """Return a function that posts a form as the signed-in steward, CSRF token included."""
    token = csrf_token(steward, "/steward/members")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def latest_audit(engine) -> audit.AuditEntry:
    with reading(engine) as session:
        return audit.recent(session, limit=1)[0]


def audit_count(engine) -> int:
    with reading(engine) as session:
        return len(audit.recent(session, limit=1000))


def refused(response, status: int, field: str) -> str:
    """Assert a refusal page with ``status`` naming ``field``; return its text."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    assert f"<code>{field}</code>" in page
    return page


# --- the front page -----------------------------------------------------------------------


def test_front_page_shows_what_needs_a_steward(steward, work, engine):
    with transaction(engine) as session:
        record_dead_letter(session, topic="commonshed/x", payload=b"{", reason="bad JSON")
    page = steward.get("/steward/").get_data(as_text=True)
    assert "Fitted a new pad" in page and f'data-claim="{work.claim_id}"' in page  # the claim
    assert "SAND-1" in page and "Pad worn through" in page  # out of service, and why
    assert "TENT-1" in page and "days late" in page  # the overdue loan
    assert "3</strong> events waiting" in page and "allow-list v1, behind" in page  # shed-1
    assert "Door forced" in page and f'data-alarm="{work.alarm_id}"' in page  # shed-2
    assert "Check cords and brushes" in page and "PRUNE-1" in page  # maintenance due
    assert "Laser cutter" in page and "no show" in page  # today's bookings, a no-show
    assert "1 message the hub could not take" in page
    assert f"/steward/claims/{work.claim_id}/approve" in page  # approve right there


def test_front_page_says_when_all_is_well(steward):
    page = steward.get("/steward/").get_data(as_text=True)
    assert "No claims waiting." in page and "Every message was understood." in page


def test_live_answers_304_until_something_changes(steward, work, engine):
    first = steward.get("/steward/live")
    assert first.status_code == 200 and first.headers["ETag"]
    again = steward.get("/steward/live", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    with transaction(engine) as session:
        apply_event(session, door_forced("shed-1", 6))
    changed = steward.get("/steward/live", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert "locker 6" in changed.get_data(as_text=True)


def door_forced(kiosk_id: str, slot: int) -> wire.DoorForcedEvent:
    """Return the event a kiosk sends when a locker door opens without a pulse."""
    return wire.DoorForcedEvent(
        event_id=str(uuid.uuid4()),
        kiosk_id=kiosk_id,
        seq=1,
        kiosk_time=datetime.now(UTC),
        body=wire.DoorChange(locker_slot=slot),
    )


# --- repair claims ------------------------------------------------------------------------


def test_approve_with_edited_hours_credits_the_fixer_and_is_audited(post, work, engine):
    response = post(
        f"/steward/claims/{work.claim_id}/approve",
        hours="1.25",
        reason="pad was a spare",
        return_to_service="on",
        next="/steward/",
    )
    assert response.status_code == 302 and response.location == "/steward/"
    with reading(engine) as session:
        claim = claims.get_claim(session, work.claim_id)
        assert (claim.status, claim.approved_hours, claim.decided_by) == (
            "approved",
            Decimal("1.25"),
            1,
        )
        assert ledger.member_balance(session, work.fixer_id) == Decimal("1.25")
        assert tickets.get_ticket(session, work.ticket_id).status == "resolved"
        assert get_tool(session, work.tool_id).status == ToolStatus.AVAILABLE
    entry = latest_audit(engine)
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "claim.approve",
        f"claim:{work.claim_id}",
        1,
    )
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert before["status"] == "pending" and after["status"] == "approved"
    assert after["approved_hours"] == "1.25" and after["decision_reason"] == "pad was a spare"


def test_approve_as_claimed_needs_no_reason(post, steward, work):
    response = post(f"/steward/claims/{work.claim_id}/approve", hours="1.50", reason="")
    assert response.status_code == 302
    assert "1.50 h credited" in steward.get("/steward/maintenance").get_data(as_text=True)


@pytest.mark.parametrize(
    "form, field",
    [
        ({"hours": "1.00", "reason": ""}, "reason"),  # hours changed without saying why
        ({"hours": "lots"}, "hours"),
        ({"hours": "-2"}, "hours"),
        ({"hours": "30"}, "hours"),
        ({"hours": "1.234", "reason": "x"}, "hours"),
    ],
)
def test_a_bad_approval_is_refused_by_field_and_changes_nothing(post, work, engine, form, field):
    count = audit_count(engine)
    refused(post(f"/steward/claims/{work.claim_id}/approve", **form), 422, field)
    with reading(engine) as session:
        assert claims.get_claim(session, work.claim_id).status == "pending"
        assert ledger.member_balance(session, work.fixer_id) == Decimal("0.00")
    assert audit_count(engine) == count


def test_decline_needs_a_reason_and_is_audited(post, work, engine):
    refused(post(f"/steward/claims/{work.claim_id}/decline", reason="  "), 422, "reason")
    assert (
        post(f"/steward/claims/{work.claim_id}/decline", reason="not a repair").status_code == 302
    )
    with reading(engine) as session:
        claim = claims.get_claim(session, work.claim_id)
        assert (claim.status, claim.decision_reason) == ("declined", "not a repair")
        assert tickets.get_ticket(session, work.ticket_id).status == "in_progress"
    entry = latest_audit(engine)
    assert (
        entry.action == "claim.decline"
        and '"pending"' in entry.before
        and '"declined"' in entry.after
    )


def test_a_decided_claim_is_a_conflict(post, work):
    post(f"/steward/claims/{work.claim_id}/decline", reason="duplicate")
    page = refused(post(f"/steward/claims/{work.claim_id}/approve"), 409, "claim_id")
    assert "already declined" in page


@pytest.mark.parametrize(
    "url",
    [
        "/steward/claims/9999/approve",
        "/steward/claims/9999/decline",
        "/steward/alarms/9999/acknowledge",
        "/steward/tickets/9999/resolve",
        "/steward/members/9999/suspend",
        "/steward/bookings/9999/cancel",
        "/steward/tools/9999/tickets",
    ],
)
def test_unknown_ids_are_404_naming_the_record(post, work, url):
    response = post(url, reason="r", note="n")
    assert response.status_code == 404
    assert "9999 does not exist" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/steward/members/9999", "/steward/tools/9999"])
def test_unknown_pages_are_404_naming_the_record(steward, url):
    response = steward.get(url)
    assert response.status_code == 404 and "9999 does not exist" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_forged_or_missing_csrf_is_400_and_changes_nothing(steward, work, engine, token):
    form = {"hours": "1.50"} | ({"csrf_token": token} if token else {})
    response = steward.post(f"/steward/claims/{work.claim_id}/approve", data=form)
    assert response.status_code == 400 and "csrf_token" in response.get_data(as_text=True)
    with reading(engine) as session:
        assert claims.get_claim(session, work.claim_id).status == "pending"
        assert audit.recent(session) == []


# --- tickets and tools --------------------------------------------------------------------


def test_open_a_blocking_ticket_takes_the_tool_out_of_service(post, engine):
    response = post("/steward/tools/1/tickets", note="Chuck wobbles", blocking="on")
    assert response.status_code == 302 and response.location == "/steward/tools/1"
    with reading(engine) as session:
        assert get_tool(session, 1).status == ToolStatus.OUT_OF_SERVICE
    entry = latest_audit(engine)
    assert entry.action == "ticket.open" and entry.before is None and "Chuck wobbles" in entry.after


def test_a_bad_ticket_form_names_the_field(post, engine):
    refused(post("/steward/tools/2/tickets", note=""), 422, "note")
    refused(post("/steward/tools/2/tickets", note="x", blocking="perhaps"), 422, "blocking")
    with reading(engine) as session:
        assert tickets.live_tickets(session, tool_id=2) == []


def test_resolve_and_wont_fix_close_tickets(post, work, engine):
    refused(post(f"/steward/tickets/{work.ticket_id}/wont-fix", note=""), 422, "note")
    assert post(f"/steward/tickets/{work.ticket_id}/resolve", note="new pad").status_code == 302
    with reading(engine) as session:
        assert tickets.get_ticket(session, work.ticket_id).status == "resolved"
        assert get_tool(session, work.tool_id).status == ToolStatus.AVAILABLE
    entry = latest_audit(engine)
    assert entry.action == "ticket.resolve" and '"in_progress"' in entry.before
    assert '"resolved"' in entry.after
    refused(post(f"/steward/tickets/{work.ticket_id}/resolve"), 409, "ticket_id")


def test_mark_blocking(post, engine):
    post("/steward/tools/3/tickets", note="Blade dull")
    with reading(engine) as session:
        ticket = tickets.live_tickets(session, tool_id=3)[0]
    assert post(f"/steward/tickets/{ticket.id}/blocking").status_code == 302
    with reading(engine) as session:
        assert get_tool(session, 3).status == ToolStatus.OUT_OF_SERVICE
    assert latest_audit(engine).action == "ticket.block"


def test_tool_page_shows_history_and_tickets(steward, work):
    page = steward.get(f"/steward/tools/{work.tool_id}").get_data(as_text=True)
    assert f"Ticket {work.ticket_id}" in page and "repaired for ticket" in page
    assert "Mark blocking" not in page  # it blocks already


# --- members ------------------------------------------------------------------------------


def test_member_page_and_search(steward, work):
    page = steward.get(f"/steward/members/{work.fixer_id}").get_data(as_text=True)
    assert "C0DE0009" in page and "Fitted" not in page and "1.50 h" in page
    found = steward.get("/steward/members?q=1010").get_data(as_text=True)
    assert "1010" in found and "1011" not in found


def test_assign_and_revoke_cards(post, engine):
    refused(post("/steward/members/10/cards", uid="not hex"), 422, "uid")
    refused(post("/steward/members/10/cards", uid="C0DE0001"), 409, "uid")  # member 1002's
    assert post("/steward/members/10/cards", uid="deadbeef", label="spare").status_code == 302
    assert latest_audit(engine).action == "card.assign"
    refused(post("/steward/members/11/cards/revoke", uid="DEADBEEF"), 404, "uid")  # not theirs
    assert post("/steward/members/10/cards/revoke", uid="DEADBEEF").status_code == 302
    with reading(engine) as session:
        assert card_by_uid(session, "DEADBEEF").revoked_at is not None
    entry = latest_audit(engine)
    assert entry.action == "card.revoke" and '"revoked_at": null' in entry.before


def test_grant_training(post, engine):
    refused(post("/steward/members/10/trainings", training="juggling"), 404, "training")
    assert post("/steward/members/10/trainings", training="laser").status_code == 302
    entry = latest_audit(engine)
    assert entry.action == "training.grant" and entry.target == "member:1010"
    assert '"granted_by": 1' in entry.after


def test_suspend_then_reinstate(post, engine):
    assert post("/steward/members/12/suspend", reason="unreturned tent").status_code == 302
    with reading(engine) as session:
        assert get_member(session, 12).status == "suspended"
    assert post("/steward/members/12/reinstate").status_code == 302
    with reading(engine) as session:
        assert get_member(session, 12).status == "active"
    entry = latest_audit(engine)
    assert entry.action == "member.reinstate" and '"suspended"' in entry.before


def test_next_goes_only_to_steward_pages(post):
    response = post("/steward/members/12/suspend", reason="r", next="//evil.example/steward/")
    assert response.location == "/steward/members?q=1012"


# --- kiosks, bookings, ledger, audit ------------------------------------------------------


def test_acknowledge_an_alarm(post, steward, work, engine):
    assert post(f"/steward/alarms/{work.alarm_id}/acknowledge", next="/steward/").status_code == 302
    with reading(engine) as session:
        health = {k.kiosk.id: k for k in fleet_health(session)}
    assert health["shed-2"].open_alarms == []
    entry = latest_audit(engine)
    assert entry.action == "alarm.acknowledge" and '"cleared_at": null' in entry.before
    assert '"cleared_at": null' not in entry.after
    assert f'data-alarm="{work.alarm_id}"' not in steward.get("/steward/").get_data(as_text=True)


def test_kiosks_page_links_each_kiosk_set_up_never_a_password(steward, app, work):
    credentials = provision_kiosk(app.config["DATA_DIR"], "shed-1", site="north")
    page = steward.get("/steward/kiosks").get_data(as_text=True)
    assert 'href="/steward/kiosks/shed-1"' in page
    assert credentials.password not in page
    assert f'data-alarm="{work.alarm_id}"' in page and "door forced" in page
    assert "behind</span>" in page  # shed-1 holds allow-list v1; the hub is further on


def test_a_kiosk_that_reports_its_reader_missing_is_sick_on_both_pages(steward, work, engine):
    with transaction(engine) as session:
        fleet.record_availability(
            session,
            "shed-1",
            state="online",
            since=datetime.now(UTC),
            allowlist_version=10_000,
            health=fleet.KioskHealthReport(
                reader="missing", locks_safety="verified", last_error="reader: VersionReg 0xFF"
            ),
        )
    page = steward.get("/steward/kiosks").get_data(as_text=True)
    card = page[page.index('id="kiosk-shed-1"') :][:3000]
    assert 'class="pill out_of_service">sick</span>' in card
    assert "card reader not working" in card and "reader: VersionReg 0xFF" in card
    assert "reader missing</span> the kiosk" in card  # the alarm stewards acknowledge
    front = steward.get("/steward/").get_data(as_text=True)
    kiosks = front[front.index('id="kiosks"') :][:4000]
    assert "shed-1" in kiosks and ">sick</span>" in kiosks
    assert "Card reader not working</span>" in kiosks


def test_cancel_a_booking_with_a_reason(post, work, engine):
    refused(post(f"/steward/bookings/{work.booking_id}/cancel", reason=""), 422, "reason")
    assert (
        post(f"/steward/bookings/{work.booking_id}/cancel", reason="laser broken").status_code
        == 302
    )
    with reading(engine) as session:
        booking = get_booking(session, work.booking_id)
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, "laser broken")
    assert latest_audit(engine).action == "booking.cancel"


def test_statement_downloads_as_csv(post, steward, work):
    post(f"/steward/claims/{work.claim_id}/approve")
    response = steward.get(f"/steward/ledger/members/{work.fixer_id}/statement.csv")
    assert response.mimetype == "text/csv"
    assert 'filename="statement-1010.csv"' in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("date,transfer,") and lines[1].endswith(",1.50,1.50")
    assert "Community pool" in steward.get("/steward/ledger").get_data(as_text=True)


def test_admin_reads_the_audit_log(client, post, engine):
    post("/steward/members/12/suspend", reason="lost drill")
    client.post("/signout", data={"csrf_token": csrf_token(client, "/steward/")})
    from tests.dashboard.conftest import sign_in

    assert sign_in(client, "1003").status_code == 302
    page = client.get("/steward/audit?target=member:1012").get_data(as_text=True)
    assert "member.suspend" in page and "lost drill" in page and "1001 Ada" in page
