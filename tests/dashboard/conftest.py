"""App, client and sign-in fixtures for dashboard tests (the Flask tutorial's pattern).

The dashboard's tests start from the demo library (built once per run, copied per test; see
tests/fixtures/database.py), with the API world in it for those that use ``api_world``; a
module that wants an empty database overrides ``database_content``. Stewards are signed in by
writing the session a successful sign-in leaves; the sign-in form itself is tested through the
form (test_auth.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from dashboard import create_app, database
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from hub.members.roster import member_by_number
from hub.members.sessions import start_session
from tests.dashboard.api_fixtures import API_WORLD


@pytest.fixture
def database_content(request) -> str:
    return API_WORLD if "api_world" in request.fixturenames else "demo"


@pytest.fixture
def app(database_url, tmp_path):
    """Return the app on a migrated database holding the demo library."""
    app = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "TESTING": True})
    yield app
    database.dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/signin") -> str:
    """Fetch ``path`` and return the CSRF token its page carries."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def sign_in(client, number: str = "1001", password: str = DEMO_STEWARD_PASSWORD):
    """Sign ``number`` in through the real form, CSRF token included."""
    return client.post(
        "/signin", data={"number": number, "password": password, "csrf_token": csrf_token(client)}
    )


def sign_in_by_session(client, number: str = "1001") -> None:
    """Give ``client`` the session a successful sign-in of ``number`` starts, without the form.

    Mirrors dashboard.auth.start_signed_in_session (a session on the hub, its key in the
    cookie); the form and its checks are tested in test_auth.py.
    """
    with client.application.app_context(), database.transaction() as db:
        key = start_session(db, member_by_number(db, number).id)
    with client.session_transaction() as session:
        session.clear()
        session.permanent = True
        session.update(key=key, seen_at=datetime.now(UTC).timestamp())


@pytest.fixture
def steward(client):
    """Return a client signed in as demo steward 1001."""
    sign_in_by_session(client)
    return client
