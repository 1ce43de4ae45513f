"""App, client and sign-in fixtures for dashboard tests (the Flask tutorial's pattern)."""

from __future__ import annotations

import re

import pytest

from dashboard import create_app, database
from hub.bulk.demo import DEMO_STEWARD_PASSWORD, seed
from hub.infra.db import transaction


@pytest.fixture
def app(engine, database_url, tmp_path):
    """Return the app on a migrated database seeded with the demo library."""
    with transaction(engine) as session:
        seed(session)
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


@pytest.fixture
def steward(client):
    """Return a client signed in as demo steward 1001."""
    assert sign_in(client).status_code == 302
    return client
