"""Members signed in to /me through the real form (number + PIN), and reading the hub."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from dashboard import database
from hub.bulk.demo import DEMO_PIN
from tests.dashboard.conftest import csrf_token

BORROWER = "1004"  # has the hammer drill DRILL-2 out, lent two days ago
LATE = "1005"  # has the tent TENT-1 out, five days overdue


def me_sign_in(client, number: str = BORROWER, pin: str = DEMO_PIN):
    """Sign ``number`` in at /me/signin through the form, CSRF token included."""
    token = csrf_token(client, "/me/signin")
    return client.post("/me/signin", data={"number": number, "pin": pin, "csrf_token": token})


def alert(response) -> str:
    """Return the refusal a page shows (its role="alert" text), or ""."""
    found = re.search(r'role="alert"[^>]*>([^<]+)<', response.get_data(as_text=True))
    return found.group(1) if found else ""


@contextmanager
def hub_session(app, *, write: bool = False):
    """Open a session on the app's database (a transaction when ``write``)."""
    with app.app_context(), database.transaction() if write else database.reading() as db:
        yield db


@pytest.fixture
def borrower(client):
    """Return a client signed in at /me as member 1004 (the hammer drill out)."""
    assert me_sign_in(client).status_code == 302
    return client
