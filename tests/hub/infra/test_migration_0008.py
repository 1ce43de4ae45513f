"""Migration 0008: tokens issued before scopes and expiry keep steward scope and now expire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from hub.infra import migrate
from hub.infra.clock import as_utc, utcnow
from hub.infra.db import make_engine, reading
from hub.members.tokens import ApiToken


def test_tokens_from_before_0008_get_steward_scope_and_an_expiry(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0007_unmatched_returns")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO member (number, name, status, roles, joined_at) "
                "VALUES ('1001', 'Grace', 'active', 'member steward', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO apitoken (member_id, name, token_hash, created_at) "
                "VALUES (1, 'old script', :hash, '2026-01-01 00:00:00')"
            ),
            {"hash": "0" * 64},
        )
    migrate.upgrade(engine, "0008_sessions_tokens")
    with reading(engine) as session:
        (token,) = session.exec(select(ApiToken)).all()
    assert token.scope == "steward"
    assert timedelta(days=89) < as_utc(token.expires_at) - utcnow() <= timedelta(days=90)
    migrate.downgrade(engine, "0007_unmatched_returns")
    engine.dispose()
