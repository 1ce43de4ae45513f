"""The one map from a hub refusal to its HTTP status, and every surface answering by it."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from dashboard import create_app, database, tablet
from dashboard.errors import HEADINGS, REFUSAL_STATUS, status_of
from dashboard.openapi import REASONS
from hub import errors
from hub.bookings import pins, refusals, tablets
from hub.bookings.refusals import BookingRefused, PinLockedOut, SlotTaken
from hub.errors import (
    DomainError,
    InvalidInput,
    MemberSuspended,
    NotFound,
    Throttled,
    ToolUnavailable,
)
from hub.loans import policy, renewals
from hub.market import exchanges
from hub.members import credentials, ranks
from hub.members.credentials import SignInRefused
from tests.dashboard.conftest import csrf_token

# Every refusal the hub defines, and the status it must answer with. A new refusal fails
# test_every_refusal_has_a_pinned_status until its status is decided here.
PINNED_STATUS = {
    errors.DomainError: 422,
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.Conflict: 409,
    errors.RuleViolation: 422,
    errors.MemberSuspended: 403,
    errors.TrainingRequired: 403,
    errors.ToolUnavailable: 422,
    refusals.BookingRefused: 422,
    refusals.BookingRightsPaused: 403,
    refusals.ResourceUnavailable: 422,
    refusals.SlotTaken: 409,
    refusals.PinLockedOut: 403,
    credentials.SignInRefused: 401,
    ranks.Outranked: 403,
    ranks.SelfSuspension: 403,
    ranks.LastAdmin: 409,
    ranks.NotSteward: 403,
    exchanges.NotParty: 403,
    errors.Throttled: 429,
    pins.WrongPin: 422,
    tablets.PinNotRecognised: 401,
    tablets.NotEnrolled: 403,
    renewals.RenewalRefused: 422,
    policy.LoanLimitReached: 403,
    policy.BorrowingPaused: 403,
}
REFUSAL_MODULES = (errors, refusals, credentials, ranks)
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# One refusal of each status, as the hub raises them.
REFUSED = [
    SignInRefused("Wrong member number or password.", field="password"),
    NotFound("Tool 9999 does not exist.", field="tool_id"),
    SlotTaken("Laser cutter is already taken then.", possible_from=MONDAY),
    MemberSuspended("Member 1005 is suspended: unreturned sander."),
    PinLockedOut("Too many wrong PINs; try again after 08:05.", until=MONDAY),
    InvalidInput("Card UID 'not hex' must be hexadecimal.", field="uid"),
    ToolUnavailable("Tool DRILL-1 is retired."),
    BookingRefused("Bookings open 14 days ahead.", rule="horizon", possible_from=MONDAY),
    Throttled("Too many wrong PINs from here: try again in 4 second(s).", retry_after=4),
]


def every_refusal() -> set[type[DomainError]]:
    """Return the refusals defined in the hub's refusal modules, and any other one loaded."""
    found = {
        kind
        for module in REFUSAL_MODULES
        for _, kind in inspect.getmembers(module, inspect.isclass)
        if issubclass(kind, DomainError) and kind.__module__ == module.__name__
    }
    return found | set(_subclasses(DomainError))


def _subclasses(kind: type) -> list[type]:
    return [kind] + [deeper for sub in kind.__subclasses__() for deeper in _subclasses(sub)]


def test_every_refusal_has_a_pinned_status():
    assert every_refusal() == set(PINNED_STATUS)
    assert {kind: status_of(kind) for kind in PINNED_STATUS} == PINNED_STATUS


def test_sign_in_refused_is_401_although_it_is_a_permission_error():
    assert issubclass(SignInRefused, PermissionError)
    assert status_of(SignInRefused) == 401


def test_every_status_of_the_map_is_one_the_api_documents():
    assert {code for _, code in REFUSAL_STATUS} <= set(REASONS)


@pytest.fixture
def bare_app(tmp_path):
    """Return the app on an empty data dir, with routes that raise each refusal of REFUSED."""
    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True, "WTF_CSRF_ENABLED": False})
    for index, refused in enumerate(REFUSED):
        view = _raising(refused)
        app.add_url_rule(f"/refused/{index}", f"refused_{index}", view)
        app.add_url_rule(f"/api/v1/refused/{index}", f"api_refused_{index}", view)
    yield app
    database.dispose(app)


def _raising(refused: DomainError):
    def raise_it():
        raise refused

    return raise_it


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=lambda i: type(REFUSED[i]).__name__)
def test_pages_answer_with_the_maps_status_on_the_error_page(bare_app, index):
    refused = REFUSED[index]
    answer = bare_app.test_client().get(f"/refused/{index}")
    assert answer.status_code == PINNED_STATUS[type(refused)]
    page = answer.get_data(as_text=True)
    assert f"<h1>{HEADINGS[answer.status_code]}</h1>" in page  # in words, not a number
    assert refused.message.replace("'", "&#39;") in page


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=lambda i: type(REFUSED[i]).__name__)
def test_the_api_answers_with_the_maps_status_as_json(bare_app, index):
    refused = REFUSED[index]
    answer = bare_app.test_client().get(f"/api/v1/refused/{index}")
    assert answer.status_code == PINNED_STATUS[type(refused)]
    assert answer.get_json() == {"error": refused.message} | (
        {"field": refused.field} if refused.field else {}
    )


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=lambda i: type(REFUSED[i]).__name__)
def test_the_tablet_answers_with_the_maps_status_on_its_own_screen(bare_app, monkeypatch, index):
    refused = REFUSED[index]

    def identify_by_card(db, this_tablet, uid, **_where):
        return tablets.Identified(refusal=refused)

    monkeypatch.setattr(tablet.tablets, "identify_by_card", identify_by_card)
    answer = bare_app.test_client().post("/tablet/identify/card", data={"uid": "deadbeef"})
    assert answer.status_code == PINNED_STATUS[type(refused)]
    assert ("Retry-After" in answer.headers) == isinstance(refused, Throttled)
    page = answer.get_data(as_text=True)
    assert 'id="card-uid"' in page  # the identify screen again, not the error page
    assert refused.message.replace("'", "&#39;") in page


# --- the error page, as a steward and as anyone -------------------------------------------


def test_a_signed_in_stewards_404_keeps_the_steward_nav_and_says_what_is_missing(steward):
    answer = steward.get("/steward/members/99999")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "<h1>Not found</h1>" in page and "404 —" not in page
    assert 'class="inline signout"' in page and ">Needs me</a>" in page  # the steward's nav
    assert "does not exist" in page


def test_an_unknown_address_says_so_in_words_and_keeps_the_nav(steward):
    page = steward.get("/steward/no-such-page").get_data(as_text=True)
    assert "There is no page at this address" in page
    assert "requested URL" not in page
    assert ">Sign out</button>" in page


def test_anyone_elses_404_shows_the_open_nav_only(client):
    page = client.get("/steward/no-such-page").get_data(as_text=True)
    assert "<h1>Not found</h1>" in page
    assert "Sign out" not in page and ">Tools</a>" in page


def test_a_stale_form_says_it_expired_and_to_send_it_again(steward):
    csrf_token(steward, "/steward/members/5")  # the session holds a token; the form's is old
    answer = steward.post("/steward/members/5/suspend", data={"reason": "x", "csrf_token": "old"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "This form has expired; go back, reload the page and send it again." in page
    assert "csrf_token" not in page.split("<main>")[1]  # no code words on the page
    assert "Error 400 · The CSRF token is invalid." in page  # small print, for whoever debugs
    assert ">Sign out</button>" in page


def test_a_refused_form_value_names_the_field_in_words(steward):
    # A form without a page of its own to come back to (hiding a market post) refuses on the
    # error page; the forms that have one show the refusal beside the field instead.
    form = {"reason": "  ", "csrf_token": csrf_token(steward, "/steward/market")}
    page = steward.post("/steward/market/posts/1/hide", data=form).get_data(as_text=True)
    assert "<h1>That was refused</h1>" in page
    assert "Check the <code>reason</code> field" in page


def test_api_refusals_stay_json_naming_the_field(steward):
    answer = steward.post("/api/v1/members/5/suspend", json={"reason": "x"}, headers={})
    assert answer.status_code == 400 and answer.is_json
    assert answer.get_json()["field"] == "csrf_token"
    missing = steward.get("/api/v1/members/99999")
    assert (
        missing.status_code == 404 and missing.is_json and "does not exist" in missing.json["error"]
    )
