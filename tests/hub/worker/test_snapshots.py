"""Allow-lists and configs: built from the records (one allow-list per site), published
retained when they changed."""

from __future__ import annotations

from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest

from broker import messages as wire
from broker.topics import Channel, kiosk_topic
from hub.infra.db import transaction
from hub.inventory import sites
from hub.inventory.registry import Kiosk
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.worker.snapshots import SnapshotPublisher, build_allowlist
from tests.hub.builders import a_kiosk, a_member, a_tool

CARD = "DEADBEEF"


@dataclass
class Sent:
    rc: int


@dataclass
class FakeClient:
    """Records what would be published; ``refuse`` makes paho's publish fail (not connected)."""

    published: list[tuple[str, bytes, int, bool]] = field(default_factory=list)
    refuse: bool = False

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> Sent:
        if self.refuse:
            return Sent(mqtt.MQTT_ERR_NO_CONN)
        self.published.append((topic, payload, qos, retain))
        return Sent(mqtt.MQTT_ERR_SUCCESS)

    def topics(self) -> list[str]:
        topics = [topic for topic, *_ in self.published]
        self.published.clear()
        return topics


@pytest.fixture
def library(engine):
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=2, site="test")
        a_kiosk(session, "kiosk-b", slots=1, site="test")
        a_member(session, "Ada Lovelace", uid=CARD)
        a_tool(session, "DRILL-1", kiosk_id="kiosk-a", slot=1)
    return engine


def test_each_kiosk_gets_its_allowlist_and_config_retained_once(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    assert [(t, qos, retain) for t, _, qos, retain in client.published] == [
        (kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST), 1, True),
        (kiosk_topic("test", "kiosk-a", Channel.CONFIG), 1, True),
        (kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST), 1, True),
        (kiosk_topic("test", "kiosk-b", Channel.CONFIG), 1, True),
    ]
    config = wire.decode_config(client.published[1][1])
    assert config.kiosk_id == "kiosk-a" and config.lockers[1].tool_code == "DRILL-1"
    assert config.lockers[1].name == "Cordless drill"  # the screen shows names
    assert config.timezone == "Europe/London"  # the site's, for the screen's clock
    assert publisher.allowlist is not None and publisher.allowlist.entries[CARD].name
    client.published.clear()
    publisher.publish_if_stale()
    assert client.published == []  # nothing moved


def test_a_suspension_republishes_the_allowlists_only(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.published.clear()
    with transaction(library) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
    publisher.publish_if_stale()
    assert client.topics() == [
        kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST),
        kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST),
    ]
    assert publisher.allowlist.entries[CARD].status == "suspended"


def test_after_a_reconnect_or_a_refused_publish_everything_goes_out_again(library):
    client = FakeClient(refuse=True)
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.refuse = False
    publisher.publish_if_stale()  # nothing was out: the same version is published again
    assert len(client.topics()) == 4
    publisher.forget_published()  # the broker may have lost them
    publisher.publish_if_stale()
    assert len(client.topics()) == 4


def test_a_change_whose_publish_was_refused_goes_out_on_the_next_pass(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.published.clear()
    with transaction(library) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
    client.refuse = True  # the broker connection dropped just then
    publisher.publish_if_stale()
    client.refuse = False
    publisher.publish_if_stale()  # the version did not move again, but the last round failed
    assert client.topics() == [
        kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST),
        kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST),
    ]


def test_a_stored_kiosk_the_wire_refuses_is_skipped_and_the_others_still_get_theirs(
    library, caplog
):
    with transaction(library) as session:
        # A row from before the hub checked its kiosk ids against the wire's (issue 11).
        session.add(Kiosk(id="hub", site="test", name="Not a kiosk"))
        a_kiosk(session, "kiosk-c", slots=1, site="test")
    client = FakeClient()
    SnapshotPublisher(library, client).publish_if_stale()
    topics = client.topics()
    assert kiosk_topic("test", "kiosk-c", Channel.CONFIG) in topics  # sorts after "hub"
    assert not any("/kiosk/hub/" in topic for topic in topics)
    assert "kiosk 'hub' gets no config" in caplog.text


# --- per-site allow-lists (issue 18) -----------------------------------------------------

BOB, SAM = "B0B0B0B0", "5A5A5A5A"


@pytest.fixture
def two_sites(library):
    """kiosk-a and kiosk-b at "test" (everyone), kiosk-e at "east" (listed: Ada only)."""
    with transaction(library) as session:
        a_kiosk(session, "kiosk-e", slots=1, site="east")
        a_member(session, "Bob Marley", uid=BOB)
        a_member(session, "Sam Steward", uid=SAM, roles="steward")
        sites.set_policy(session, OPERATOR, "east", "listed")
        sites.allow_member(session, OPERATOR, "east", "1001")
    return library


def published_allowlist(client: FakeClient, site: str, kiosk_id: str) -> wire.AllowList:
    topic = kiosk_topic(site, kiosk_id, Channel.ALLOWLIST)
    (payload,) = [p for t, p, _qos, _retain in client.published if t == topic]
    return wire.decode_allowlist(payload)


def test_a_listed_sites_kiosks_lack_members_not_listed_and_an_everyone_site_has_all(two_sites):
    client = FakeClient()
    publisher = SnapshotPublisher(two_sites, client)
    publisher.publish_if_stale()
    east = published_allowlist(client, "east", "kiosk-e")
    assert sorted(east.entries) == sorted([CARD, SAM])  # Ada is listed; a steward always passes
    for kiosk_id in ("kiosk-a", "kiosk-b"):
        assert sorted(published_allowlist(client, "test", kiosk_id).entries) == sorted(
            [CARD, BOB, SAM]
        )
    assert publisher.allowlist_for("east") == east and publisher.allowlist is not None
    assert BOB in publisher.allowlist.entries


def test_a_suspended_listed_member_stays_on_the_sites_list_with_their_status(two_sites):
    with transaction(two_sites) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
        assert BOB not in build_allowlist(session, site="east").entries
        assert build_allowlist(session, site="east").entries[CARD].status == "suspended"


def test_changing_a_sites_list_republishes_that_sites_allowlists_only(two_sites):
    client = FakeClient()
    publisher = SnapshotPublisher(two_sites, client)
    publisher.publish_if_stale()
    client.published.clear()
    with transaction(two_sites) as session:
        sites.allow_member(session, OPERATOR, "east", "1002")
    publisher.publish_if_stale()
    assert client.topics() == [kiosk_topic("east", "kiosk-e", Channel.ALLOWLIST)]
    assert BOB in publisher.allowlist_for("east").entries
    with transaction(two_sites) as session:
        sites.set_policy(session, OPERATOR, "east", "everyone")
        sites.disallow_member(session, OPERATOR, "east", "1001")
    publisher.publish_if_stale()
    assert client.topics() == []  # everyone may borrow at east: its list is already all cards
    with transaction(two_sites) as session:
        sites.set_policy(session, OPERATOR, "east", "listed")
    publisher.publish_if_stale()
    published = client.published[0][1]
    assert client.topics() == [kiosk_topic("east", "kiosk-e", Channel.ALLOWLIST)]
    assert sorted(wire.decode_allowlist(published).entries) == sorted([BOB, SAM])
