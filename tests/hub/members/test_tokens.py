"""API tokens: issued once, scoped, expiring, listed and revoked; issue and revoke audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from hub.errors import InvalidInput, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.members.credentials import SignInRefused
from hub.members.ranks import OPERATOR
from hub.members.roster import add_member
from hub.members.standing import suspend_member
from hub.members.tokens import (
    TokenScope,
    issue_token,
    list_tokens,
    member_for_token,
    note_use,
    parse_scope,
    revoke_token,
)


@pytest.fixture
def steward(engine):
    with transaction(engine) as session:
        return add_member(session, name="Grace", roles="steward")


def test_a_token_identifies_its_holder_until_revoked(engine, steward):
    with transaction(engine) as session:
        token = issue_token(session, OPERATOR, steward.id, "weekly report")
    with transaction(engine) as session:
        use = member_for_token(session, token)
        assert (use.member.id, use.scope) == (steward.id, TokenScope.STEWARD)
        assert use.use_stale  # never used: worth noting
        note_use(session, use.token_id)
        (row,) = list_tokens(session, steward.id)
        assert row.last_used_at is not None and row.token_hash != token
        assert not member_for_token(session, token).use_stale  # noted a moment ago
        revoke_token(session, OPERATOR, row.id)
    with pytest.raises(SignInRefused, match="unknown or revoked"), transaction(engine) as session:
        member_for_token(session, token)


def test_issue_and_revoke_are_audited(engine, steward):
    with transaction(engine) as session:
        issue_token(session, OPERATOR, steward.id, "backup", scope="read", days=5)
        revoke_token(session, steward, list_tokens(session)[0].id, reason="not needed")
        actions = [(e.action, e.actor_member_id) for e in session.exec(select(AuditEntry))]
    assert actions == [("token.issue", None), ("token.revoke", steward.id)]


def test_a_token_expires(engine, steward):
    issued = utcnow() - timedelta(days=3)
    with transaction(engine) as session:
        token = issue_token(session, OPERATOR, steward.id, "short", days=2, now=issued)
    with pytest.raises(SignInRefused, match="expired on"), transaction(engine) as session:
        member_for_token(session, token)


def test_a_suspended_holders_token_is_refused(engine, steward):
    with transaction(engine) as session:
        token = issue_token(session, OPERATOR, steward.id, "x")
        suspend_member(session, OPERATOR, steward.id, "left")
    with pytest.raises(SignInRefused, match="may no longer use the API"):
        with transaction(engine) as session:
            member_for_token(session, token)


@pytest.mark.parametrize("scope", ["", "READ", " member "])
def test_scopes_are_read_by_name(scope):
    assert parse_scope(scope) in set(TokenScope)


def test_an_unknown_scope_or_token_is_refused_by_name(engine):
    with pytest.raises(InvalidInput) as refused:
        parse_scope("root")
    assert refused.value.field == "scope"
    with pytest.raises(NotFound), transaction(engine) as session:
        revoke_token(session, OPERATOR, 999)
