"""A steward's doors on kiosks and lockers: register, rename, provision, revoke, lockers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory import kiosks
from hub.inventory.registry import Kiosk, get_kiosk, lockers_of
from hub.members.ranks import OPERATOR, NotSteward
from tests.hub.builders import a_kiosk, a_member, a_tool


def entries(session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def test_register_with_lockers_audits_the_kiosk_and_each_locker(engine):
    with transaction(engine) as session:
        steward = a_member(session, roles="steward")
        kiosks.register_kiosk(
            session, steward, " shed-3 ", site="south", name="Garden shed", slots=2
        )
        assert [locker.slot for locker in lockers_of(session, "shed-3")] == [1, 2]
        register, *lockers = entries(session)
    assert (register.action, register.target, register.actor_member_id) == (
        "kiosk.register", "kiosk:shed-3", steward.id
    )  # fmt: skip
    assert json.loads(register.after) == {
        "id": "shed-3", "site": "south", "name": "Garden shed", "lockers": 2
    }  # fmt: skip
    assert [e.target for e in lockers] == ["locker:shed-3/1", "locker:shed-3/2"]
    assert {e.action for e in lockers} == {"locker.add"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kiosk_id": "Shed 3"}, "kiosk_id"),
        ({"kiosk_id": "hub"}, "kiosk_id"),
        ({"site": ""}, "site"),
        ({"name": " "}, "name"),
        ({"slots": 1000}, "slots"),
    ],
)
def test_a_bad_kiosk_is_refused_naming_the_field_and_nothing_is_written(engine, fields, field):
    wanted = {"kiosk_id": "shed-3", "site": "south", "name": "Shed", "slots": 1} | fields
    kiosk_id = wanted.pop("kiosk_id")
    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        kiosks.register_kiosk(session, OPERATOR, kiosk_id, **wanted)
    assert refused.value.field == field
    with reading(engine) as session:
        assert session.exec(select(Kiosk)).all() == [] and entries(session) == []


def test_a_kiosk_registered_twice_is_a_conflict(engine):
    with transaction(engine) as session:
        a_kiosk(session)
    with pytest.raises(Conflict) as refused, transaction(engine) as session:
        kiosks.register_kiosk(session, OPERATOR, "shed-1", site="north", name="Again")
    assert refused.value.field == "kiosk_id"


def test_a_volunteer_may_not_register_or_rename_a_kiosk(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        volunteer = a_member(session, roles="volunteer")
        with pytest.raises(NotSteward):
            kiosks.register_kiosk(session, volunteer, "shed-3", site="north", name="Shed")
        with pytest.raises(NotSteward):
            kiosks.rename_kiosk(session, volunteer, "shed-1", "Mine now")


def test_rename_is_audited_and_a_same_name_records_nothing(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        kiosks.rename_kiosk(session, OPERATOR, "shed-1", "North wall")
        kiosks.rename_kiosk(session, OPERATOR, "shed-1", "North wall")
        (entry,) = entries(session)
    assert json.loads(entry.before) == {"name": "Kiosk shed-1"}
    assert json.loads(entry.after) == {"name": "North wall"}


def test_lockers_are_added_all_or_none(engine):
    with transaction(engine) as session:
        a_kiosk(session, slots=2)
    with pytest.raises(Conflict) as refused, transaction(engine) as session:
        kiosks.add_lockers(session, OPERATOR, "shed-1", [3, 4, 2])
    assert refused.value.field == "slot" and "already has locker 2" in refused.value.message
    with reading(engine) as session:
        assert [locker.slot for locker in lockers_of(session, "shed-1")] == [1, 2]


def test_an_empty_locker_is_removed_audited_and_a_full_one_is_refused(engine):
    with transaction(engine) as session:
        a_kiosk(session, slots=2)
        a_tool(session, slot=1)
        kiosks.remove_locker(session, OPERATOR, "shed-1", 2)
        with pytest.raises(Conflict, match="holds tool DRILL-1") as refused:
            kiosks.remove_locker(session, OPERATOR, "shed-1", 1)
        assert refused.value.field == "slot"
        with pytest.raises(NotFound):
            kiosks.remove_locker(session, OPERATOR, "shed-1", 2)
        assert [locker.slot for locker in lockers_of(session, "shed-1")] == [1]
        (entry,) = entries(session)
    assert (entry.action, entry.target, entry.after) == ("locker.remove", "locker:shed-1/2", None)


@given(st.lists(st.tuples(st.integers(1, 999), st.integers(0, 20)), min_size=1, max_size=6))
def test_slot_ranges_read_as_typed(ranges):
    spans = [(first, min(first + length, 999)) for first, length in ranges]
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
    expected = [slot for a, b in spans for slot in range(a, b + 1)]
    assert kiosks.parse_slots(text) == expected


@pytest.mark.parametrize("text", ["", "0", "12-9", "1-1000", "a", "1;2", "-3"])
def test_slots_that_are_not_slots_are_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        kiosks.parse_slots(text)
    assert refused.value.field == "slots"


def test_provision_makes_a_new_password_each_time_kept_out_of_the_audit(engine, tmp_path):
    with transaction(engine) as session:
        a_kiosk(session)
        first = kiosks.provision_kiosk(session, OPERATOR, "shed-1", tmp_path)
        second = kiosks.provision_kiosk(session, OPERATOR, "shed-1", tmp_path)
        assert get_kiosk(session, "shed-1").provisioned_at is not None
        audited = entries(session)
    assert (second.username, second.client_id, second.site) == ("shed-1", "shed-1", "north")
    assert first.password != second.password
    client = find_client(read_config(broker_paths(tmp_path).dynsec), "shed-1")
    assert PasswordHash.from_client(client).matches(second.password)
    assert not PasswordHash.from_client(client).matches(first.password)
    assert [e.action for e in audited] == ["kiosk.provision", "kiosk.provision"]
    assert all(second.password not in (e.after or "") for e in audited)


def test_revoke_removes_the_login_audited_and_a_second_revoke_changes_nothing(engine, tmp_path):
    with transaction(engine) as session:
        a_kiosk(session)
        kiosks.provision_kiosk(session, OPERATOR, "shed-1", tmp_path)
        kiosks.revoke_kiosk(session, OPERATOR, "shed-1", tmp_path)
        kiosks.revoke_kiosk(session, OPERATOR, "shed-1", tmp_path)
        assert get_kiosk(session, "shed-1").revoked_at is not None
        actions = [e.action for e in entries(session)]
    assert actions == ["kiosk.provision", "kiosk.revoke"]
    assert find_client(read_config(broker_paths(tmp_path).dynsec), "shed-1") is None


def test_revoking_a_kiosk_never_provisioned_is_a_conflict(engine, tmp_path):
    with transaction(engine) as session:
        a_kiosk(session)
    with pytest.raises(Conflict, match="no broker credentials"), transaction(engine) as session:
        kiosks.revoke_kiosk(session, OPERATOR, "shed-1", tmp_path)
    with reading(engine) as session:
        assert get_kiosk(session, "shed-1").revoked_at is None and entries(session) == []
