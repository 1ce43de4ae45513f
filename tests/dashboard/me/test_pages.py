"""The member's pages: loans and renew, give hours (refusals write nothing), the rest read-only."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from hub.bookings import add_resource, create_booking
from hub.bookings.hours import at_local, local_day
from hub.infra.clock import as_utc, utcnow
from hub.loans.records import Loan
from hub.loans.renewals import renewals_of
from hub.mail.choices import MailKind, kinds_wanted
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.timebank.ledger import Transfer, member_balance
from tests.dashboard.conftest import csrf_token
from tests.dashboard.me.conftest import BORROWER, LATE, alert, hub_session, me_sign_in

FRIEND = "1006"


def open_loan_of(app, number):
    with hub_session(app) as db:
        member = member_by_number(db, number)
        return db.exec(
            select(Loan).where(Loan.member_id == member.id, Loan.returned_at.is_(None))
        ).one()


def balance_of(app, number) -> Decimal:
    with hub_session(app) as db:
        return member_balance(db, member_by_number(db, number).id)


def transfers(app) -> int:
    with hub_session(app) as db:
        return db.exec(select(func.count()).select_from(Transfer)).one()


def give_form(client) -> dict[str, str]:
    """Open the give-hours form; return its hidden fields (CSRF token and one-time key)."""
    page = client.get("/me/hours/give").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf_token(client, "/me/hours/give"), "key": key}


def test_renew_moves_the_due_date_once_however_often_it_is_submitted(borrower, app):
    loan = open_loan_of(app, BORROWER)
    form = {"csrf_token": csrf_token(borrower, "/me/"), "seen_due": loan.due_at.isoformat()}
    first = borrower.post(f"/me/loans/{loan.id}/renew", data=form)
    again = borrower.post(f"/me/loans/{loan.id}/renew", data=form)
    assert first.status_code == again.status_code == 302
    renewed = open_loan_of(app, BORROWER)
    assert as_utc(renewed.due_at) > as_utc(loan.due_at)
    with hub_session(app) as db:
        assert renewals_of(db, loan.id) == 1
    assert "Renewed: now due back" in borrower.get("/me/").get_data(as_text=True)


def test_an_overdue_loan_is_marked_and_says_why_it_cannot_be_renewed(client, app):
    me_sign_in(client, LATE)
    page = client.get("/me/").get_data(as_text=True)
    assert "Overdue" in page and "Cannot renew" in page and "days overdue" in page
    loan = open_loan_of(app, LATE)
    form = {"csrf_token": csrf_token(client, "/me/"), "seen_due": loan.due_at.isoformat()}
    refused = client.post(f"/me/loans/{loan.id}/renew", data=form)
    assert refused.status_code == 422 and "cannot be renewed" in alert(refused)
    assert open_loan_of(app, LATE).due_at == loan.due_at


def test_another_members_loan_cannot_be_renewed(borrower, app):
    loan = open_loan_of(app, LATE)
    form = {"csrf_token": csrf_token(borrower, "/me/")}
    assert borrower.post(f"/me/loans/{loan.id}/renew", data=form).status_code == 404
    assert open_loan_of(app, LATE).due_at == loan.due_at


def test_giving_hours_moves_them_once_on_a_double_submit(borrower, app):
    before = (balance_of(app, BORROWER), balance_of(app, FRIEND))
    form = give_form(borrower) | {"to": FRIEND, "hours": "1.25", "note": "Sharpened my saw"}
    assert borrower.post("/me/hours/give", data=form).status_code == 302
    assert borrower.post("/me/hours/give", data=form).status_code == 302
    assert balance_of(app, BORROWER) == before[0] - Decimal("1.25")
    assert balance_of(app, FRIEND) == before[1] + Decimal("1.25")
    page = borrower.get("/me/hours").get_data(as_text=True)
    assert "You gave 1.25 hours to member 1006." in page and "Sharpened my saw" in page


@pytest.mark.parametrize(
    ("to", "hours", "status", "field", "said"),
    [
        (FRIEND, "500", 422, "hours", "You can give at most"),
        (BORROWER, "1", 422, "to", "yourself"),
        (FRIEND, "0", 422, "hours", "more than 0"),
        (FRIEND, "-2", 422, "hours", "more than 0"),
        (FRIEND, "1.005", 422, "hours", "two decimals at most"),
        ("99999", "1", 404, "to", "no member number 99999"),
    ],
)
def test_each_bad_gift_is_refused_naming_the_field_keeping_what_was_typed(
    borrower, app, to, hours, status, field, said
):
    before = transfers(app)
    form = give_form(borrower) | {"to": to, "hours": hours, "note": "For the saw"}
    response = borrower.post("/me/hours/give", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == status and said in alert(response)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page)
    assert 'value="For the saw"' in page and f'value="{hours}"' in page
    assert transfers(app) == before


def test_a_gift_to_a_suspended_member_is_refused(borrower, app):
    with hub_session(app, write=True) as db:
        suspend_member(db, OPERATOR, member_by_number(db, FRIEND).id, "Lost the tent pegs")
    before = transfers(app)
    form = give_form(borrower) | {"to": FRIEND, "hours": "1", "note": "Thanks"}
    response = borrower.post("/me/hours/give", data=form)
    assert response.status_code == 403 and "suspended" in alert(response)
    assert transfers(app) == before


def test_a_suspended_member_sees_their_records_but_gives_nothing(client, app):
    with hub_session(app, write=True) as db:
        suspend_member(db, OPERATOR, member_by_number(db, BORROWER).id, "Broke the rules")
    assert me_sign_in(client).status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "Hammer drill" in home and "suspended" in home
    assert "cannot give hours now" in client.get("/me/hours/give").get_data(as_text=True)
    before = transfers(app)
    form = {"csrf_token": csrf_token(client, "/me/"), "key": "a-gift-key-1"}
    response = client.post("/me/hours/give", data=form | {"to": FRIEND, "hours": "1", "note": "x"})
    assert response.status_code == 403
    assert transfers(app) == before


def test_reminder_choices_are_kept_and_all_can_be_turned_off(borrower, app):
    token = csrf_token(borrower, "/me/reminders")
    borrower.post("/me/reminders", data={"csrf_token": token, "kinds": ["overdue", "hold_ready"]})
    with hub_session(app) as db:
        member_id = member_by_number(db, BORROWER).id
        assert kinds_wanted(db, member_id) == {MailKind.OVERDUE, MailKind.HOLD_READY}
    page = borrower.get("/me/reminders").get_data(as_text=True)
    assert re.search(r'value="overdue" checked', page)
    assert not re.search(r'value="due_tomorrow" checked', page)
    borrower.post("/me/reminders", data={"csrf_token": token, "kinds": ["overdue"], "all_off": "1"})
    with hub_session(app) as db:
        assert kinds_wanted(db, member_id) == frozenset()


def test_the_read_only_pages_show_what_is_mine(borrower):
    assert "What I borrowed before" in borrower.get("/me/history").get_data(as_text=True)
    assert "My repair claims" in borrower.get("/me/claims").get_data(as_text=True)
    hours = borrower.get("/me/hours").get_data(as_text=True)
    assert "may go down to -10.00 hours" in hours
    bookings = borrower.get("/me/bookings").get_data(as_text=True)
    assert "My calendar link" in bookings
    token = csrf_token(borrower, "/me/bookings")
    link = borrower.post("/me/bookings/calendar-link", data={"csrf_token": token})
    feed = re.search(r'value="(http[^"]+\.ics)"', link.get_data(as_text=True)).group(1)
    assert borrower.get(feed.replace("http://localhost", "")).status_code == 200


def test_every_form_needs_its_csrf_token(borrower, app):
    loan = open_loan_of(app, BORROWER)
    assert borrower.post(f"/me/loans/{loan.id}/renew").status_code == 400
    assert borrower.post("/me/hours/give", data={"to": FRIEND, "hours": "1"}).status_code == 400
    assert borrower.post("/me/reminders", data={"kinds": []}).status_code == 400
    assert open_loan_of(app, BORROWER).due_at == loan.due_at


def test_my_bookings_name_the_machine_s_site(borrower, app):
    with hub_session(app, write=True) as db:
        bench = add_resource(db, code="lathe-s", name="Wood lathe", site="south")
        tomorrow = local_day(bench, utcnow()) + timedelta(days=1)
        create_booking(
            db,
            resource_id=bench.id,
            member_id=member_by_number(db, BORROWER).id,
            starts_at=at_local(bench, tomorrow, 10 * 60),
            ends_at=at_local(bench, tomorrow, 11 * 60),
        )
    page = borrower.get("/me/bookings").get_data(as_text=True)
    assert re.search(r"<h3>Wood lathe · south <span", page)
