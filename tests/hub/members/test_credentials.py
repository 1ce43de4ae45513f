import pytest
from argon2 import Type

from hub.errors import InvalidInput
from hub.infra import hashing
from hub.infra.db import transaction
from hub.members.credentials import (
    SignInRefused,
    StewardLogin,
    authenticate,
    set_password,
)
from hub.members.ranks import OPERATOR
from hub.members.roster import add_member
from hub.members.standing import suspend_member

PASSWORD = "correct horse battery"


@pytest.fixture
def steward(engine):
    with transaction(engine) as session:
        member = add_member(session, name="Grace", roles="steward")
        set_password(session, OPERATOR, member.id, PASSWORD)
    return member


def test_password_is_stored_as_argon2_and_signs_in(engine, steward):
    with transaction(engine) as session:
        login = session.get(StewardLogin, steward.id)
        assert login.password_hash.startswith("$argon2id$") and PASSWORD not in login.password_hash
        assert authenticate(session, steward.number, PASSWORD).id == steward.id


def test_production_hashes_with_argon2id_at_the_rfc_9106_low_memory_costs(
    engine, steward, monkeypatch
):
    production = hashing.PRODUCTION
    assert production.type is Type.ID
    assert (production.time_cost, production.memory_cost, production.parallelism) == (3, 65536, 4)
    assert (production.hash_len, production.salt_len) == (32, 16)
    monkeypatch.setattr(hashing, "HASHER", production)  # the suite hashes cheaply otherwise
    with transaction(engine) as session:
        login = set_password(session, OPERATOR, steward.id, PASSWORD)
        assert login.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert authenticate(session, steward.number, PASSWORD).id == steward.id


@pytest.mark.parametrize(
    "number, password", [("1001", "wrong password"), ("9999", PASSWORD), ("", PASSWORD)]
)
def test_wrong_credentials_never_say_which_half(engine, steward, number, password):
    with pytest.raises(SignInRefused, match="^Wrong member number or password.$"):
        with transaction(engine) as session:
            authenticate(session, number, password)


def test_members_and_suspended_stewards_cannot_sign_in(engine, steward):
    with transaction(engine) as session:
        member = add_member(session, name="Ada")
        with pytest.raises(InvalidInput, match="not a steward"):
            set_password(session, OPERATOR, member.id, PASSWORD)
        suspend_member(session, OPERATOR, steward.id, "left the network")
    with pytest.raises(SignInRefused, match="may not sign in"):
        with transaction(engine) as session:
            authenticate(session, steward.number, PASSWORD)


def test_short_password_is_refused(engine, steward):
    with pytest.raises(InvalidInput, match="10 to 200 characters") as refused:
        with transaction(engine) as session:
            set_password(session, OPERATOR, steward.id, "short")
    assert refused.value.field == "password"
