"""Shared fixtures: databases on both backends, a real Mosquitto from broker/, a browser, and
cheap password hashing for the whole run."""

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from hub.infra import hashing

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.mosquitto",
    "tests.fixtures.browser",
]

# argon2id with the smallest costs argon2 allows: a hash takes well under a millisecond, where
# the production parameters take ~0.5 s on a busy CI box. The production hasher keeps its own
# tests (tests/hub/members/test_credentials.py, tests/dashboard/test_auth.py).
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher]:
    """Hash stewards' passwords and tablet PINs with ``CHEAP_HASHER`` for the whole run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashing, "HASHER", CHEAP_HASHER)
        yield CHEAP_HASHER
