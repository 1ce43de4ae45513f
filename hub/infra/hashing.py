"""The argon2 hasher for stewards' passwords and tablet PINs: one instance, one way to reach it.

Production always hashes with ``PRODUCTION`` (argon2-cffi's defaults: argon2id, the RFC 9106
low-memory profile). There is no setting, environment variable or argument that picks anything
else. The test suite alone replaces ``HASHER`` for its run (tests/conftest.py), because each
real hash costs about half a second on a busy CI box; tests/hub/members/test_credentials.py
checks ``PRODUCTION``'s parameters.
"""

from __future__ import annotations

from argon2 import PasswordHasher

PRODUCTION = PasswordHasher()
HASHER = PRODUCTION


def hasher() -> PasswordHasher:
    """Return the hasher to hash and verify passwords and PINs with (read at every call)."""
    return HASHER
