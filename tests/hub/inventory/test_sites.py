"""A steward's doors on sites: add, rename, policy, allow and stop allowing members, the
bridge's broker login (provision, revoke); each audited, each refusal naming its field."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.infra.sync import current_version
from hub.inventory import kiosks, sites
from hub.inventory.sites import Site, SiteMember, get_site, may_borrow_at
from hub.members.ranks import OPERATOR, NotSteward
from tests.hub.builders import a_kiosk, a_member


def entries(session) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    return [e for e in session.exec(query) if e.action.startswith("site.")]


def test_add_a_site_audited_as_the_steward(engine):
    with transaction(engine) as session:
        steward = a_member(session, roles="steward")
        sites.add_site(session, steward, " east ", name="East shed", policy="Listed")
        (entry,) = entries(session)
        assert get_site(session, "east").policy == "listed"
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "site.add", "site:east", steward.id
    )  # fmt: skip
    assert json.loads(entry.after) == {"id": "east", "name": "East shed", "policy": "listed"}


@pytest.mark.parametrize(
    ("site_id", "name", "policy", "field"),
    [
        ("East", "East shed", "everyone", "site_id"),
        ("hub", "East shed", "everyone", "site_id"),
        ("east", " ", "everyone", "name"),
        ("east", "East shed", "some", "policy"),
    ],
)
def test_a_bad_site_is_refused_naming_the_field_and_nothing_is_written(
    engine, site_id, name, policy, field
):
    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        sites.add_site(session, OPERATOR, site_id, name=name, policy=policy)
    assert refused.value.field == field
    with reading(engine) as session:
        assert session.exec(select(Site)).all() == [] and entries(session) == []


def test_a_site_added_twice_is_a_conflict_and_a_volunteer_may_not_add_one(engine):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East")
        volunteer = a_member(session, roles="volunteer")
        with pytest.raises(NotSteward):
            sites.add_site(session, volunteer, "west", name="West")
        with pytest.raises(NotSteward):
            sites.set_policy(session, volunteer, "east", "listed")
        with pytest.raises(NotSteward):
            sites.allow_member(session, volunteer, "east", volunteer.number)
    with pytest.raises(Conflict) as refused, transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="Again")
    assert refused.value.field == "site_id"


def test_registering_a_kiosk_at_a_new_site_adds_it_for_everyone_and_keeps_a_known_one(engine):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East shed", policy="listed")
        kiosks.register_kiosk(session, OPERATOR, "east-1", site="east", name="East 1")
        a_kiosk(session, "north-1", site="north")  # the registry's own (demo, imports)
        north, east = get_site(session, "north"), get_site(session, "east")
    assert (north.name, north.policy) == ("north", "everyone")
    assert (east.name, east.policy) == ("East shed", "listed")


def test_rename_and_policy_are_audited_and_an_unchanged_value_records_nothing(engine):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East")
        sites.rename_site(session, OPERATOR, "east", "East shed")
        sites.rename_site(session, OPERATOR, "east", "East shed")
        sites.set_policy(session, OPERATOR, "east", "listed")
        sites.set_policy(session, OPERATOR, "east", "listed")
        _add, rename, policy = entries(session)
    assert (rename.action, json.loads(rename.after)) == ("site.rename", {"name": "East shed"})
    assert (policy.action, json.loads(policy.before)) == ("site.policy", {"policy": "everyone"})
    assert json.loads(policy.after) == {"policy": "listed"}
    with pytest.raises(NotFound) as refused, transaction(engine) as session:
        sites.rename_site(session, OPERATOR, "west", "West")
    assert refused.value.field == "site_id"


def test_allow_and_disallow_a_member_audited_and_who_may_borrow_follows(engine):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East", policy="listed")
        ada, bob = a_member(session), a_member(session, "Bob Marley")
        steward = a_member(session, "Sam Steward", roles="steward")
        assert not may_borrow_at(session, "east", ada)
        assert may_borrow_at(session, "east", steward)  # a steward may work at any site
        assert may_borrow_at(session, "north", ada)  # no record: as before sites were records
        sites.allow_member(session, OPERATOR, "east", ada.number)
        assert may_borrow_at(session, "east", ada) and not may_borrow_at(session, "east", bob)
        with pytest.raises(Conflict) as twice:
            sites.allow_member(session, OPERATOR, "east", ada.number)
        assert twice.value.field == "number"
        with pytest.raises(NotFound) as unknown:
            sites.allow_member(session, OPERATOR, "east", "9999")
        assert unknown.value.field == "number"
        sites.disallow_member(session, OPERATOR, "east", ada.number)
        assert not may_borrow_at(session, "east", ada)
        with pytest.raises(NotFound) as unlisted:
            sites.disallow_member(session, OPERATOR, "east", ada.number)
        assert unlisted.value.field == "number"
        _add, allow, disallow = entries(session)
        assert session.exec(select(SiteMember)).all() == []
    assert allow.action == "site.allow" and json.loads(allow.after) == {
        "site_id": "east", "member_id": ada.id, "number": ada.number
    }  # fmt: skip
    assert (disallow.action, disallow.after) == ("site.disallow", None)
    assert json.loads(disallow.before)["number"] == ada.number


def test_changing_a_sites_policy_or_list_moves_the_sync_version(engine):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East")
        ada = a_member(session)
    versions = []
    for change in (
        lambda s: sites.set_policy(s, OPERATOR, "east", "listed"),
        lambda s: sites.allow_member(s, OPERATOR, "east", ada.number),
        lambda s: sites.disallow_member(s, OPERATOR, "east", ada.number),
    ):
        with reading(engine) as session:
            before = current_version(session)
        with transaction(engine) as session:
            change(session)
        with reading(engine) as session:
            versions.append(current_version(session) > before)
    assert versions == [True, True, True]


def test_provision_the_bridge_a_new_password_each_time_kept_out_of_the_audit(engine, tmp_path):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East shed")
        first = sites.provision_bridge(session, OPERATOR, "east", tmp_path)
        second = sites.provision_bridge(session, OPERATOR, "east", tmp_path, "new box")
        assert get_site(session, "east").bridge_provisioned_at is not None
        audited = entries(session)[1:]
    assert (second.username, second.client_id, second.site) == ("site-east", "site-east", "east")
    assert first.password != second.password
    client = find_client(read_config(broker_paths(tmp_path).dynsec), "site-east")
    assert PasswordHash.from_client(client).matches(second.password)
    assert not PasswordHash.from_client(client).matches(first.password)
    assert [e.action for e in audited] == ["site.provision", "site.provision"]
    assert json.loads(audited[1].after)["reason"] == "new box"
    assert all(second.password not in (e.after or "") for e in audited)
    commands = "\n".join(second.setup_commands("hub.example.org", 8883))
    assert "join-network east --central-host hub.example.org --central-port 8883" in commands
    assert second.password not in commands  # pasted from the sheet, never on a command line


def test_revoke_the_bridge_audited_a_second_revoke_changes_nothing(engine, tmp_path):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East shed")
        sites.provision_bridge(session, OPERATOR, "east", tmp_path)
        sites.revoke_bridge(session, OPERATOR, "east", tmp_path, "box stolen")
        sites.revoke_bridge(session, OPERATOR, "east", tmp_path)
        assert get_site(session, "east").bridge_revoked_at is not None
        actions = [(e.action, e.after) for e in entries(session)[1:]]
    assert [a for a, _ in actions] == ["site.provision", "site.revoke"]
    assert json.loads(actions[-1][1])["reason"] == "box stolen"
    assert find_client(read_config(broker_paths(tmp_path).dynsec), "site-east") is None


def test_revoking_a_bridge_never_provisioned_is_a_conflict_and_writes_nothing(engine, tmp_path):
    with transaction(engine) as session:
        sites.add_site(session, OPERATOR, "east", name="East shed")
    with pytest.raises(Conflict, match="no bridge login") as refused, transaction(engine) as s:
        sites.revoke_bridge(s, OPERATOR, "east", tmp_path)
    assert refused.value.field == "site_id"
    with reading(engine) as session:
        assert get_site(session, "east").bridge_revoked_at is None
        assert [e.action for e in entries(session)] == ["site.add"]
